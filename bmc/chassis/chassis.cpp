#include "bmc/chassis/chassis.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/log.hpp"

namespace simbmc::bmc {
namespace {

// IPMI v2.0 Appendix G, Chassis NetFn commands (privileges are given where each is registered).
namespace cmd {
constexpr uint8_t getChassisCapabilities = 0x00;
constexpr uint8_t getChassisStatus = 0x01;
constexpr uint8_t chassisControl = 0x02;
constexpr uint8_t chassisIdentify = 0x04;
constexpr uint8_t setPowerRestorePolicy = 0x06;
constexpr uint8_t getSystemRestartCause = 0x07;
constexpr uint8_t setSystemBootOptions = 0x08;
constexpr uint8_t getSystemBootOptions = 0x09;
constexpr uint8_t getPohCounter = 0x0F;
}  // namespace cmd

// §28.12 Set System Boot Options / §28.13 Get System Boot Options completion codes.
constexpr Cc kParameterNotSupported{0x80};
constexpr Cc kSetInProgressActive{0x81};

// Table 28-14, boot option parameter selectors.
namespace bootParam {
constexpr uint8_t setInProgress = 0;
constexpr uint8_t servicePartitionSelector = 1;
constexpr uint8_t servicePartitionScan = 2;
constexpr uint8_t validBitClearing = 3;
constexpr uint8_t bootInfoAcknowledge = 4;
constexpr uint8_t bootFlags = 5;
constexpr uint8_t initiatorInfo = 6;
constexpr uint8_t initiatorMailbox = 7;
constexpr uint8_t count = 8;
}  // namespace bootParam

constexpr uint8_t kBootParameterVersion = 0x01;
constexpr uint8_t kParamInvalidLocked = 0x80;  // selector byte bit 7, Set and Get
constexpr uint8_t kSetComplete = 0;
constexpr uint8_t kSetInProgress = 1;
constexpr uint8_t kCommitWrite = 2;
// Param 3 (BMC boot flag valid bit clearing) bits.
constexpr uint8_t kKeepOnPowerButton = 0x01;
constexpr uint8_t kKeepOnResetButton = 0x02;
constexpr uint8_t kKeepOnWatchdog = 0x04;
constexpr uint8_t kKeepOnTimeout = 0x08;
constexpr uint8_t kKeepOnPef = 0x10;
// Param 5 (boot flags) data 1 bits.
constexpr uint8_t kBootFlagsValid = 0x80;
constexpr uint8_t kBootFlagsPersistent = 0x40;
// §28.12: the valid bit clears itself unless a Chassis Control command arrives within 60 s.
constexpr std::chrono::seconds kBootFlagsTimeout{60};
// Param 7: the spec leaves the mailbox size to the implementation; 16 blocks of 16 bytes is enough
// for an IANA number and a boot URL-sized blob.
constexpr size_t kMailboxBlocks = 16;
constexpr size_t kMailboxBlockSize = 16;

// §28.5: identify for 15 s when the request has no interval byte.
constexpr uint8_t kDefaultIdentifySeconds = 15;

// Table 28-3, Get Chassis Status data 3 bits [5:4].
enum class IdentifyState : uint8_t { off = 0, temporaryOn = 1, indefiniteOn = 2 };

// Settings keys (StateStore). Values: one byte unless noted.
const std::string kKeyRestorePolicy = "chassis.restore_policy";
const std::string kKeyPowerOn = "chassis.power_on";           // 1 = host on, 0 = off
const std::string kKeyPohSeconds = "chassis.poh_seconds";     // u64 LE, written at power-off
const std::string kKeyBootPrefix = "chassis.boot.";           // + parameter number: 3, 4 (data), 5

std::string bootKey(uint8_t param) { return kKeyBootPrefix + std::to_string(param); }

// ---- Requests -------------------------------------------------------------------------------

// §28.3 Chassis Control, Table 28-4: byte 1 [3:0] control, [7:4] reserved. Values above 5 are
// refused whole (a reserved nibble set is not a command we know).
struct ChassisControlRequest {
  ChassisAction action = ChassisAction::powerDown;
  static std::optional<ChassisControlRequest> decode(Reader& r) {
    const uint8_t v = r.u8();
    if (v > static_cast<uint8_t>(ChassisAction::softShutdown)) return std::nullopt;
    return ChassisControlRequest{static_cast<ChassisAction>(v)};
  }
};

// §28.5 Chassis Identify: both bytes optional; byte 2 [0] force identify on, [7:1]
// reserved (ignored).
struct IdentifyRequest {
  uint8_t interval = kDefaultIdentifySeconds;
  bool force = false;
  static std::optional<IdentifyRequest> decode(Reader& r) {
    IdentifyRequest q;
    if (r.remaining() > 0) q.interval = r.u8();
    if (r.remaining() > 0) q.force = (r.u8() & 0x01) != 0;
    return q;
  }
};

// §28.8 Set Power Restore Policy: byte 1 [2:0] policy (3 = no change), [7:3] reserved.
struct RestorePolicyRequest {
  uint8_t policy = 0;
  static std::optional<RestorePolicyRequest> decode(Reader& r) {
    const uint8_t v = r.u8() & 0x07;
    if (v > 0x03) return std::nullopt;
    return RestorePolicyRequest{v};
  }
};

// §28.12 Set System Boot Options: byte 1 selector ([7] invalid/locked, [6:0] parameter),
// then the parameter's data, whose length depends on the parameter (checked by the handler).
struct SetBootOptionRequest {
  uint8_t selector = 0;
  Bytes data;
  static std::optional<SetBootOptionRequest> decode(Reader& r) {
    SetBootOptionRequest q;
    q.selector = r.u8();
    const ByteView rest = r.rest();
    q.data.assign(rest.begin(), rest.end());
    return q;
  }
};

// §28.13 Get System Boot Options: parameter selector ([7] reserved), set
// selector, block selector; all three are required (ipmitool always sends 3 bytes).
struct GetBootOptionRequest {
  uint8_t param = 0;
  uint8_t setSelector = 0;
  uint8_t blockSelector = 0;
  static std::optional<GetBootOptionRequest> decode(Reader& r) {
    GetBootOptionRequest q;
    q.param = r.u8() & 0x7F;
    q.setSelector = r.u8();
    q.blockSelector = r.u8();
    return q;
  }
};

// Table 28-14: exact data length of a Set for each parameter (7 is checked separately).
constexpr std::array<size_t, bootParam::count> kBootParamSetLength = {1, 1, 1, 1, 2, 5, 9, 0};

}  // namespace

// ---- State ----------------------------------------------------------------------------------

struct ChassisService::Impl {
  // Table 28-14 parameter values.
  struct BootOptions {
    uint8_t setInProgress = kSetComplete;
    uint8_t servicePartitionSelector = 0;
    uint8_t servicePartitionScan = 0;
    uint8_t validBitClearing = 0;
    uint8_t bootInfoAck = 0;
    std::array<uint8_t, 5> flags{};
    std::array<uint8_t, 9> initiatorInfo{};
    std::array<std::array<uint8_t, kMailboxBlockSize>, kMailboxBlocks> mailbox{};
    std::array<bool, bootParam::count> invalid{};  // "invalid/locked" mark of the last Set
  };

  Impl(HostControl& h, TimerQueue& t, storage::StateStore* s, ChassisConfig c)
      : host(h), timers(t), store(s), config(c), restorePolicy(c.powerRestorePolicy) {}
  ~Impl() {
    cancel(identifyTimer);
    cancel(bootFlagsTimer);
  }

  HostControl& host;
  TimerQueue& timers;
  storage::StateStore* store;
  ChassisConfig config;

  uint8_t restorePolicy;
  bool wasOn = false;
  bool wasKnown = false;  // chassis.power_on was persisted by an earlier run
  IdentifyState identify = IdentifyState::off;
  TimerQueue::Id identifyTimer = 0;
  // The channel of the last accepted restart-type Chassis Control, latched into restartChannel when
  // the host reports the restart (the sim may complete it inside request()).
  uint8_t pendingRestartChannel = 0;
  uint8_t restartChannel = 0;
  BootOptions boot;
  TimerQueue::Id bootFlagsTimer = 0;
  // HostControl has no removeListener: the listener holds a weak reference and goes inert with us.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  log::RateLimit persistFailures{5, std::chrono::seconds(60)};

  void cancel(TimerQueue::Id& id) {
    if (id != 0) timers.cancel(id);
    id = 0;
  }

  Result<void> put(const std::string& key, const std::vector<uint8_t>& value) {
    if (store == nullptr) return {};
    return store->put(key, value);
  }
  // For writes that follow an event rather than a request: nobody to answer, so log and go on.
  void putOrLog(const std::string& key, const std::vector<uint8_t>& value) {
    if (auto r = put(key, value); !r && persistFailures.allow())
      log::error("chassis state not persisted key={} what={}", key, r.error().message);
  }

  Reply getCapabilities() const;
  Reply getStatus() const;
  Reply control(const RequestContext& ctx, ChassisAction action);
  Reply chassisIdentify(const IdentifyRequest& q);
  Reply setRestorePolicy(const RestorePolicyRequest& q);
  Reply getRestartCause() const;
  Reply setBootOption(const SetBootOptionRequest& q);
  Reply getBootOption(const GetBootOptionRequest& q) const;
  Reply getPoh() const;

  Cc writeBootFlags(const std::array<uint8_t, 5>& flags);
  void clearBootFlagsValid(const char* why);
  void onPowerEvent(PowerEvent e);
  void onBoot();
  Result<void> loadSettings();
};

// ---- Handlers -------------------------------------------------------------------------------

// §28.1 Get Chassis Capabilities: no intrusion sensor, lockout, front panel NMI or
// interlock; every device address is the BMC's. The optional bridge address byte is included
// (FreeIPMI prints it; ipmitool ignores it).
Reply ChassisService::Impl::getCapabilities() const {
  Bytes out;
  Writer(out)
      .u8(0x00)
      .u8(kBmcSlaveAddress)   // FRU info device
      .u8(kBmcSlaveAddress)   // SDR device
      .u8(kBmcSlaveAddress)   // SEL device
      .u8(kBmcSlaveAddress)   // system management device
      .u8(kBmcSlaveAddress);  // bridge device
  return Reply::ok(std::move(out));
}

// §28.2 Get Chassis Status, Table 28-3.
Reply ChassisService::Impl::getStatus() const {
  const uint8_t power = static_cast<uint8_t>((host.powerOn() ? 0x01 : 0x00) | ((restorePolicy & 0x03) << 5));
  const uint8_t lastEvent = host.lastPowerOnViaIpmi() ? 0x10 : 0x00;
  uint8_t misc = 0x00;
  if (config.identifySupported) misc = static_cast<uint8_t>(0x40 | (static_cast<uint8_t>(identify) << 4));
  Bytes out;
  Writer(out).u8(power).u8(lastEvent).u8(misc).u8(0x00);  // data 4: no front panel button control
  return Reply::ok(std::move(out));
}

// §28.3 Chassis Control. The host port decides what the action means in the current state and
// answers 0xD5/0xC0 itself.
Reply ChassisService::Impl::control(const RequestContext& ctx, ChassisAction action) {
  const bool restarts = action == ChassisAction::powerUp || action == ChassisAction::powerCycle ||
                        action == ChassisAction::hardReset;
  if (restarts) pendingRestartChannel = ctx.channel & 0x0F;
  const Cc cc = host.request(action, RestartCause::chassisControl);
  if (cc != Cc::ok) return cc;
  // §28.12 param 3 bit 3: the valid-bit timeout only runs until a Chassis Control command arrives.
  cancel(bootFlagsTimer);
  log::info("chassis control action={} channel={} user={}", static_cast<int>(action), ctx.channel, ctx.userId);
  return Reply::ok();
}

// §28.5 Chassis Identify.
Reply ChassisService::Impl::chassisIdentify(const IdentifyRequest& q) {
  cancel(identifyTimer);
  if (q.force) {
    identify = IdentifyState::indefiniteOn;
  } else if (q.interval == 0) {
    identify = IdentifyState::off;
  } else {
    identify = IdentifyState::temporaryOn;
    identifyTimer = timers.scheduleAfter(std::chrono::seconds(q.interval), [this] {
      identifyTimer = 0;
      identify = IdentifyState::off;
    });
  }
  return Reply::ok();
}

// §28.8 Set Power Restore Policy: the reply lists the supported policies
// (bit 0 always off, bit 1 previous state, bit 2 always on).
Reply ChassisService::Impl::setRestorePolicy(const RestorePolicyRequest& q) {
  constexpr uint8_t kNoChange = 0x03;
  if (q.policy != kNoChange && q.policy != restorePolicy) {
    if (auto r = put(kKeyRestorePolicy, {q.policy}); !r) return storeErrorCc(r.error());
    restorePolicy = q.policy;
  }
  return Reply::ok({0x07});
}

// §28.11 Get System Restart Cause, Table 28-11: the channel is only known for a restart this BMC
// commanded; 0 otherwise.
Reply ChassisService::Impl::getRestartCause() const {
  const RestartCause cause = host.lastRestartCause();
  const uint8_t channel = cause == RestartCause::chassisControl ? restartChannel : 0x00;
  return Reply::ok({static_cast<uint8_t>(static_cast<uint8_t>(cause) & 0x0F), channel});
}

// §28.14 Get POH Counter. One count per minute: ipmitool then prints days, hours and
// minutes (it drops the minutes when minutes-per-count >= 60), FreeIPMI prints count*mpc/60 hours.
Reply ChassisService::Impl::getPoh() const {
  const uint64_t minutes = host.powerOnSeconds() / 60;
  const auto count = static_cast<uint32_t>(std::min<uint64_t>(minutes, std::numeric_limits<uint32_t>::max()));
  Bytes out;
  Writer(out).u8(0x01).u32le(count);
  return Reply::ok(std::move(out));
}

// §28.12 Set System Boot Options, Table 28-14 parameters. Order of checks: unknown parameter (0x80),
// data length (0xC7), field values (0xCC / 0xC9), then the write (0xC4/0xFF if it cannot persist).
// Reserved bits are masked off rather than refused.
Reply ChassisService::Impl::setBootOption(const SetBootOptionRequest& q) {
  const uint8_t param = q.selector & 0x7F;
  if (param >= bootParam::count) return kParameterNotSupported;
  const Bytes& d = q.data;
  if (param == bootParam::initiatorMailbox) {
    if (d.empty() || d.size() > 1 + kMailboxBlockSize) return Cc::invalidLength;
  } else if (d.size() != kBootParamSetLength[param]) {
    return Cc::invalidLength;
  }

  switch (param) {
    case bootParam::setInProgress: {
      const uint8_t v = d[0] & 0x03;
      if (v == 0x03) return Cc::invalidField;
      if (v == kSetInProgress && boot.setInProgress == kSetInProgress) return kSetInProgressActive;
      // Every write is applied (and persisted) when it arrives, so commit write has nothing left to
      // do and leaves the state as it is.
      if (v != kCommitWrite) boot.setInProgress = v;
      break;
    }
    case bootParam::servicePartitionSelector:
      boot.servicePartitionSelector = d[0];
      break;
    case bootParam::servicePartitionScan:
      boot.servicePartitionScan = d[0] & 0x03;
      break;
    case bootParam::validBitClearing: {
      const uint8_t v = d[0] & 0x1F;
      if (auto r = put(bootKey(param), {v}); !r) return storeErrorCc(r.error());
      boot.validBitClearing = v;
      if ((v & kKeepOnTimeout) != 0) cancel(bootFlagsTimer);
      break;
    }
    case bootParam::bootInfoAcknowledge: {
      // Data 1 is a write mask: only the bits it selects change.
      const uint8_t mask = d[0] & 0x1F;
      const auto v = static_cast<uint8_t>((boot.bootInfoAck & ~mask) | (d[1] & mask));
      if (auto r = put(bootKey(param), {v}); !r) return storeErrorCc(r.error());
      boot.bootInfoAck = v;
      break;
    }
    case bootParam::bootFlags: {
      std::array<uint8_t, 5> flags{};
      std::copy(d.begin(), d.end(), flags.begin());
      if (const Cc cc = writeBootFlags(flags); cc != Cc::ok) return cc;
      cancel(bootFlagsTimer);
      if ((flags[0] & kBootFlagsValid) != 0 && (boot.validBitClearing & kKeepOnTimeout) == 0) {
        bootFlagsTimer = timers.scheduleAfter(kBootFlagsTimeout, [this] {
          bootFlagsTimer = 0;
          clearBootFlagsValid("timeout");
        });
      }
      break;
    }
    case bootParam::initiatorInfo:
      std::copy(d.begin(), d.end(), boot.initiatorInfo.begin());
      break;
    case bootParam::initiatorMailbox: {
      const uint8_t block = d[0];
      if (block >= kMailboxBlocks) return Cc::parameterOutOfRange;
      // A short block is how ipmitool writes the tail of its data; the rest of the block is zeroed.
      auto& dst = boot.mailbox[block];
      dst.fill(0);
      std::copy(d.begin() + 1, d.end(), dst.begin());
      break;
    }
    default:
      return kParameterNotSupported;
  }
  boot.invalid[param] = (q.selector & kParamInvalidLocked) != 0;
  return Reply::ok();
}

// §28.13 Get System Boot Options: version, selector (bit 7 = invalid/locked), parameter data.
Reply ChassisService::Impl::getBootOption(const GetBootOptionRequest& q) const {
  if (q.param >= bootParam::count) return kParameterNotSupported;
  Bytes out;
  Writer w(out);
  w.u8(kBootParameterVersion).u8(static_cast<uint8_t>(q.param | (boot.invalid[q.param] ? kParamInvalidLocked : 0)));
  switch (q.param) {
    case bootParam::setInProgress:
      w.u8(boot.setInProgress);
      break;
    case bootParam::servicePartitionSelector:
      w.u8(boot.servicePartitionSelector);
      break;
    case bootParam::servicePartitionScan:
      w.u8(boot.servicePartitionScan);
      break;
    case bootParam::validBitClearing:
      w.u8(boot.validBitClearing);
      break;
    case bootParam::bootInfoAcknowledge:
      w.u8(0x00).u8(boot.bootInfoAck);  // the write mask reads back as 0
      break;
    case bootParam::bootFlags:
      w.bytes(boot.flags);
      break;
    case bootParam::initiatorInfo:
      w.bytes(boot.initiatorInfo);
      break;
    case bootParam::initiatorMailbox:
      // The set selector is the block number; past the end is how ipmitool finds the mailbox size.
      if (q.setSelector >= kMailboxBlocks) return Cc::parameterOutOfRange;
      w.u8(q.setSelector).bytes(boot.mailbox[q.setSelector]);
      break;
    default:
      return kParameterNotSupported;
  }
  return Reply::ok(std::move(out));
}

Cc ChassisService::Impl::writeBootFlags(const std::array<uint8_t, 5>& flags) {
  if (auto r = put(bootKey(bootParam::bootFlags), std::vector<uint8_t>(flags.begin(), flags.end())); !r)
    return storeErrorCc(r.error());
  boot.flags = flags;
  return Cc::ok;
}

void ChassisService::Impl::clearBootFlagsValid(const char* why) {
  if ((boot.flags[0] & kBootFlagsValid) == 0) return;
  std::array<uint8_t, 5> flags = boot.flags;
  flags[0] = static_cast<uint8_t>(flags[0] & ~kBootFlagsValid);
  // The host has moved on either way: keep memory right even if the disk write fails.
  boot.flags = flags;
  putOrLog(bootKey(bootParam::bootFlags), std::vector<uint8_t>(flags.begin(), flags.end()));
  log::debug("boot flags valid bit cleared reason={}", why);
}

void ChassisService::Impl::onPowerEvent(PowerEvent e) {
  switch (e) {
    case PowerEvent::poweredOn:
      putOrLog(kKeyPowerOn, {1});
      onBoot();
      break;
    case PowerEvent::reset:
      onBoot();
      break;
    case PowerEvent::poweredOff: {
      putOrLog(kKeyPowerOn, {0});
      std::vector<uint8_t> poh;
      const uint64_t seconds = host.powerOnSeconds();
      for (int i = 0; i < 8; ++i) poh.push_back(static_cast<uint8_t>(seconds >> (8 * i)));
      putOrLog(kKeyPohSeconds, poh);
      break;
    }
    case PowerEvent::diagnosticInterrupt:
    case PowerEvent::softShutdownRequested:
      break;
  }
}

// A power-on or reset is the boot the flags were meant for: the simulated BIOS consumes them, so
// "next boot only" flags lose their valid bit. Param 3 can exempt restarts that did not come from a
// command (buttons, wake, watchdog, PEF), which the spec has the BMC clear by default.
void ChassisService::Impl::onBoot() {
  const RestartCause cause = host.lastRestartCause();
  restartChannel = cause == RestartCause::chassisControl ? pendingRestartChannel : 0x00;
  cancel(bootFlagsTimer);
  if ((boot.flags[0] & kBootFlagsPersistent) != 0) return;
  uint8_t keepBit = 0;
  switch (cause) {
    case RestartCause::powerButton:
    case RestartCause::rtcWakeup:
      keepBit = kKeepOnPowerButton;
      break;
    case RestartCause::resetButton:
    case RestartCause::softReset:
      keepBit = kKeepOnResetButton;
      break;
    case RestartCause::watchdog:
      keepBit = kKeepOnWatchdog;
      break;
    case RestartCause::pefReset:
    case RestartCause::pefPowerCycle:
      keepBit = kKeepOnPef;
      break;
    default:
      break;
  }
  if ((boot.validBitClearing & keepBit) != 0) return;
  clearBootFlagsValid("boot");
}

namespace {

// Reads `key`; nullopt when absent, corrupt when present with another size.
Result<std::optional<std::vector<uint8_t>>> readSetting(storage::StateStore& store, const std::string& key,
                                                        size_t size) {
  auto v = store.get(key);
  if (!v) return v.error();
  if (*v && (*v)->size() != size)
    return makeError(Error::Kind::corrupt, "setting " + key + " has " + std::to_string((*v)->size()) +
                                               " bytes, expected " + std::to_string(size));
  return v;
}

Error outOfRange(const std::string& key, uint8_t value) {
  return makeError(Error::Kind::corrupt, "setting " + key + " has invalid value " + std::to_string(value));
}

}  // namespace

Result<void> ChassisService::Impl::loadSettings() {
  auto policy = readSetting(*store, kKeyRestorePolicy, 1);
  if (!policy) return policy.error();
  if (*policy) {
    const uint8_t v = (**policy)[0];
    if (v > 0x02) return outOfRange(kKeyRestorePolicy, v);
    restorePolicy = v;
  }

  auto powerOn = readSetting(*store, kKeyPowerOn, 1);
  if (!powerOn) return powerOn.error();
  if (*powerOn) {
    const uint8_t v = (**powerOn)[0];
    if (v > 1) return outOfRange(kKeyPowerOn, v);
    wasOn = v == 1;
    wasKnown = true;
  }
  // From now on the stored state follows the host. Record where it starts, so a run without any
  // transition still leaves the right answer for the next start (wasOn above keeps the previous one).
  if (!*powerOn || wasOn != host.powerOn()) {
    if (auto r = put(kKeyPowerOn, {static_cast<uint8_t>(host.powerOn() ? 1 : 0)}); !r) return r;
  }

  auto clearing = readSetting(*store, bootKey(bootParam::validBitClearing), 1);
  if (!clearing) return clearing.error();
  if (*clearing) boot.validBitClearing = (**clearing)[0] & 0x1F;

  auto ack = readSetting(*store, bootKey(bootParam::bootInfoAcknowledge), 1);
  if (!ack) return ack.error();
  if (*ack) boot.bootInfoAck = (**ack)[0] & 0x1F;

  auto flags = readSetting(*store, bootKey(bootParam::bootFlags), 5);
  if (!flags) return flags.error();
  if (*flags) std::copy((*flags)->begin(), (*flags)->end(), boot.flags.begin());
  return {};
}

// ---- ChassisService -------------------------------------------------------------------------

ChassisService::ChassisService(HostControl& host, TimerQueue& timers, storage::StateStore* store,
                               ChassisConfig config)
    : impl_(std::make_unique<Impl>(host, timers, store, config)) {
  Impl* self = impl_.get();
  std::weak_ptr<bool> alive = impl_->alive;
  host.addListener([self, alive](PowerEvent e) {
    if (alive.expired()) return;
    self->onPowerEvent(e);
  });
}

ChassisService::~ChassisService() = default;

Result<void> ChassisService::load() {
  Impl& m = *impl_;
  if (m.config.powerRestorePolicy > 0x02)
    return makeError(Error::Kind::invalidArgument, "chassis power restore policy must be 0, 1 or 2");
  m.restorePolicy = m.config.powerRestorePolicy;
  if (m.store == nullptr) return {};
  return m.loadSettings();
}

void ChassisService::registerCommands(CommandRegistry& registry) {
  Impl* m = impl_.get();
  const uint8_t nf = netfn::chassis;
  // Privileges: IPMI v2.0 Appendix G, Command Assignments.
  registry.add<NoData>(nf, cmd::getChassisCapabilities, Privilege::user,
                       [m](const RequestContext&, const NoData&) { return m->getCapabilities(); });
  registry.add<NoData>(nf, cmd::getChassisStatus, Privilege::user,
                       [m](const RequestContext&, const NoData&) { return m->getStatus(); });
  registry.add<ChassisControlRequest>(nf, cmd::chassisControl, Privilege::operator_,
                                      [m](const RequestContext& ctx, const ChassisControlRequest& q) {
                                        return m->control(ctx, q.action);
                                      });
  // Chassis Reset (0x03) stays unregistered: 0xC1, as on most BMCs.
  if (m->config.identifySupported) {
    registry.add<IdentifyRequest>(nf, cmd::chassisIdentify, Privilege::operator_,
                                  [m](const RequestContext&, const IdentifyRequest& q) {
                                    return m->chassisIdentify(q);
                                  });
  }
  registry.add<RestorePolicyRequest>(nf, cmd::setPowerRestorePolicy, Privilege::operator_,
                                     [m](const RequestContext&, const RestorePolicyRequest& q) {
                                       return m->setRestorePolicy(q);
                                     });
  registry.add<NoData>(nf, cmd::getSystemRestartCause, Privilege::user,
                       [m](const RequestContext&, const NoData&) { return m->getRestartCause(); });
  registry.add<SetBootOptionRequest>(nf, cmd::setSystemBootOptions, Privilege::operator_,
                                     [m](const RequestContext&, const SetBootOptionRequest& q) {
                                       return m->setBootOption(q);
                                     });
  registry.add<GetBootOptionRequest>(nf, cmd::getSystemBootOptions, Privilege::operator_,
                                     [m](const RequestContext&, const GetBootOptionRequest& q) {
                                       return m->getBootOption(q);
                                     });
  registry.add<NoData>(nf, cmd::getPohCounter, Privilege::user,
                       [m](const RequestContext&, const NoData&) { return m->getPoh(); });
}

uint8_t ChassisService::powerRestorePolicy() const { return impl_->restorePolicy; }

bool ChassisService::wasPoweredOn() const { return impl_->wasOn; }

std::optional<bool> ChassisService::previousPowerOn() const {
  if (!impl_->wasKnown) return std::nullopt;
  return impl_->wasOn;
}

}  // namespace simbmc::bmc
