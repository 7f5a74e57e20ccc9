// BMC watchdog timer, IPMI v2.0 §27.5-27.7; events per Table 42-3 (sensor type 0x23 "Watchdog 2")
// in the event message format of §29.7.
#include "bmc/app/watchdog.hpp"

#include <algorithm>
#include <chrono>

#include "common/log.hpp"

namespace simbmc::bmc {
namespace {

namespace cmd {
constexpr uint8_t resetWatchdogTimer = 0x22;
constexpr uint8_t setWatchdogTimer = 0x24;
constexpr uint8_t getWatchdogTimer = 0x25;
}  // namespace cmd

constexpr Millis kTick{100};  // one count of the countdown

// §27.6 byte 1.
constexpr uint8_t kDontLog = 0x80;
constexpr uint8_t kDontStop = 0x40;
constexpr uint8_t kUseReservedBits = 0x38;
constexpr uint8_t kUseMask = 0x07;
// §27.7 Get response byte 1 bit 6.
constexpr uint8_t kRunning = 0x40;
// §27.6 byte 2.
constexpr uint8_t kActionsReservedBits = 0x88;
// §27.6 byte 4: bits 1..5 name timer uses 1..5; bits 0, 6 and 7 are reserved and ignored (ipmitool's
// `clear=none` sets bit 0).
constexpr uint8_t kExpirationFlagsMask = 0x3E;

// Table 42-3, Watchdog 2 offsets.
constexpr uint8_t kOffsetTimerExpired = 0x00;
constexpr uint8_t kOffsetTimerInterrupt = 0x08;
// §29.7 event data 1: [7:6] = 11b sensor-specific extension in data 2, [5:4] = 00b data 3 unused.
constexpr uint8_t kData1SensorSpecificData2 = 0xC0;
constexpr uint8_t kEventTypeSensorSpecific = 0x6F;

bool validUse(uint8_t use) { return use <= timerUse::oem; }

const char* actionName(TimeoutAction a) {
  switch (a) {
    case TimeoutAction::none: return "none";
    case TimeoutAction::hardReset: return "hard-reset";
    case TimeoutAction::powerDown: return "power-down";
    case TimeoutAction::powerCycle: return "power-cycle";
  }
  return "?";
}

struct SetRequest {
  WatchdogSettings s;
  static std::optional<SetRequest> decode(Reader& r) {
    const uint8_t use = r.u8();
    const uint8_t actions = r.u8();
    const uint8_t pre = r.u8();
    const uint8_t clear = r.u8();
    const uint16_t countdown = r.u16le();
    SetRequest q;
    if ((use & kUseReservedBits) != 0 || !validUse(use & kUseMask)) return std::nullopt;
    if ((actions & kActionsReservedBits) != 0) return std::nullopt;
    const uint8_t interrupt = (actions >> 4) & 0x07;
    const uint8_t action = actions & 0x07;
    if (interrupt > static_cast<uint8_t>(PreTimeoutInterrupt::messaging)) return std::nullopt;
    if (action > static_cast<uint8_t>(TimeoutAction::powerCycle)) return std::nullopt;
    q.s.timerUse = use & kUseMask;
    q.s.dontLog = (use & kDontLog) != 0;
    q.s.dontStop = (use & kDontStop) != 0;
    q.s.preTimeoutInterrupt = static_cast<PreTimeoutInterrupt>(interrupt);
    q.s.timeoutAction = static_cast<TimeoutAction>(action);
    q.s.preTimeoutSeconds = pre;
    q.s.expirationFlagsClear = clear & kExpirationFlagsMask;
    q.s.initialCountdown = countdown;
    return q;
  }
};

}  // namespace

Watchdog::Watchdog(TimerQueue& timers, HostControl& host, uint8_t& messageFlags, WatchdogConfig config)
    : timers_(timers), host_(host), messageFlags_(messageFlags), config_(config) {
  std::weak_ptr<bool> alive = alive_;
  host_.addListener([this, alive](PowerEvent e) {
    if (alive.expired()) return;
    onPowerEvent(e);
  });
}

Watchdog::~Watchdog() { cancelTimers(); }

void Watchdog::registerCommands(CommandRegistry& registry) {
  const uint8_t nf = netfn::app;
  registry.add<NoData>(nf, cmd::resetWatchdogTimer, Privilege::operator_,
                       [this](const RequestContext&, const NoData&) -> Reply { return reset(); });
  registry.add<SetRequest>(nf, cmd::setWatchdogTimer, Privilege::operator_,
                           [this](const RequestContext&, const SetRequest& q) -> Reply { return set(q.s); });
  registry.add<NoData>(nf, cmd::getWatchdogTimer, Privilege::user,
                       [this](const RequestContext&, const NoData&) { return Reply::ok(get()); });
}

Cc Watchdog::set(const WatchdogSettings& s) {
  const bool keepRunning = running_ && s.dontStop;
  cancelTimers();
  running_ = false;
  settings_ = s;
  settings_.dontStop = false;  // a property of the request, not of the timer
  initialized_ = true;
  expirationFlags_ &= static_cast<uint8_t>(~s.expirationFlagsClear);
  messageFlags_ &= static_cast<uint8_t>(~kMessageFlagWatchdogPreTimeout);
  stoppedCountdown_ = s.initialCountdown;
  log::info("watchdog set use={} action={} interrupt={} pretimeout_s={} countdown_ds={} running={}", s.timerUse,
            actionName(s.timeoutAction), static_cast<int>(s.preTimeoutInterrupt), s.preTimeoutSeconds,
            s.initialCountdown, keepRunning);
  if (keepRunning) start();
  return Cc::ok;
}

Cc Watchdog::reset() {
  if (!initialized_) return kWatchdogUninitialized;
  cancelTimers();
  start();
  log::debug("watchdog reset countdown_ds={}", settings_.initialCountdown);
  return Cc::ok;
}

Bytes Watchdog::get() const {
  const WatchdogSettings& s = settings_;
  Bytes out;
  Writer w(out);
  w.u8(static_cast<uint8_t>((s.dontLog ? kDontLog : 0) | (running_ ? kRunning : 0) | s.timerUse));
  w.u8(static_cast<uint8_t>((static_cast<uint8_t>(s.preTimeoutInterrupt) << 4) |
                            static_cast<uint8_t>(s.timeoutAction)));
  w.u8(s.preTimeoutSeconds);
  w.u8(expirationFlags_);
  w.u16le(s.initialCountdown);
  w.u16le(presentCountdown());
  return out;
}

uint16_t Watchdog::presentCountdown() const {
  if (!running_) return stoppedCountdown_;
  const auto left = deadline_ - timers_.clock().now();
  if (left <= std::chrono::nanoseconds::zero()) return 0;
  // Rounded up: the count just after a start equals the initial countdown, as §27.7 asks.
  const auto counts = (left + kTick - std::chrono::nanoseconds(1)) / kTick;
  return static_cast<uint16_t>(std::min<int64_t>(counts, settings_.initialCountdown));
}

void Watchdog::start() {
  running_ = true;
  const SteadyTime now = timers_.clock().now();
  deadline_ = now + kTick * settings_.initialCountdown;
  if (settings_.preTimeoutInterrupt != PreTimeoutInterrupt::none) {
    const SteadyTime at = std::max(now, deadline_ - std::chrono::seconds(settings_.preTimeoutSeconds));
    // Scheduled first: with equal deadlines the queue runs it before the expiry.
    preTimeoutTimer_ = timers_.scheduleAt(at, [this] {
      preTimeoutTimer_ = 0;
      preTimeout();
    });
  }
  expiryTimer_ = timers_.scheduleAt(deadline_, [this] {
    expiryTimer_ = 0;
    expire();
  });
}

void Watchdog::stop() {
  if (running_) stoppedCountdown_ = presentCountdown();
  cancelTimers();
  running_ = false;
}

void Watchdog::cancelTimers() {
  if (expiryTimer_ != 0) timers_.cancel(expiryTimer_);
  if (preTimeoutTimer_ != 0) timers_.cancel(preTimeoutTimer_);
  expiryTimer_ = preTimeoutTimer_ = 0;
}

void Watchdog::preTimeout() {
  messageFlags_ |= kMessageFlagWatchdogPreTimeout;
  log::info("watchdog pre-timeout use={} interrupt={}", settings_.timerUse,
            static_cast<int>(settings_.preTimeoutInterrupt));
  if (!settings_.dontLog) logEvent(kOffsetTimerInterrupt);
  if (settings_.preTimeoutInterrupt == PreTimeoutInterrupt::nmi && host_.powerOn()) {
    host_.request(ChassisAction::diagnosticInterrupt, RestartCause::watchdog);
  }
}

void Watchdog::expire() {
  if (preTimeoutTimer_ != 0) timers_.cancel(preTimeoutTimer_);
  preTimeoutTimer_ = 0;
  running_ = false;
  stoppedCountdown_ = 0;
  if (settings_.timerUse != timerUse::reserved) expirationFlags_ |= static_cast<uint8_t>(1u << settings_.timerUse);

  const TimeoutAction action = settings_.timeoutAction;
  const bool needsPower = action == TimeoutAction::hardReset || action == TimeoutAction::powerCycle;
  const bool possible = action != TimeoutAction::none && (!needsPower || host_.powerOn());
  log::info("watchdog expired use={} action={}{}", settings_.timerUse, actionName(action),
            action != TimeoutAction::none && !possible ? " (host is off: not applied)" : "");
  // Logged before the action so the SEL shows the cause ahead of the power events it triggers.
  if (!settings_.dontLog) logEvent(possible ? static_cast<uint8_t>(action) : kOffsetTimerExpired);
  if (!possible) return;

  ChassisAction chassis = ChassisAction::hardReset;
  if (action == TimeoutAction::powerDown) chassis = ChassisAction::powerDown;
  if (action == TimeoutAction::powerCycle) chassis = ChassisAction::powerCycle;
  const Cc cc = host_.request(chassis, RestartCause::watchdog);
  if (cc != Cc::ok) log::warn("watchdog action not accepted action={} cc=0x{:02x}", actionName(action), toByte(cc));
}

void Watchdog::onPowerEvent(PowerEvent event) {
  switch (event) {
    case PowerEvent::poweredOn:
    case PowerEvent::poweredOff:
    case PowerEvent::reset:
      if (running_) log::info("watchdog stopped by host power event={}", static_cast<int>(event));
      stop();
      initialized_ = false;
      break;
    case PowerEvent::diagnosticInterrupt:
    case PowerEvent::softShutdownRequested:
      break;
  }
}

void Watchdog::logEvent(uint8_t offset) const {
  if (events_ == nullptr) return;
  SystemEvent e;
  e.sensorType = kSensorTypeWatchdog2;
  e.sensorNumber = config_.sensorNumber;
  e.eventType = kEventTypeSensorSpecific;
  // Table 42-3: data 2 = [7:4] interrupt type, [3:0] timer use at expiration.
  const auto interrupt = static_cast<uint8_t>(settings_.preTimeoutInterrupt);
  e.data = {static_cast<uint8_t>(kData1SensorSpecificData2 | offset),
            static_cast<uint8_t>((interrupt << 4) | settings_.timerUse), 0xFF};
  if (!events_->logEvent(e)) log::warn("watchdog event not logged offset={}", offset);
}

}  // namespace simbmc::bmc
