#include "sim/host_power.hpp"

#include "common/log.hpp"
#include "sim/exec_runner.hpp"

namespace simbmc::sim {

using bmc::ChassisAction;
using bmc::PowerEvent;
using bmc::RestartCause;

HostPowerSim::HostPowerSim(TimerQueue& queue, PowerConfig config, uint64_t initialPowerOnSeconds,
                           ExecRunner* exec)
    : queue_(queue),
      config_(std::move(config)),
      exec_(exec),
      on_(config_.initiallyOn),
      initialPowerOnSeconds_(initialPowerOnSeconds) {
  if (on_) onSince_ = queue_.clock().now();
}

HostPowerSim::~HostPowerSim() {
  if (timer_ != 0) queue_.cancel(timer_);
}

Cc HostPowerSim::request(ChassisAction action, RestartCause cause) {
  switch (action) {
    case ChassisAction::powerDown:
    case ChassisAction::powerUp:
    case ChassisAction::powerCycle:
    case ChassisAction::hardReset:
    case ChassisAction::diagnosticInterrupt:
    case ChassisAction::softShutdown:
      break;
    default:
      return Cc::invalidField;
  }

  if (action == ChassisAction::powerDown) return powerDown();

  if (pending_ != Pending::none) {
    // Asking again for the state we are already heading to is not a conflict.
    if ((action == ChassisAction::powerUp && pending_ == Pending::powerOn) ||
        (action == ChassisAction::softShutdown && pending_ == Pending::softShutdown))
      return Cc::ok;
    return Cc::nodeBusy;
  }

  switch (action) {
    case ChassisAction::powerUp:
      return powerUp(cause);

    case ChassisAction::powerCycle: {
      if (!on_) return Cc::notSupportedInState;
      runHook("cycle", config_.cycleCommand);
      pending_ = Pending::cycle;
      const uint64_t epoch = ++epoch_;
      setOff();
      notify(PowerEvent::poweredOff);
      // A listener may have answered the power-off with a powerDown, which cancels the cycle.
      if (epoch_ == epoch)
        arm(Pending::cycle, config_.cycleOffTime, [this, cause] { completePowerOn(cause); });
      return Cc::ok;
    }

    case ChassisAction::hardReset:
      if (!on_) return Cc::notSupportedInState;
      runHook("reset", config_.resetCommand);
      arm(Pending::reset, config_.resetTime, [this, cause] { completeReset(cause); });
      return Cc::ok;

    case ChassisAction::diagnosticInterrupt:
      if (!on_) return Cc::notSupportedInState;
      runHook("diag", config_.diagCommand);
      log::info("host diagnostic interrupt instance={}", config_.instance);
      notify(PowerEvent::diagnosticInterrupt);
      return Cc::ok;

    case ChassisAction::softShutdown: {
      if (!on_) return Cc::notSupportedInState;
      runHook("soft", config_.softCommand);
      pending_ = Pending::softShutdown;
      const uint64_t epoch = ++epoch_;
      log::info("host soft shutdown requested instance={}", config_.instance);
      notify(PowerEvent::softShutdownRequested);
      if (epoch_ == epoch)
        arm(Pending::softShutdown, config_.softShutdownTime, [this] { completePowerOff(); });
      return Cc::ok;
    }

    case ChassisAction::powerDown:
      break;
  }
  return Cc::ok;
}

Cc HostPowerSim::powerDown() {
  if (pending_ == Pending::powerOff) return Cc::ok;
  const bool hadPending = pending_ != Pending::none;
  cancelPending();
  if (!on_) {
    // Cancelled a power-on (or the off phase of a cycle): undo whatever the on/cycle hook started.
    if (hadPending) runHook("off", config_.offCommand);
    return Cc::ok;
  }
  runHook("off", config_.offCommand);
  arm(Pending::powerOff, config_.powerOffDelay, [this] { completePowerOff(); });
  return Cc::ok;
}

Cc HostPowerSim::powerUp(RestartCause cause) {
  if (on_) return Cc::ok;
  runHook("on", config_.onCommand);
  arm(Pending::powerOn, config_.powerOnDelay, [this, cause] { completePowerOn(cause); });
  return Cc::ok;
}

Cc HostPowerSim::applyRestorePolicy(PowerRestorePolicy policy, bool wasOnBeforeShutdown) {
  switch (policy) {
    case PowerRestorePolicy::alwaysOff:
    case PowerRestorePolicy::previousState:
    case PowerRestorePolicy::alwaysOn:
      break;
    default:
      return Cc::invalidField;
  }
  if (on_ || pending_ != Pending::none) return Cc::ok;
  if (policy == PowerRestorePolicy::alwaysOn) return powerUp(RestartCause::alwaysRestore);
  if (policy == PowerRestorePolicy::previousState && wasOnBeforeShutdown)
    return powerUp(RestartCause::previousStateRestore);
  return Cc::ok;
}

void HostPowerSim::arm(Pending what, Millis delay, std::function<void()> complete) {
  pending_ = what;
  ++epoch_;
  if (delay <= Millis::zero()) {
    complete();
    return;
  }
  timer_ = queue_.scheduleAfter(delay, [this, complete = std::move(complete)] {
    timer_ = 0;
    complete();
  });
}

void HostPowerSim::cancelPending() {
  if (timer_ != 0) queue_.cancel(timer_);
  timer_ = 0;
  pending_ = Pending::none;
  ++epoch_;
}

void HostPowerSim::completePowerOn(RestartCause cause) {
  pending_ = Pending::none;
  ++epoch_;
  setOn();
  restartCause_ = cause;
  lastPowerOnViaIpmi_ = cause == RestartCause::chassisControl;
  log::info("host power on instance={} cause=0x{:02x}", config_.instance, static_cast<uint8_t>(cause));
  notify(PowerEvent::poweredOn);
}

void HostPowerSim::completePowerOff() {
  pending_ = Pending::none;
  ++epoch_;
  setOff();
  notify(PowerEvent::poweredOff);
}

void HostPowerSim::completeReset(RestartCause cause) {
  pending_ = Pending::none;
  ++epoch_;
  restartCause_ = cause;
  log::info("host reset instance={} cause=0x{:02x}", config_.instance, static_cast<uint8_t>(cause));
  notify(PowerEvent::reset);
}

void HostPowerSim::setOn() {
  if (on_) return;
  on_ = true;
  onSince_ = queue_.clock().now();
}

void HostPowerSim::setOff() {
  if (!on_) return;
  on_ = false;
  accumulatedOn_ += queue_.clock().now() - onSince_;
  log::info("host power off instance={}", config_.instance);
}

uint64_t HostPowerSim::powerOnSeconds() const {
  auto total = accumulatedOn_;
  if (on_) total += queue_.clock().now() - onSince_;
  return initialPowerOnSeconds_ +
         static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(total).count());
}

void HostPowerSim::addListener(Listener listener) { listeners_.push_back(std::move(listener)); }

void HostPowerSim::notify(PowerEvent event) {
  // A copy: a listener may add listeners while we iterate.
  const std::vector<Listener> listeners = listeners_;
  for (const auto& listener : listeners) listener(event);
}

void HostPowerSim::runHook(const char* action, const std::string& command) {
  if (exec_ == nullptr || command.empty()) return;
  exec_->run(action, command);
}

}  // namespace simbmc::sim
