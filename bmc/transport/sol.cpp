#include "bmc/transport/sol.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace simbmc::bmc {
namespace {

using net::kPayloadTypeSol;
constexpr uint8_t kPayloadTypeIpmi = 0x00;  // §13.27.3 Table 13-16

constexpr uint8_t kParameterRevision = 0x11;

// Set/Get SOL Configuration Parameters completion codes, IPMI v2.0 §26.2 Table 26-4.
constexpr Cc kParameterNotSupported{0x80};
constexpr Cc kSetInProgress{0x81};
constexpr Cc kReadOnlyParameter{0x82};

// Activate Payload, §24.1 Table 24-2.
constexpr Cc kAlreadyActive{0x80};
constexpr Cc kPayloadDisabled{0x81};
constexpr Cc kActivationLimit{0x82};
constexpr Cc kCannotWithEncryption{0x83};
constexpr Cc kCannotWithoutEncryption{0x84};
// Deactivate Payload, §24.2 Table 24-3.
constexpr Cc kAlreadyDeactivated{0x80};
// Suspend/Resume Payload Encryption, §24.3 Table 24-4.
constexpr Cc kOperationNotSupported{0x80};
constexpr Cc kOperationNotAllowed{0x81};
constexpr Cc kEncryptionNotAvailable{0x82};
constexpr Cc kInstanceNotActive{0x83};
// Its operations, request byte 3.
constexpr uint8_t kOpSuspend = 0x00;
constexpr uint8_t kOpResume = 0x01;
constexpr uint8_t kOpRegenerateIv = 0x02;

// Activate Payload auxiliary request data for SOL, byte 1 (§24.1 Table 24-2).
constexpr uint8_t kAuxEncrypt = 0x80;

// SOL parameter 2 (§26.2 Table 26-5).
constexpr uint8_t kForceEncryption = 0x80;
constexpr uint8_t kForceAuthentication = 0x40;

constexpr uint32_t kSolPayloadAccessBit = 1u << kPayloadTypeSol;  // user payload access bit 1 = SOL (§24.6)

bool validBitRate(uint8_t v) { return v == 0 || (v >= 0x06 && v <= 0x0A); }

uint8_t resolveChannel(const RequestContext& ctx, uint8_t raw) {
  const uint8_t ch = raw & 0x0F;
  return ch == kCurrentChannel ? ctx.channel : ch;
}

// ---- Requests -----------------------------------------------------------------------------------

struct GetSolRequest {
  uint8_t channel, param, setSelector, blockSelector;
  static std::optional<GetSolRequest> decode(Reader& r) {
    GetSolRequest q{r.u8(), r.u8(), r.u8(), r.u8()};
    if ((q.channel & 0x70) != 0) return std::nullopt;
    return q;
  }
};

struct SetSolRequest {
  uint8_t channel, param;
  Bytes data;
  static std::optional<SetSolRequest> decode(Reader& r) {
    SetSolRequest q{r.u8(), r.u8(), {}};
    ByteView rest = r.rest();
    q.data.assign(rest.begin(), rest.end());
    if ((q.channel & 0xF0) != 0) return std::nullopt;
    return q;
  }
};

// Activate / Deactivate Payload: type, instance, four bytes of auxiliary data (§24.1, §24.2).
struct PayloadRequest {
  uint8_t type, instance;
  std::array<uint8_t, 4> aux{};
  static std::optional<PayloadRequest> decode(Reader& r) {
    PayloadRequest q{r.u8(), r.u8()};
    for (uint8_t& b : q.aux) b = r.u8();
    if ((q.type & 0xC0) != 0 || (q.instance & 0xF0) != 0) return std::nullopt;
    return q;
  }
};

struct PayloadTypeRequest {
  uint8_t type;
  static std::optional<PayloadTypeRequest> decode(Reader& r) {
    PayloadTypeRequest q{r.u8()};
    if ((q.type & 0xC0) != 0) return std::nullopt;
    return q;
  }
};

struct InstanceInfoRequest {
  uint8_t type, instance;
  static std::optional<InstanceInfoRequest> decode(Reader& r) {
    InstanceInfoRequest q{r.u8(), r.u8()};
    if ((q.type & 0xC0) != 0 || (q.instance & 0xF0) != 0) return std::nullopt;
    return q;
  }
};

struct SuspendResumeRequest {
  uint8_t type, instance, operation;
  static std::optional<SuspendResumeRequest> decode(Reader& r) {
    SuspendResumeRequest q{r.u8(), r.u8(), r.u8()};
    if ((q.type & 0xC0) != 0 || (q.instance & 0xF0) != 0 || (q.operation & 0xFC) != 0) return std::nullopt;
    return q;
  }
};

}  // namespace

SolService::SolService(TimerQueue& timers, UserDb& users, storage::StateStore* store, const net::ChannelSecurity& lan,
                       std::function<HostConsole*()> console, SolConfig config)
    : timers_(timers),
      users_(users),
      store_(store),
      lan_(lan),
      console_(std::move(console)),
      config_(config),
      capacity_(std::clamp<uint8_t>(config.instances, 1, kMaxInstances)),
      enabled_(config.enabled),
      authentication_(static_cast<uint8_t>((config.forceEncryption ? kForceEncryption : 0) |
                                           (config.forceAuthentication ? kForceAuthentication : 0) |
                                           (static_cast<uint8_t>(config.privilege) & 0x0F))),
      accumulateInterval_(std::max<uint8_t>(config.accumulateInterval, 1)),
      sendThreshold_(std::max<uint8_t>(config.sendThreshold, 1)),
      retryCount_(config.retryCount & 0x07),
      retryInterval_(config.retryInterval),
      nonVolatileBitRate_(config.bitRate),
      volatileBitRate_(config.bitRate) {}

SolService::~SolService() {
  // The console outlives us; the channels may not (the composition root tears them down first,
  // which closes their sessions and so our instances). Whatever is left only loses its listener.
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i]) end(i, false, false);
  }
}

Cc SolService::persist(uint8_t param, const Bytes& value) {
  if (store_ == nullptr) return Cc::ok;
  auto r = store_->put("sol.param." + std::to_string(param), value);
  if (r) return Cc::ok;
  return storeErrorCc(r.error());
}

Result<void> SolService::load() {
  if (store_ == nullptr) return {};
  auto saved = store_->scan("sol.param.");
  if (!saved) return saved.error();
  for (const auto& [key, value] : *saved) {
    const int id = std::atoi(key.c_str() + 10);
    if (id < 1 || id > 6) continue;
    // A stored value that no longer validates is ignored (the default stays), never fatal.
    (void)applyParameter(static_cast<uint8_t>(id), value, false);
  }
  return {};
}

std::variant<Bytes, Cc> SolService::getParameter(uint8_t param, uint16_t port) const {
  switch (param) {
    case 0: return Bytes{setInProgress_};
    case 1: return Bytes{static_cast<uint8_t>(enabled_ ? 1 : 0)};
    case 2: return Bytes{authentication_};
    case 3: return Bytes{accumulateInterval_, sendThreshold_};
    case 4: return Bytes{retryCount_, retryInterval_};
    case 5: return Bytes{nonVolatileBitRate_};
    case 6: return Bytes{volatileBitRate_};
    case 7: return Bytes{lan_.channel};
    case 8: return Bytes{static_cast<uint8_t>(port), static_cast<uint8_t>(port >> 8)};
    default: return kParameterNotSupported;
  }
}

// Set SOL Configuration Parameters, §26.2. Every accepted value is in effect (and on disk) when
// the reply goes out, so "commit write" has nothing left to do. Timing parameters apply to the
// next activation.
Cc SolService::setParameter(uint8_t param, ByteView data) { return applyParameter(param, data, true); }

Cc SolService::applyParameter(uint8_t param, ByteView data, bool save) {
  auto oneByte = [&]() { return data.size() == 1; };
  auto persist = [&](uint8_t id, const Bytes& value) { return save ? this->persist(id, value) : Cc::ok; };
  switch (param) {
    case 0: {
      if (!oneByte()) return Cc::invalidLength;
      const uint8_t v = data[0] & 0x03;
      if ((data[0] & 0xFC) != 0 || v == 0x03) return Cc::invalidField;
      if (v == 0x01 && setInProgress_ == 0x01) return kSetInProgress;
      if (v != 0x02) setInProgress_ = v;
      return Cc::ok;
    }
    case 1: {
      if (!oneByte()) return Cc::invalidLength;
      if ((data[0] & 0xFE) != 0) return Cc::invalidField;
      const bool on = data[0] == 1;
      if (Cc cc = persist(param, {data[0]}); cc != Cc::ok) return cc;
      enabled_ = on;
      if (!on) deactivateAll();
      return Cc::ok;
    }
    case 2: {
      if (!oneByte()) return Cc::invalidLength;
      const uint8_t priv = data[0] & 0x0F;
      if ((data[0] & 0x30) != 0 || priv < 0x02 || priv > 0x05) return Cc::invalidField;
      if (Cc cc = persist(param, {data[0]}); cc != Cc::ok) return cc;
      authentication_ = data[0];
      if (save) enforceAccess();  // a raised SOL privilege ends sessions below it
      return Cc::ok;
    }
    case 3: {
      if (data.size() != 2) return Cc::invalidLength;
      if (data[0] == 0 || data[1] == 0) return Cc::invalidField;  // both are 1-based
      if (Cc cc = persist(param, {data[0], data[1]}); cc != Cc::ok) return cc;
      accumulateInterval_ = data[0];
      sendThreshold_ = data[1];
      return Cc::ok;
    }
    case 4: {
      if (data.size() != 2) return Cc::invalidLength;
      if ((data[0] & 0xF8) != 0) return Cc::invalidField;
      if (Cc cc = persist(param, {data[0], data[1]}); cc != Cc::ok) return cc;
      retryCount_ = data[0];
      retryInterval_ = data[1];
      return Cc::ok;
    }
    case 5:
    case 6: {
      if (!oneByte()) return Cc::invalidLength;
      if ((data[0] & 0xF0) != 0 || !validBitRate(data[0])) return Cc::invalidField;
      if (Cc cc = persist(param, {data[0]}); cc != Cc::ok) return cc;
      (param == 5 ? nonVolatileBitRate_ : volatileBitRate_) = data[0];
      return Cc::ok;
    }
    case 7:
    case 8: return kReadOnlyParameter;  // SOL runs on the LAN channel and port its sessions use
    default: return kParameterNotSupported;
  }
}

net::SolTiming SolService::timing() const {
  net::SolTiming t;
  t.accumulateInterval = Millis(5 * accumulateInterval_);
  t.sendThreshold = sendThreshold_;
  t.retryCount = retryCount_;
  // An interval of 0 means back-to-back retries; keep a floor so a lost ACK is not a packet storm.
  t.retryInterval = Millis(std::max(10 * retryInterval_, 10));
  t.maxCharsPerPacket = net::sol::kMaxCharacters;
  return t;
}

uint32_t SolService::sessionOf(uint8_t instance) const {
  if (instance == 0 || instance > capacity_ || !active_[instance - 1]) return 0;
  return active_[instance - 1]->sessionId;
}

std::optional<size_t> SolService::findBySession(uint32_t sessionId) const {
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i] && active_[i]->sessionId == sessionId) return i;
  }
  return std::nullopt;
}

void SolService::end(size_t index, bool notify, bool close) {
  if (!active_[index]) return;
  Active a = std::move(*active_[index]);
  active_[index].reset();
  if (a.console != nullptr && a.listener >= 0) a.console->removeListener(a.listener);
  if (notify) a.transport->deactivate();
  if (close && a.channel != nullptr) a.channel->closePayload(a.sessionId, kPayloadTypeSol);
  log::info("sol deactivated sid=0x{:08x} instance={}", a.sessionId, index + 1);
}

void SolService::deactivateAll() {
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i]) end(i, true, true);
  }
}

Privilege SolService::solPrivilege() const {
  return privilegeFromByte(authentication_ & 0x0F).value_or(Privilege::administrator);
}

bool SolService::mayHold(uint8_t userId, Privilege sessionPrivilege) const {
  if (!enabled_ || !lan_.channelEnabled) return false;
  const User* user = users_.get(userId);
  if (user == nullptr || !user->enabled) return false;
  const UserChannelAccess& access = user->access[lan_.channel];
  if ((access.payloadMask & kSolPayloadAccessBit) == 0) return false;
  const Privilege required = solPrivilege();
  return atLeast(sessionPrivilege, required) && atLeast(access.privilegeLimit, required) &&
         atLeast(lan_.channelPrivilegeLimit, required);
}

void SolService::enforceAccess() {
  for (size_t i = 0; i < active_.size(); ++i) {
    if (!active_[i]) continue;
    const Active& a = *active_[i];
    Privilege held = a.privilege;
    std::optional<net::SessionInfo> info;
    if (a.sessions != nullptr) info = a.sessions->findById(a.sessionId);
    if (info) held = info->privilege;  // Set Session Privilege Level may have lowered it
    // Parameter 2 forcing encryption or authentication the payload runs without (activated
    // unencrypted or suspended, §24.3) is what activation would refuse with 0x84 now.
    const bool secure = ((authentication_ & kForceEncryption) == 0 || a.encrypted) &&
                        ((authentication_ & kForceAuthentication) == 0 || !info || info->integrity);
    if (secure && mayHold(a.userId, held)) continue;
    log::info("sol access revoked sid=0x{:08x} instance={} user={}", a.sessionId, i + 1, a.userId);
    end(i, true, true);
  }
}

void SolService::onPayload(uint32_t sessionId, uint8_t type, net::ByteView payload) {
  if (type != kPayloadTypeSol) return;
  auto i = findBySession(sessionId);
  if (!i) return;
  active_[*i]->transport->onPacket(payload);
}

void SolService::onSessionClosed(uint32_t sessionId) {
  if (auto i = findBySession(sessionId)) end(*i, false, false);
}

// Activate Payload for SOL, §24.1.
Reply SolService::activate(const RequestContext& ctx, uint8_t type, uint8_t instance, uint8_t aux) {
  if (type != kPayloadTypeSol || instance == 0 || instance > capacity_) return Cc::invalidField;
  if (ctx.payloads == nullptr || ctx.sessions == nullptr || !ctx.ipmi20 || ctx.sessionId == 0) {
    return Cc::notSupportedInState;  // SOL needs an RMCP+ session
  }
  // A channel whose access mode is "disabled" (§22.22) carries no payload: it is SOL's channel,
  // so SOL is as unavailable as with parameter 1 off.
  if (!enabled_ || !lan_.channelEnabled) return kPayloadDisabled;
  if (!mayHold(ctx.userId, ctx.privilege)) return Cc::insufficientPrivilege;
  if (active_[instance - 1]) return kAlreadyActive;
  if (findBySession(ctx.sessionId)) return kActivationLimit;  // one SOL instance per session
  auto session = ctx.sessions->findById(ctx.sessionId);
  if (!session) return Cc::unspecified;
  const bool wantEncryption = (aux & kAuxEncrypt) != 0;
  if (wantEncryption && !session->confidentiality) return kCannotWithEncryption;
  if (!wantEncryption && (authentication_ & kForceEncryption) != 0) return kCannotWithoutEncryption;
  // No completion code names authentication; a session without integrity cannot carry SOL when
  // parameter 2 forces it, and "without encryption" is the nearest description (it has neither).
  if ((authentication_ & kForceAuthentication) != 0 && !session->integrity) return kCannotWithoutEncryption;

  if (!ctx.payloads->openPayload(ctx.sessionId, kPayloadTypeSol, net::PayloadGrant{wantEncryption, kMaxAcceptedPayload})) {
    return Cc::unspecified;
  }
  Active a;
  a.sessionId = ctx.sessionId;
  a.userId = ctx.userId;
  a.privilege = ctx.privilege;
  a.channel = ctx.payloads;
  a.sessions = ctx.sessions;
  a.encrypted = wantEncryption;
  a.console = console_ ? console_() : nullptr;
  net::SolHost host;
  if (a.console != nullptr) {
    HostConsole* c = a.console;
    host.write = [c](ByteView b) { return c->write(b); };
    host.sendBreak = [c] { c->sendBreak(); };
  }
  net::PayloadChannel* channel = ctx.payloads;
  const uint32_t sid = ctx.sessionId;
  a.transport = std::make_unique<net::SolTransport>(
      timers_, timing(), std::move(host),
      [channel, sid](ByteView p) { return channel->sendPayload(sid, kPayloadTypeSol, p); });
  const size_t index = instance - 1;
  std::string backlog;
  if (a.console != nullptr) {
    a.listener = a.console->addOutputListener([this, index](std::span<const uint8_t> bytes) {
      if (active_[index]) active_[index]->transport->hostOutput(bytes);
    });
    if (config_.historyReplay > 0) {
      backlog = a.console->history();
      if (backlog.size() > config_.historyReplay) backlog.erase(0, backlog.size() - config_.historyReplay);
    }
  }
  net::SolTransport& transport = *a.transport;
  active_[index] = std::move(a);
  // The first character packet waits one accumulate interval, so this reply arrives first.
  transport.start(ByteView(reinterpret_cast<const uint8_t*>(backlog.data()), backlog.size()));
  log::info("sol activated sid=0x{:08x} instance={} user={} encrypted={} console={}", sid, instance, ctx.userId,
            wantEncryption, active_[index]->console != nullptr);

  const uint16_t port = ctx.payloads->localPort() != 0 ? ctx.payloads->localPort() : kDefaultPort;
  Bytes out;
  Writer(out).zeros(4).u16le(kMaxPayload).u16le(kMaxPayload).u16le(port).u16le(0xFFFF);  // no VLAN
  return Reply::ok(std::move(out));
}

// Deactivate Payload, §24.2: the owner, or any session with the SOL privilege (takeover).
Reply SolService::deactivate(const RequestContext& ctx, uint8_t type, uint8_t instance) {
  if (type != kPayloadTypeSol || instance == 0 || instance > capacity_) return Cc::invalidField;
  const size_t index = instance - 1;
  if (!active_[index]) return enabled_ ? Reply(kAlreadyDeactivated) : Reply(kPayloadDisabled);
  const bool own = active_[index]->sessionId == ctx.sessionId && ctx.sessionId != 0;
  if (!own) {
    if (!atLeast(ctx.privilege, solPrivilege())) return Cc::insufficientPrivilege;
  }
  // The owner learns from this reply; anyone else's session is told with a status packet.
  end(index, !own, true);
  return Reply::ok();
}

// Suspend/Resume Payload Encryption, §24.3 Table 24-4, for the session the instance runs in.
// Operation 0 suspends and 1 resumes (or starts: the spec's "Resume/Start") encryption of the
// payload; 2 regenerates the initialization vector, which for xRC4 would restart its key stream. Here
// the only confidentiality algorithm is AES-CBC-128, which draws a fresh random IV for every packet
// (§13.29), so the next encrypted packet always carries a new IV and the operation succeeds as it
// stands. The encryption change applies to the next packet either way.
Reply SolService::suspendResume(const RequestContext& ctx, uint8_t type, uint8_t instance, uint8_t operation) {
  // IPMI messages are never activated and always travel as the cipher suite says.
  if (type == kPayloadTypeIpmi) return kOperationNotSupported;
  if (type != kPayloadTypeSol || instance == 0 || instance > capacity_) return Cc::invalidField;
  if (operation > kOpRegenerateIv) return Cc::invalidField;  // 3 is reserved
  const size_t index = instance - 1;
  if (!active_[index]) return kInstanceNotActive;
  Active& a = *active_[index];
  // Another session's payload: its keys and its console are not the caller's to change.
  if (a.sessionId != ctx.sessionId || ctx.sessionId == 0) return kOperationNotAllowed;
  auto session = ctx.sessions != nullptr ? ctx.sessions->findById(ctx.sessionId) : std::nullopt;
  if (!session || !session->confidentiality) return kEncryptionNotAvailable;
  if (operation == kOpRegenerateIv) return Reply::ok();
  if (operation == kOpSuspend && (authentication_ & kForceEncryption) != 0) return kOperationNotAllowed;
  const bool encrypt = operation == kOpResume;
  if (encrypt == a.encrypted) return Reply::ok();
  if (!a.channel->setPayloadEncrypted(a.sessionId, kPayloadTypeSol, encrypt)) return Cc::unspecified;
  a.encrypted = encrypt;
  log::info("sol encryption {} sid=0x{:08x} instance={}", encrypt ? "resumed" : "suspended", a.sessionId, instance);
  return Reply::ok();
}

void SolService::registerCommands(CommandRegistry& reg) {
  // Get/Set SOL Configuration Parameters, Transport NetFn, §26.2-26.3.
  reg.add<GetSolRequest>(netfn::transport, 0x22, Privilege::user,
                         [this](const RequestContext& ctx, const GetSolRequest& q) -> Reply {
                           if (resolveChannel(ctx, q.channel) != lan_.channel) return Cc::invalidField;
                           if ((q.channel & 0x80) != 0) return Reply::ok({kParameterRevision});
                           const uint16_t port = ctx.payloads != nullptr && ctx.payloads->localPort() != 0
                                                     ? ctx.payloads->localPort()
                                                     : kDefaultPort;
                           auto v = getParameter(q.param, port);
                           if (auto* cc = std::get_if<Cc>(&v)) return *cc;
                           Bytes out{kParameterRevision};
                           const Bytes& data = std::get<Bytes>(v);
                           out.insert(out.end(), data.begin(), data.end());
                           return Reply::ok(std::move(out));
                         });
  reg.add<SetSolRequest>(netfn::transport, 0x21, Privilege::administrator,
                         [this](const RequestContext& ctx, const SetSolRequest& q) -> Reply {
                           if (resolveChannel(ctx, q.channel) != lan_.channel) return Cc::invalidField;
                           return setParameter(q.param, q.data);
                         });

  // Payload commands, App NetFn, §24.1-24.5; the SOL privilege is checked inside.
  reg.add<PayloadRequest>(netfn::app, 0x48, Privilege::user, [this](const RequestContext& ctx, const PayloadRequest& q) {
    return activate(ctx, q.type, q.instance, q.aux[0]);
  });
  reg.add<PayloadRequest>(netfn::app, 0x49, Privilege::user, [this](const RequestContext& ctx, const PayloadRequest& q) {
    return deactivate(ctx, q.type, q.instance);
  });
  reg.add<PayloadTypeRequest>(netfn::app, 0x4A, Privilege::user,
                              [this](const RequestContext&, const PayloadTypeRequest& q) -> Reply {
                                if (q.type != kPayloadTypeSol) return Cc::invalidField;
                                uint16_t mask = 0;
                                for (uint8_t i = 0; i < capacity_; ++i) {
                                  if (active_[i]) mask = static_cast<uint16_t>(mask | (1u << i));
                                }
                                Bytes out;
                                Writer(out).u8(capacity_).u16le(mask);
                                return Reply::ok(std::move(out));
                              });
  reg.add<InstanceInfoRequest>(netfn::app, 0x4B, Privilege::user,
                               [this](const RequestContext&, const InstanceInfoRequest& q) -> Reply {
                                 if (q.type != kPayloadTypeSol || q.instance == 0 || q.instance > capacity_) {
                                   return Cc::invalidField;
                                 }
                                 const uint32_t sid = sessionOf(q.instance);
                                 Bytes out;
                                 // Session id, then the SOL-specific byte: the serial port number.
                                 Writer(out).u32le(sid).u8(sid != 0 ? q.instance : 0).zeros(7);
                                 return Reply::ok(std::move(out));
                               });
  reg.add<SuspendResumeRequest>(netfn::app, 0x55, Privilege::user,
                                [this](const RequestContext& ctx, const SuspendResumeRequest& q) {
                                  return suspendResume(ctx, q.type, q.instance, q.operation);
                                });
}

}  // namespace simbmc::bmc
