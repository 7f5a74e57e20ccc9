// App NetFn (0x06) handlers: device identity, resets, ACPI, global enables, message flags, channel
// and user management, session commands, cipher suites, system info. IPMI v2.0 §20-22; privileges
// from Appendix G.
#include <algorithm>

#include "bmc/bmc.hpp"
#include "net/crypto.hpp"

namespace simbmc::bmc {
namespace {

using P = Privilege;
constexpr uint8_t kApp = netfn::app;

// IPMI v2.0 §6.3: medium/protocol numbers of Get Channel Info.
constexpr uint8_t kMedium8023Lan = 0x04;
constexpr uint8_t kMediumSystemInterface = 0x0C;
constexpr uint8_t kProtocolIpmb = 0x01;
constexpr uint8_t kProtocolKcs = 0x05;
constexpr uint8_t kIpmiIana[3] = {0xF2, 0x1B, 0x00};  // 7154, LS byte first

// Resolves the channel byte of a request (0x0E = this channel).
uint8_t resolveChannel(const RequestContext& ctx, uint8_t raw) {
  const uint8_t ch = raw & 0x0F;
  return ch == kCurrentChannel ? ctx.channel : ch;
}

struct ChannelByte {
  uint8_t channel;
  static std::optional<ChannelByte> decode(Reader& r) {
    const uint8_t b = r.u8();
    if ((b & 0xF0) != 0) return std::nullopt;
    return ChannelByte{b};
  }
};

struct OneByte {
  uint8_t value;
  static std::optional<OneByte> decode(Reader& r) { return OneByte{r.u8()}; }
};

// ---- Identity and resets (§20) ---------------------------------------------------------------

Reply getDeviceId(Bmc& bmc) {
  const Identity& id = bmc.identity();
  Bytes out;
  Writer w(out);
  // Device revision bits 3:0; bit 7: the controller provides device SDRs (Get Device SDR, §35.3).
  const uint8_t deviceSdrs = bmc.registry().contains(netfn::sensorEvent, 0x21) ? 0x80 : 0x00;
  w.u8(id.deviceId).u8(static_cast<uint8_t>(deviceSdrs | (id.deviceRevision & 0x0F)));
  w.u8(id.firmwareMajor & 0x7F).u8(id.firmwareMinor);
  w.u8(0x02);  // IPMI version 2.0, BCD
  // Additional device support: the devices whose commands are registered (additionalDeviceSupport in
  // bmc/storage/sdr.hpp), bit 3 FRU inventory device only when it has FRU devices. The SDR
  // repository's MC locator record reports this same byte.
  const uint8_t support = additionalDeviceSupport(bmc.registry()) & ~0x08;
  w.u8(static_cast<uint8_t>(support | (bmc.fru().hasDevices() ? 0x08 : 0x00)));
  w.u8(static_cast<uint8_t>(id.manufacturerId)).u8(static_cast<uint8_t>(id.manufacturerId >> 8));
  w.u8(static_cast<uint8_t>((id.manufacturerId >> 16) & 0x0F));
  w.u16le(id.productId).bytes(id.auxFirmware);
  return Reply::ok(std::move(out));
}

// ---- Channel authentication capabilities (§22.13) ----------------------------------------------

struct AuthCapsRequest {
  uint8_t channelByte, privilege;
  static std::optional<AuthCapsRequest> decode(Reader& r) {
    AuthCapsRequest q{r.u8(), r.u8()};
    if ((q.channelByte & 0x70) != 0) return std::nullopt;
    auto p = privilegeFromByte(q.privilege & 0x0F);
    if (!p || *p == P::none || *p == P::noAccess) return std::nullopt;
    return q;
  }
};

Reply getChannelAuthCaps(Bmc& bmc, const RequestContext& ctx, const AuthCapsRequest& q) {
  const net::ChannelSecurity& lan = bmc.lan();
  const uint8_t ch = resolveChannel(ctx, q.channelByte);
  if (ch != lan.channel) return Cc::invalidField;
  const bool extended = (q.channelByte & 0x80) != 0;
  const uint8_t authTypes = lan.ipmi15Enabled ? static_cast<uint8_t>(lan.authTypes15 & 0x37) : 0;
  const bool kgSet = std::any_of(lan.kg.begin(), lan.kg.end(), [](uint8_t b) { return b != 0; });
  Bytes out;
  Writer w(out);
  w.u8(ch);
  w.u8(static_cast<uint8_t>((extended ? 0x80 : 0x00) | authTypes));
  // Non-null user names enabled; no null user and no anonymous login, ever (SECURITY.md).
  w.u8(static_cast<uint8_t>((kgSet ? 0x20 : 0) | (lan.perMessageAuth ? 0 : 0x10) | 0x04));
  w.u8(extended ? static_cast<uint8_t>(0x02 | (lan.ipmi15Enabled ? 0x01 : 0x00)) : 0x00);
  w.zeros(3).u8(0x00);  // OEM ID, OEM auxiliary data
  return Reply::ok(std::move(out));
}

// ---- Get Channel Cipher Suites (§22.15) --------------------------------------------------------

struct CipherSuitesRequest {
  uint8_t channelByte, payloadType, index;
  static std::optional<CipherSuitesRequest> decode(Reader& r) {
    CipherSuitesRequest q{r.u8(), r.u8(), r.u8()};
    if ((q.channelByte & 0xF0) != 0 || (q.payloadType & 0xC0) != 0 || (q.index & 0x40) != 0) return std::nullopt;
    return q;
  }
};

Reply getChannelCipherSuites(Bmc& bmc, const RequestContext& ctx, const CipherSuitesRequest& q) {
  const net::ChannelSecurity& lan = bmc.lan();
  const uint8_t ch = resolveChannel(ctx, q.channelByte);
  if (ch != lan.channel) return Cc::invalidField;
  if (q.payloadType > 0x01 && !(q.payloadType >= 0x10 && q.payloadType <= 0x15)) return Cc::invalidField;
  Bytes records;
  Writer w(records);
  if ((q.index & 0x80) != 0) {
    // Table 22-18: a start-of-record byte, the suite id, then one byte per algorithm tagged by type.
    for (uint8_t id : lan.cipherSuites) {
      auto cs = net::crypto::cipherSuite(id);
      if (!cs) continue;
      w.u8(0xC0).u8(id).u8(static_cast<uint8_t>(cs->auth));
      w.u8(static_cast<uint8_t>(0x40 | static_cast<uint8_t>(cs->integrity)));
      w.u8(static_cast<uint8_t>(0x80 | static_cast<uint8_t>(cs->conf)));
    }
  } else {
    // "List supported algorithms": each distinct algorithm once, tagged by type.
    std::vector<uint8_t> seen;
    auto add = [&](uint8_t tagged) {
      if (std::find(seen.begin(), seen.end(), tagged) == seen.end()) seen.push_back(tagged);
    };
    for (uint8_t id : lan.cipherSuites) {
      if (auto cs = net::crypto::cipherSuite(id)) add(static_cast<uint8_t>(cs->auth));
    }
    for (uint8_t id : lan.cipherSuites) {
      if (auto cs = net::crypto::cipherSuite(id)) add(static_cast<uint8_t>(0x40 | static_cast<uint8_t>(cs->integrity)));
    }
    for (uint8_t id : lan.cipherSuites) {
      if (auto cs = net::crypto::cipherSuite(id)) add(static_cast<uint8_t>(0x80 | static_cast<uint8_t>(cs->conf)));
    }
    w.bytes(seen);
  }
  const size_t offset = static_cast<size_t>(q.index & 0x3F) * 16;
  Bytes out{ch};
  // An index past the last record returns the channel byte alone, which ends every client's loop.
  const size_t n = offset >= records.size() ? 0 : std::min<size_t>(16, records.size() - offset);
  out.insert(out.end(), records.begin() + static_cast<std::ptrdiff_t>(offset),
             records.begin() + static_cast<std::ptrdiff_t>(offset + n));
  return Reply::ok(std::move(out));
}

// ---- Sessions (§22.18-22.20) ---------------------------------------------------------------

Reply setSessionPrivilege(const RequestContext& ctx, const OneByte& q) {
  if (ctx.sessions == nullptr) return Cc::invalidCommand;
  if ((q.value & 0xF0) != 0) return Cc::invalidField;
  auto p = privilegeFromByte(q.value & 0x0F);
  if (!p || *p == P::noAccess) return Cc::invalidField;
  Privilege now = P::none;
  Cc cc = ctx.sessions->setPrivilege(ctx.sessionId, *p, now);
  if (cc != Cc::ok) return cc;
  return Reply::ok({static_cast<uint8_t>(now)});
}

struct CloseSessionRequest {
  uint32_t id;
  uint8_t handle;
  static std::optional<CloseSessionRequest> decode(Reader& r) {
    CloseSessionRequest q{r.u32le(), 0};
    if (q.id == 0) q.handle = r.u8();  // §22.19: the handle byte follows a zero session id
    return q;
  }
};

Reply closeSession(const RequestContext& ctx, const CloseSessionRequest& q) {
  if (ctx.sessions == nullptr) return Cc::invalidCommand;
  return ctx.sessions->closeSession(ctx.sessionId, q.id, q.handle);
}

struct SessionInfoRequest {
  uint8_t index;
  uint8_t handle = 0;
  uint32_t id = 0;
  static std::optional<SessionInfoRequest> decode(Reader& r) {
    SessionInfoRequest q{r.u8()};
    if (q.index == 0xFE) q.handle = r.u8();
    if (q.index == 0xFF) q.id = r.u32le();
    if (q.index > 0x3F && q.index < 0xFE) return std::nullopt;
    return q;
  }
};

Reply getSessionInfo(const RequestContext& ctx, const SessionInfoRequest& q) {
  if (ctx.sessions == nullptr) return Cc::invalidCommand;
  std::optional<net::SessionInfo> s;
  if (q.index == 0) s = ctx.sessions->findById(ctx.sessionId);
  else if (q.index == 0xFE) s = ctx.sessions->findByHandle(q.handle);
  else if (q.index == 0xFF) s = ctx.sessions->findById(q.id);
  else s = ctx.sessions->findByIndex(q.index);
  Bytes out;
  Writer w(out);
  w.u8(s ? s->handle : 0).u8(ctx.sessions->maxSessions() & 0x3F).u8(ctx.sessions->activeSessions() & 0x3F);
  if (!s) return Reply::ok(std::move(out));  // no session there: handle 0 and the counts only
  w.u8(s->userId & 0x3F).u8(static_cast<uint8_t>(s->privilege) & 0x0F);
  w.u8(static_cast<uint8_t>(((s->ipmi20 ? 1 : 0) << 4) | (s->channel & 0x0F)));
  w.bytes(s->remoteIp);       // MS byte first
  w.zeros(6);                 // remote MAC: not known for routed peers
  w.u16le(s->remotePort);
  return Reply::ok(std::move(out));
}

// ---- Channels (§22.22-22.24) ------------------------------------------------------------------

Reply getChannelInfo(Bmc& bmc, const RequestContext& ctx, const ChannelByte& q) {
  const uint8_t ch = resolveChannel(ctx, q.channel);
  Bytes out;
  Writer w(out);
  if (ch == bmc.lan().channel) {
    const uint8_t active = ctx.sessions != nullptr ? ctx.sessions->activeSessions() : 0;
    w.u8(ch).u8(kMedium8023Lan).u8(kProtocolIpmb).u8(static_cast<uint8_t>(0x80 | (active & 0x3F)));
  } else if (ch == kSystemInterfaceChannel) {
    w.u8(ch).u8(kMediumSystemInterface).u8(kProtocolKcs).u8(0x00);
  } else {
    return Cc::invalidField;
  }
  w.bytes(kIpmiIana).u16le(0);
  return Reply::ok(std::move(out));
}

// ---- Users (§22.26-22.30) ------------------------------------------------------------------

struct GetUserAccessRequest {
  uint8_t channel, user;
  static std::optional<GetUserAccessRequest> decode(Reader& r) {
    GetUserAccessRequest q{r.u8(), r.u8()};
    if ((q.channel & 0xF0) != 0 || (q.user & 0xC0) != 0) return std::nullopt;
    return q;
  }
};

Reply getUserAccess(Bmc& bmc, const RequestContext& ctx, const GetUserAccessRequest& q) {
  const uint8_t ch = resolveChannel(ctx, q.channel);
  if (ch != bmc.lan().channel || q.user == 0 || q.user > UserDb::kMaxUsers) return Cc::invalidField;
  const User* u = bmc.users().get(q.user);
  UserChannelAccess a = u != nullptr ? u->access[ch] : UserChannelAccess{};
  Bytes out;
  Writer w(out);
  w.u8(UserDb::kMaxUsers);
  const uint8_t status = u == nullptr ? 0x00 : (u->enabled ? 0x40 : 0x80);
  w.u8(static_cast<uint8_t>(status | (bmc.users().enabledCount() & 0x3F)));
  w.u8(bmc.users().fixedNameCount());
  w.u8(static_cast<uint8_t>((a.callbackOnly ? 0x40 : 0) | (a.linkAuth ? 0x20 : 0) | (a.ipmiMessaging ? 0x10 : 0) |
                            (static_cast<uint8_t>(a.privilegeLimit) & 0x0F)));
  return Reply::ok(std::move(out));
}

struct SetUserAccessRequest {
  uint8_t flags, user, privilege;
  std::optional<uint8_t> sessionLimit;
  static std::optional<SetUserAccessRequest> decode(Reader& r) {
    SetUserAccessRequest q{r.u8(), r.u8(), r.u8(), std::nullopt};
    if (r.remaining() == 1) q.sessionLimit = r.u8();
    if ((q.user & 0xC0) != 0 || (q.privilege & 0xF0) != 0) return std::nullopt;
    if (!privilegeFromByte(q.privilege & 0x0F) || (q.privilege & 0x0F) == 0) return std::nullopt;
    return q;
  }
};

Reply setUserAccess(Bmc& bmc, const RequestContext& ctx, const SetUserAccessRequest& q) {
  const uint8_t ch = resolveChannel(ctx, q.flags);
  if (ch != bmc.lan().channel || q.user == 0 || q.user > UserDb::kMaxUsers) return Cc::invalidField;
  auto r = bmc.users().update(q.user, [&](User& u) {
    UserChannelAccess& a = u.access[ch];
    if ((q.flags & 0x80) != 0) {
      a.callbackOnly = (q.flags & 0x40) != 0;
      a.linkAuth = (q.flags & 0x20) != 0;
      a.ipmiMessaging = (q.flags & 0x10) != 0;
    }
    a.privilegeLimit = *privilegeFromByte(q.privilege & 0x0F);
  });
  return r ? Reply::ok() : Reply(Cc::unspecified);
}

struct GetUserNameRequest {
  uint8_t user;
  static std::optional<GetUserNameRequest> decode(Reader& r) {
    GetUserNameRequest q{r.u8()};
    if ((q.user & 0xC0) != 0) return std::nullopt;
    return q;
  }
};

Reply getUserName(Bmc& bmc, const GetUserNameRequest& q) {
  if (q.user == 0 || q.user > UserDb::kMaxUsers) return Cc::invalidField;
  const User* u = bmc.users().get(q.user);
  Bytes out;
  Writer(out).fixedString(u != nullptr ? u->name : "", 16);
  return Reply::ok(std::move(out));
}

struct SetUserNameRequest {
  uint8_t user;
  std::string name;
  static std::optional<SetUserNameRequest> decode(Reader& r) {
    SetUserNameRequest q{r.u8(), {}};
    ByteView raw = r.bytes(16);
    q.name.assign(raw.begin(), raw.end());
    q.name.resize(std::min(q.name.find('\0'), q.name.size()));
    if ((q.user & 0xC0) != 0) return std::nullopt;
    return q;
  }
};

Reply setUserName(Bmc& bmc, const SetUserNameRequest& q) {
  if (q.user < 2 || q.user > UserDb::kMaxUsers) return Cc::invalidField;  // user 1's name is fixed
  for (uint8_t id = 2; id <= UserDb::kMaxUsers; ++id) {
    const User* other = bmc.users().get(id);
    if (id != q.user && other != nullptr && !q.name.empty() && other->name == q.name) return Cc::invalidField;
  }
  auto r = bmc.users().update(q.user, [&](User& u) { u.name = q.name; });
  return r ? Reply::ok() : Reply(Cc::unspecified);
}

struct SetUserPasswordRequest {
  uint8_t userByte, operation;
  Bytes password;
  static std::optional<SetUserPasswordRequest> decode(Reader& r) {
    SetUserPasswordRequest q{r.u8(), r.u8(), {}};
    const bool twenty = (q.userByte & 0x80) != 0;
    const uint8_t op = q.operation & 0x03;
    if (op == 0x02 || op == 0x03 || r.remaining() > 0) {
      ByteView pw = r.bytes(twenty ? 20 : 16);
      q.password.assign(pw.begin(), pw.end());
    }
    if ((q.userByte & 0x40) != 0 || (q.operation & 0xFC) != 0) return std::nullopt;
    return q;
  }
};

Reply setUserPassword(Bmc& bmc, const SetUserPasswordRequest& q) {
  const uint8_t id = q.userByte & 0x3F;
  const bool twenty = (q.userByte & 0x80) != 0;
  if (id == 0 || id > UserDb::kMaxUsers) return Cc::invalidField;
  const User* u = bmc.users().get(id);
  switch (q.operation & 0x03) {
    case 0x00:  // disable user
    case 0x01: {  // enable user
      const bool enable = (q.operation & 0x03) == 0x01;
      if (id == 1 && enable) return Cc::invalidField;  // the null user stays disabled
      auto r = bmc.users().update(id, [&](User& x) { x.enabled = enable; });
      return r ? Reply::ok() : Reply(Cc::unspecified);
    }
    case 0x02: {  // set password
      Bytes pw = q.password;
      while (!pw.empty() && pw.back() == 0) pw.pop_back();
      auto r = bmc.users().update(id, [&](User& x) {
        x.password = pw;
        x.password20 = twenty;
      });
      return r ? Reply::ok() : Reply(Cc::unspecified);
    }
    default: {  // test password
      if (u == nullptr) return Cc{0x80};
      if (u->password20 != twenty && u->password.size() > 16) return Cc{0x81};
      Bytes stored = u->password;
      stored.resize(twenty ? 20 : 16, 0);
      if (!net::crypto::constantTimeEqual(stored, q.password)) return Cc{0x80};
      return Reply::ok();
    }
  }
}

// ---- Payloads (§24.8-24.11) ------------------------------------------------------------------

Reply getChannelPayloadSupport(Bmc& bmc, const RequestContext& ctx, const ChannelByte& q) {
  if (resolveChannel(ctx, q.channel) != bmc.lan().channel) return Cc::invalidField;
  Bytes out;
  // IPMI and SOL (types 0, 1); session setup 0x10..0x15; no OEM payloads.
  Writer(out).u16le(0x0003).u16le(0x003F).u16le(0x0000).u16le(0x0000);
  return Reply::ok(std::move(out));
}

struct PayloadVersionRequest {
  uint8_t channel, type;
  static std::optional<PayloadVersionRequest> decode(Reader& r) { return PayloadVersionRequest{r.u8(), r.u8()}; }
};

Reply getChannelPayloadVersion(Bmc& bmc, const RequestContext& ctx, const PayloadVersionRequest& q) {
  if (resolveChannel(ctx, q.channel) != bmc.lan().channel) return Cc::invalidField;
  if (q.type > 0x01 && !(q.type >= 0x10 && q.type <= 0x15)) return Cc{0x80};  // payload type not available
  return Reply::ok({0x10});  // version 1.0
}

struct UserPayloadAccessRequest {
  uint8_t channel, user;
  uint8_t bytes[4] = {0, 0, 0, 0};
  static std::optional<UserPayloadAccessRequest> decode(Reader& r) {
    UserPayloadAccessRequest q{r.u8(), r.u8()};
    return q;
  }
};

struct SetUserPayloadAccessRequest {
  uint8_t channel, userOp, standard, reserved1, oem, reserved2;
  static std::optional<SetUserPayloadAccessRequest> decode(Reader& r) {
    SetUserPayloadAccessRequest q{r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()};
    if ((q.userOp & 0x80) != 0 || (q.standard & 0x01) != 0) return std::nullopt;
    return q;
  }
};

Reply getUserPayloadAccess(Bmc& bmc, const RequestContext& ctx, const UserPayloadAccessRequest& q) {
  const uint8_t ch = resolveChannel(ctx, q.channel);
  const uint8_t id = q.user & 0x3F;
  if (ch != bmc.lan().channel || id == 0 || id > UserDb::kMaxUsers) return Cc::invalidField;
  const User* u = bmc.users().get(id);
  const uint32_t mask = u != nullptr ? u->access[ch].payloadMask : 0;
  Bytes out;
  Writer(out).u8(static_cast<uint8_t>(mask & 0xFE)).u8(0).u8(0).u8(0);
  return Reply::ok(std::move(out));
}

Reply setUserPayloadAccess(Bmc& bmc, const RequestContext& ctx, const SetUserPayloadAccessRequest& q) {
  const uint8_t ch = resolveChannel(ctx, q.channel);
  const uint8_t id = q.userOp & 0x3F;
  if (ch != bmc.lan().channel || id == 0 || id > UserDb::kMaxUsers) return Cc::invalidField;
  const bool disable = (q.userOp & 0x40) != 0;
  auto r = bmc.users().update(id, [&](User& u) {
    if (disable) u.access[ch].payloadMask &= ~static_cast<uint32_t>(q.standard);
    else u.access[ch].payloadMask |= q.standard;
  });
  return r ? Reply::ok() : Reply(Cc::unspecified);
}

// ---- ACPI, global enables, message flags (§20.6-20.7, §22.1-22.4) -------------------------------

struct AcpiRequest {
  uint8_t system, device;
  static std::optional<AcpiRequest> decode(Reader& r) { return AcpiRequest{r.u8(), r.u8()}; }
};

}  // namespace

void registerAppCommands(Bmc& bmc) {
  CommandRegistry& reg = bmc.registry();
  Bmc* b = &bmc;

  reg.add<NoData>(kApp, 0x01, P::user, [b](const RequestContext&, const NoData&) { return getDeviceId(*b); });
  // Cold/Warm Reset: the simulated controller re-initializes its volatile state; sessions survive
  // so the client that asked gets its reply (§20.2, §20.3).
  auto reset = [b](const RequestContext&, const NoData&) {
    b->app() = Bmc::AppState{};
    return Reply::ok();
  };
  reg.add<NoData>(kApp, 0x02, P::administrator, reset);
  reg.add<NoData>(kApp, 0x03, P::administrator, reset);
  reg.add<NoData>(kApp, 0x04, P::user, [](const RequestContext&, const NoData&) {
    return Reply::ok({0x55, 0x00});  // no error
  });
  reg.add<AcpiRequest>(kApp, 0x06, P::administrator, [b](const RequestContext&, const AcpiRequest& q) -> Reply {
    // Table 20-5: system states S0..G3 and legacy (00h-0Ah), sleeping/override (20h, 21h),
    // unknown (2Ah), no change (7Fh); device states D0-D3 (00h-03h), unknown (2Ah), no change (7Fh).
    const uint8_t sys = q.system & 0x7F, dev = q.device & 0x7F;
    const bool sysValid = sys <= 0x0A || sys == 0x20 || sys == 0x21 || sys == 0x2A || sys == 0x7F;
    const bool devValid = dev <= 0x03 || dev == 0x2A || dev == 0x7F;
    if (((q.system & 0x80) != 0 && !sysValid) || ((q.device & 0x80) != 0 && !devValid)) return Cc::invalidField;
    if ((q.system & 0x80) != 0 && sys != 0x7F) b->app().acpiSystem = sys;
    if ((q.device & 0x80) != 0 && dev != 0x7F) b->app().acpiDevice = dev;
    return Reply::ok();
  });
  reg.add<NoData>(kApp, 0x07, P::user, [b](const RequestContext&, const NoData&) {
    return Reply::ok({b->app().acpiSystem, b->app().acpiDevice});
  });
  reg.add<NoData>(kApp, 0x08, P::user, [b](const RequestContext&, const NoData&) {
    const auto& g = b->identity().deviceGuid;
    return Reply::ok(Bytes(g.begin(), g.end()));
  });
  reg.add<OneByte>(kApp, 0x2E, P::administrator, [b](const RequestContext&, const OneByte& q) -> Reply {
    if ((q.value & 0x10) != 0) return Cc::invalidField;  // reserved bit
    b->app().globalEnables = q.value;
    return Reply::ok();
  });
  reg.add<NoData>(kApp, 0x2F, P::user, [b](const RequestContext&, const NoData&) {
    return Reply::ok({b->app().globalEnables});
  });
  reg.add<OneByte>(kApp, 0x30, P::administrator, [b](const RequestContext&, const OneByte& q) {
    b->app().messageFlags &= static_cast<uint8_t>(~q.value);
    return Reply::ok();
  });
  reg.add<NoData>(kApp, 0x31, P::user, [b](const RequestContext&, const NoData&) {
    return Reply::ok({b->app().messageFlags});
  });
  reg.add<NoData>(
      kApp, 0x37, P::user,
      [b](const RequestContext&, const NoData&) {
        const auto& g = b->identity().systemGuid;
        return Reply::ok(Bytes(g.begin(), g.end()));
      },
      Access::preSession);
  reg.add<AuthCapsRequest>(
      kApp, 0x38, P::none,
      [b](const RequestContext& ctx, const AuthCapsRequest& q) { return getChannelAuthCaps(*b, ctx, q); },
      Access::preSession);
  reg.add<OneByte>(kApp, 0x3B, P::callback, [b](const RequestContext& ctx, const OneByte& q) {
    Reply r = setSessionPrivilege(ctx, q);
    // A session that lowered itself below the SOL privilege loses its SOL payload.
    if (r.cc() == Cc::ok) b->sol().enforceAccess();
    return r;
  });
  reg.add<CloseSessionRequest>(kApp, 0x3C, P::callback, closeSession);
  reg.add<SessionInfoRequest>(kApp, 0x3D, P::user, getSessionInfo);
  reg.add<ChannelByte>(kApp, 0x42, P::user,
                       [b](const RequestContext& ctx, const ChannelByte& q) { return getChannelInfo(*b, ctx, q); });
  reg.add<SetUserAccessRequest>(kApp, 0x43, P::administrator, [b](const RequestContext& ctx, const SetUserAccessRequest& q) {
    return setUserAccess(*b, ctx, q);
  });
  reg.add<GetUserAccessRequest>(kApp, 0x44, P::operator_, [b](const RequestContext& ctx, const GetUserAccessRequest& q) {
    return getUserAccess(*b, ctx, q);
  });
  reg.add<SetUserNameRequest>(kApp, 0x45, P::administrator,
                              [b](const RequestContext&, const SetUserNameRequest& q) { return setUserName(*b, q); });
  reg.add<GetUserNameRequest>(kApp, 0x46, P::operator_,
                              [b](const RequestContext&, const GetUserNameRequest& q) { return getUserName(*b, q); });
  reg.add<SetUserPasswordRequest>(kApp, 0x47, P::administrator, [b](const RequestContext&, const SetUserPasswordRequest& q) {
    return setUserPassword(*b, q);
  });
  reg.add<SetUserPayloadAccessRequest>(kApp, 0x4C, P::administrator,
                                       [b](const RequestContext& ctx, const SetUserPayloadAccessRequest& q) {
                                         return setUserPayloadAccess(*b, ctx, q);
                                       });
  reg.add<UserPayloadAccessRequest>(kApp, 0x4D, P::operator_,
                                    [b](const RequestContext& ctx, const UserPayloadAccessRequest& q) {
                                      return getUserPayloadAccess(*b, ctx, q);
                                    });
  reg.add<ChannelByte>(kApp, 0x4E, P::user, [b](const RequestContext& ctx, const ChannelByte& q) {
    return getChannelPayloadSupport(*b, ctx, q);
  });
  reg.add<PayloadVersionRequest>(kApp, 0x4F, P::user, [b](const RequestContext& ctx, const PayloadVersionRequest& q) {
    return getChannelPayloadVersion(*b, ctx, q);
  });
  reg.add<CipherSuitesRequest>(
      kApp, 0x54, P::none,
      [b](const RequestContext& ctx, const CipherSuitesRequest& q) { return getChannelCipherSuites(*b, ctx, q); },
      Access::preSession);
}

}  // namespace simbmc::bmc
