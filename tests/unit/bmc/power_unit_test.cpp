// The BMC's Power Unit sensor (bmc/chassis/power_unit.cpp) in a SensorService: its state follows a
// scripted host, its events (IPMI v2.0 Table 42-3, sensor type 09h, type 6Fh) reach the EventSink
// when the host announces a transition, and the Sensor/Event commands work on it as on any discrete
// sensor. Its compact SDR and the choice of its number are checked too. Virtual time (FakeClock).
#include "bmc/chassis/power_unit.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "sensors/sdr.hpp"
#include "unit/bmc/recording_sink.hpp"

namespace simbmc::bmc {
namespace {

using std::chrono::milliseconds;

constexpr uint8_t kNumber = PowerUnitConfig::kDefaultNumber;

// A host whose state the test sets, then announces.
class ScriptedHost final : public HostControl {
 public:
  bool powerOn() const override { return on; }
  bool powerCycleInProgress() const override { return cycling; }
  Cc request(ChassisAction, RestartCause) override { return Cc::ok; }
  RestartCause lastRestartCause() const override { return RestartCause::unknown; }
  bool lastPowerOnViaIpmi() const override { return false; }
  uint64_t powerOnSeconds() const override { return 0; }
  void addListener(Listener l) override { listeners.push_back(std::move(l)); }

  void announce(PowerEvent e) {
    const auto copy = listeners;
    for (const auto& l : copy) l(e);
  }
  void off(bool cycle = false) {
    on = false;
    cycling = cycle;
    announce(PowerEvent::poweredOff);
  }
  void powerUp() {
    on = true;
    cycling = false;
    announce(PowerEvent::poweredOn);
  }

  bool on = true;
  bool cycling = false;
  std::vector<Listener> listeners;
};

using testing::RecordingSink;

struct Ev {
  bool deassertion;
  uint8_t offset;
  bool operator==(const Ev&) const = default;
};

void PrintTo(const Ev& e, std::ostream* os) { *os << (e.deassertion ? "deassert " : "assert ") << int(e.offset); }

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

class PowerUnitTest : public ::testing::Test {
 protected:
  void start(PowerUnitConfig config = {}, std::vector<sensors::SensorConfig> configured = {},
             std::optional<bool> previousPowerOn = std::nullopt) {
    unit_.reset();
    registry_ = std::make_unique<CommandRegistry>();
    sensors_ = std::make_unique<SensorService>(configured, timers_, nullptr);
    unit_ = std::make_unique<PowerUnit>(host_, *sensors_);
    sensors_->setEventSink(&sink_);
    auto attached = unit_->attach(config, configured, previousPowerOn);
    ASSERT_TRUE(attached.hasValue()) << attached.error().message;
    auto loaded = sensors_->load();
    ASSERT_TRUE(loaded.hasValue()) << loaded.error().message;
    sensors_->registerCommands(*registry_);
  }

  // The Power Unit events logged so far (and forgets them), checking the fixed fields of each.
  std::vector<Ev> take() {
    std::vector<Ev> out;
    for (const SystemEvent& e : sink_.events) {
      EXPECT_EQ(e.generatorId, 0x0020) << "the BMC, channel 0, LUN 0";
      EXPECT_EQ(e.evmRev, 0x04);
      EXPECT_EQ(e.sensorType, 0x09);
      EXPECT_EQ(e.sensorNumber, unit_->number().value_or(0));
      EXPECT_EQ(e.eventType, 0x6F);
      EXPECT_EQ(e.data[1], 0xFF);
      EXPECT_EQ(e.data[2], 0xFF);
      out.push_back(Ev{e.deassertion, e.data[0]});
    }
    sink_.events.clear();
    return out;
  }

  Resp call(uint8_t cmd, Bytes data, Privilege priv = Privilege::operator_) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = priv;
    ctx.sessionId = 0x77;
    ctx.userId = 2;
    auto r = registry_->dispatch(ctx, net::IpmiRequest{netfn::sensorEvent, 0, cmd, std::move(data)});
    EXPECT_TRUE(r.has_value());
    if (!r) return Resp{Cc::unspecified, {}};
    return Resp{r->cc, std::move(r->data)};
  }

  void advance(milliseconds d) {
    clock_.advance(d);
    timers_.runDue();
  }

  FakeClock clock_;
  TimerQueue timers_{clock_};
  ScriptedHost host_;
  RecordingSink sink_;
  std::unique_ptr<CommandRegistry> registry_;
  std::unique_ptr<SensorService> sensors_;
  std::unique_ptr<PowerUnit> unit_;
};

TEST_F(PowerUnitTest, PowerOffAssertsAndPowerOnDeassertsWhenTheHostSaysSo) {
  start();
  ASSERT_EQ(unit_->number(), kNumber);
  EXPECT_EQ(take(), std::vector<Ev>{}) << "a host that is on: nothing to log at start";
  host_.off();
  EXPECT_EQ(take(), (std::vector<Ev>{{false, 0x00}})) << "at the transition, not at the next poll";
  advance(milliseconds(5000));
  EXPECT_EQ(take(), std::vector<Ev>{}) << "polls do not repeat it";
  host_.powerUp();
  EXPECT_EQ(take(), (std::vector<Ev>{{true, 0x00}}));
  // A reset changes no power state.
  host_.announce(PowerEvent::reset);
  host_.announce(PowerEvent::softShutdownRequested);
  EXPECT_EQ(take(), std::vector<Ev>{});
}

TEST_F(PowerUnitTest, PowerCycleAssertsPowerCycleOnceAndOnlyPowerOffDeasserts) {
  start();
  host_.off(/*cycle=*/true);
  EXPECT_EQ(take(), (std::vector<Ev>{{false, 0x00}, {false, 0x01}}));
  host_.powerUp();
  EXPECT_EQ(take(), (std::vector<Ev>{{true, 0x00}})) << "the power cycle is momentary: no deassertion";
  // A cycle cancelled in its off phase (power down wins) is not announced; the poll catches up
  // without an event, and the host stays off.
  host_.off(true);
  take();
  host_.cycling = false;
  advance(milliseconds(1000));
  EXPECT_EQ(take(), std::vector<Ev>{});
  EXPECT_EQ(call(0x2D, {kNumber}), (Resp{Cc::ok, {0x00, 0xC0, 0x01, 0x80}}));
}

TEST_F(PowerUnitTest, AFirstStartWithTheHostOffLogsNothingUntilItComesOn) {
  host_.on = false;
  start();
  advance(milliseconds(3000));
  EXPECT_EQ(take(), std::vector<Ev>{}) << "the BMC did not see it go off";
  EXPECT_EQ(call(0x2D, {kNumber}), (Resp{Cc::ok, {0x00, 0xC0, 0x01, 0x80}})) << "but reports it off";
  host_.powerUp();
  EXPECT_EQ(take(), (std::vector<Ev>{{true, 0x00}}));
}

TEST_F(PowerUnitTest, ARestartThatFindsTheHostAsItWasLogsNothing) {
  // On before the restart; the simulated host starts off and the restore policy powers it on right
  // after start-up, before the first poll.
  host_.on = false;
  start({}, {}, /*previousPowerOn=*/true);
  host_.powerUp();
  advance(milliseconds(3000));
  EXPECT_EQ(take(), std::vector<Ev>{});
  // Off before the restart and still off.
  host_.on = false;
  start({}, {}, false);
  advance(milliseconds(3000));
  EXPECT_EQ(take(), std::vector<Ev>{});
  EXPECT_EQ(call(0x2D, {kNumber}), (Resp{Cc::ok, {0x00, 0xC0, 0x01, 0x80}}));
}

TEST_F(PowerUnitTest, ARestartThatFindsTheHostChangedLogsTheChange) {
  // On before the restart, kept off by the restore policy: logged at the first poll.
  host_.on = false;
  start({}, {}, /*previousPowerOn=*/true);
  EXPECT_EQ(take(), std::vector<Ev>{});
  advance(milliseconds(1000));
  EXPECT_EQ(take(), (std::vector<Ev>{{false, 0x00}}));
  // Off before the restart, powered on by the restore policy: the deassertion.
  host_.on = false;
  start({}, {}, false);
  host_.powerUp();
  EXPECT_EQ(take(), (std::vector<Ev>{{true, 0x00}}));
}

TEST_F(PowerUnitTest, SensorCommandsWorkAsOnAnyDiscreteSensor) {
  start();
  // §35.14 Get Sensor Reading: no reading byte, events + scanning on, states 0-7, states 8-14.
  EXPECT_EQ(call(0x2D, {kNumber}), (Resp{Cc::ok, {0x00, 0xC0, 0x00, 0x80}}));
  host_.off(true);
  EXPECT_EQ(call(0x2D, {kNumber}), (Resp{Cc::ok, {0x00, 0xC0, 0x03, 0x80}}));
  // §35.13 Get Sensor Event Status: asserted 0 and 1.
  EXPECT_EQ(call(0x2B, {kNumber}), (Resp{Cc::ok, {0xC0, 0x03, 0x00, 0x00, 0x00}}));
  host_.powerUp();
  EXPECT_EQ(call(0x2B, {kNumber}), (Resp{Cc::ok, {0xC0, 0x00, 0x00, 0x01, 0x00}}))
      << "power off deasserted; the power cycle is momentary, it never deasserts";
  // §35.11 Get Sensor Event Enable: what the SDR says the sensor supports.
  EXPECT_EQ(call(0x29, {kNumber}), (Resp{Cc::ok, {0xC0, 0x03, 0x00, 0x01, 0x00}}));
  // §35.15-35.16 Get Sensor Type.
  EXPECT_EQ(call(0x2F, {kNumber}), (Resp{Cc::ok, {0x09, 0x6F}}));
  // Threshold commands are not for a discrete sensor.
  EXPECT_EQ(call(0x27, {kNumber}).cc, Cc::illegalForSensorOrRecord);
  take();

  // §35.10: disable the power-off assertion: the transition is not logged, the state still moves.
  EXPECT_EQ(call(0x28, {kNumber, 0xE0, 0x01, 0x00}), (Resp{Cc::ok, {}}));
  host_.off();
  EXPECT_EQ(take(), std::vector<Ev>{});
  EXPECT_EQ(call(0x2D, {kNumber}), (Resp{Cc::ok, {0x00, 0xC0, 0x01, 0x80}}));
  host_.powerUp();
  EXPECT_EQ(take(), (std::vector<Ev>{{true, 0x00}}));
  // All event messages off (byte 2 bit 7 clear): nothing at all.
  EXPECT_EQ(call(0x28, {kNumber, 0x40}), (Resp{Cc::ok, {}}));
  host_.off(true);
  host_.powerUp();
  EXPECT_EQ(take(), std::vector<Ev>{});
  // Malformed requests get completion codes.
  EXPECT_EQ(call(0x2D, {}).cc, Cc::invalidLength);
  EXPECT_EQ(call(0x2D, {kNumber, 0x00}).cc, Cc::invalidLength);
  EXPECT_EQ(call(0x28, {kNumber, 0x30}).cc, Cc::invalidField);
  EXPECT_EQ(call(0x28, {kNumber, 0xE0, 0x01}, Privilege::user).cc, Cc::insufficientPrivilege);
}

TEST_F(PowerUnitTest, CompactSdrDescribesIt) {
  start();
  auto sdrs = sensors_->sensorSdrs();
  ASSERT_EQ(sdrs.size(), 1u);
  const Bytes& r = sdrs[0];
  ASSERT_EQ(r.size(), 32u + 15u);
  EXPECT_EQ(r[3], 0x02) << "compact sensor record";
  EXPECT_EQ(r[4], r.size() - 5);
  EXPECT_EQ(r[5], 0x20) << "owner: the BMC";
  EXPECT_EQ(r[6], 0x00) << "channel 0, LUN 0";
  EXPECT_EQ(r[7], kNumber);
  EXPECT_EQ(r[8], 0x13) << "entity: power unit";
  EXPECT_EQ(r[9], 0x01);
  EXPECT_EQ(r[12], 0x09) << "sensor type: Power Unit";
  EXPECT_EQ(r[13], 0x6F) << "sensor-specific";
  EXPECT_EQ((Bytes{r[14], r[15], r[16], r[17], r[18], r[19]}), (Bytes{0x03, 0x00, 0x01, 0x00, 0x03, 0x00}))
      << "assertion mask 0-1, deassertion mask 0, reading mask 0-1";
  EXPECT_EQ(r[10] & 0x03, 0x03) << "initialization: events and scanning enabled";
  EXPECT_EQ(r[11] & 0x03, 0x00) << "capabilities: per-state event enables";
  EXPECT_EQ(r[31], 0xC0 | 15);
  EXPECT_EQ(std::string(r.begin() + 32, r.end()), "Pwr Unit Status");
}

TEST_F(PowerUnitTest, NumberAndNameComeFromTheConfigOrAFreeNumber) {
  sensors::SensorConfig taken;
  taken.number = kNumber;
  taken.name = "Other";
  taken.sensorType = 0x05;
  taken.readingType = 0x6F;
  taken.source.kind = sensors::SourceConfig::Kind::staticValue;
  sensors::SensorConfig top = taken;
  top.number = 0xFE;
  top.name = "Top";
  start({}, {taken, top});
  EXPECT_EQ(unit_->number(), 0xFD) << "the default is taken: the highest free number";
  ASSERT_NE(sensors_->hub()->find(0xFD), nullptr);
  EXPECT_EQ(sensors_->hub()->find(0xFD)->sensorType(), 0x09);
}

TEST_F(PowerUnitTest, ExplicitNumberAndName) {
  PowerUnitConfig c;
  c.number = 0x0A;
  c.name = "Power Unit";
  start(c);
  EXPECT_EQ(unit_->number(), 0x0A);
  EXPECT_EQ(sensors_->hub()->find(0x0A)->name(), "Power Unit");
  host_.off();
  EXPECT_EQ(take(), (std::vector<Ev>{{false, 0x00}}));
}

TEST_F(PowerUnitTest, ConfigErrorsAreReported) {
  sensors::SensorConfig taken;
  taken.number = 0x0A;
  taken.name = "CPU Temp";
  SensorService sensors({}, timers_, nullptr);
  PowerUnit unit(host_, sensors);
  PowerUnitConfig c;
  c.number = 0x0A;
  auto r = unit.attach(c, {taken});
  ASSERT_FALSE(r.hasValue());
  EXPECT_EQ(r.error().kind, Error::Kind::invalidArgument);
  EXPECT_NE(r.error().message.find("'CPU Temp'"), std::string::npos) << r.error().message;
  c.number.reset();
  c.name = "";
  EXPECT_FALSE(unit.attach(c, {}).hasValue());
  c.name = "A name of 17 char";
  EXPECT_FALSE(unit.attach(c, {}).hasValue());
  EXPECT_FALSE(unit.number());
}

TEST_F(PowerUnitTest, DisabledMeansNoSensorAndNoEvents) {
  PowerUnitConfig c;
  c.enabled = false;
  start(c);
  EXPECT_FALSE(unit_->number());
  EXPECT_EQ(sensors_->hub()->size(), 0u);
  host_.off();
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(call(0x2D, {kNumber}).cc, Cc::notPresent);
}

TEST_F(PowerUnitTest, ListenerIsInertOnceTheUnitIsGone) {
  start();
  unit_.reset();
  host_.off();  // must neither crash nor log through a dead object
  EXPECT_TRUE(sink_.events.empty());
}

}  // namespace
}  // namespace simbmc::bmc
