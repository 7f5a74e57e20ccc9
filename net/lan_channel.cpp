#include "net/lan_channel.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "net/crypto.hpp"

namespace simbmc::net {
namespace {

constexpr uint8_t kRmcpVersion = 0x06;
constexpr uint8_t kRmcpClassAsf = 0x06;
constexpr uint8_t kRmcpClassIpmi = 0x07;
constexpr uint32_t kAsfIana = 0x000011BE;
constexpr uint8_t kAsfPing = 0x80;
constexpr uint8_t kAsfPong = 0x40;
constexpr uint8_t kAuthTypeRmcpPlus = 0x06;

// RMCP+ payload types, IPMI v2.0 §13.27.3 Table 13-16.
constexpr uint8_t kPayloadIpmi = 0x00;
constexpr uint8_t kPayloadOpenSessionRequest = 0x10;
constexpr uint8_t kPayloadOpenSessionResponse = 0x11;
constexpr uint8_t kPayloadRakp1 = 0x12;
constexpr uint8_t kPayloadRakp2 = 0x13;
constexpr uint8_t kPayloadRakp3 = 0x14;
constexpr uint8_t kPayloadRakp4 = 0x15;

// RMCP+ status codes, IPMI v2.0 §13.24 Table 13-15.
constexpr uint8_t kStatusNoResources = 0x01;
constexpr uint8_t kStatusInvalidSessionId = 0x02;
constexpr uint8_t kStatusInvalidRole = 0x09;
constexpr uint8_t kStatusUnauthorizedRole = 0x0A;
constexpr uint8_t kStatusInvalidNameLength = 0x0C;
constexpr uint8_t kStatusUnauthorizedName = 0x0D;
constexpr uint8_t kStatusInvalidIntegrityCheck = 0x0F;
constexpr uint8_t kStatusNoCipherSuiteMatch = 0x11;
constexpr uint8_t kStatusIllegalParameter = 0x12;

constexpr uint8_t kCmdGetAuthCaps = 0x38;
constexpr uint8_t kCmdGetSessionChallenge = 0x39;
constexpr uint8_t kCmdGetCipherSuites = 0x54;
constexpr uint8_t kCmdActivateSession = 0x3A;

constexpr auto kRetryCacheLifetime = std::chrono::seconds(10);
constexpr size_t kRetryCacheEntries = 8;

uint32_t randomNonZero32() {
  std::array<uint8_t, 4> r{};
  for (int i = 0; i < 8; ++i) {
    if (!crypto::randomBytes(r)) return 1;
    uint32_t v = static_cast<uint32_t>(r[0]) | (static_cast<uint32_t>(r[1]) << 8) |
                 (static_cast<uint32_t>(r[2]) << 16) | (static_cast<uint32_t>(r[3]) << 24);
    if (v != 0) return v;
  }
  return 1;
}

void putRmcpIpmiHeader(Bytes& out) {
  Writer(out).u8(kRmcpVersion).u8(0x00).u8(0xFF).u8(kRmcpClassIpmi);
}

Bytes userNameBytes(std::string_view name) { return Bytes(name.begin(), name.end()); }

}  // namespace

// An IPMI request message as carried on LAN, IPMI v2.0 §13.8 Figure 13-4.
struct LanMessage {
  uint8_t rsAddr = 0, netfn = 0, rsLun = 0, rqAddr = 0, rqSeq = 0, rqLun = 0, cmd = 0;
  ByteView data;
  ByteView raw;  // the whole message, for auth codes

  static std::optional<LanMessage> parse(ByteView m) {
    if (m.size() < 7) return std::nullopt;
    if (checksum(m.subspan(0, 2)) != m[2]) return std::nullopt;
    if (checksum(m.subspan(3, m.size() - 4)) != m[m.size() - 1]) return std::nullopt;
    LanMessage msg;
    msg.rsAddr = m[0];
    msg.netfn = static_cast<uint8_t>(m[1] >> 2);
    msg.rsLun = m[1] & 0x03;
    msg.rqAddr = m[3];
    msg.rqSeq = static_cast<uint8_t>(m[4] >> 2);
    msg.rqLun = m[4] & 0x03;
    msg.cmd = m[5];
    msg.data = m.subspan(6, m.size() - 7);
    msg.raw = m;
    return msg;
  }

  Bytes response(Cc cc, ByteView payload) const {
    Bytes out;
    out.reserve(8 + payload.size());
    Writer w(out);
    w.u8(rqAddr).u8(static_cast<uint8_t>(((netfn | 1) << 2) | rqLun));
    w.u8(checksum(ByteView(out).subspan(0, 2)));
    w.u8(rsAddr).u8(static_cast<uint8_t>((rqSeq << 2) | rsLun)).u8(cmd).u8(toByte(cc)).bytes(payload);
    w.u8(checksum(ByteView(out).subspan(3)));
    return out;
  }
};

// What a disabled channel (access mode "disabled", ChannelSecurity::channelEnabled off) still answers
// outside the sessions already open: the two discovery commands, so that a client learns the channel
// exists and gets the refusal of its next step (completion code D5h, Open Session / RAKP status 01h)
// at once instead of timing out on silence.
bool isDiscovery(const LanMessage& m) {
  return m.netfn == netfn::app && (m.cmd == kCmdGetAuthCaps || m.cmd == kCmdGetCipherSuites);
}

uint64_t ChannelCounters::totalDropped() const {
  uint64_t t = 0;
  for (uint64_t d : dropped) t += d;
  return t;
}

LanChannel::LanChannel(ChannelSecurity& security, CredentialStore& credentials, Dispatcher& dispatcher,
                       const Clock& clock, std::array<uint8_t, 16> systemGuid)
    : security_(security),
      credentials_(credentials),
      dispatcher_(dispatcher),
      clock_(clock),
      guid_(systemGuid),
      sessions_(security, clock) {
  sessions_.setOnClose([this](uint32_t id) {
    if (payloadHandler_ != nullptr) payloadHandler_->onSessionClosed(id);
  });
}

LanChannel::~LanChannel() {
  if (payloadHandler_ == nullptr) return;
  for (uint32_t id : sessions_.activeIds()) payloadHandler_->onSessionClosed(id);
}

std::nullopt_t LanChannel::drop(Drop why) {
  ++counters_.dropped[static_cast<size_t>(why)];
  return std::nullopt;
}

std::optional<Bytes> LanChannel::handle(ByteView datagram, const PeerAddress& peer) {
  ++counters_.received;
  Reader r(datagram);
  const uint8_t version = r.u8();
  r.u8();  // reserved
  const uint8_t rmcpSeq = r.u8();
  const uint8_t cls = r.u8();
  if (!r.ok() || version != kRmcpVersion) return drop(Drop::malformed);
  if ((cls & 0x80) != 0) return drop(Drop::notAllowed);  // an RMCP ACK: never answered
  std::optional<Bytes> out;
  switch (cls & 0x1F) {
    case kRmcpClassAsf: out = handleAsf(r.rest(), rmcpSeq); break;
    case kRmcpClassIpmi: {
      ByteView ipmi = r.rest();
      if (ipmi.empty()) return drop(Drop::malformed);
      out = ipmi[0] == kAuthTypeRmcpPlus ? handleV20(ipmi, peer) : handleV15(ipmi, peer);
      break;
    }
    default: return drop(Drop::malformed);
  }
  if (out) ++counters_.replied;
  return out;
}

// ASF presence ping -> pong, DMTF DSP0136 §3.2.4.
std::optional<Bytes> LanChannel::handleAsf(ByteView body, uint8_t rmcpSeq) {
  Reader r(body);
  const uint32_t iana = r.u32be();
  const uint8_t type = r.u8();
  const uint8_t tag = r.u8();
  r.u8();  // reserved
  const uint8_t length = r.u8();
  if (!r.ok() || iana != kAsfIana || length != 0 || r.remaining() != 0) return drop(Drop::malformed);
  if (type != kAsfPing) return drop(Drop::notAllowed);  // never answer a pong or anything else
  ++counters_.asfPings;
  Bytes out;
  Writer w(out);
  w.u8(kRmcpVersion).u8(0x00).u8(rmcpSeq).u8(kRmcpClassAsf);
  w.u32be(kAsfIana).u8(kAsfPong).u8(tag).u8(0x00).u8(0x10);
  w.u32be(kAsfIana).u32be(0);  // IANA + OEM-defined
  w.u8(0x81);                  // supported entities: IPMI supported, ASF 1.0
  w.u8(0x00);                  // supported interactions
  w.zeros(6);
  return out;
}

// ---------------------------------------------------------------------------------------------
// IPMI v1.5 session framing, IPMI v2.0 §13.6 Table 13-4.

std::optional<Bytes> LanChannel::handleV15(ByteView ipmi, const PeerAddress& peer) {
  Reader r(ipmi);
  const uint8_t authByte = r.u8();
  const uint32_t seq = r.u32le();
  const uint32_t sid = r.u32le();
  const auto authType = static_cast<crypto::AuthType15>(authByte & 0x0F);
  if ((authByte & 0xF0) != 0) return drop(Drop::malformed);
  ByteView code;
  if (authType != crypto::AuthType15::none) code = r.bytes(16);
  const uint8_t length = r.u8();
  ByteView message = r.bytes(length);
  // A legacy pad byte may follow the message (IPMI v2.0 §13.6 note on Ethernet padding).
  if (!r.ok() || r.remaining() > 1) return drop(Drop::malformed);
  switch (authType) {
    case crypto::AuthType15::none:
    case crypto::AuthType15::md2:
    case crypto::AuthType15::md5:
    case crypto::AuthType15::password: break;
    default: return drop(Drop::malformed);
  }
  auto msg = LanMessage::parse(message);
  if (!msg || (msg->netfn & 1) != 0) return drop(Drop::malformed);
  if (!security_.ipmi15Enabled) {
    // Get Channel Auth Capabilities stays answerable so RMCP+ clients can discover the channel.
    if (!(sid == 0 && msg->netfn == netfn::app && msg->cmd == kCmdGetAuthCaps)) return drop(Drop::notAllowed);
  }

  if (sid == 0) {
    if (authType != crypto::AuthType15::none) return drop(Drop::notAllowed);
    std::optional<Bytes> reply;
    if (!security_.channelEnabled && !isDiscovery(*msg)) {
      reply = msg->response(Cc::notSupportedInState, {});
    } else if (msg->netfn == netfn::app && msg->cmd == kCmdGetSessionChallenge) {
      reply = getSessionChallenge(*msg, peer);
    } else {
      reply = runRequest(*msg, nullptr, false);
    }
    if (!reply) return std::nullopt;
    return wrapV15(nullptr, crypto::AuthType15::none, 0, 0, *reply);
  }

  Session* s = sessions_.find(sid);
  if (s == nullptr || s->ipmi20) return drop(Drop::unknownSession);
  if (!(s->peer == peer)) return drop(Drop::wrongPeer);
  // With per-message authentication disabled (Set Channel Access), an active session may send
  // auth type none after activation (IPMI v2.0 §6.12.4); otherwise the session's type is required.
  const bool unsignedAllowed = s->state == SessionState::active && !security_.perMessageAuth &&
                               authType == crypto::AuthType15::none;
  if (authType != s->authType && !unsignedAllowed) return drop(Drop::notAllowed);
  const bool signedPacket = authType != crypto::AuthType15::none;
  if (signedPacket) {
    Bytes expect = crypto::authCode15(authType, s->password16, sid, message, seq);
    if (expect.empty() || !crypto::constantTimeEqual(expect, code)) {
      if (s->state != SessionState::active) {
        credentials_.recordLoginFailure(s->userId);
        ++counters_.loginFailures;
        sessions_.remove(sid);
      }
      return drop(Drop::authFailed);
    }
  }
  if (s->state == SessionState::challenged) {
    if (msg->netfn != netfn::app || msg->cmd != kCmdActivateSession) return drop(Drop::notAllowed);
    if (!security_.channelEnabled) {  // challenged before the channel was disabled: no session now
      sessions_.remove(sid);
      return drop(Drop::notAllowed);
    }
    return activateSession(*msg, ipmi, *s);
  }
  if (s->state != SessionState::active) return drop(Drop::unknownSession);
  if (!s->window.acceptable(seq)) return drop(Drop::replay);
  s->window.accept(seq);
  s->lastActivity = clock_.now();
  auto reply = runRequest(*msg, s, false);
  if (!reply) return std::nullopt;
  // The IPMI 1.5 message length is one byte: a larger reply becomes "cannot return that many bytes".
  if (reply->size() > 0xFF) reply = msg->response(Cc::cannotReturnRequestedBytes, {});
  const crypto::AuthType15 replyType = unsignedAllowed ? crypto::AuthType15::none : s->authType;
  // The console named our first outbound sequence number in Activate Session (§22.17).
  const uint32_t outSeq = s->outboundSeq++;
  Bytes out = wrapV15(s, replyType, s->id, outSeq, *reply);
  if (s->closeAfterReply) {
    log::info("session closed sid=0x{:08x} user={}", s->id, s->userName);
    sessions_.remove(s->id);
  }
  return out;
}

Bytes LanChannel::wrapV15(Session* session, crypto::AuthType15 authType, uint32_t sessionId, uint32_t seq,
                          const Bytes& message) {
  Bytes out;
  out.reserve(4 + 10 + 16 + 1 + message.size());
  putRmcpIpmiHeader(out);
  Writer w(out);
  w.u8(static_cast<uint8_t>(authType)).u32le(seq).u32le(sessionId);
  if (authType != crypto::AuthType15::none) {
    Bytes code = session != nullptr ? crypto::authCode15(authType, session->password16, sessionId, message, seq)
                                    : Bytes(16, 0);
    code.resize(16);
    w.bytes(code);
  }
  w.u8(static_cast<uint8_t>(message.size())).bytes(message);
  return out;
}

// Get Session Challenge, IPMI v2.0 §22.16.
std::optional<Bytes> LanChannel::getSessionChallenge(const LanMessage& msg, const PeerAddress& peer) {
  Reader r(msg.data);
  const uint8_t type = r.u8() & 0x0F;
  ByteView nameField = r.bytes(16);
  if (!r.done()) return msg.response(Cc::invalidLength, {});
  if (type > 7 || (security_.authTypes15 & (1u << type)) == 0) return msg.response(Cc::invalidField, {});
  std::string name(reinterpret_cast<const char*>(nameField.data()), nameField.size());
  name.resize(std::min(name.find('\0'), name.size()));
  if (name.empty()) return msg.response(Cc{0x82}, {});  // null user is never enabled
  auto user = credentials_.findUser(security_.channel, name);
  if (!user || !user->ipmiMessaging || credentials_.lockedOut(user->userId)) return msg.response(Cc{0x81}, {});
  Session* s = sessions_.createPending(false, peer);
  if (s == nullptr) return msg.response(Cc::nodeBusy, {});
  s->authType = static_cast<crypto::AuthType15>(type);
  s->userId = user->userId;
  s->userName = user->name;
  s->maxPrivilege = minPrivilege(user->maxPrivilege, security_.channelPrivilegeLimit);
  s->password16.assign(user->password.begin(), user->password.begin() + std::min<size_t>(16, user->password.size()));
  s->password16.resize(16, 0);
  if (!crypto::randomBytes(s->challenge)) {
    sessions_.remove(s->id);
    return msg.response(Cc::unspecified, {});
  }
  Bytes data;
  Writer(data).u32le(s->id).bytes(s->challenge);
  return msg.response(Cc::ok, data);
}

// Activate Session, IPMI v2.0 §22.17. The packet's auth code was verified by the caller.
std::optional<Bytes> LanChannel::activateSession(const LanMessage& msg, ByteView /*header*/, Session& s) {
  Reader r(msg.data);
  const uint8_t type = r.u8() & 0x0F;
  const uint8_t priv = r.u8() & 0x0F;
  ByteView challenge = r.bytes(16);
  const uint32_t initialOutbound = r.u32le();
  auto fail = [&](Cc cc) -> std::optional<Bytes> {
    const uint32_t sid = s.id;
    Bytes out = wrapV15(&s, s.authType, sid, 0, msg.response(cc, {}));
    sessions_.remove(sid);
    return out;
  };
  if (!r.done()) return fail(Cc::invalidLength);
  if (!crypto::constantTimeEqual(challenge, s.challenge)) {
    sessions_.remove(s.id);
    return drop(Drop::authFailed);
  }
  if (type != static_cast<uint8_t>(s.authType)) return fail(Cc::invalidField);
  auto requested = privilegeFromByte(priv);
  if (!requested || *requested == Privilege::none || *requested == Privilege::noAccess) return fail(Cc::invalidField);
  if (!atLeast(s.maxPrivilege, *requested)) return fail(Cc{0x86});
  credentials_.recordLoginSuccess(s.userId);
  s.requestedMax = *requested;
  s.maxPrivilege = *requested;
  s.privilege = minPrivilege(*requested, Privilege::user);
  if (!sessions_.activate(s)) {
    Bytes m = msg.response(Cc{0x81}, {});
    return wrapV15(nullptr, crypto::AuthType15::none, 0, 0, m);
  }
  ++counters_.sessionsOpened;
  const uint32_t inbound = randomNonZero32();
  s.window = SequenceWindow(8, 8);
  s.window.startAt(inbound);
  // The spec has our outbound numbers start at the console's "initial outbound sequence number",
  // but FreeIPMI (ipmi_check_session_sequence_number_1_5 from a zeroed window) accepts only a
  // window just above 0, and ipmitool does not check: start at 1, which both accept.
  (void)initialOutbound;
  s.outboundSeq = 1;
  Bytes data;
  Writer(data).u8(type).u32le(s.id).u32le(inbound).u8(priv);
  log::info("session opened sid=0x{:08x} user={} ipmi=1.5 auth={}", s.id, s.userName, type);
  return wrapV15(&s, s.authType, s.id, 0, msg.response(Cc::ok, data));
}

// ---------------------------------------------------------------------------------------------
// RMCP+ (IPMI v2.0) session framing, IPMI v2.0 §13.6 Table 13-8.

std::optional<Bytes> LanChannel::handleV20(ByteView ipmi, const PeerAddress& peer) {
  Reader r(ipmi);
  r.u8();  // auth type 0x06
  const uint8_t ptype = r.u8();
  const bool encrypted = (ptype & 0x80) != 0;
  const bool authenticated = (ptype & 0x40) != 0;
  const uint8_t type = ptype & 0x3F;
  const uint32_t sid = r.u32le();
  const uint32_t seq = r.u32le();
  const uint16_t length = r.u16le();
  ByteView payload = r.bytes(length);
  if (!r.ok() || type == 0x02) return drop(Drop::malformed);
  ByteView trailer = r.rest();

  if (sid == 0) {
    if (encrypted || authenticated || !trailer.empty()) return drop(Drop::notAllowed);
    switch (type) {
      case kPayloadOpenSessionRequest: return openSession(payload, peer);
      case kPayloadRakp1: return rakp1(payload, peer);
      case kPayloadRakp3: return rakp3(payload, peer);
      case kPayloadIpmi: {
        auto msg = LanMessage::parse(payload);
        if (!msg || (msg->netfn & 1) != 0) return drop(Drop::malformed);
        if (!security_.channelEnabled && !isDiscovery(*msg)) {
          return wrapV20(nullptr, kPayloadIpmi, msg->response(Cc::notSupportedInState, {}));
        }
        auto reply = runRequest(*msg, nullptr, true);
        if (!reply) return std::nullopt;
        return wrapV20(nullptr, kPayloadIpmi, *reply);
      }
      default: return drop(Drop::notAllowed);
    }
  }

  Session* s = sessions_.find(sid);
  if (s == nullptr || !s->ipmi20 || s->state != SessionState::active) return drop(Drop::unknownSession);
  if (!(s->peer == peer)) return drop(Drop::wrongPeer);
  // Only IPMI messages and payloads bmc/ activated in this session (Activate Payload, §24.1) are
  // accepted; an activated payload may run unencrypted in an encrypted session (§24.3).
  const OpenPayload* open = nullptr;
  if (type != kPayloadIpmi) {
    open = s->findPayload(type);
    if (open == nullptr || payloadHandler_ == nullptr) return drop(Drop::notAllowed);
  }
  const bool wantAuth = s->suite.integrity != crypto::IntegrityAlg::none;
  const bool wantEnc = s->suite.conf != crypto::ConfAlg::none && (open == nullptr || open->grant.encrypted);
  // A payload whose encryption is suspended (§24.3) stops *requiring* encrypted input: packets the
  // console encrypted before it saw the suspension (or keeps encrypting) are still taken.
  const bool encryptedAllowed = open != nullptr && s->suite.conf != crypto::ConfAlg::none;
  if (authenticated != wantAuth || (encrypted != wantEnc && !(encrypted && encryptedAllowed))) {
    return drop(Drop::notAllowed);
  }
  if (wantAuth) {
    const size_t codeLength = crypto::integrityCodeLength(s->suite.integrity);
    if (trailer.size() < codeLength + 2) return drop(Drop::malformed);
    const size_t padLength = trailer[trailer.size() - codeLength - 2];
    const uint8_t nextHeader = trailer[trailer.size() - codeLength - 1];
    if (padLength > 3 || trailer.size() != padLength + 2 + codeLength || nextHeader != 0x07) {
      return drop(Drop::malformed);
    }
    ByteView signedPart = ipmi.subspan(0, ipmi.size() - codeLength);
    crypto::SessionCipher* cipher = s->sessionCipher();
    if (cipher == nullptr || !cipher->verifyCode(signedPart, trailer.subspan(trailer.size() - codeLength))) {
      return drop(Drop::authFailed);
    }
  } else if (!trailer.empty()) {
    return drop(Drop::malformed);
  }
  if (seq == 0 || !s->window.acceptable(seq)) return drop(Drop::replay);
  Bytes plain;
  if (encrypted) {
    crypto::SessionCipher* cipher = s->sessionCipher();
    auto decrypted = cipher != nullptr ? cipher->decrypt(payload) : std::nullopt;
    if (!decrypted) return drop(Drop::decryptFailed);
    plain = std::move(*decrypted);
    payload = plain;
  }
  s->window.accept(seq);
  s->lastActivity = clock_.now();

  if (open != nullptr) {
    // The payload handler may send (through the transmit callback) and may even close sessions;
    // nothing of `s` is used after it returns.
    if (payload.size() > open->grant.maxInbound) return drop(Drop::oversized);
    ++counters_.payloadsReceived;
    payloadHandler_->onPayload(sid, type, payload);
    return std::nullopt;
  }
  auto msg = LanMessage::parse(payload);
  if (!msg || (msg->netfn & 1) != 0) return drop(Drop::malformed);
  auto reply = runRequest(*msg, s, true);
  if (!reply) return std::nullopt;
  Bytes out = wrapV20(s, kPayloadIpmi, *reply);
  if (s->closeAfterReply) {
    log::info("session closed sid=0x{:08x} user={}", s->id, s->userName);
    sessions_.remove(s->id);
  }
  if (out.empty()) return drop(Drop::decryptFailed);  // OpenSSL failed sealing the reply: send nothing
  return out;
}

Bytes LanChannel::wrapV20(Session* s, uint8_t payloadType, ByteView payload) {
  return wrapV20(s, payloadType, payload, s != nullptr && s->suite.conf != crypto::ConfAlg::none);
}

Bytes LanChannel::wrapV20(Session* s, uint8_t payloadType, ByteView payload, bool encrypt) {
  Bytes out;
  out.reserve(4 + 12 + payload.size() + 48);
  putRmcpIpmiHeader(out);
  const size_t sessionStart = out.size();
  Writer w(out);
  if (s == nullptr) {
    w.u8(kAuthTypeRmcpPlus).u8(payloadType).u32le(0).u32le(0).u16le(static_cast<uint16_t>(payload.size()));
    w.bytes(payload);
    return out;
  }
  const bool auth = s->suite.integrity != crypto::IntegrityAlg::none;
  const bool enc = encrypt && s->suite.conf != crypto::ConfAlg::none;
  crypto::SessionCipher* cipher = auth || enc ? s->sessionCipher() : nullptr;
  if ((auth || enc) && cipher == nullptr) return {};
  const size_t bodyLength = enc ? crypto::aesCbc128Size(payload.size()) : payload.size();
  if (bodyLength > 0xFFFF) return {};
  if (++s->outboundSeq == 0) s->outboundSeq = 1;
  w.u8(kAuthTypeRmcpPlus).u8(static_cast<uint8_t>(payloadType | (enc ? 0x80 : 0) | (auth ? 0x40 : 0)));
  w.u32le(s->remoteId).u32le(s->outboundSeq).u16le(static_cast<uint16_t>(bodyLength));
  if (enc) {
    if (!cipher->appendEncrypted(payload, out)) return {};
  } else {
    w.bytes(payload);
  }
  if (auth) {
    // Integrity pad: the bytes from AuthType through Next Header are a multiple of 4 (§13.28.5).
    const size_t covered = out.size() - sessionStart + 2;
    const size_t pad = (4 - covered % 4) % 4;
    for (size_t i = 0; i < pad; ++i) w.u8(0xFF);
    w.u8(static_cast<uint8_t>(pad)).u8(0x07);
    if (!cipher->appendCode(ByteView(out).subspan(sessionStart), out)) return {};
  }
  return out;
}

// Open Session Request/Response, IPMI v2.0 §13.17-13.18.
std::optional<Bytes> LanChannel::openSession(ByteView payload, const PeerAddress& peer) {
  Reader r(payload);
  const uint8_t tag = r.u8();
  const uint8_t requestedPriv = r.u8() & 0x0F;
  r.u16le();
  const uint32_t consoleId = r.u32le();
  uint8_t algs[3] = {0, 0, 0};
  bool shapeOk = true;
  for (uint8_t i = 0; i < 3; ++i) {
    const uint8_t ptype = r.u8();
    r.u16le();
    const uint8_t plen = r.u8();
    algs[i] = r.u8() & 0x3F;
    r.skip(3);
    if (ptype != i || plen != 0x08) shapeOk = false;
  }
  if (!r.ok()) return drop(Drop::malformed);
  auto reply = [&](uint8_t status, const Session* s) {
    Bytes out;
    Writer w(out);
    w.u8(tag).u8(status);
    if (status != 0 || s == nullptr) {
      w.u8(0).u8(0).u32le(consoleId);
    } else {
      w.u8(static_cast<uint8_t>(s->requestedMax)).u8(0).u32le(consoleId).u32le(s->id);
      w.u8(0x00).u16le(0).u8(0x08).u8(static_cast<uint8_t>(s->suite.auth)).zeros(3);
      w.u8(0x01).u16le(0).u8(0x08).u8(static_cast<uint8_t>(s->suite.integrity)).zeros(3);
      w.u8(0x02).u16le(0).u8(0x08).u8(static_cast<uint8_t>(s->suite.conf)).zeros(3);
    }
    return wrapV20(nullptr, kPayloadOpenSessionResponse, out);
  };
  if (!shapeOk || consoleId == 0) return reply(kStatusIllegalParameter, nullptr);
  if (!security_.channelEnabled) return reply(kStatusNoResources, nullptr);
  std::optional<crypto::CipherSuite> match;
  for (uint8_t id : security_.cipherSuites) {
    auto cs = crypto::cipherSuite(id);
    if (cs && static_cast<uint8_t>(cs->auth) == algs[0] && static_cast<uint8_t>(cs->integrity) == algs[1] &&
        static_cast<uint8_t>(cs->conf) == algs[2]) {
      match = cs;
      break;
    }
  }
  if (!match) return reply(kStatusNoCipherSuiteMatch, nullptr);
  const Privilege limit = minPrivilege(security_.suitePrivilegeLimit[match->id], security_.channelPrivilegeLimit);
  Privilege granted = limit;
  if (requestedPriv != 0) {
    auto p = privilegeFromByte(requestedPriv);
    if (!p || *p == Privilege::noAccess) return reply(kStatusInvalidRole, nullptr);
    if (!atLeast(limit, *p)) return reply(kStatusUnauthorizedRole, nullptr);
    granted = *p;
  }
  if (sessions_.activeSessions() >= security_.maxSessions) return reply(kStatusNoResources, nullptr);
  Session* s = sessions_.createPending(true, peer);
  if (s == nullptr) return reply(kStatusNoResources, nullptr);
  s->remoteId = consoleId;
  s->suite = *match;
  s->openTag = tag;
  s->requestedMax = granted;
  return reply(0, s);
}

// RAKP Message 1 -> RAKP Message 2, IPMI v2.0 §13.20-13.21.
std::optional<Bytes> LanChannel::rakp1(ByteView payload, const PeerAddress& peer) {
  Reader r(payload);
  const uint8_t tag = r.u8();
  r.skip(3);
  const uint32_t bmcId = r.u32le();
  ByteView consoleRandom = r.bytes(16);
  const uint8_t role = r.u8();
  r.u16le();
  const uint8_t nameLength = r.u8();
  if (!r.ok()) return drop(Drop::malformed);
  Session* s = sessions_.find(bmcId);
  if (s == nullptr || !s->ipmi20 || s->state != SessionState::opened) return drop(Drop::unknownSession);
  if (!(s->peer == peer)) return drop(Drop::wrongPeer);

  auto reply = [&](uint8_t status) {
    Bytes out;
    Writer w(out);
    w.u8(tag).u8(status).u16le(0).u32le(s->remoteId);
    if (status == 0) {
      w.bytes(s->bmcRandom).bytes(guid_);
      if (s->suite.auth != crypto::AuthAlg::none) {
        Bytes data;
        Writer d(data);
        d.u32le(s->remoteId).u32le(s->id).bytes(s->consoleRandom).bytes(s->bmcRandom).bytes(guid_);
        d.u8(s->rakpRole).u8(static_cast<uint8_t>(s->userName.size())).bytes(userNameBytes(s->userName));
        w.bytes(crypto::hmac(s->suite.auth, s->userKey, data));
      }
    }
    Bytes packet = wrapV20(nullptr, kPayloadRakp2, out);
    if (status != 0) sessions_.remove(s->id);
    return packet;
  };
  if (!security_.channelEnabled) return reply(kStatusNoResources);  // disabled since Open Session
  if (nameLength > 16 || r.remaining() != nameLength) return reply(kStatusInvalidNameLength);
  ByteView nameBytes = r.bytes(nameLength);
  std::string name(nameBytes.begin(), nameBytes.end());
  auto requested = privilegeFromByte(role & 0x0F);
  if ((role & 0xE0) != 0 || !requested || *requested == Privilege::none || *requested == Privilege::noAccess) {
    return reply(kStatusInvalidRole);
  }
  auto user = name.empty() ? std::nullopt : credentials_.findUser(security_.channel, name);
  if (!user || !user->ipmiMessaging || credentials_.lockedOut(user->userId)) {
    ++counters_.loginFailures;
    return reply(kStatusUnauthorizedName);
  }
  const Privilege allowed = minPrivilege(minPrivilege(user->maxPrivilege, s->requestedMax),
                                         security_.suitePrivilegeLimit[s->suite.id]);
  if (!atLeast(allowed, *requested)) return reply(kStatusUnauthorizedRole);
  std::copy(consoleRandom.begin(), consoleRandom.end(), s->consoleRandom.begin());
  if (!crypto::randomBytes(s->bmcRandom)) return reply(kStatusNoResources);
  s->rakpRole = role;
  s->userId = user->userId;
  s->userName = name;
  s->userKey = user->password;
  s->userKey.resize(20, 0);
  s->maxPrivilege = *requested;
  s->state = SessionState::rakp2Sent;
  return reply(0);
}

// RAKP Message 3 -> RAKP Message 4, IPMI v2.0 §13.22-13.23.
std::optional<Bytes> LanChannel::rakp3(ByteView payload, const PeerAddress& peer) {
  Reader r(payload);
  const uint8_t tag = r.u8();
  const uint8_t status = r.u8();
  r.u16le();
  const uint32_t bmcId = r.u32le();
  if (!r.ok()) return drop(Drop::malformed);
  Session* s = sessions_.find(bmcId);
  if (s == nullptr || !s->ipmi20 || s->state != SessionState::rakp2Sent) return drop(Drop::unknownSession);
  if (!(s->peer == peer)) return drop(Drop::wrongPeer);
  ByteView code = r.rest();

  auto reply = [&](uint8_t st, ByteView icv) {
    Bytes out;
    Writer(out).u8(tag).u8(st).u16le(0).u32le(s->remoteId).bytes(icv);
    return wrapV20(nullptr, kPayloadRakp4, out);
  };
  if (status != 0) {  // the console gave up; forget the session quietly
    sessions_.remove(s->id);
    return drop(Drop::notAllowed);
  }
  if (!security_.channelEnabled) {  // disabled since Open Session
    Bytes packet = reply(kStatusNoResources, {});
    sessions_.remove(s->id);
    return packet;
  }
  const uint8_t nameLength = static_cast<uint8_t>(s->userName.size());
  if (s->suite.auth != crypto::AuthAlg::none) {
    Bytes data;
    Writer(data).bytes(s->bmcRandom).u32le(s->remoteId).u8(s->rakpRole).u8(nameLength).bytes(userNameBytes(s->userName));
    Bytes expect = crypto::hmac(s->suite.auth, s->userKey, data);
    if (expect.empty() || !crypto::constantTimeEqual(expect, code)) {
      credentials_.recordLoginFailure(s->userId);
      ++counters_.loginFailures;
      static log::RateLimit limit(5, std::chrono::seconds(60));
      if (limit.allow()) log::warn("login failed user={} reason=bad-password", s->userName);
      Bytes packet = reply(kStatusInvalidIntegrityCheck, {});
      sessions_.remove(s->id);
      return packet;
    }
  } else if (!code.empty()) {
    return drop(Drop::malformed);
  }

  const bool kgSet = std::any_of(security_.kg.begin(), security_.kg.end(), [](uint8_t b) { return b != 0; });
  Bytes kg = kgSet ? security_.kg : s->userKey;
  kg.resize(20, 0);
  s->sik = crypto::deriveSik(s->suite.auth, kg, s->consoleRandom, s->bmcRandom, s->rakpRole, s->userName);
  crypto::wipe(kg);
  s->k1 = crypto::deriveKey(s->suite.auth, s->sik, 1);
  s->k2 = crypto::deriveKey(s->suite.auth, s->sik, 2);
  const bool needsCipher = s->suite.integrity != crypto::IntegrityAlg::none || s->suite.conf != crypto::ConfAlg::none;
  const bool cipherMissing = needsCipher && s->sessionCipher() == nullptr;
  if (cipherMissing ||
      (s->suite.auth != crypto::AuthAlg::none && (s->sik.empty() || s->k1.empty() || s->k2.empty()))) {
    Bytes packet = reply(kStatusNoResources, {});
    sessions_.remove(s->id);
    return packet;
  }
  Bytes icv;
  if (s->suite.auth != crypto::AuthAlg::none) {
    Bytes data;
    Writer(data).bytes(s->consoleRandom).u32le(s->id).bytes(guid_);
    icv = crypto::hmac(s->suite.auth, s->sik, data);
    icv.resize(crypto::rakp4IcvLength(s->suite.auth));
  }
  credentials_.recordLoginSuccess(s->userId);
  s->privilege = minPrivilege(s->maxPrivilege, Privilege::user);
  const uint32_t id = s->id;
  const uint32_t consoleId = s->remoteId;
  if (!sessions_.activate(*s)) {  // the table filled meanwhile; activate() removed the session
    Bytes out;
    Writer(out).u8(tag).u8(kStatusNoResources).u16le(0).u32le(consoleId);
    return wrapV20(nullptr, kPayloadRakp4, out);
  }
  ++counters_.sessionsOpened;
  log::info("session opened sid=0x{:08x} user={} ipmi=2.0 suite={} max={}", id, s->userName, s->suite.id,
            privilegeName(s->maxPrivilege));
  return reply(0, icv);
}

// ---------------------------------------------------------------------------------------------

std::optional<Bytes> LanChannel::runRequest(const LanMessage& msg, Session* s, bool ipmi20) {
  const SteadyTime now = clock_.now();
  if (s != nullptr) {
    // A retry repeats the whole IPMI message byte for byte (addresses, LUNs, rqSeq, command, data);
    // only the session header around it changes.
    for (const CachedResponse& c : s->cache) {
      if (now - c.at < kRetryCacheLifetime && std::equal(c.request.begin(), c.request.end(), msg.raw.begin(),
                                                         msg.raw.end())) {
        ++counters_.cacheHits;
        return c.message;
      }
    }
  }
  RequestContext ctx;
  ctx.channel = security_.channel;
  ctx.privilege = s != nullptr ? s->privilege : Privilege::none;
  ctx.outOfSession = s == nullptr;
  ctx.ipmi20 = ipmi20;
  ctx.sessionId = s != nullptr ? s->id : 0;
  ctx.userId = s != nullptr ? s->userId : 0;
  ctx.sessions = &sessions_;
  ctx.payloads = this;
  IpmiRequest req{msg.netfn, msg.rsLun, msg.cmd, msg.data};
  auto response = dispatcher_.dispatch(ctx, req);
  if (!response) return drop(Drop::notAllowed);
  Bytes message = msg.response(response->cc, response->data);
  if (s != nullptr && !s->closeAfterReply) {
    if (s->cache.size() < kRetryCacheEntries) {
      s->cache.push_back(CachedResponse{Bytes(msg.raw.begin(), msg.raw.end()), message, now});
    } else {
      // The oldest entry becomes the newest, reusing its buffers: no allocation per command.
      std::rotate(s->cache.begin(), s->cache.begin() + 1, s->cache.end());
      CachedResponse& c = s->cache.back();
      c.request.assign(msg.raw.begin(), msg.raw.end());
      c.message.assign(message.begin(), message.end());
      c.at = now;
    }
  }
  return message;
}

// ---------------------------------------------------------------------------------------------
// Payload activation and unsolicited sends (IPMI v2.0 §24.1-24.3), for bmc/.

bool LanChannel::openPayload(uint32_t sessionId, uint8_t type, const PayloadGrant& grant) {
  Session* s = sessions_.find(sessionId);
  if (s == nullptr || !s->ipmi20 || s->state != SessionState::active || type == kPayloadIpmi) return false;
  if (OpenPayload* p = s->findPayload(type)) {
    p->grant = grant;
  } else {
    s->payloads.push_back(OpenPayload{type, grant});
  }
  return true;
}

void LanChannel::closePayload(uint32_t sessionId, uint8_t type) {
  Session* s = sessions_.find(sessionId);
  if (s == nullptr) return;
  std::erase_if(s->payloads, [type](const OpenPayload& p) { return p.type == type; });
}

bool LanChannel::setPayloadEncrypted(uint32_t sessionId, uint8_t type, bool encrypted) {
  Session* s = sessions_.find(sessionId);
  OpenPayload* p = s != nullptr ? s->findPayload(type) : nullptr;
  if (p == nullptr) return false;
  p->grant.encrypted = encrypted;
  return true;
}

bool LanChannel::sendPayload(uint32_t sessionId, uint8_t type, ByteView payload) {
  Session* s = sessions_.find(sessionId);
  if (s == nullptr || s->state != SessionState::active || !transmit_) return false;
  const OpenPayload* p = s->findPayload(type);
  if (p == nullptr) return false;
  Bytes packet = wrapV20(s, type, payload, p->grant.encrypted);
  if (packet.empty()) return false;
  ++counters_.payloadsSent;
  transmit_(s->peer, packet);
  return true;
}

}  // namespace simbmc::net
