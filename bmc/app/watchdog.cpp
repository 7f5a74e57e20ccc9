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
// The states the sensor reports and asserts: expired, hard reset, power down, power cycle, interrupt.
constexpr uint16_t kSensorStatesDefined = 0x010F;
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

// Sensor/Event NetFn commands on a sensor (§35), Appendix G privileges, and request lengths
// (sensor number included) for the ones answered here.
namespace sensorCmd {
constexpr uint8_t getReadingFactors = 0x23;  // §35.5: number, reading byte
constexpr uint8_t setHysteresis = 0x24;      // §35.6: number, reserved, positive, negative
constexpr uint8_t getHysteresis = 0x25;      // §35.7: number, reserved
constexpr uint8_t setThresholds = 0x26;      // §35.8: number, mask, six thresholds
constexpr uint8_t getThresholds = 0x27;      // §35.9: number
constexpr uint8_t setEventEnable = 0x28;     // §35.10: number, flags, up to four mask bytes
constexpr uint8_t getEventEnable = 0x29;     // §35.11: number
constexpr uint8_t rearmEvents = 0x2A;        // §35.12: number, flags, up to four mask bytes
constexpr uint8_t getEventStatus = 0x2B;     // §35.13: number
constexpr uint8_t getReading = 0x2D;         // §35.14: number
constexpr uint8_t setSensorType = 0x2E;      // §35.15: number, sensor type, event/reading type
constexpr uint8_t getSensorType = 0x2F;      // §35.16: number

struct Shape {
  uint8_t cmd;
  Privilege privilege;
  size_t minLength, maxLength;
};
constexpr Shape kShapes[] = {
    {getReadingFactors, Privilege::user, 2, 2},  {setHysteresis, Privilege::operator_, 4, 4},
    {getHysteresis, Privilege::user, 2, 2},      {setThresholds, Privilege::operator_, 8, 8},
    {getThresholds, Privilege::user, 1, 1},      {setEventEnable, Privilege::operator_, 2, 6},
    {getEventEnable, Privilege::user, 1, 1},     {rearmEvents, Privilege::operator_, 2, 6},
    {getEventStatus, Privilege::user, 1, 1},     {getReading, Privilege::user, 1, 1},
    {setSensorType, Privilege::operator_, 3, 3}, {getSensorType, Privilege::user, 1, 1},
};
}  // namespace sensorCmd

// The sensor's event enables in the StateStore: the five data bytes of Get Sensor Event Enable
// (§35.11), the form the SensorService stores a configured sensor's in ("sensor.<n>.events"). Keyed
// by the watchdog rather than by number: the enables belong to the watchdog's sensor whichever
// number it gets.
const std::string kKeyEventEnables = "watchdog.sensor.events";
constexpr size_t kEventEnablesSize = 5;

// Table 43-13: system management module, the BMC itself (as in its MC locator record).
constexpr uint8_t kEntityBmc = 0x06;
constexpr uint8_t kEntityInstance = 0x01;

}  // namespace

std::optional<WatchdogSensorChoice> chooseWatchdogSensor(const std::vector<std::pair<uint8_t, uint8_t>>& served,
                                                         uint8_t preferred) {
  for (const auto& [number, type] : served) {
    if (type == kSensorTypeWatchdog2) return WatchdogSensorChoice{number, false};
  }
  // 0xFF is reserved as a sensor number (§43.1); the rest is searched from `preferred` on, wrapping.
  for (unsigned i = 0; i < 0xFF; ++i) {
    const auto n = static_cast<uint8_t>((preferred + i) % 0xFF);
    const bool taken = std::any_of(served.begin(), served.end(), [n](const auto& s) { return s.first == n; });
    if (!taken) return WatchdogSensorChoice{n, true};
  }
  return std::nullopt;
}

Watchdog::Watchdog(TimerQueue& timers, HostControl& host, uint8_t& messageFlags, WatchdogConfig config,
                   storage::StateStore* store)
    : timers_(timers), host_(host), messageFlags_(messageFlags), config_(config), store_(store) {
  std::weak_ptr<bool> alive = alive_;
  host_.addListener([this, alive](PowerEvent e) {
    if (alive.expired()) return;
    onPowerEvent(e);
  });
}

Watchdog::~Watchdog() { cancelTimers(); }

Result<void> Watchdog::load() {
  if (store_ == nullptr) return {};
  auto v = store_->get(kKeyEventEnables);
  if (!v) return v.error();
  if (!v->has_value()) return {};
  const std::vector<uint8_t>& saved = **v;
  if (saved.size() != kEventEnablesSize) {
    log::warn("ignoring persisted setting key={}: {} bytes, expected {}", kKeyEventEnables, saved.size(),
              kEventEnablesSize);
    return {};
  }
  sensorEvents_ = (saved[0] & 0x80) != 0;
  sensorScanning_ = (saved[0] & 0x40) != 0;
  return {};
}

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
  recordEvent(kOffsetTimerInterrupt);
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
  recordEvent(possible ? static_cast<uint8_t>(action) : kOffsetTimerExpired);
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

void Watchdog::recordEvent(uint8_t offset) {
  sensorStates_ = static_cast<uint16_t>(1u << offset);
  if (!settings_.dontLog && sensorEventsEnabled()) logEvent(offset);
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

void Watchdog::attachSensor(CommandRegistry& registry, uint8_t number) {
  config_.sensorNumber = number;
  for (const sensorCmd::Shape& shape : sensorCmd::kShapes) {
    auto front = [this, shape](const RequestContext& ctx, Reader& r, const CommandRegistry::RawHandler& next) -> Reply {
      Reader peek = r;
      const uint8_t n = peek.u8();
      if (!peek.ok() || n != config_.sensorNumber) {
        if (next) return next(ctx, r);
        return r.remaining() == 0 ? Reply(Cc::invalidLength) : Reply(Cc::notPresent);
      }
      const ByteView data = r.rest();
      if (data.size() < shape.minLength || data.size() > shape.maxLength) return Cc::invalidLength;
      return sensorCommand(shape.cmd, data);
    };
    if (!registry.wrap(netfn::sensorEvent, shape.cmd, front)) {
      registry.addRaw(netfn::sensorEvent, shape.cmd, shape.privilege,
                      [front](const RequestContext& ctx, Reader& r) { return front(ctx, r, nullptr); });
    }
  }
}

// One of the sensor commands, on this sensor; `data` has the command's length, sensor number first.
Reply Watchdog::sensorCommand(uint8_t cmd, ByteView data) {
  // Get Sensor Reading / Event Status / Event Enable byte 2: [7] all event messages enabled,
  // [6] scanning enabled, [5] reading/state unavailable (never: the state is always known).
  const auto flags = static_cast<uint8_t>((sensorEvents_ ? 0x80 : 0) | (sensorScanning_ ? 0x40 : 0));
  const auto lo = static_cast<uint8_t>(sensorStates_ & 0xFF);
  const auto hi = static_cast<uint8_t>((sensorStates_ >> 8) & 0x7F);
  // Table 35-12: the SDR says "entire sensor only", so every event the sensor can generate is
  // enabled exactly when event messages are.
  auto eventEnables = [](uint8_t f) {
    return Bytes{f, static_cast<uint8_t>(kSensorStatesDefined & 0xFF), static_cast<uint8_t>(kSensorStatesDefined >> 8),
                 0x00, 0x00};
  };
  switch (cmd) {
    case sensorCmd::getReading:
      // Table 35-15: no numeric reading (00h), flags, states 0-7, states 8-14 ([7] returned as 1b).
      return Reply::ok({0x00, flags, lo, static_cast<uint8_t>(0x80 | hi)});
    case sensorCmd::getEventStatus:
      // Table 35-14: the asserted state is the last event; nothing is reported deasserted.
      return Reply::ok({flags, lo, hi, 0x00, 0x00});
    case sensorCmd::getEventEnable: return Reply::ok(eventEnables(flags));
    case sensorCmd::setEventEnable: {
      // Table 35-11 byte 2: [7] event messages, [6] scanning, [5:4] per-event selection (11b
      // reserved), [3:0] reserved; per-event masks are accepted and have nothing to select.
      const uint8_t b = data[1];
      if ((b & 0x30) == 0x30 || (b & 0x0F) != 0) return Cc::invalidField;
      // On disk before the reply and before it takes effect: a failed write changes nothing.
      if (store_ != nullptr) {
        if (auto r = store_->put(kKeyEventEnables, eventEnables(b & 0xC0)); !r) return storeErrorCc(r.error());
      }
      sensorEvents_ = (b & 0x80) != 0;
      sensorScanning_ = (b & 0x40) != 0;
      log::info("watchdog sensor events={} scanning={}", sensorEvents_, sensorScanning_);
      return Reply::ok();
    }
    case sensorCmd::rearmEvents:
      // Auto re-arm (SDR byte 12 [6]): every event is logged as it happens; nothing to re-arm.
      if ((data[1] & 0x7F) != 0) return Cc::invalidField;
      return Reply::ok();
    case sensorCmd::getSensorType: return Reply::ok({kSensorTypeWatchdog2, kEventTypeSensorSpecific});
    case sensorCmd::setSensorType:
      // The watchdog is what it is; a sensor whose type changed would no longer explain its events.
      return Cc::illegalForSensorOrRecord;
    default: return Cc::illegalForSensorOrRecord;  // thresholds, hysteresis, factors: discrete sensor
  }
}

// Compact Sensor Record, IPMI v2.0 §43.2 Table 43-2.
Bytes Watchdog::sensorRecord() const {
  Bytes out;
  Writer w(out);
  w.u16le(0x0000).u8(0x51).u8(0x02).u8(0x00);  // record ID (assigned later), SDR version, type, length
  w.u8(kBmcSlaveAddress).u8(0x00).u8(config_.sensorNumber);  // 6-8: owner ID, LUN 0 / channel 0, number
  w.u8(kEntityBmc).u8(kEntityInstance);                       // 9-10
  // 11: initialization: [6] init scanning, [5] init events, [1] events on, [0] scanning on.
  w.u8(0x63);
  // 12: capabilities: [6] auto re-arm, no hysteresis, no thresholds, [1:0] 01b entire sensor only.
  w.u8(0x41);
  w.u8(kSensorTypeWatchdog2).u8(kEventTypeSensorSpecific);  // 13-14
  w.u16le(kSensorStatesDefined);                             // 15-16: assertion events
  w.u16le(0x0000);                                           // 17-18: no deassertion events
  w.u16le(kSensorStatesDefined);                             // 19-20: states reported
  w.u8(0xC0).u8(0x00).u8(0x00);  // 21-23: units: [7:6] 11b no numeric reading; no unit
  w.u8(0x01).u8(0x00);           // 24-25: not shared (share count 1)
  w.u8(0x00).u8(0x00);           // 26-27: no hysteresis
  w.zeros(3).u8(0x00);           // 28-30 reserved, 31 OEM
  const std::string& name = config_.sensorName;
  const size_t n = std::min<size_t>(name.size(), 16);
  w.u8(static_cast<uint8_t>(0xC0 | n));  // 32: ID string type 8-bit ASCII + Latin 1, length
  w.fixedString(name, n);
  out[4] = static_cast<uint8_t>(out.size() - 5);
  return out;
}

}  // namespace simbmc::bmc
