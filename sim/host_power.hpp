// HostPowerSim: the simulated host's power state machine behind the bmc::HostControl port.
//
// IPMI v2.0 §28.3 Chassis Control, §28.11 Get System Restart Cause, §28.14 Get POH Counter,
// §28.8 Set Power Restore Policy.
//
// States are "on" and "off" plus at most one pending transition, completed by a TimerQueue callback
// (so tests run in virtual time: advance the FakeClock, then queue.runDue()). A zero delay completes
// the transition synchronously inside request().
//
//   action               when on (idle)                         when off (idle)
//   powerUp              Cc::ok, no change                      on after powerOnDelay
//   powerDown            off after powerOffDelay                Cc::ok, no change
//   powerCycle           off now, on after cycleOffTime         0xD5 (as OpenBMC; the spec leaves it
//                                                                to the implementation)
//   hardReset            `reset` after resetTime, stays on      0xD5
//   diagnosticInterrupt  `diagnosticInterrupt` now, stays on    0xD5
//   softShutdown         `softShutdownRequested` now (ACPI),    0xD5
//                        off after softShutdownTime (the OS
//                        shutting down)
//
// While a transition is pending: powerDown always wins (cancels the pending work; powers off after
// powerOffDelay if power is still on, and keeps the original deadline of a power-down already
// pending); a repeated powerUp or softShutdown is merged with the same pending one (Cc::ok); anything
// else gets Cc::nodeBusy (0xC0). A state check (0xD5) comes after the busy check.
//
// Restart cause and lastPowerOnViaIpmi change when a power-on (or reset) completes; lastPowerOnViaIpmi
// is true when that power-on was requested with RestartCause::chassisControl (a reset does not change
// it: power did not go through "off").
//
// Listeners are called, in registration order, when a transition completes (poweredOn, poweredOff,
// reset) and when an immediate event happens (diagnosticInterrupt, softShutdownRequested). The state
// is already updated when they run; they may call request() and addListener().
//
// Exec hooks: when an action is accepted and does something, the matching command in PowerConfig is
// started on the ExecRunner (if one was given and the command is not empty) with SIMBMC_ACTION =
// on/off/cycle/reset/diag/soft. The simulation does not wait for it, and its result does not affect the
// state machine. The ExecRunner must outlive this object.
//
// Single-threaded (the instance's io_context thread). The TimerQueue (and its Clock) must outlive this
// object; the destructor cancels any pending transition.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bmc/host_control.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"

namespace simbmc::sim {

class ExecRunner;

struct PowerConfig {
  Millis powerOnDelay{0};
  Millis powerOffDelay{0};
  Millis cycleOffTime{1000};
  Millis resetTime{0};
  Millis softShutdownTime{2000};
  bool initiallyOn = true;
  // Shell commands (/bin/sh -c) run on the ExecRunner when the action is accepted; empty = none.
  std::string onCommand, offCommand, resetCommand, cycleCommand, softCommand, diagCommand;
  // Instance name for log lines.
  std::string instance;
};

// IPMI v2.0 §28.8 Set Power Restore Policy, data byte 1 bits [2:0] (3 = "no change" is not a policy).
enum class PowerRestorePolicy : uint8_t {
  alwaysOff = 0x00,
  previousState = 0x01,
  alwaysOn = 0x02,
};

class HostPowerSim final : public bmc::HostControl {
 public:
  // `initialPowerOnSeconds` is the persisted POH total from earlier runs. `exec` may be null.
  HostPowerSim(TimerQueue& queue, PowerConfig config, uint64_t initialPowerOnSeconds,
               ExecRunner* exec = nullptr);
  ~HostPowerSim() override;
  HostPowerSim(const HostPowerSim&) = delete;
  HostPowerSim& operator=(const HostPowerSim&) = delete;

  bool powerOn() const override { return on_; }
  bool powerCycleInProgress() const override { return pending_ == Pending::cycle; }
  Cc request(bmc::ChassisAction action, bmc::RestartCause cause) override;
  bmc::RestartCause lastRestartCause() const override { return restartCause_; }
  bool lastPowerOnViaIpmi() const override { return lastPowerOnViaIpmi_; }
  // initialPowerOnSeconds + every completed on-period + the current one, from the Clock; sub-second
  // remainders of earlier periods are carried, not dropped.
  uint64_t powerOnSeconds() const override;
  void addListener(Listener listener) override;

  // Applies the power restore policy at BMC start-up, as after AC power returns: if the host is off
  // and idle, alwaysOn powers it up (cause alwaysRestore) and previousState powers it up when
  // `wasOnBeforeShutdown` (cause previousStateRestore); both honour powerOnDelay and run onCommand.
  // No change when the host is already on or a transition is pending. Cc::invalidField for a value
  // outside the enum.
  Cc applyRestorePolicy(PowerRestorePolicy policy, bool wasOnBeforeShutdown);

  // True while a transition is pending (for tests and the control plane).
  bool transitionPending() const { return pending_ != Pending::none; }

 private:
  enum class Pending { none, powerOn, powerOff, cycle, reset, softShutdown };

  Cc powerDown();
  Cc powerUp(bmc::RestartCause cause);
  // Arms the completion of the pending transition `what`: after `delay`, or now when it is zero.
  void arm(Pending what, Millis delay, std::function<void()> complete);
  void cancelPending();
  void completePowerOn(bmc::RestartCause cause);
  void completePowerOff();
  void completeReset(bmc::RestartCause cause);
  void setOn();
  void setOff();
  void notify(bmc::PowerEvent event);
  void runHook(const char* action, const std::string& command);

  TimerQueue& queue_;
  PowerConfig config_;
  ExecRunner* exec_;
  bool on_;
  bmc::RestartCause restartCause_ = bmc::RestartCause::unknown;
  bool lastPowerOnViaIpmi_ = false;
  Pending pending_ = Pending::none;
  TimerQueue::Id timer_ = 0;  // 0 = none armed
  // Bumped whenever the pending transition changes, so code that ran listeners can tell whether a
  // listener replaced or cancelled the transition it was in the middle of.
  uint64_t epoch_ = 0;
  uint64_t initialPowerOnSeconds_;
  std::chrono::nanoseconds accumulatedOn_{0};
  SteadyTime onSince_{};
  std::vector<Listener> listeners_;
};

}  // namespace simbmc::sim
