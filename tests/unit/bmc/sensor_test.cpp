// Sensor/Event NetFn handlers (bmc/sensor_event/sensor_service.cpp) through the registry, as the
// LAN channel calls them: exact reply layouts (IPMI v2.0 §29-30, §35), completion codes, privileges
// (Appendix G), persistence in the StateStore and the events that reach the EventSink. Time is
// virtual (FakeClock); readings come from files the tests write (a "file" source read inline).
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "bmc/sensor_event/sensor_service.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "sensors/sdr.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"
#include "unit/bmc/recording_sink.hpp"

namespace simbmc::bmc {

void PrintTo(const SystemEvent& e, std::ostream* os) {
  *os << std::hex << "{gen " << e.generatorId << " rev " << int(e.evmRev) << " type " << int(e.sensorType)
      << " num " << int(e.sensorNumber) << (e.deassertion ? " deassert" : " assert") << " et "
      << int(e.eventType) << " data " << int(e.data[0]) << " " << int(e.data[1]) << " " << int(e.data[2]) << "}"
      << std::dec;
}

bool operator==(const SystemEvent& a, const SystemEvent& b) {
  return a.generatorId == b.generatorId && a.evmRev == b.evmRev && a.sensorType == b.sensorType &&
         a.sensorNumber == b.sensorNumber && a.deassertion == b.deassertion && a.eventType == b.eventType &&
         a.data == b.data;
}

namespace {

using std::chrono::milliseconds;
using storage::testing::TempDir;

constexpr uint8_t kNf = netfn::sensorEvent;
constexpr uint8_t kSetReceiver = 0x00;
constexpr uint8_t kGetReceiver = 0x01;
constexpr uint8_t kPlatformEvent = 0x02;
constexpr uint8_t kGetFactors = 0x23;
constexpr uint8_t kSetHysteresis = 0x24;
constexpr uint8_t kGetHysteresis = 0x25;
constexpr uint8_t kSetThresholds = 0x26;
constexpr uint8_t kGetThresholds = 0x27;
constexpr uint8_t kSetEventEnable = 0x28;
constexpr uint8_t kGetEventEnable = 0x29;
constexpr uint8_t kRearm = 0x2A;
constexpr uint8_t kGetEventStatus = 0x2B;
constexpr uint8_t kGetReading = 0x2D;
constexpr uint8_t kSetType = 0x2E;
constexpr uint8_t kGetType = 0x2F;

constexpr uint8_t kCpu = 0x30;        // threshold, degrees = raw (1 per count)
constexpr uint8_t kIntrusion = 0x50;  // discrete, sensor-specific
constexpr uint8_t kFan = 0x40;        // threshold, lower thresholds, not settable

struct Resp {
  Cc cc = Cc::ok;
  Bytes data;
  bool operator==(const Resp&) const = default;
};

void PrintTo(const Resp& r, std::ostream* os) {
  *os << "cc=0x" << std::hex << static_cast<int>(r.cc) << " data=[";
  for (uint8_t b : r.data) *os << " " << static_cast<int>(b);
  *os << " ]" << std::dec;
}

Resp ok(Bytes data = {}) { return Resp{Cc::ok, std::move(data)}; }
Resp err(Cc cc) { return Resp{cc, {}}; }

using FakeSink = testing::RecordingSink;

SystemEvent bmcEvent(uint8_t type, uint8_t number, bool deassert, uint8_t eventType, std::array<uint8_t, 3> data) {
  SystemEvent e;
  e.generatorId = 0x0020;
  e.sensorType = type;
  e.sensorNumber = number;
  e.deassertion = deassert;
  e.eventType = eventType;
  e.data = data;
  return e;
}

std::array<uint8_t, 32> testKey() {
  std::array<uint8_t, 32> key{};
  key.fill(0x5A);
  return key;
}

class SensorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto store = storage::StateStore::open(dir_.file("state.db"), storage::SecretBox(testKey()));
    ASSERT_TRUE(store.hasValue()) << store.error().message;
    store_ = std::move(*store);
    setCpu(40);
    setIntrusion(0);
    setFan(3000);
    start();
  }

  std::vector<sensors::SensorConfig> configs() {
    sensors::SensorConfig cpu;
    cpu.number = kCpu;
    cpu.name = "CPU Temp";
    cpu.entityId = 0x03;
    cpu.sensorType = 0x01;
    cpu.baseUnit = 1;
    cpu.thresholds[sensors::kUnc] = 85;
    cpu.thresholds[sensors::kUc] = 95;
    cpu.thresholds[sensors::kUnr] = 105;
    cpu.positiveHysteresis = 2;
    cpu.negativeHysteresis = 2;
    cpu.source.kind = sensors::SourceConfig::Kind::file;
    cpu.source.path = dir_.file("cpu");
    cpu.poll = milliseconds(100);

    sensors::SensorConfig intrusion;
    intrusion.number = kIntrusion;
    intrusion.name = "Intrusion";
    intrusion.sensorType = 0x05;
    intrusion.readingType = 0x6F;
    intrusion.entityId = 0x17;
    intrusion.source.kind = sensors::SourceConfig::Kind::file;
    intrusion.source.path = dir_.file("intrusion");
    intrusion.poll = milliseconds(100);

    sensors::SensorConfig fan;
    fan.number = kFan;
    fan.name = "FAN1";
    fan.sensorType = 0x04;
    fan.baseUnit = 18;
    fan.rangeMin = 0;
    fan.rangeMax = 25500;  // 100 RPM per count
    fan.thresholds[sensors::kLc] = 500;
    fan.thresholdsSettable = false;
    fan.source.kind = sensors::SourceConfig::Kind::file;
    fan.source.path = dir_.file("fan");
    fan.poll = milliseconds(100);
    return {cpu, intrusion, fan};
  }

  // (Re)creates the service as the Bmc does: construct, sink, load, register.
  void start(std::vector<sensors::SensorConfig> c = {}) {
    service_.reset();
    registry_ = std::make_unique<CommandRegistry>();
    service_ = std::make_unique<SensorService>(c.empty() ? configs() : std::move(c), queue_, store_.get());
    service_->setEventSink(&sink_);
    auto loaded = service_->load();
    ASSERT_TRUE(loaded.hasValue()) << loaded.error().message;
    service_->registerCommands(*registry_);
  }

  void write(const std::string& name, double v) { std::ofstream(dir_.file(name)) << v << "\n"; }
  void setCpu(double v) { write("cpu", v); }
  void setIntrusion(int states) { write("intrusion", states); }
  void setFan(double v) { write("fan", v); }
  // One poll period.
  void poll() {
    clock_.advance(milliseconds(100));
    queue_.runDue();
  }

  Resp call(uint8_t cmd, Bytes data = {}, Privilege privilege = Privilege::administrator, uint8_t channel = 1) {
    net::RequestContext ctx;
    ctx.channel = channel;
    ctx.privilege = privilege;
    ctx.sessionId = 0x1234;
    ctx.userId = 2;
    net::IpmiRequest req;
    req.netfn = kNf;
    req.cmd = cmd;
    req.data = data;
    auto r = registry_->dispatch(ctx, req);
    EXPECT_TRUE(r.has_value());
    if (!r) return err(Cc::unspecified);
    return Resp{r->cc, std::move(r->data)};
  }

  TempDir dir_;
  FakeClock clock_;
  TimerQueue queue_{clock_};
  std::unique_ptr<storage::StateStore> store_;
  FakeSink sink_;
  std::unique_ptr<CommandRegistry> registry_;
  std::unique_ptr<SensorService> service_;
};

// ---- Get Sensor Reading (§35.14) -------------------------------------------------------------

TEST_F(SensorServiceTest, ThresholdReading) {
  // 40 degrees; all events and scanning enabled; no threshold reached ([7:6] returned as 1b).
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({40, 0xC0, 0xC0}));
  setCpu(96);
  poll();
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({96, 0xC0, 0xC0 | 0x18}));
  setCpu(120);
  poll();
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({120, 0xC0, 0xC0 | 0x38}));
  EXPECT_EQ(call(kGetReading, {kFan}), ok({30, 0xC0, 0xC0}));
  setFan(400);
  poll();
  EXPECT_EQ(call(kGetReading, {kFan}), ok({4, 0xC0, 0xC0 | 0x02}));  // at or below lc
}

TEST_F(SensorServiceTest, DiscreteReading) {
  EXPECT_EQ(call(kGetReading, {kIntrusion}), ok({0x00, 0xC0, 0x00, 0x80}));
  setIntrusion(0x41);
  poll();
  EXPECT_EQ(call(kGetReading, {kIntrusion}), ok({0x00, 0xC0, 0x41, 0x80}));
}

TEST_F(SensorServiceTest, FailingSourceReadsUnavailable) {
  std::filesystem::remove(dir_.file("cpu"));
  poll();
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({0x00, 0xE0, 0xC0}));
  EXPECT_EQ(call(kGetEventStatus, {kCpu}), ok({0xE0, 0x00, 0x00, 0x00, 0x00}));
  setCpu(41);
  poll();
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({41, 0xC0, 0xC0}));
}

TEST_F(SensorServiceTest, UnknownSensorLengthAndPrivilege) {
  for (uint8_t cmd : {kGetReading, kGetThresholds, kGetEventEnable, kGetEventStatus, kGetType}) {
    EXPECT_EQ(call(cmd, {0x99}), err(Cc::notPresent)) << int(cmd);
    EXPECT_EQ(call(cmd, {}), err(Cc::invalidLength)) << int(cmd);
    EXPECT_EQ(call(cmd, {kCpu, 0x00}), err(Cc::invalidLength)) << int(cmd);
  }
  EXPECT_EQ(call(kGetReading, {kCpu}, Privilege::callback), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetReading, {kCpu}, Privilege::user).cc, Cc::ok);
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x10, 0, 0, 0, 0, 90, 0}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kSetHysteresis, {kCpu, 0xFF, 1, 1}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kSetEventEnable, {kCpu, 0xC0}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kRearm, {kCpu, 0x00}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kSetType, {kCpu, 0x01, 0x01}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kPlatformEvent, {0x04, 0x01, 0x30, 0x01, 0x59, 0xFF, 0xFF}, Privilege::user),
            err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kSetReceiver, {0x20, 0x00}, Privilege::operator_), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetReceiver, {}, Privilege::user), ok({0x20, 0x00}));
  EXPECT_EQ(call(0x30, {kCpu}), err(Cc::invalidCommand));  // Set Sensor Reading: not supported
}

// ---- Events ---------------------------------------------------------------------------------

TEST_F(SensorServiceTest, CrossingLogsOneAssertionAndOneDeassertion) {
  setCpu(97);
  poll();
  ASSERT_EQ(sink_.events.size(), 2u);  // unc then uc, going high
  EXPECT_EQ(sink_.events[0], bmcEvent(0x01, kCpu, false, 0x01, {0x57, 97, 85}));
  EXPECT_EQ(sink_.events[1], bmcEvent(0x01, kCpu, false, 0x01, {0x59, 97, 95}));
  setCpu(94);  // within uc's 2-degree hysteresis
  poll();
  poll();
  EXPECT_EQ(sink_.events.size(), 2u);
  setCpu(92);
  poll();
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[2], bmcEvent(0x01, kCpu, true, 0x01, {0x59, 92, 95}));

  setIntrusion(1);
  poll();
  ASSERT_EQ(sink_.events.size(), 4u);
  EXPECT_EQ(sink_.events[3], bmcEvent(0x05, kIntrusion, false, 0x6F, {0x00, 0xFF, 0xFF}));
  setIntrusion(0);
  poll();
  ASSERT_EQ(sink_.events.size(), 5u);
  EXPECT_EQ(sink_.events[4], bmcEvent(0x05, kIntrusion, true, 0x6F, {0x00, 0xFF, 0xFF}));
}

TEST_F(SensorServiceTest, DisabledEventReceiverStopsSensorEvents) {
  EXPECT_EQ(call(kSetReceiver, {0xFF, 0x00}), ok());
  EXPECT_EQ(call(kGetReceiver), ok({0xFF, 0x00}));
  setCpu(97);
  poll();
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({97, 0xC0, 0xD8}));  // the state still follows
  EXPECT_EQ(call(kSetReceiver, {0x20, 0x00}), ok());
  setCpu(40);
  poll();
  EXPECT_EQ(sink_.events.size(), 2u);  // the deassertions
  EXPECT_EQ(call(kSetReceiver, {0x20, 0x04}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetReceiver, {0x21, 0x00}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetReceiver, {0x20}), err(Cc::invalidLength));
  // Persisted.
  EXPECT_EQ(call(kSetReceiver, {0x22, 0x01}), ok());
  start();
  EXPECT_EQ(call(kGetReceiver), ok({0x22, 0x01}));
}

TEST_F(SensorServiceTest, PlatformEventMessageGoesToTheSink) {
  // ipmitool "event 1" over LAN: 7 bytes, the generator is the requester (software ID 0x40).
  EXPECT_EQ(call(kPlatformEvent, {0x04, 0x01, 0x30, 0x01, 0x09, 0xFF, 0xFF}, Privilege::operator_), ok());
  ASSERT_EQ(sink_.events.size(), 1u);
  SystemEvent e = bmcEvent(0x01, 0x30, false, 0x01, {0x09, 0xFF, 0xFF});
  e.generatorId = 0x1081;  // 0x81 on channel 1
  EXPECT_EQ(sink_.events[0], e);
  // A deassertion.
  EXPECT_EQ(call(kPlatformEvent, {0x04, 0x0C, 0x53, 0xEF, 0x00, 0xFF, 0xFF}), ok());
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_TRUE(sink_.events[1].deassertion);
  EXPECT_EQ(sink_.events[1].eventType, 0x6F);
  // The system interface carries the generator ID in the request.
  EXPECT_EQ(call(kPlatformEvent, {0x41, 0x04, 0x12, 0x01, 0x6F, 0x01, 0xFF, 0xFF}, Privilege::operator_, 0x0F), ok());
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[2].generatorId, 0x0041);
  // Lengths and fields.
  EXPECT_EQ(call(kPlatformEvent, {0x41, 0x04, 0x12, 0x01, 0x6F, 0x01, 0xFF, 0xFF}), err(Cc::invalidLength));
  EXPECT_EQ(call(kPlatformEvent, {0x04, 0x01, 0x30, 0x01, 0x09, 0xFF}), err(Cc::invalidLength));
  EXPECT_EQ(call(kPlatformEvent, {0x05, 0x01, 0x30, 0x01, 0x09, 0xFF, 0xFF}), err(Cc::invalidField));
  sink_.accept = false;
  EXPECT_EQ(call(kPlatformEvent, {0x04, 0x01, 0x30, 0x01, 0x09, 0xFF, 0xFF}), err(Cc::outOfSpace));
  EXPECT_EQ(sink_.events.size(), 4u);
}

TEST_F(SensorServiceTest, WithoutASinkEventsAreDropped) {
  service_->setEventSink(nullptr);
  EXPECT_EQ(call(kPlatformEvent, {0x04, 0x01, 0x30, 0x01, 0x09, 0xFF, 0xFF}), ok());
  setCpu(99);
  poll();
  EXPECT_TRUE(sink_.events.empty());
}

// ---- Thresholds and hysteresis (§35.6-35.9) --------------------------------------------------

TEST_F(SensorServiceTest, GetThresholds) {
  EXPECT_EQ(call(kGetThresholds, {kCpu}), ok({0x38, 0, 0, 0, 85, 95, 105}));
  EXPECT_EQ(call(kGetThresholds, {kFan}), ok({0x02, 0, 5, 0, 0, 0, 0}));
  EXPECT_EQ(call(kGetThresholds, {kIntrusion}), err(Cc::illegalForSensorOrRecord));
}

TEST_F(SensorServiceTest, SetThresholdsPersistsAndTakesEffect) {
  setCpu(92);
  poll();
  EXPECT_EQ(sink_.events.size(), 1u);  // unc
  // ipmitool "sensor thresh ... ucr 90": mask uc only, the other bytes 0.
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x10, 0, 0, 0, 0, 90, 0}, Privilege::operator_), ok());
  EXPECT_EQ(call(kGetThresholds, {kCpu}), ok({0x38, 0, 0, 0, 85, 90, 105}));
  ASSERT_EQ(sink_.events.size(), 2u);  // 92 >= 90: uc asserts at once
  EXPECT_EQ(sink_.events[1], bmcEvent(0x01, kCpu, false, 0x01, {0x59, 92, 90}));
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({92, 0xC0, 0xD8}));
  // The SDR follows.
  auto sdrs = service_->sensorSdrs();
  ASSERT_EQ(sdrs.size(), 3u);
  EXPECT_EQ(sdrs[0][37], 90);
  // Survives a restart.
  start();
  EXPECT_EQ(call(kGetThresholds, {kCpu}), ok({0x38, 0, 0, 0, 85, 90, 105}));
}

TEST_F(SensorServiceTest, SetThresholdsRefusals) {
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x01, 10, 0, 0, 0, 0, 0}), err(Cc::invalidField));  // lnc not settable
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x40, 0, 0, 0, 0, 0, 0}), err(Cc::invalidField));  // reserved bit
  EXPECT_EQ(call(kSetThresholds, {kFan, 0x02, 0, 6, 0, 0, 0, 0}), err(Cc::invalidField));  // fixed thresholds
  EXPECT_EQ(call(kSetThresholds, {kIntrusion, 0x10, 0, 0, 0, 0, 90, 0}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(call(kSetThresholds, {0x99, 0x10, 0, 0, 0, 0, 90, 0}), err(Cc::notPresent));
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x10, 0, 0, 0, 0, 90}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x10, 0, 0, 0, 0, 90, 0, 0}), err(Cc::invalidLength));
  // Mask 0 changes nothing and succeeds.
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x00, 1, 2, 3, 4, 5, 6}), ok());
  EXPECT_EQ(call(kGetThresholds, {kCpu}), ok({0x38, 0, 0, 0, 85, 95, 105}));
}

TEST_F(SensorServiceTest, PersistedThresholdsAreIgnoredWhenTheRangeChanged) {
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x10, 0, 0, 0, 0, 90, 0}), ok());
  auto c = configs();
  c[0].rangeMin = 0;
  c[0].rangeMax = 127;  // now 0.5 degree per count
  start(c);
  EXPECT_EQ(call(kGetThresholds, {kCpu}), ok({0x38, 0, 0, 0, 170, 190, 210}));
}

TEST_F(SensorServiceTest, Hysteresis) {
  EXPECT_EQ(call(kGetHysteresis, {kCpu, 0xFF}), ok({2, 2}));
  EXPECT_EQ(call(kGetHysteresis, {kCpu}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetHysteresis, {kCpu, 0xFF, 5, 3}, Privilege::operator_), ok());
  EXPECT_EQ(call(kGetHysteresis, {kCpu, 0xFF}), ok({5, 3}));
  EXPECT_EQ(call(kSetHysteresis, {kCpu, 0xFF, 5}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetHysteresis, {kIntrusion, 0xFF}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(call(kSetHysteresis, {kIntrusion, 0xFF, 1, 1}), err(Cc::illegalForSensorOrRecord));
  // Wider hysteresis: falling to 92 no longer deasserts uc (95 - 5 = 90).
  setCpu(97);
  poll();
  setCpu(92);
  poll();
  EXPECT_EQ(sink_.events.size(), 2u);
  start();
  EXPECT_EQ(call(kGetHysteresis, {kCpu, 0xFF}), ok({5, 3}));
}

TEST_F(SensorServiceTest, ReadingFactors) {
  // Next reading FFh, then M = 1, B = 0, exponents 0 (Table 43-1 bytes 25-30).
  EXPECT_EQ(call(kGetFactors, {kCpu, 0x10}), ok({0xFF, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}));
  // 100 RPM per count: M = 1, R = 2.
  EXPECT_EQ(call(kGetFactors, {kFan, 0x00}), ok({0xFF, 0x01, 0x00, 0x00, 0x00, 0x00, 0x20}));
  EXPECT_EQ(call(kGetFactors, {kIntrusion, 0x00}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(call(kGetFactors, {kCpu}), err(Cc::invalidLength));
}

// ---- Event enables, status, re-arm (§35.10-35.13) --------------------------------------------

TEST_F(SensorServiceTest, EventEnables) {
  EXPECT_EQ(call(kGetEventEnable, {kCpu}), ok({0xC0, 0x80, 0x0A, 0x80, 0x0A}));
  EXPECT_EQ(call(kGetEventEnable, {kIntrusion}), ok({0xC0, 0x7F, 0x00, 0x7F, 0x00}));
  // Disable the uc-going-high assertion (offset 9).
  EXPECT_EQ(call(kSetEventEnable, {kCpu, 0xE0, 0x00, 0x02}, Privilege::operator_), ok());
  EXPECT_EQ(call(kGetEventEnable, {kCpu}), ok({0xC0, 0x80, 0x08, 0x80, 0x0A}));
  setCpu(97);
  poll();
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].data[0], 0x57);
  // Enable it again; unsupported bits are ignored.
  EXPECT_EQ(call(kSetEventEnable, {kCpu, 0xD0, 0xFF, 0x7F, 0x00, 0x00}), ok());
  EXPECT_EQ(call(kGetEventEnable, {kCpu}), ok({0xC0, 0x80, 0x0A, 0x80, 0x0A}));
  // Flags only: all events off keeps the per-event enables.
  EXPECT_EQ(call(kSetEventEnable, {kCpu, 0x40}), ok());
  EXPECT_EQ(call(kGetEventEnable, {kCpu}), ok({0x40, 0x80, 0x0A, 0x80, 0x0A}));
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({97, 0x40, 0xD8}));
  setCpu(40);
  poll();
  EXPECT_EQ(sink_.events.size(), 1u);
  // Persisted.
  start();
  EXPECT_EQ(call(kGetEventEnable, {kCpu}), ok({0x40, 0x80, 0x0A, 0x80, 0x0A}));
  // Reserved operation, lengths.
  EXPECT_EQ(call(kSetEventEnable, {kCpu, 0xF0}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetEventEnable, {kCpu}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetEventEnable, {kCpu, 0xC0, 0, 0, 0, 0, 0}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetEventEnable, {0x99, 0xC0}), err(Cc::notPresent));
}

TEST_F(SensorServiceTest, ScanningDisabledReadsAsSuch) {
  EXPECT_EQ(call(kSetEventEnable, {kCpu, 0x80}), ok());
  setCpu(97);
  poll();
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(call(kGetReading, {kCpu}), ok({97, 0x80, 0xC0}));
}

TEST_F(SensorServiceTest, EventStatusAndRearm) {
  setCpu(97);
  poll();
  EXPECT_EQ(call(kGetEventStatus, {kCpu}), ok({0xC0, 0x80, 0x02, 0x00, 0x00}));
  setCpu(92);
  poll();
  EXPECT_EQ(call(kGetEventStatus, {kCpu}), ok({0xC0, 0x80, 0x00, 0x00, 0x02}));
  ASSERT_EQ(sink_.events.size(), 3u);
  // Re-arm all: unc (still at 92 >= 85) asserts again.
  EXPECT_EQ(call(kRearm, {kCpu, 0x00}, Privilege::operator_), ok());
  ASSERT_EQ(sink_.events.size(), 4u);
  EXPECT_EQ(sink_.events[3], bmcEvent(0x01, kCpu, false, 0x01, {0x57, 92, 85}));
  // Re-arm selected: only unc-going-high.
  EXPECT_EQ(call(kRearm, {kCpu, 0x80, 0x80, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(sink_.events.size(), 5u);
  EXPECT_EQ(call(kRearm, {kCpu}), err(Cc::invalidLength));
  EXPECT_EQ(call(kRearm, {0x99, 0x00}), err(Cc::notPresent));

  setIntrusion(0x03);
  poll();
  EXPECT_EQ(call(kGetEventStatus, {kIntrusion}), ok({0xC0, 0x03, 0x00, 0x00, 0x00}));
}

// ---- Sensor type (§35.15-35.16) --------------------------------------------------------------

TEST_F(SensorServiceTest, SensorType) {
  EXPECT_EQ(call(kGetType, {kCpu}), ok({0x01, 0x01}));
  EXPECT_EQ(call(kGetType, {kIntrusion}), ok({0x05, 0x6F}));
  EXPECT_EQ(call(kSetType, {kCpu, 0x02, 0x01}, Privilege::operator_), ok());
  EXPECT_EQ(call(kGetType, {kCpu}), ok({0x02, 0x01}));
  EXPECT_EQ(call(kSetType, {kCpu, 0x02, 0x6F}), err(Cc::invalidField));  // a threshold sensor stays one
  EXPECT_EQ(call(kSetType, {kIntrusion, 0x05, 0x01}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetType, {kIntrusion, 0x05, 0x20}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetType, {kIntrusion, 0x25, 0x08}), ok());
  EXPECT_EQ(call(kSetType, {kCpu, 0x02}), err(Cc::invalidLength));
  // Events carry the new type; it persists.
  setCpu(97);
  poll();
  ASSERT_FALSE(sink_.events.empty());
  EXPECT_EQ(sink_.events[0].sensorType, 0x02);
  start();
  EXPECT_EQ(call(kGetType, {kCpu}), ok({0x02, 0x01}));
  EXPECT_EQ(call(kGetType, {kIntrusion}), ok({0x25, 0x08}));
}

// ---- SDRs for the repository ----------------------------------------------------------------

TEST_F(SensorServiceTest, SensorSdrs) {
  auto sdrs = service_->sensorSdrs();
  ASSERT_EQ(sdrs.size(), 3u);
  EXPECT_EQ(sdrs[0][3], sensors::kFullSensorRecord);
  EXPECT_EQ(sdrs[1][3], sensors::kCompactSensorRecord);
  EXPECT_EQ(sdrs[2][3], sensors::kFullSensorRecord);
  for (const Bytes& r : sdrs) {
    EXPECT_EQ(r[0], 0x00);
    EXPECT_EQ(r[1], 0x00);
    EXPECT_EQ(r[2], 0x51);
    EXPECT_EQ(r[4], r.size() - 5);
  }
  EXPECT_EQ(sdrs[0][7], kCpu);
  EXPECT_EQ(sdrs[1][7], kIntrusion);
}

TEST_F(SensorServiceTest, ThresholdAndHysteresisChangesReachTheSdrListenerBeforeTheReply) {
  std::vector<Bytes> seen;
  service_->setSdrListener([&](const Bytes& r) { seen.push_back(r); });
  const Bytes original = service_->sensorSdrs()[0];
  EXPECT_EQ(call(kSetThresholds, {kCpu, 0x10, 0, 0, 0, 0, 90, 0}, Privilege::operator_), ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], service_->sensorSdrs()[0]);
  EXPECT_EQ(seen[0][37], 90) << "byte 38: upper critical";
  EXPECT_EQ(call(kSetHysteresis, {kCpu, 0xFF, 5, 3}, Privilege::operator_), ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1][42], 5) << "byte 43: positive-going hysteresis";
  EXPECT_EQ(seen[1][43], 3);
  // Refused requests change nothing and tell nobody.
  EXPECT_EQ(call(kSetThresholds, {kFan, 0x02, 0, 6, 0, 0, 0, 0}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetHysteresis, {kIntrusion, 0xFF, 1, 1}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(seen.size(), 2u);
  // The configured records stay as the config says, whatever clients set.
  auto configured = service_->configuredSdrs();
  ASSERT_EQ(configured.size(), 3u);
  EXPECT_EQ(configured[0], original);
  EXPECT_EQ(configured[1], service_->sensorSdrs()[1]);
  // And after a restart that restored the client's values.
  start();
  EXPECT_EQ(service_->configuredSdrs()[0], original);
  EXPECT_EQ(service_->sensorSdrs()[0], seen[1]);
}

TEST_F(SensorServiceTest, SensorTypeChangesReachTheSdrListenerBeforeTheReply) {
  std::vector<Bytes> seen;
  service_->setSdrListener([&](const Bytes& r) { seen.push_back(r); });
  const std::vector<Bytes> original = service_->sensorSdrs();
  // §35.15 Set Sensor Type; Tables 43-1/43-2 bytes 13-14 carry the new type (index 12-13).
  EXPECT_EQ(call(kSetType, {kCpu, 0x02, 0x01}, Privilege::operator_), ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], service_->sensorSdrs()[0]);
  EXPECT_EQ((Bytes{seen[0][12], seen[0][13]}), (Bytes{0x02, 0x01}));
  Bytes expected = original[0];
  expected[12] = 0x02;
  EXPECT_EQ(seen[0], expected) << "only the sensor type changes";
  EXPECT_EQ(call(kSetType, {kIntrusion, 0x25, 0x08}, Privilege::operator_), ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1][3], sensors::kCompactSensorRecord);
  EXPECT_EQ((Bytes{seen[1][12], seen[1][13]}), (Bytes{0x25, 0x08}));
  EXPECT_EQ(call(kGetType, {kIntrusion}), ok({0x25, 0x08})) << "Get Sensor Type agrees with the record";
  // Refused requests change nothing and tell nobody.
  EXPECT_EQ(call(kSetType, {kCpu, 0x03, 0x6F}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetType, {kIntrusion, 0x05, 0x01}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetType, {0x99, 0x05, 0x6F}), err(Cc::notPresent));
  EXPECT_EQ(seen.size(), 2u);
  // The configured records keep the config's types (the SDR repository's generated set identifies
  // the config), before and after a restart that restored the client's types.
  EXPECT_EQ(service_->configuredSdrs(), original);
  start();
  EXPECT_EQ(service_->configuredSdrs(), original);
  EXPECT_EQ(service_->sensorSdrs()[0], seen[0]);
  EXPECT_EQ(service_->sensorSdrs()[1], seen[1]);
}

TEST_F(SensorServiceTest, AStoreFailureLeavesTheSdrAlone) {
  std::vector<Bytes> seen;
  service_->setSdrListener([&](const Bytes& r) { seen.push_back(r); });
  ASSERT_TRUE(store_->database().exec("PRAGMA query_only = 1"));
  EXPECT_NE(call(kSetThresholds, {kCpu, 0x10, 0, 0, 0, 0, 90, 0}).cc, Cc::ok);
  EXPECT_NE(call(kSetHysteresis, {kCpu, 0xFF, 5, 3}).cc, Cc::ok);
  EXPECT_NE(call(kSetType, {kCpu, 0x02, 0x01}).cc, Cc::ok);
  ASSERT_TRUE(store_->database().exec("PRAGMA query_only = 0"));
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(call(kGetThresholds, {kCpu}), ok({0x38, 0, 0, 0, 85, 95, 105}));
  EXPECT_EQ(call(kGetType, {kCpu}), ok({0x01, 0x01}));
}

TEST_F(SensorServiceTest, BuiltInSensorsAreServedLikeConfiguredOnes) {
  service_.reset();
  registry_ = std::make_unique<CommandRegistry>();
  service_ = std::make_unique<SensorService>(configs(), queue_, store_.get());
  service_->setEventSink(&sink_);
  sensors::SensorConfig pushed;
  pushed.number = 0x70;
  pushed.name = "Pushed";
  pushed.sensorType = 0x09;
  pushed.readingType = 0x6F;
  double state = 0;
  service_->addSensor(pushed, std::make_unique<sensors::CallbackSource>([&] { return state; }));
  EXPECT_FALSE(service_->refresh(0x70)) << "not before load";
  ASSERT_TRUE(service_->load().hasValue());
  service_->registerCommands(*registry_);
  ASSERT_EQ(service_->sensorSdrs().size(), 4u);
  EXPECT_EQ(service_->sensorSdrs()[3][7], 0x70) << "after the configured sensors";
  sink_.events.clear();
  state = 1;
  EXPECT_TRUE(service_->refresh(0x70));
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0], bmcEvent(0x09, 0x70, false, 0x6F, {0x00, 0xFF, 0xFF}));
  EXPECT_EQ(call(kGetReading, {0x70}), ok({0x00, 0xC0, 0x01, 0x80}));
  // Its event enables persist like any sensor's.
  EXPECT_EQ(call(kSetEventEnable, {0x70, 0x80}), ok());
  EXPECT_EQ(call(kGetEventEnable, {0x70}).data.at(0), 0x80);

  // A built-in sensor on a configured number fails the load.
  SensorService dup(configs(), queue_, nullptr);
  pushed.number = kCpu;
  dup.addSensor(pushed, std::make_unique<sensors::CallbackSource>([] { return 0.0; }));
  auto r = dup.load();
  ASSERT_FALSE(r.hasValue());
  EXPECT_NE(r.error().message.find("duplicate"), std::string::npos) << r.error().message;
}

TEST_F(SensorServiceTest, LoadErrorsNameTheSensor) {
  auto c = configs();
  c[1].number = kCpu;
  SensorService dup(c, queue_, nullptr);
  auto r = dup.load();
  ASSERT_FALSE(r.hasValue());
  EXPECT_NE(r.error().message.find("duplicate"), std::string::npos) << r.error().message;

  c = configs();
  c[0].source.kind = sensors::SourceConfig::Kind::scenario;  // no steps
  SensorService bad(c, queue_, nullptr);
  r = bad.load();
  ASSERT_FALSE(r.hasValue());
  EXPECT_NE(r.error().message.find("CPU Temp"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace simbmc::bmc
