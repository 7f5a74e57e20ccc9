#include "sim/host_power.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace simbmc::sim {
namespace {

using bmc::ChassisAction;
using bmc::PowerEvent;
using bmc::RestartCause;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Events = std::vector<PowerEvent>;

constexpr RestartCause kIpmi = RestartCause::chassisControl;

class HostPowerTest : public ::testing::Test {
 protected:
  HostPowerSim& make(PowerConfig config, uint64_t initialPoh = 0) {
    sim_ = std::make_unique<HostPowerSim>(queue_, std::move(config), initialPoh);
    sim_->addListener([this](PowerEvent e) { events_.push_back(e); });
    return *sim_;
  }
  static PowerConfig offConfig() {
    PowerConfig c;
    c.initiallyOn = false;
    return c;
  }
  void advance(std::chrono::nanoseconds d) {
    clock_.advance(d);
    queue_.runDue();
  }

  FakeClock clock_;
  TimerQueue queue_{clock_};
  std::unique_ptr<HostPowerSim> sim_;
  Events events_;
};

TEST_F(HostPowerTest, InitialStateFollowsConfig) {
  auto& on = make(PowerConfig{});
  EXPECT_TRUE(on.powerOn());
  EXPECT_EQ(on.lastRestartCause(), RestartCause::unknown);
  EXPECT_FALSE(on.lastPowerOnViaIpmi());
  EXPECT_FALSE(on.transitionPending());
  auto& off = make(offConfig());
  EXPECT_FALSE(off.powerOn());
  EXPECT_TRUE(events_.empty());
}

TEST_F(HostPowerTest, PowerUpWithoutDelayIsImmediate) {
  auto& sim = make(offConfig());
  EXPECT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(sim.lastRestartCause(), kIpmi);
  EXPECT_TRUE(sim.lastPowerOnViaIpmi());
  EXPECT_EQ(events_, Events{PowerEvent::poweredOn});
}

TEST_F(HostPowerTest, PowerUpHonoursDelayInVirtualTime) {
  auto c = offConfig();
  c.powerOnDelay = milliseconds(3000);
  auto& sim = make(c);
  EXPECT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  EXPECT_TRUE(sim.transitionPending());
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::unknown);
  advance(milliseconds(2999));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_TRUE(events_.empty());
  advance(milliseconds(1));
  EXPECT_TRUE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(sim.lastRestartCause(), kIpmi);
  EXPECT_EQ(events_, Events{PowerEvent::poweredOn});
  EXPECT_EQ(queue_.size(), 0u);
}

TEST_F(HostPowerTest, PowerUpWhenOnIsOkWithoutChange) {
  auto& sim = make(PowerConfig{});
  EXPECT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::unknown);
  EXPECT_FALSE(sim.lastPowerOnViaIpmi());
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(queue_.size(), 0u);
}

TEST_F(HostPowerTest, PowerOnViaIpmiOnlyForChassisControlCause) {
  auto& sim = make(offConfig());
  ASSERT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.lastPowerOnViaIpmi());
  ASSERT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  ASSERT_EQ(sim.request(ChassisAction::powerUp, RestartCause::powerButton), Cc::ok);
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::powerButton);
  EXPECT_FALSE(sim.lastPowerOnViaIpmi());
}

TEST_F(HostPowerTest, PowerDownWithoutDelayIsImmediate) {
  auto& sim = make(PowerConfig{});
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(events_, Events{PowerEvent::poweredOff});
}

TEST_F(HostPowerTest, PowerDownHonoursDelay) {
  PowerConfig c;
  c.powerOffDelay = milliseconds(500);
  auto& sim = make(c);
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  advance(milliseconds(499));
  EXPECT_TRUE(sim.powerOn());
  EXPECT_TRUE(events_.empty());
  advance(milliseconds(1));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_EQ(events_, Events{PowerEvent::poweredOff});
}

TEST_F(HostPowerTest, PowerDownWhenOffIsOkWithoutChange) {
  auto& sim = make(offConfig());
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_TRUE(events_.empty());
}

TEST_F(HostPowerTest, PowerCycleGoesOffNowThenOnAfterOffTime) {
  PowerConfig c;
  c.cycleOffTime = milliseconds(1000);
  auto& sim = make(c);
  EXPECT_EQ(sim.request(ChassisAction::powerCycle, kIpmi), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  EXPECT_TRUE(sim.transitionPending());
  EXPECT_EQ(events_, Events{PowerEvent::poweredOff});
  advance(milliseconds(999));
  EXPECT_FALSE(sim.powerOn());
  advance(milliseconds(1));
  EXPECT_TRUE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(sim.lastRestartCause(), kIpmi);
  EXPECT_TRUE(sim.lastPowerOnViaIpmi());
  EXPECT_EQ(events_, (Events{PowerEvent::poweredOff, PowerEvent::poweredOn}));
}

TEST_F(HostPowerTest, PowerCycleWithZeroOffTimeCompletesInRequest) {
  PowerConfig c;
  c.cycleOffTime = milliseconds(0);
  auto& sim = make(c);
  EXPECT_EQ(sim.request(ChassisAction::powerCycle, RestartCause::pefPowerCycle), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::pefPowerCycle);
  EXPECT_FALSE(sim.lastPowerOnViaIpmi());
  EXPECT_EQ(events_, (Events{PowerEvent::poweredOff, PowerEvent::poweredOn}));
}

TEST_F(HostPowerTest, ActionsThatNeedPowerAreRejectedWhenOff) {
  auto& sim = make(offConfig());
  for (auto action : {ChassisAction::powerCycle, ChassisAction::hardReset,
                      ChassisAction::diagnosticInterrupt, ChassisAction::softShutdown}) {
    SCOPED_TRACE(static_cast<int>(action));
    EXPECT_EQ(sim.request(action, kIpmi), Cc::notSupportedInState);
    EXPECT_FALSE(sim.powerOn());
    EXPECT_FALSE(sim.transitionPending());
  }
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(queue_.size(), 0u);
}

TEST_F(HostPowerTest, HardResetStaysOnAndReportsResetAfterResetTime) {
  PowerConfig c;
  c.resetTime = milliseconds(200);
  auto& sim = make(c);
  EXPECT_EQ(sim.request(ChassisAction::hardReset, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::unknown);
  advance(milliseconds(199));
  EXPECT_TRUE(events_.empty());
  advance(milliseconds(1));
  EXPECT_TRUE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(sim.lastRestartCause(), kIpmi);
  // Power never went through "off", so how it last came on is unchanged.
  EXPECT_FALSE(sim.lastPowerOnViaIpmi());
  EXPECT_EQ(events_, Events{PowerEvent::reset});
}

TEST_F(HostPowerTest, HardResetWithoutDelayIsImmediate) {
  auto& sim = make(PowerConfig{});
  EXPECT_EQ(sim.request(ChassisAction::hardReset, RestartCause::watchdog), Cc::ok);
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::watchdog);
  EXPECT_EQ(events_, Events{PowerEvent::reset});
}

TEST_F(HostPowerTest, DiagnosticInterruptWhenOnIsImmediateAndStaysOn) {
  auto& sim = make(PowerConfig{});
  EXPECT_EQ(sim.request(ChassisAction::diagnosticInterrupt, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::unknown);
  EXPECT_EQ(events_, Events{PowerEvent::diagnosticInterrupt});
}

TEST_F(HostPowerTest, SoftShutdownRequestsNowAndPowersOffLater) {
  PowerConfig c;
  c.softShutdownTime = milliseconds(2000);
  auto& sim = make(c);
  EXPECT_EQ(sim.request(ChassisAction::softShutdown, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  EXPECT_EQ(events_, Events{PowerEvent::softShutdownRequested});
  advance(milliseconds(1999));
  EXPECT_TRUE(sim.powerOn());
  advance(milliseconds(1));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(events_, (Events{PowerEvent::softShutdownRequested, PowerEvent::poweredOff}));
}

TEST_F(HostPowerTest, InvalidActionIsInvalidField) {
  auto& sim = make(PowerConfig{});
  EXPECT_EQ(sim.request(static_cast<ChassisAction>(0x06), kIpmi), Cc::invalidField);
  EXPECT_EQ(sim.request(static_cast<ChassisAction>(0xFF), kIpmi), Cc::invalidField);
  EXPECT_TRUE(sim.powerOn());
  EXPECT_TRUE(events_.empty());
}

// Every action other than powerDown, in every pending transition: busy unless it is the same request.
TEST_F(HostPowerTest, RequestsDuringPendingTransitionAreBusyUnlessMerged) {
  struct Setup {
    const char* name;
    bool initiallyOn;
    ChassisAction start;
  };
  const Setup setups[] = {
      {"powerOn", false, ChassisAction::powerUp},     {"powerOff", true, ChassisAction::powerDown},
      {"cycle", true, ChassisAction::powerCycle},     {"reset", true, ChassisAction::hardReset},
      {"soft", true, ChassisAction::softShutdown},
  };
  const ChassisAction others[] = {ChassisAction::powerUp, ChassisAction::powerCycle,
                                  ChassisAction::hardReset, ChassisAction::diagnosticInterrupt,
                                  ChassisAction::softShutdown};
  for (const auto& s : setups) {
    for (auto action : others) {
      SCOPED_TRACE(testing::Message() << s.name << " then action " << static_cast<int>(action));
      PowerConfig c;
      c.initiallyOn = s.initiallyOn;
      c.powerOnDelay = c.powerOffDelay = c.cycleOffTime = c.resetTime = c.softShutdownTime =
          milliseconds(1000);
      auto& sim = make(c);
      events_.clear();
      ASSERT_EQ(sim.request(s.start, kIpmi), Cc::ok);
      ASSERT_TRUE(sim.transitionPending());
      const bool powerBefore = sim.powerOn();
      const bool merged =
          (s.start == ChassisAction::powerUp && action == ChassisAction::powerUp) ||
          (s.start == ChassisAction::softShutdown && action == ChassisAction::softShutdown);
      EXPECT_EQ(sim.request(action, kIpmi), merged ? Cc::ok : Cc::nodeBusy);
      EXPECT_EQ(sim.powerOn(), powerBefore);
      EXPECT_TRUE(sim.transitionPending());
      EXPECT_EQ(queue_.size(), 1u);
      advance(milliseconds(1000));
      EXPECT_FALSE(sim.transitionPending());
    }
  }
}

TEST_F(HostPowerTest, MergedPowerUpKeepsOriginalDeadlineAndCause) {
  auto c = offConfig();
  c.powerOnDelay = milliseconds(1000);
  auto& sim = make(c);
  ASSERT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  advance(milliseconds(600));
  EXPECT_EQ(sim.request(ChassisAction::powerUp, RestartCause::powerButton), Cc::ok);
  advance(milliseconds(400));
  EXPECT_TRUE(sim.powerOn());
  EXPECT_EQ(sim.lastRestartCause(), kIpmi);
  EXPECT_EQ(events_, Events{PowerEvent::poweredOn});
}

TEST_F(HostPowerTest, PowerDownWinsOverPendingPowerUp) {
  auto c = offConfig();
  c.powerOnDelay = milliseconds(1000);
  auto& sim = make(c);
  ASSERT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(queue_.size(), 0u);
  advance(seconds(5));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_TRUE(events_.empty());
}

TEST_F(HostPowerTest, PowerDownWinsDuringCycleOffPhase) {
  auto& sim = make(PowerConfig{});
  ASSERT_EQ(sim.request(ChassisAction::powerCycle, kIpmi), Cc::ok);
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_FALSE(sim.transitionPending());
  advance(seconds(5));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_EQ(events_, Events{PowerEvent::poweredOff});
}

TEST_F(HostPowerTest, PowerDownWinsDuringSoftShutdown) {
  PowerConfig c;
  c.powerOffDelay = milliseconds(100);
  auto& sim = make(c);
  ASSERT_EQ(sim.request(ChassisAction::softShutdown, kIpmi), Cc::ok);
  advance(milliseconds(500));
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_TRUE(sim.powerOn());
  advance(milliseconds(100));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  advance(seconds(5));
  EXPECT_EQ(events_, (Events{PowerEvent::softShutdownRequested, PowerEvent::poweredOff}));
}

TEST_F(HostPowerTest, PowerDownWinsDuringReset) {
  PowerConfig c;
  c.resetTime = milliseconds(1000);
  auto& sim = make(c);
  ASSERT_EQ(sim.request(ChassisAction::hardReset, RestartCause::watchdog), Cc::ok);
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  advance(seconds(5));
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::unknown);
  EXPECT_EQ(events_, Events{PowerEvent::poweredOff});
}

TEST_F(HostPowerTest, RepeatedPowerDownKeepsOriginalDeadline) {
  PowerConfig c;
  c.powerOffDelay = milliseconds(1000);
  auto& sim = make(c);
  ASSERT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  advance(milliseconds(700));
  EXPECT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  advance(milliseconds(300));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_EQ(events_, Events{PowerEvent::poweredOff});
}

TEST_F(HostPowerTest, PowerOnSecondsAccumulateOnlyWhileOn) {
  PowerConfig c;
  c.cycleOffTime = seconds(30);
  auto& sim = make(c, 100);
  EXPECT_EQ(sim.powerOnSeconds(), 100u);
  clock_.advance(milliseconds(10'500));
  EXPECT_EQ(sim.powerOnSeconds(), 110u);
  ASSERT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  advance(seconds(60));
  EXPECT_EQ(sim.powerOnSeconds(), 110u);
  ASSERT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  advance(milliseconds(500));  // carried half seconds add up
  EXPECT_EQ(sim.powerOnSeconds(), 111u);
  ASSERT_EQ(sim.request(ChassisAction::powerCycle, kIpmi), Cc::ok);
  advance(seconds(29));  // off phase of the cycle does not count
  EXPECT_EQ(sim.powerOnSeconds(), 111u);
  advance(seconds(1));
  EXPECT_TRUE(sim.powerOn());
  advance(seconds(9));
  EXPECT_EQ(sim.powerOnSeconds(), 120u);
}

TEST_F(HostPowerTest, PowerOnSecondsCountDuringResetAndNotBeforeDelayedPowerOn) {
  auto c = offConfig();
  c.powerOnDelay = seconds(10);
  c.resetTime = seconds(5);
  auto& sim = make(c, 7);
  ASSERT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  advance(seconds(10));
  EXPECT_EQ(sim.powerOnSeconds(), 7u);
  ASSERT_EQ(sim.request(ChassisAction::hardReset, kIpmi), Cc::ok);
  advance(seconds(5));
  EXPECT_EQ(sim.powerOnSeconds(), 12u);
}

TEST_F(HostPowerTest, ListenersAreCalledInRegistrationOrderForEachEvent) {
  PowerConfig c;
  c.cycleOffTime = seconds(1);
  auto& sim = make(c);
  std::vector<std::string> log;
  sim.addListener([&](PowerEvent e) { log.push_back("a" + std::to_string(static_cast<int>(e))); });
  sim.addListener([&](PowerEvent e) { log.push_back("b" + std::to_string(static_cast<int>(e))); });
  ASSERT_EQ(sim.request(ChassisAction::powerCycle, kIpmi), Cc::ok);
  advance(seconds(1));
  ASSERT_EQ(sim.request(ChassisAction::diagnosticInterrupt, kIpmi), Cc::ok);
  const auto on = std::to_string(static_cast<int>(PowerEvent::poweredOn));
  const auto off = std::to_string(static_cast<int>(PowerEvent::poweredOff));
  const auto diag = std::to_string(static_cast<int>(PowerEvent::diagnosticInterrupt));
  EXPECT_EQ(log,
            (std::vector<std::string>{"a" + off, "b" + off, "a" + on, "b" + on, "a" + diag, "b" + diag}));
}

TEST_F(HostPowerTest, ListenerSeesUpdatedStateAndMayRequest) {
  PowerConfig c;
  c.cycleOffTime = seconds(1);
  auto& sim = make(c);
  std::vector<bool> seenPower;
  std::vector<Cc> replies;
  sim.addListener([&](PowerEvent e) {
    seenPower.push_back(sim.powerOn());
    if (e == PowerEvent::poweredOff) {
      replies.push_back(sim.request(ChassisAction::powerUp, kIpmi));    // busy: the cycle is running
      replies.push_back(sim.request(ChassisAction::powerDown, kIpmi));  // wins: cancels the cycle
    }
  });
  ASSERT_EQ(sim.request(ChassisAction::powerCycle, kIpmi), Cc::ok);
  advance(seconds(5));
  EXPECT_FALSE(sim.powerOn());
  EXPECT_FALSE(sim.transitionPending());
  EXPECT_EQ(seenPower, std::vector<bool>{false});
  EXPECT_EQ(replies, (std::vector<Cc>{Cc::nodeBusy, Cc::ok}));
  EXPECT_EQ(events_, Events{PowerEvent::poweredOff});
}

TEST_F(HostPowerTest, ListenerMayAddListener) {
  auto& sim = make(offConfig());
  int late = 0;
  sim.addListener([&](PowerEvent) { sim.addListener([&](PowerEvent) { ++late; }); });
  ASSERT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  EXPECT_EQ(late, 0);
  ASSERT_EQ(sim.request(ChassisAction::powerDown, kIpmi), Cc::ok);
  EXPECT_EQ(late, 1);
}

TEST_F(HostPowerTest, RestorePolicyAlwaysOff) {
  auto& sim = make(offConfig());
  EXPECT_EQ(sim.applyRestorePolicy(PowerRestorePolicy::alwaysOff, true), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  EXPECT_TRUE(events_.empty());
}

TEST_F(HostPowerTest, RestorePolicyPreviousState) {
  auto& wasOff = make(offConfig());
  EXPECT_EQ(wasOff.applyRestorePolicy(PowerRestorePolicy::previousState, false), Cc::ok);
  EXPECT_FALSE(wasOff.powerOn());
  auto& wasOn = make(offConfig());
  EXPECT_EQ(wasOn.applyRestorePolicy(PowerRestorePolicy::previousState, true), Cc::ok);
  EXPECT_TRUE(wasOn.powerOn());
  EXPECT_EQ(wasOn.lastRestartCause(), RestartCause::previousStateRestore);
  EXPECT_FALSE(wasOn.lastPowerOnViaIpmi());
  EXPECT_EQ(events_, Events{PowerEvent::poweredOn});
}

TEST_F(HostPowerTest, RestorePolicyAlwaysOnHonoursPowerOnDelay) {
  auto c = offConfig();
  c.powerOnDelay = seconds(2);
  auto& sim = make(c);
  EXPECT_EQ(sim.applyRestorePolicy(PowerRestorePolicy::alwaysOn, false), Cc::ok);
  EXPECT_FALSE(sim.powerOn());
  advance(seconds(2));
  EXPECT_TRUE(sim.powerOn());
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::alwaysRestore);
  EXPECT_FALSE(sim.lastPowerOnViaIpmi());
}

TEST_F(HostPowerTest, RestorePolicyLeavesRunningHostAlone) {
  auto& sim = make(PowerConfig{});
  EXPECT_EQ(sim.applyRestorePolicy(PowerRestorePolicy::alwaysOn, true), Cc::ok);
  EXPECT_EQ(sim.lastRestartCause(), RestartCause::unknown);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(sim.applyRestorePolicy(static_cast<PowerRestorePolicy>(3), true), Cc::invalidField);
}

TEST_F(HostPowerTest, DestructionCancelsPendingTransition) {
  auto c = offConfig();
  c.powerOnDelay = seconds(1);
  auto& sim = make(c);
  ASSERT_EQ(sim.request(ChassisAction::powerUp, kIpmi), Cc::ok);
  EXPECT_EQ(queue_.size(), 1u);
  sim_.reset();
  EXPECT_EQ(queue_.size(), 0u);
  advance(seconds(2));  // nothing left to touch the destroyed object
  EXPECT_TRUE(events_.empty());
}

}  // namespace
}  // namespace simbmc::sim
