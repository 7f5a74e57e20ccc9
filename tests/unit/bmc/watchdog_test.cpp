// The BMC watchdog timer (bmc/app/watchdog.cpp) through a CommandRegistry, in virtual time.
// IPMI v2.0 §27.5 Reset, §27.6 Set, §27.7 Get Watchdog Timer; Table 42-3 "Watchdog 2" events.
#include "bmc/app/watchdog.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"
#include "unit/bmc/recording_sink.hpp"

namespace simbmc::bmc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint8_t kReset = 0x22;
constexpr uint8_t kSet = 0x24;
constexpr uint8_t kGet = 0x25;

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

// Transitions complete at once and are reported to listeners, like HostPowerSim with zero delays.
class FakeHost final : public HostControl {
 public:
  bool powerOn() const override { return on; }
  Cc request(ChassisAction action, RestartCause c) override {
    requests.emplace_back(action, c);
    switch (action) {
      case ChassisAction::powerUp:
        if (!on) {
          on = true;
          notify(PowerEvent::poweredOn);
        }
        break;
      case ChassisAction::powerDown:
        if (on) {
          on = false;
          notify(PowerEvent::poweredOff);
        }
        break;
      case ChassisAction::powerCycle:
        if (!on) return Cc::notSupportedInState;
        on = false;
        notify(PowerEvent::poweredOff);
        on = true;
        notify(PowerEvent::poweredOn);
        break;
      case ChassisAction::hardReset:
        if (!on) return Cc::notSupportedInState;
        notify(PowerEvent::reset);
        break;
      case ChassisAction::diagnosticInterrupt:
        if (!on) return Cc::notSupportedInState;
        notify(PowerEvent::diagnosticInterrupt);
        break;
      default:
        break;
    }
    cause = c;
    return Cc::ok;
  }
  RestartCause lastRestartCause() const override { return cause; }
  bool lastPowerOnViaIpmi() const override { return false; }
  uint64_t powerOnSeconds() const override { return 0; }
  void addListener(Listener l) override { listeners.push_back(std::move(l)); }
  void notify(PowerEvent e) {
    const auto copy = listeners;
    for (const auto& l : copy) l(e);
  }

  bool on = true;
  RestartCause cause = RestartCause::unknown;
  std::vector<std::pair<ChassisAction, RestartCause>> requests;
  std::vector<Listener> listeners;
};

using FakeSink = testing::RecordingSink;

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    watchdog_.setEventSink(&sink_);
    watchdog_.registerCommands(registry_);
  }

  Resp call(uint8_t cmd, Bytes data = {}, Privilege privilege = Privilege::operator_) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = privilege;
    ctx.sessionId = 0x1234;
    ctx.userId = 2;
    net::IpmiRequest req;
    req.netfn = netfn::app;
    req.cmd = cmd;
    req.data = data;
    auto r = registry_.dispatch(ctx, req);
    EXPECT_TRUE(r.has_value());
    if (!r) return err(Cc::unspecified);
    return Resp{r->cc, std::move(r->data)};
  }

  // Set Watchdog Timer with `countdown` in 100 ms units.
  Resp set(uint8_t use, uint8_t actions, uint8_t pretimeout, uint8_t clear, uint16_t countdown) {
    return call(kSet, {use, actions, pretimeout, clear, static_cast<uint8_t>(countdown),
                       static_cast<uint8_t>(countdown >> 8)});
  }
  Bytes get() {
    Resp r = call(kGet, {}, Privilege::user);
    EXPECT_EQ(r.cc, Cc::ok);
    EXPECT_EQ(r.data.size(), 8u);
    return r.data;
  }
  uint16_t present() {
    Bytes g = get();
    return g.size() == 8 ? static_cast<uint16_t>(g[6] | (g[7] << 8)) : 0xFFFF;
  }
  void advance(std::chrono::nanoseconds d) {
    clock_.advance(d);
    queue_.runDue();
  }

  FakeClock clock_;
  TimerQueue queue_{clock_};
  FakeHost host_;
  uint8_t messageFlags_ = 0;
  FakeSink sink_;
  Watchdog watchdog_{queue_, host_, messageFlags_};
  CommandRegistry registry_;
};

// ---- Layouts ------------------------------------------------------------------------------------

TEST_F(WatchdogTest, GetBeforeAnySetIsAllZero) {
  EXPECT_EQ(call(kGet, {}, Privilege::user), ok({0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(WatchdogTest, ResetBeforeSetIsUninitialized) {
  EXPECT_EQ(call(kReset), err(Cc{0x80}));
  EXPECT_FALSE(watchdog_.running());
}

TEST_F(WatchdogTest, SetThenGetEchoesTheSettingsStopped) {
  // SMS/OS, don't log; NMI pre-timeout, hard reset; 5 s pre-timeout; 10 s countdown.
  ASSERT_EQ(set(0x84, 0x21, 5, 0x00, 100), ok());
  EXPECT_EQ(get(), (Bytes{0x84, 0x21, 5, 0x00, 100, 0, 100, 0}));
  EXPECT_FALSE(watchdog_.running());
  EXPECT_TRUE(queue_.size() == 0);
}

TEST_F(WatchdogTest, ResetStartsTheCountdownInVirtualTime) {
  ASSERT_EQ(set(0x04, 0x00, 0, 0, 0x0123), ok());  // 29.1 s
  ASSERT_EQ(call(kReset), ok());
  Bytes g = get();
  EXPECT_EQ(g[0], 0x44);  // running bit 6 + SMS/OS
  EXPECT_EQ(present(), 0x0123);
  advance(milliseconds(50));
  EXPECT_EQ(present(), 0x0123);  // a count is 100 ms; rounded up
  advance(milliseconds(2450));
  EXPECT_EQ(present(), 0x0123 - 25);
  // Reset again: back to the initial value, still running.
  ASSERT_EQ(call(kReset), ok());
  EXPECT_EQ(present(), 0x0123);
  EXPECT_TRUE(watchdog_.running());
}

// ---- Expiry and actions -------------------------------------------------------------------------

struct ActionCase {
  uint8_t action;
  std::optional<ChassisAction> chassis;
  uint8_t offset;
};

class WatchdogActionTest : public WatchdogTest, public ::testing::WithParamInterface<ActionCase> {};

TEST_P(WatchdogActionTest, ExpiryAppliesTheActionAndLogsTheEvent) {
  const ActionCase& c = GetParam();
  ASSERT_EQ(set(timerUse::osLoad, c.action, 0, 0, 20), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(milliseconds(1999));
  EXPECT_TRUE(host_.requests.empty());
  EXPECT_TRUE(watchdog_.running());
  advance(milliseconds(1));
  EXPECT_FALSE(watchdog_.running());
  if (c.chassis) {
    ASSERT_EQ(host_.requests.size(), 1u);
    EXPECT_EQ(host_.requests[0].first, *c.chassis);
    EXPECT_EQ(host_.requests[0].second, RestartCause::watchdog);
  } else {
    EXPECT_TRUE(host_.requests.empty());
  }
  Bytes g = get();
  EXPECT_EQ(g[0], timerUse::osLoad);  // stopped
  EXPECT_EQ(g[3], 1u << timerUse::osLoad);
  EXPECT_EQ(present(), 0);
  ASSERT_EQ(sink_.events.size(), 1u);
  const SystemEvent& e = sink_.events[0];
  EXPECT_EQ(e.sensorType, 0x23);
  EXPECT_EQ(e.eventType, 0x6F);
  EXPECT_FALSE(e.deassertion);
  EXPECT_EQ(e.generatorId, 0x0020);
  EXPECT_EQ(e.data, (std::array<uint8_t, 3>{static_cast<uint8_t>(0xC0 | c.offset), timerUse::osLoad, 0xFF}));
}

INSTANTIATE_TEST_SUITE_P(Actions, WatchdogActionTest,
                         ::testing::Values(ActionCase{0, std::nullopt, 0}, ActionCase{1, ChassisAction::hardReset, 1},
                                           ActionCase{2, ChassisAction::powerDown, 2},
                                           ActionCase{3, ChassisAction::powerCycle, 3}));

TEST_F(WatchdogTest, HardResetExpiryUninitializesTheTimer) {
  ASSERT_EQ(set(timerUse::smsOs, 0x01, 0, 0, 10), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(seconds(1));
  EXPECT_EQ(host_.cause, RestartCause::watchdog);
  // The host was reset: the OS must Set the timer again.
  EXPECT_EQ(call(kReset), err(Cc{0x80}));
  EXPECT_EQ(get()[3], 0x10);  // the flag survives the reset
}

TEST_F(WatchdogTest, ActionImpossibleWhileOffLogsStatusOnly) {
  host_.on = false;
  ASSERT_EQ(set(timerUse::biosPost, 0x01, 0, 0, 5), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(milliseconds(500));
  EXPECT_TRUE(host_.requests.empty());
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].data[0], 0xC0);  // offset 0: timer expired
  EXPECT_EQ(get()[3], 0x04);
}

TEST_F(WatchdogTest, DontLogKeepsTheFlagButLogsNothing) {
  ASSERT_EQ(set(0x80 | timerUse::oem, 0x10, 1, 0, 20), ok());  // SMI pre-timeout, no action
  ASSERT_EQ(call(kReset), ok());
  advance(seconds(2));
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(get()[3], 0x20);
  EXPECT_EQ(messageFlags_ & kMessageFlagWatchdogPreTimeout, kMessageFlagWatchdogPreTimeout);
}

TEST_F(WatchdogTest, CountdownZeroExpiresAtOnce) {
  ASSERT_EQ(set(timerUse::smsOs, 0x00, 0, 0, 0), ok());
  ASSERT_EQ(call(kReset), ok());
  queue_.runDue();
  EXPECT_FALSE(watchdog_.running());
  EXPECT_EQ(get()[3], 0x10);
  EXPECT_EQ(sink_.events.size(), 1u);
}

TEST_F(WatchdogTest, ReservedTimerUseExpiresWithoutAFlag) {
  ASSERT_EQ(set(timerUse::reserved, 0x00, 0, 0, 1), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(milliseconds(100));
  EXPECT_FALSE(watchdog_.running());
  EXPECT_EQ(get()[3], 0x00);
}

TEST_F(WatchdogTest, NoEventSinkStillRunsTheAction) {
  watchdog_.setEventSink(nullptr);
  ASSERT_EQ(set(timerUse::smsOs, 0x02, 0, 0, 1), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(milliseconds(100));
  ASSERT_EQ(host_.requests.size(), 1u);
  EXPECT_EQ(host_.requests[0].first, ChassisAction::powerDown);
  EXPECT_FALSE(host_.on);
}

// ---- Pre-timeout ---------------------------------------------------------------------------------

TEST_F(WatchdogTest, NmiPreTimeoutFiresIntervalBeforeExpiry) {
  ASSERT_EQ(set(timerUse::smsOs, 0x21, 3, 0, 100), ok());  // NMI, hard reset, 3 s before 10 s
  ASSERT_EQ(call(kReset), ok());
  advance(milliseconds(6999));
  EXPECT_TRUE(sink_.events.empty());
  advance(milliseconds(1));
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].data, (std::array<uint8_t, 3>{0xC8, 0x24, 0xFF}));  // timer interrupt, NMI + SMS/OS
  ASSERT_EQ(host_.requests.size(), 1u);
  EXPECT_EQ(host_.requests[0].first, ChassisAction::diagnosticInterrupt);
  EXPECT_EQ(messageFlags_, kMessageFlagWatchdogPreTimeout);
  EXPECT_TRUE(watchdog_.running());
  advance(seconds(3));
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[1].data, (std::array<uint8_t, 3>{0xC1, 0x24, 0xFF}));
  ASSERT_EQ(host_.requests.size(), 2u);
  EXPECT_EQ(host_.requests[1].first, ChassisAction::hardReset);
}

TEST_F(WatchdogTest, MessagingPreTimeoutOnlySetsTheFlag) {
  ASSERT_EQ(set(timerUse::smsOs, 0x30, 1, 0, 20), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(seconds(1));
  EXPECT_EQ(messageFlags_, kMessageFlagWatchdogPreTimeout);
  EXPECT_TRUE(host_.requests.empty());
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].data[1], 0x34);
}

TEST_F(WatchdogTest, PreTimeoutIntervalLongerThanCountdownFiresAtStart) {
  ASSERT_EQ(set(timerUse::smsOs, 0x10, 30, 0, 50), ok());  // 30 s before a 5 s countdown
  ASSERT_EQ(call(kReset), ok());
  queue_.runDue();
  EXPECT_EQ(messageFlags_, kMessageFlagWatchdogPreTimeout);
  EXPECT_TRUE(watchdog_.running());
}

TEST_F(WatchdogTest, SetClearsThePreTimeoutFlag) {
  ASSERT_EQ(set(timerUse::smsOs, 0x30, 1, 0, 20), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(seconds(1));
  ASSERT_EQ(messageFlags_, kMessageFlagWatchdogPreTimeout);
  messageFlags_ |= 0x01;  // another flag stays
  ASSERT_EQ(set(0x40 | timerUse::smsOs, 0x30, 1, 0, 20), ok());
  EXPECT_EQ(messageFlags_, 0x01);
}

TEST_F(WatchdogTest, PreTimeoutNotRepeatedAfterStopping) {
  ASSERT_EQ(set(timerUse::smsOs, 0x30, 1, 0, 20), ok());
  ASSERT_EQ(call(kReset), ok());
  ASSERT_EQ(set(timerUse::smsOs, 0x30, 1, 0, 20), ok());  // stops it
  advance(seconds(5));
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(messageFlags_, 0);
}

// ---- Don't stop, flags ----------------------------------------------------------------------------

TEST_F(WatchdogTest, SetWithoutDontStopStopsARunningTimer) {
  ASSERT_EQ(set(timerUse::smsOs, 0x01, 0, 0, 100), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(seconds(2));
  ASSERT_EQ(set(timerUse::smsOs, 0x01, 0, 0, 50), ok());
  EXPECT_FALSE(watchdog_.running());
  EXPECT_EQ(present(), 50);  // initial and present match right after a Set (§27.7)
  advance(seconds(60));
  EXPECT_TRUE(host_.requests.empty());
}

TEST_F(WatchdogTest, SetWithDontStopKeepsItRunningFromTheNewCountdown) {
  ASSERT_EQ(set(timerUse::smsOs, 0x01, 0, 0, 100), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(seconds(8));
  ASSERT_EQ(set(0x40 | timerUse::smsOs, 0x01, 0, 0, 50), ok());
  EXPECT_TRUE(watchdog_.running());
  EXPECT_EQ(get()[0], 0x44);  // the don't-stop bit is not reported back, the running bit is
  EXPECT_EQ(present(), 50);
  advance(seconds(4));  // past the old deadline
  EXPECT_TRUE(host_.requests.empty());
  advance(seconds(1));
  ASSERT_EQ(host_.requests.size(), 1u);
  EXPECT_EQ(host_.requests[0].first, ChassisAction::hardReset);
}

TEST_F(WatchdogTest, SetWithDontStopLeavesAStoppedTimerStopped) {
  ASSERT_EQ(set(0x40 | timerUse::smsOs, 0x01, 0, 0, 10), ok());
  EXPECT_FALSE(watchdog_.running());
  advance(seconds(5));
  EXPECT_TRUE(host_.requests.empty());
}

TEST_F(WatchdogTest, ClearMaskClearsOnlyTheNamedFlags) {
  for (uint8_t use : {timerUse::biosFrb2, timerUse::osLoad, timerUse::smsOs}) {
    ASSERT_EQ(set(use, 0x00, 0, 0, 1), ok());
    ASSERT_EQ(call(kReset), ok());
    advance(milliseconds(100));
  }
  EXPECT_EQ(get()[3], 0x1A);
  ASSERT_EQ(set(timerUse::smsOs, 0x00, 0, 0x11, 10), ok());  // bit 0 is reserved: ignored
  EXPECT_EQ(get()[3], 0x0A);
  ASSERT_EQ(set(timerUse::smsOs, 0x00, 0, 0xFF, 10), ok());
  EXPECT_EQ(get()[3], 0x00);
}

// ---- Host power events ---------------------------------------------------------------------------

TEST_F(WatchdogTest, HostResetOrPowerChangeStopsAndUninitializes) {
  for (PowerEvent e : {PowerEvent::reset, PowerEvent::poweredOff, PowerEvent::poweredOn}) {
    ASSERT_EQ(set(timerUse::smsOs, 0x01, 0, 0, 100), ok());
    ASSERT_EQ(call(kReset), ok());
    advance(seconds(1));
    host_.notify(e);
    EXPECT_FALSE(watchdog_.running());
    EXPECT_EQ(present(), 90);
    EXPECT_EQ(call(kReset), err(Cc{0x80}));
    advance(seconds(20));
    EXPECT_TRUE(host_.requests.empty());
  }
}

TEST_F(WatchdogTest, DiagnosticInterruptDoesNotStopIt) {
  ASSERT_EQ(set(timerUse::smsOs, 0x00, 0, 0, 100), ok());
  ASSERT_EQ(call(kReset), ok());
  host_.notify(PowerEvent::diagnosticInterrupt);
  host_.notify(PowerEvent::softShutdownRequested);
  EXPECT_TRUE(watchdog_.running());
}

TEST_F(WatchdogTest, DestroyedWatchdogIgnoresHostEvents) {
  {
    Watchdog other(queue_, host_, messageFlags_);
    WatchdogSettings s;
    s.timerUse = timerUse::smsOs;
    s.initialCountdown = 10;
    ASSERT_EQ(other.set(s), Cc::ok);
    ASSERT_EQ(other.reset(), Cc::ok);
  }
  host_.notify(PowerEvent::reset);  // its listener is inert
  advance(seconds(5));               // and its timers are gone
  EXPECT_TRUE(host_.requests.empty());
}

// ---- Request validation and privileges ------------------------------------------------------------

TEST_F(WatchdogTest, StrictLengths) {
  EXPECT_EQ(call(kSet, {0x04, 0x01, 0x00, 0x00, 0x0A}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSet, {0x04, 0x01, 0x00, 0x00, 0x0A, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGet, {0x00}, Privilege::user), err(Cc::invalidLength));
  EXPECT_EQ(call(kReset, {0x00}), err(Cc::invalidLength));
  EXPECT_FALSE(watchdog_.initialized());
}

TEST_F(WatchdogTest, InvalidFields) {
  EXPECT_EQ(set(0x06, 0x00, 0, 0, 10), err(Cc::invalidField));  // timer use 6 reserved
  EXPECT_EQ(set(0x07, 0x00, 0, 0, 10), err(Cc::invalidField));
  EXPECT_EQ(set(0x0C, 0x00, 0, 0, 10), err(Cc::invalidField));  // byte 1 bit 3 reserved
  EXPECT_EQ(set(0x04, 0x04, 0, 0, 10), err(Cc::invalidField));  // action 4 reserved
  EXPECT_EQ(set(0x04, 0x40, 0, 0, 10), err(Cc::invalidField));  // interrupt 4 reserved
  EXPECT_EQ(set(0x04, 0x08, 0, 0, 10), err(Cc::invalidField));  // byte 2 bit 3 reserved
  EXPECT_EQ(set(0x04, 0x80, 0, 0, 10), err(Cc::invalidField));  // byte 2 bit 7 reserved
  EXPECT_FALSE(watchdog_.initialized());
  EXPECT_EQ(get(), (Bytes{0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(WatchdogTest, Privileges) {
  EXPECT_EQ(call(kSet, {0x04, 0x01, 0, 0, 10, 0}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kReset, {}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGet, {}, Privilege::callback), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGet, {}, Privilege::user).cc, Cc::ok);
  EXPECT_EQ(registry_.privilegeOf(netfn::app, kSet), Privilege::operator_);
  EXPECT_EQ(registry_.privilegeOf(netfn::app, kReset), Privilege::operator_);
  EXPECT_EQ(registry_.privilegeOf(netfn::app, kGet), Privilege::user);
}

TEST_F(WatchdogTest, IpmitoolOffCommandStopsAndClearsSmsOs) {
  // `ipmitool mc watchdog off`: SMS/OS, no action, clear SMS/OS flag, 300 s.
  ASSERT_EQ(set(timerUse::smsOs, 0x01, 0, 0, 1), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(milliseconds(100));
  ASSERT_EQ(call(kSet, {0x04, 0x00, 0x00, 0x10, 0xB8, 0x0B}), ok());
  EXPECT_EQ(get(), (Bytes{0x04, 0x00, 0x00, 0x00, 0xB8, 0x0B, 0xB8, 0x0B}));
}

// ---- The "Watchdog 2" sensor (Table 42-3; §35 sensor commands; §43.2 compact record) -------------

namespace sensor {
constexpr uint8_t kGetReading = 0x2D, kGetEventStatus = 0x2B, kSetEventEnable = 0x28, kGetEventEnable = 0x29,
                  kRearm = 0x2A, kGetType = 0x2F, kSetType = 0x2E, kGetThresholds = 0x27, kSetThresholds = 0x26,
                  kGetHysteresis = 0x25, kGetFactors = 0x23;
}  // namespace sensor

class WatchdogSensorTest : public WatchdogTest {
 protected:
  static constexpr uint8_t kNumber = 0x81, kConfigured = 0x10;
  void SetUp() override {
    WatchdogTest::SetUp();
    // What the SensorService registers: one configured sensor, 0x10, answering 0x5A to everything.
    for (uint8_t cmd = 0x23; cmd <= 0x2F; ++cmd) {
      if (cmd == 0x2C) continue;
      const bool sets = cmd == 0x24 || cmd == 0x26 || cmd == 0x28 || cmd == 0x2A || cmd == 0x2E;  // Appendix G
      registry_.addRaw(netfn::sensorEvent, cmd, sets ? Privilege::operator_ : Privilege::user,
                       [this](const RequestContext&, Reader& r) -> Reply {
                         ++configuredCalls_;
                         const uint8_t n = r.u8();
                         (void)r.rest();
                         if (n != kConfigured) return Cc::notPresent;
                         return Reply::ok({0x5A});
                       });
    }
    watchdog_.attachSensor(registry_, kNumber);
  }
  Resp sensorCall(uint8_t cmd, Bytes data, Privilege p = Privilege::operator_) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = p;
    ctx.sessionId = 0x1234;
    ctx.userId = 2;
    auto r = registry_.dispatch(ctx, net::IpmiRequest{netfn::sensorEvent, 0, cmd, data});
    EXPECT_TRUE(r.has_value());
    if (!r) return err(Cc::unspecified);
    return Resp{r->cc, std::move(r->data)};
  }
  // Arms and expires the timer with `action` (§27.6 byte 2), optionally with a pre-timeout.
  void expireWith(uint8_t actions, uint8_t pretimeout = 0) {
    ASSERT_EQ(set(timerUse::smsOs, actions, pretimeout, 0, 10), ok());
    ASSERT_EQ(call(kReset), ok());
    advance(seconds(2));
  }
  int configuredCalls_ = 0;
};

TEST_F(WatchdogSensorTest, ItsEventsCarryItsNumber) {
  expireWith(0x01);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].sensorNumber, kNumber);
  EXPECT_EQ(watchdog_.sensorNumber(), kNumber);
}

TEST_F(WatchdogSensorTest, TheReadingIsTheLastWatchdogEvent) {
  // Table 35-15: no numeric reading, events and scanning enabled, states 0-7, [7] 1b | states 8-14.
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0xC0, 0x00, 0x80}));
  expireWith(0x01);  // hard reset: offset 01h
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0xC0, 0x02, 0x80}));
  EXPECT_EQ(sensorCall(sensor::kGetEventStatus, {kNumber}), ok({0xC0, 0x02, 0x00, 0x00, 0x00}));
  expireWith(0x03);  // power cycle: 03h
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0xC0, 0x08, 0x80}));
  expireWith(0x02);  // power down: 02h
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0xC0, 0x04, 0x80}));
  // The host is off: a hard reset cannot happen, the event is "timer expired" (00h).
  expireWith(0x01);
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0xC0, 0x01, 0x80}));
  EXPECT_EQ(watchdog_.sensorStates(), 0x0001);
}

TEST_F(WatchdogSensorTest, ThePreTimeoutInterruptIsOffset8UntilTheExpiry) {
  host_.on = true;
  ASSERT_EQ(set(timerUse::smsOs, 0x31, 1, 0, 30), ok());  // messaging pre-timeout 1 s, hard reset, 3 s
  ASSERT_EQ(call(kReset), ok());
  advance(milliseconds(2000));
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0xC0, 0x00, 0x81}));  // 08h
  advance(milliseconds(1000));
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0xC0, 0x02, 0x80}));  // 01h
}

TEST_F(WatchdogSensorTest, DontLogStillUpdatesTheState) {
  ASSERT_EQ(set(0x80 | timerUse::smsOs, 0x00, 0, 0, 5), ok());
  ASSERT_EQ(call(kReset), ok());
  advance(seconds(1));
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(watchdog_.sensorStates(), 0x0001);
}

TEST_F(WatchdogSensorTest, EventEnablesGateTheSelEntries) {
  // Table 35-12: all events + scanning; the assertion mask is every state the sensor has.
  EXPECT_EQ(sensorCall(sensor::kGetEventEnable, {kNumber}), ok({0xC0, 0x0F, 0x01, 0x00, 0x00}));
  EXPECT_EQ(sensorCall(sensor::kSetEventEnable, {kNumber, 0x40}), ok());  // events off, scanning on
  EXPECT_EQ(sensorCall(sensor::kGetEventEnable, {kNumber}), ok({0x40, 0x0F, 0x01, 0x00, 0x00}));
  expireWith(0x00);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber}), ok({0x00, 0x40, 0x01, 0x80}));
  // Per-event selections are accepted (the masks have nothing to select: entire sensor only).
  EXPECT_EQ(sensorCall(sensor::kSetEventEnable, {kNumber, 0xD0, 0x0F, 0x01, 0x00, 0x00}), ok());
  expireWith(0x00);
  EXPECT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sensorCall(sensor::kSetEventEnable, {kNumber, 0xF0}), err(Cc::invalidField));  // 11b reserved
  EXPECT_EQ(sensorCall(sensor::kSetEventEnable, {kNumber, 0xC1}), err(Cc::invalidField));  // reserved bits
  EXPECT_EQ(sensorCall(sensor::kSetEventEnable, {kNumber}), err(Cc::invalidLength));
  EXPECT_EQ(sensorCall(sensor::kSetEventEnable, {kNumber, 0xC0, 0, 0, 0, 0, 0}), err(Cc::invalidLength));
  EXPECT_EQ(sensorCall(sensor::kSetEventEnable, {kNumber, 0x80}, Privilege::user), err(Cc::insufficientPrivilege));
}

// The event enables are settings: on disk before the reply, back after a restart (a new Watchdog
// on the reopened store), whichever number the sensor then has.
class WatchdogPersistenceTest : public WatchdogTest {
 protected:
  static std::array<uint8_t, 32> key() {
    std::array<uint8_t, 32> k{};
    k.fill(0x5C);
    return k;
  }
  static std::unique_ptr<storage::StateStore> open(const std::string& path) {
    auto s = storage::StateStore::open(path, storage::SecretBox(key()));
    EXPECT_TRUE(s.hasValue());
    return s ? std::move(*s) : nullptr;
  }
  // One BMC run: a watchdog on `store` with its sensor at `number`, loaded and attached.
  struct Run {
    Run(WatchdogPersistenceTest& t, storage::StateStore* store, uint8_t number)
        : watchdog(t.queue_, t.host_, t.messageFlags_, {}, store) {
      loaded = watchdog.load().hasValue();
      watchdog.setEventSink(&sink);
      watchdog.registerCommands(registry);
      watchdog.attachSensor(registry, number);
    }
    Resp sensor(uint8_t cmd, Bytes data) {
      net::RequestContext ctx;
      ctx.channel = 1;
      ctx.privilege = Privilege::operator_;
      ctx.sessionId = 0x1234;
      auto r = registry.dispatch(ctx, net::IpmiRequest{netfn::sensorEvent, 0, cmd, data});
      EXPECT_TRUE(r.has_value());
      if (!r) return err(Cc::unspecified);
      return Resp{r->cc, std::move(r->data)};
    }
    Watchdog watchdog;
    FakeSink sink;
    CommandRegistry registry;
    bool loaded = false;
  };
};

TEST_F(WatchdogPersistenceTest, EventEnablesSurviveARestart) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  {
    auto store = open(dir.file("state.db"));
    ASSERT_NE(store, nullptr);
    Run first(*this, store.get(), 0x81);
    ASSERT_TRUE(first.loaded);
    EXPECT_EQ(first.sensor(sensor::kSetEventEnable, {0x81, 0x40}), ok());  // event messages off
    // Stored as Get Sensor Event Enable reads it back.
    auto saved = store->get("watchdog.sensor.events");
    ASSERT_TRUE(saved.hasValue());
    EXPECT_EQ(*saved, std::optional<std::vector<uint8_t>>({0x40, 0x0F, 0x01, 0x00, 0x00}));
  }
  auto store = open(dir.file("state.db"));
  ASSERT_NE(store, nullptr);
  Run second(*this, store.get(), 0x90);  // the sensor moved: the setting follows the watchdog
  ASSERT_TRUE(second.loaded);
  EXPECT_EQ(second.sensor(sensor::kGetEventEnable, {0x90}), ok({0x40, 0x0F, 0x01, 0x00, 0x00}));
  EXPECT_EQ(second.sensor(sensor::kGetReading, {0x90}), ok({0x00, 0x40, 0x00, 0x80}));
  EXPECT_FALSE(second.watchdog.sensorEventsEnabled());
  // And it still gates the SEL: an expiry changes the state, logs nothing.
  WatchdogSettings s;
  s.timerUse = timerUse::smsOs;
  s.initialCountdown = 5;
  ASSERT_EQ(second.watchdog.set(s), Cc::ok);
  ASSERT_EQ(second.watchdog.reset(), Cc::ok);
  advance(seconds(1));
  EXPECT_TRUE(second.sink.events.empty());
  EXPECT_EQ(second.watchdog.sensorStates(), 0x0001);
  // Back on, and that persists too.
  EXPECT_EQ(second.sensor(sensor::kSetEventEnable, {0x90, 0xC0}), ok());
  Run third(*this, store.get(), 0x90);
  EXPECT_EQ(third.sensor(sensor::kGetEventEnable, {0x90}), ok({0xC0, 0x0F, 0x01, 0x00, 0x00}));
}

TEST_F(WatchdogPersistenceTest, WithNothingStoredTheDefaultsApply) {
  auto store = open(":memory:");
  ASSERT_NE(store, nullptr);
  Run run(*this, store.get(), 0x81);
  ASSERT_TRUE(run.loaded);
  EXPECT_EQ(run.sensor(sensor::kGetEventEnable, {0x81}), ok({0xC0, 0x0F, 0x01, 0x00, 0x00}));
}

TEST_F(WatchdogPersistenceTest, AMalformedStoredValueIsIgnored) {
  auto store = open(":memory:");
  ASSERT_NE(store, nullptr);
  for (const std::vector<uint8_t>& bad : {std::vector<uint8_t>{0x00}, std::vector<uint8_t>(6, 0x00)}) {
    ASSERT_TRUE(store->put("watchdog.sensor.events", bad).hasValue());
    Run run(*this, store.get(), 0x81);
    ASSERT_TRUE(run.loaded);
    EXPECT_EQ(run.sensor(sensor::kGetEventEnable, {0x81}), ok({0xC0, 0x0F, 0x01, 0x00, 0x00}));
  }
  // Reserved bits and the masks of a well-formed value are not taken over.
  ASSERT_TRUE(store->put("watchdog.sensor.events", {0xBF, 0xFF, 0xFF, 0xFF, 0xFF}).hasValue());
  Run run(*this, store.get(), 0x81);
  EXPECT_EQ(run.sensor(sensor::kGetEventEnable, {0x81}), ok({0x80, 0x0F, 0x01, 0x00, 0x00}));
}

TEST_F(WatchdogPersistenceTest, AFailedWriteIsAnErrorAndChangesNothing) {
  auto store = open(":memory:");
  ASSERT_NE(store, nullptr);
  Run run(*this, store.get(), 0x81);
  ASSERT_TRUE(store->database().exec("PRAGMA query_only = 1").hasValue());
  EXPECT_EQ(run.sensor(sensor::kSetEventEnable, {0x81, 0x00}), err(Cc::unspecified));
  EXPECT_EQ(run.sensor(sensor::kGetEventEnable, {0x81}), ok({0xC0, 0x0F, 0x01, 0x00, 0x00}));
  EXPECT_TRUE(run.watchdog.sensorEventsEnabled());
}

TEST_F(WatchdogSensorTest, TypeRearmAndTheThresholdCommands) {
  EXPECT_EQ(sensorCall(sensor::kGetType, {kNumber}), ok({0x23, 0x6F}));
  EXPECT_EQ(sensorCall(sensor::kSetType, {kNumber, 0x01, 0x01}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(sensorCall(sensor::kRearm, {kNumber, 0x80}), ok());
  EXPECT_EQ(sensorCall(sensor::kRearm, {kNumber, 0x00, 0x01, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(sensorCall(sensor::kGetThresholds, {kNumber}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(sensorCall(sensor::kSetThresholds, {kNumber, 0x3F, 1, 2, 3, 4, 5, 6}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(sensorCall(sensor::kGetHysteresis, {kNumber, 0xFF}), err(Cc::illegalForSensorOrRecord));
  EXPECT_EQ(sensorCall(sensor::kGetFactors, {kNumber, 0x00}), err(Cc::illegalForSensorOrRecord));
  // Lengths are checked before anything else.
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kNumber, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(sensorCall(sensor::kGetThresholds, {kNumber, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(sensorCall(sensor::kSetType, {kNumber, 0x01}), err(Cc::invalidLength));
  EXPECT_EQ(configuredCalls_, 0);
}

TEST_F(WatchdogSensorTest, OtherSensorNumbersReachTheSensorService) {
  EXPECT_EQ(sensorCall(sensor::kGetReading, {kConfigured}), ok({0x5A}));
  EXPECT_EQ(sensorCall(sensor::kGetReading, {0x42}), err(Cc::notPresent));
  EXPECT_EQ(sensorCall(sensor::kGetReading, {}), err(Cc::notPresent));  // what the service says to that
  EXPECT_EQ(configuredCalls_, 3);
}

TEST_F(WatchdogTest, WithoutSensorCommandsRegisteredItServesItsOwn) {
  watchdog_.attachSensor(registry_, 0x81);
  net::RequestContext ctx;
  ctx.privilege = Privilege::user;
  ctx.sessionId = 1;
  auto r = registry_.dispatch(ctx, net::IpmiRequest{netfn::sensorEvent, 0, 0x2D, Bytes{0x81}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cc, Cc::ok);
  r = registry_.dispatch(ctx, net::IpmiRequest{netfn::sensorEvent, 0, 0x2D, Bytes{0x82}});
  EXPECT_EQ(r->cc, Cc::notPresent);
  r = registry_.dispatch(ctx, net::IpmiRequest{netfn::sensorEvent, 0, 0x2D, Bytes{}});
  EXPECT_EQ(r->cc, Cc::invalidLength);
}

TEST_F(WatchdogSensorTest, TheCompactRecord) {
  const Bytes r = watchdog_.sensorRecord();
  const std::string name = "BMC Watchdog";
  ASSERT_EQ(r.size(), 32u + name.size());
  EXPECT_EQ((Bytes{r.begin(), r.begin() + 5}), (Bytes{0x00, 0x00, 0x51, 0x02, static_cast<uint8_t>(r.size() - 5)}));
  EXPECT_EQ(r[5], 0x20);     // owner: the BMC
  EXPECT_EQ(r[6], 0x00);     // LUN 0, channel 0
  EXPECT_EQ(r[7], kNumber);  // sensor number
  EXPECT_EQ(r[8], 0x06);     // entity: system management module
  EXPECT_EQ(r[9], 0x01);
  EXPECT_EQ(r[11] & 0x03, 0x01);  // event message control: entire sensor
  EXPECT_EQ(r[12], 0x23);
  EXPECT_EQ(r[13], 0x6F);
  EXPECT_EQ((Bytes{r[14], r[15], r[16], r[17], r[18], r[19]}), (Bytes{0x0F, 0x01, 0x00, 0x00, 0x0F, 0x01}));
  EXPECT_EQ(r[31], 0xC0 | name.size());
  EXPECT_EQ(std::string(r.begin() + 32, r.end()), name);
}

TEST(WatchdogSensorChoice, AConfiguredWatchdogSensorStandsForIt) {
  auto c = chooseWatchdogSensor({{0x10, 0x01}, {0x42, 0x23}, {0x43, 0x23}}, 0x81);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->number, 0x42);
  EXPECT_FALSE(c->generateRecord);
}

TEST(WatchdogSensorChoice, ElseThePreferredOrTheNextFreeNumber) {
  auto c = chooseWatchdogSensor({{0x10, 0x01}, {0x80, 0x09}}, 0x81);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->number, 0x81);
  EXPECT_TRUE(c->generateRecord);
  c = chooseWatchdogSensor({{0x81, 0x01}, {0x82, 0x02}}, 0x81);
  EXPECT_EQ(c->number, 0x83);
  std::vector<std::pair<uint8_t, uint8_t>> all;
  for (unsigned n = 0; n < 0xFF; ++n) all.emplace_back(static_cast<uint8_t>(n), 0x01);
  EXPECT_FALSE(chooseWatchdogSensor(all, 0x81).has_value());
  all.pop_back();  // 0xFE free: found after wrapping past nothing
  c = chooseWatchdogSensor(all, 0x81);
  EXPECT_EQ(c->number, 0xFE);
  all.erase(all.begin());  // 0x00 free as well; 0xFF is never chosen
  c = chooseWatchdogSensor(all, 0xFF);
  EXPECT_EQ(c->number, 0x00);
}

}  // namespace
}  // namespace simbmc::bmc
