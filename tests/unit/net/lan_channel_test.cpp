// LanChannel (net/lan_channel.hpp) driven as a console would: datagrams built here with a tiny
// test-side RMCP / IPMI v1.5 / RMCP+ client on net/crypto.hpp, a fake Dispatcher and a fake
// CredentialStore, virtual time. No sockets.
// DMTF DSP0136 (ASF ping/pong); IPMI v2.0 §13.6 (session headers), §13.8 (LAN messages),
// §13.17-13.23 (Open Session, RAKP 1-4), §13.28-13.32 (integrity, confidentiality, keys),
// §22.16-22.17 (Get Session Challenge, Activate Session).
#include "net/lan_channel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "net/crypto.hpp"
#include "net/wire.hpp"

namespace simbmc::net {
namespace {

using crypto::AuthAlg;
using crypto::AuthType15;
using crypto::ConfAlg;
using crypto::IntegrityAlg;
using std::chrono::seconds;

constexpr std::array<uint8_t, 16> kGuid = {0xA0, 0xA1, 0xA2, 0xA3, 0xB0, 0xB1, 0xC0, 0xC1,
                                           0xD0, 0xD1, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5};
constexpr uint8_t kAdminId = 2;
constexpr uint8_t kOperatorId = 3;
constexpr uint8_t kNoMessagingId = 4;
constexpr std::string_view kAdminName = "admin";
constexpr std::string_view kAdminPassword = "s3cret-Pass";

constexpr uint8_t kApp = 0x06;
constexpr uint8_t kGetDeviceId = 0x01;
constexpr uint8_t kGetAuthCaps = 0x38;
constexpr uint8_t kGetChallenge = 0x39;
constexpr uint8_t kActivateSession = 0x3A;
constexpr uint8_t kSetSessionPrivilege = 0x3B;
constexpr uint8_t kCloseSession = 0x3C;
constexpr uint8_t kGetCipherSuites = 0x54;

// Payload types, IPMI v2.0 Table 13-16.
constexpr uint8_t kOpenReq = 0x10;
constexpr uint8_t kOpenRsp = 0x11;
constexpr uint8_t kRakp1 = 0x12;
constexpr uint8_t kRakp2 = 0x13;
constexpr uint8_t kRakp3 = 0x14;
constexpr uint8_t kRakp4 = 0x15;

const Bytes kCanned = {0x20, 0x81, 0x05, 0x17, 0x02, 0x9F};

Bytes padded(std::string_view s, size_t n) {
  Bytes b(s.begin(), s.end());
  b.resize(n, 0);
  return b;
}

Bytes cat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes le32(uint32_t v) {
  Bytes b;
  Writer(b).u32le(v);
  return b;
}

uint32_t readLe32(ByteView b, size_t at) {
  return static_cast<uint32_t>(b[at]) | (static_cast<uint32_t>(b[at + 1]) << 8) |
         (static_cast<uint32_t>(b[at + 2]) << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}

// ---- Fakes ----------------------------------------------------------------------------------------

class FakeCredentials final : public CredentialStore {
 public:
  FakeCredentials() {
    add(kAdminId, std::string(kAdminName), kAdminPassword, Privilege::administrator);
    add(kOperatorId, "oper", "operpass", Privilege::operator_);
    add(kNoMessagingId, "nomsg", "nomsgpass", Privilege::administrator, false);
  }
  void add(uint8_t id, std::string name, std::string_view password, Privilege max, bool messaging = true) {
    users.push_back(UserCredential{id, std::move(name), padded(password, 20), max, messaging});
  }
  std::optional<UserCredential> findUser(uint8_t channel, std::string_view name) const override {
    if (channel != 1 || name.empty()) return std::nullopt;
    for (const UserCredential& u : users) {
      if (u.name == name) return u;
    }
    return std::nullopt;
  }
  bool lockedOut(uint8_t userId) const override { return locked.contains(userId); }
  void recordLoginFailure(uint8_t userId) override { failures.push_back(userId); }
  void recordLoginSuccess(uint8_t userId) override { successes.push_back(userId); }

  std::vector<UserCredential> users;
  std::set<uint8_t> locked;
  std::vector<uint8_t> failures, successes;
};

// Records every request. Answers Set Session Privilege and Close Session through the channel's
// SessionControl as bmc/ does, anything else with a canned response (or `answer` when set).
class FakeDispatcher final : public Dispatcher {
 public:
  struct Call {
    RequestContext ctx;
    uint8_t netfn, lun, cmd;
    Bytes data;
  };

  std::optional<IpmiResponse> dispatch(const RequestContext& ctx, const IpmiRequest& req) override {
    calls.push_back(Call{ctx, req.netfn, req.lun, req.cmd, Bytes(req.data.begin(), req.data.end())});
    if (answer) return answer(ctx, req);
    if (req.netfn == kApp && req.cmd == kSetSessionPrivilege && ctx.sessions != nullptr && req.data.size() == 1) {
      Privilege out = Privilege::none;
      const Cc cc = ctx.sessions->setPrivilege(ctx.sessionId, *privilegeFromByte(req.data[0] & 0x0F), out);
      if (cc != Cc::ok) return IpmiResponse{cc, {}};
      return IpmiResponse{Cc::ok, {static_cast<uint8_t>(out)}};
    }
    if (req.netfn == kApp && req.cmd == kCloseSession && ctx.sessions != nullptr) {
      Reader r(req.data);
      const uint32_t id = r.u32le();
      const uint8_t handle = r.remaining() == 1 ? r.u8() : 0;
      return IpmiResponse{ctx.sessions->closeSession(ctx.sessionId, id, handle), {}};
    }
    return IpmiResponse{Cc::ok, kCanned};
  }

  std::vector<Call> calls;
  std::function<std::optional<IpmiResponse>(const RequestContext&, const IpmiRequest&)> answer;
};

// ---- Wire helpers -----------------------------------------------------------------------------------

// An IPMI request message on LAN, IPMI v2.0 §13.8: rsAddr 0x20, rqAddr 0x81 (remote console SWID).
Bytes ipmiRequest(uint8_t netfn, uint8_t cmd, const Bytes& data, uint8_t rqSeq, uint8_t lun = 0) {
  Bytes m;
  Writer w(m);
  w.u8(0x20).u8(static_cast<uint8_t>((netfn << 2) | lun));
  w.u8(checksum(ByteView(m).first(2)));
  w.u8(0x81).u8(static_cast<uint8_t>(rqSeq << 2)).u8(cmd).bytes(data);
  w.u8(checksum(ByteView(m).subspan(3)));
  return m;
}

struct IpmiMsg {
  uint8_t rqAddr = 0, netfn = 0, rqLun = 0, rsAddr = 0, rqSeq = 0, rsLun = 0, cmd = 0;
  Cc cc = Cc::ok;
  Bytes data;
};

// Parses a response message and checks both checksums.
std::optional<IpmiMsg> parseResponse(ByteView m) {
  if (m.size() < 8) return std::nullopt;
  if (checksum(m.first(2)) != m[2]) return std::nullopt;
  if (checksum(m.subspan(3, m.size() - 4)) != m.back()) return std::nullopt;
  IpmiMsg r;
  r.rqAddr = m[0];
  r.netfn = static_cast<uint8_t>(m[1] >> 2);
  r.rqLun = m[1] & 3;
  r.rsAddr = m[3];
  r.rqSeq = static_cast<uint8_t>(m[4] >> 2);
  r.rsLun = m[4] & 3;
  r.cmd = m[5];
  r.cc = static_cast<Cc>(m[6]);
  r.data.assign(m.begin() + 7, m.end() - 1);
  return r;
}

Bytes rmcpIpmiHeader() { return Bytes{0x06, 0x00, 0xFF, 0x07}; }

// RMCP+ packet without integrity or confidentiality (pre-session, or suites without them).
Bytes v20Plain(uint8_t payloadType, uint32_t sid, uint32_t seq, ByteView payload) {
  Bytes d = rmcpIpmiHeader();
  Writer(d).u8(0x06).u8(payloadType).u32le(sid).u32le(seq).u16le(static_cast<uint16_t>(payload.size())).bytes(payload);
  return d;
}

struct V20Packet {
  uint8_t payloadType = 0;  // with the encrypted / authenticated bits
  uint32_t sid = 0, seq = 0;
  Bytes payload, trailer;
};

std::optional<V20Packet> parseV20(ByteView d) {
  if (d.size() < 16) return std::nullopt;
  if (d[0] != 0x06 || d[1] != 0x00 || d[2] != 0xFF || d[3] != 0x07 || d[4] != 0x06) return std::nullopt;
  Reader r(d.subspan(5));
  V20Packet p;
  p.payloadType = r.u8();
  p.sid = r.u32le();
  p.seq = r.u32le();
  const uint16_t len = r.u16le();
  ByteView payload = r.bytes(len);
  if (!r.ok()) return std::nullopt;
  p.payload.assign(payload.begin(), payload.end());
  ByteView trailer = r.rest();
  p.trailer.assign(trailer.begin(), trailer.end());
  return p;
}

// IPMI v1.5 session packet, IPMI v2.0 §13.6 Table 13-4; the auth code is computed here.
Bytes v15Packet(AuthType15 type, uint32_t seq, uint32_t sid, ByteView message, ByteView password16) {
  Bytes d = rmcpIpmiHeader();
  Writer w(d);
  w.u8(static_cast<uint8_t>(type)).u32le(seq).u32le(sid);
  if (type != AuthType15::none) w.bytes(crypto::authCode15(type, password16, sid, message, seq));
  w.u8(static_cast<uint8_t>(message.size())).bytes(message);
  return d;
}

struct V15Packet {
  uint8_t authType = 0;
  uint32_t seq = 0, sid = 0;
  Bytes code, message;
};

std::optional<V15Packet> parseV15(ByteView d) {
  if (d.size() < 14 || d[0] != 0x06 || d[1] != 0x00 || d[2] != 0xFF || d[3] != 0x07) return std::nullopt;
  Reader r(d.subspan(4));
  V15Packet p;
  p.authType = r.u8();
  p.seq = r.u32le();
  p.sid = r.u32le();
  if (p.authType != 0) {
    ByteView code = r.bytes(16);
    p.code.assign(code.begin(), code.end());
  }
  const uint8_t len = r.u8();
  ByteView message = r.bytes(len);
  if (!r.done()) return std::nullopt;
  p.message.assign(message.begin(), message.end());
  return p;
}

PeerAddress peerOf(uint8_t last, uint16_t port) {
  PeerAddress p;
  p.addr = {10, 0, 0, last};
  p.port = port;
  return p;
}

// ---- The test-side console ----------------------------------------------------------------------------

// State of one RMCP+ console session.
struct Console {
  PeerAddress peer = peerOf(2, 50000);
  uint32_t consoleId = 0x5A5A1234;  // SIDm
  crypto::CipherSuite suite{};
  uint32_t bmcId = 0;  // SIDc
  std::array<uint8_t, 16> rm{};
  Bytes rc;  // BMC random from RAKP 2
  std::string user = std::string(kAdminName);
  Bytes key = padded(kAdminPassword, 20);
  uint8_t role = 0x14;  // name-only lookup, administrator
  Bytes sik, k1, k2;
  uint32_t seq = 0;          // last session sequence number sent
  uint32_t lastInbound = 0;  // last session sequence number received
  uint8_t rqSeq = 0;
};

// State of one IPMI v1.5 console session.
struct Console15 {
  PeerAddress peer = peerOf(3, 50001);
  std::string user = std::string(kAdminName);
  Bytes password16 = padded(kAdminPassword, 16);
  AuthType15 type = AuthType15::md5;
  uint32_t sid = 0;
  std::array<uint8_t, 16> challenge{};
  uint32_t inbound = 0;  // initial inbound sequence number returned by Activate Session
  uint32_t seq = 0;
  uint8_t rqSeq = 0;
};

Bytes openSessionPayload(uint32_t consoleId, uint8_t auth, uint8_t integrity, uint8_t conf, uint8_t priv,
                         uint8_t tag = 0x42) {
  Bytes p;
  Writer w(p);
  w.u8(tag).u8(priv).u16le(0).u32le(consoleId);
  w.u8(0x00).u16le(0).u8(0x08).u8(auth).zeros(3);
  w.u8(0x01).u16le(0).u8(0x08).u8(integrity).zeros(3);
  w.u8(0x02).u16le(0).u8(0x08).u8(conf).zeros(3);
  return p;
}

Bytes rakp1Payload(const Console& c, uint8_t tag = 0x21) {
  Bytes p;
  Writer w(p);
  w.u8(tag).zeros(3).u32le(c.bmcId).bytes(c.rm).u8(c.role).u16le(0);
  w.u8(static_cast<uint8_t>(c.user.size())).bytes(Bytes(c.user.begin(), c.user.end()));
  return p;
}

Bytes nameBytes(const Console& c) { return Bytes(c.user.begin(), c.user.end()); }

// RAKP 2 key exchange auth code, §13.21: HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, RoleM, ULengthM, UNameM).
Bytes expectedRakp2Code(const Console& c) {
  const uint8_t meta[2] = {c.role, static_cast<uint8_t>(c.user.size())};
  return crypto::hmac(c.suite.auth, c.key,
                      cat({le32(c.consoleId), le32(c.bmcId), c.rm, c.rc, kGuid, meta, nameBytes(c)}));
}

// RAKP 3 key exchange auth code, §13.22: HMAC_Kuid(Rc, SIDm, RoleM, ULengthM, UNameM).
Bytes rakp3Code(const Console& c) {
  if (c.suite.auth == AuthAlg::none) return {};
  const uint8_t meta[2] = {c.role, static_cast<uint8_t>(c.user.size())};
  return crypto::hmac(c.suite.auth, c.key, cat({c.rc, le32(c.consoleId), meta, nameBytes(c)}));
}

Bytes rakp3Payload(const Console& c, ByteView code, uint8_t status = 0, uint8_t tag = 0x31) {
  Bytes p;
  Writer(p).u8(tag).u8(status).u16le(0).u32le(c.bmcId).bytes(code);
  return p;
}

// An in-session RMCP+ packet carrying exactly the suite's integrity and confidentiality.
Bytes sessionPacket(const Console& c, ByteView message, uint32_t seq, uint8_t payloadType = 0x00) {
  const bool auth = c.suite.integrity != IntegrityAlg::none;
  const bool enc = c.suite.conf != ConfAlg::none;
  const Bytes body = enc ? crypto::aesCbc128Encrypt(c.k2, message) : Bytes(message.begin(), message.end());
  Bytes d = rmcpIpmiHeader();
  const size_t start = d.size();
  Writer w(d);
  w.u8(0x06).u8(static_cast<uint8_t>(payloadType | (enc ? 0x80 : 0) | (auth ? 0x40 : 0)));
  w.u32le(c.bmcId).u32le(seq).u16le(static_cast<uint16_t>(body.size())).bytes(body);
  if (auth) {
    const size_t covered = d.size() - start + 2;
    const size_t pad = (4 - covered % 4) % 4;
    for (size_t i = 0; i < pad; ++i) w.u8(0xFF);
    w.u8(static_cast<uint8_t>(pad)).u8(0x07);
    w.bytes(crypto::integrityCode(c.suite.integrity, c.k1, c.key, ByteView(d).subspan(start)));
  }
  return d;
}

// ---- Fixture -------------------------------------------------------------------------------------------

class LanChannelTest : public ::testing::Test {
 protected:
  // One datagram through the channel. With checkPrefixes, every strict prefix goes first and must be
  // dropped (and counted) without a reply.
  std::optional<Bytes> send(ByteView d, const PeerAddress& peer) {
    if (checkPrefixes) {
      for (size_t n = 0; n < d.size(); ++n) {
        const uint64_t before = channel.counters().totalDropped();
        auto r = channel.handle(d.first(n), peer);
        EXPECT_FALSE(r.has_value()) << "a " << n << "-byte prefix of a " << d.size() << "-byte packet got a reply";
        EXPECT_EQ(channel.counters().totalDropped(), before + 1) << "prefix " << n << " of " << d.size();
      }
    }
    return channel.handle(d, peer);
  }

  uint64_t dropped(Drop why) const { return channel.counters().dropped[static_cast<size_t>(why)]; }

  // Open Session for `suiteId` (its algorithms); returns the response payload, sets c.suite/c.bmcId.
  std::optional<Bytes> openSession(Console& c, uint8_t suiteId, uint8_t priv = 0x04) {
    auto cs = crypto::cipherSuite(suiteId);
    EXPECT_TRUE(cs.has_value()) << int{suiteId};
    if (!cs) return std::nullopt;
    c.suite = *cs;
    auto reply =
        send(v20Plain(kOpenReq, 0, 0,
                      openSessionPayload(c.consoleId, static_cast<uint8_t>(cs->auth),
                                         static_cast<uint8_t>(cs->integrity), static_cast<uint8_t>(cs->conf), priv)),
             c.peer);
    if (!reply) return std::nullopt;
    auto p = parseV20(*reply);
    EXPECT_TRUE(p.has_value());
    if (!p) return std::nullopt;
    EXPECT_EQ(p->payloadType, kOpenRsp);
    EXPECT_EQ(p->sid, 0u);
    EXPECT_EQ(p->seq, 0u);
    EXPECT_TRUE(p->trailer.empty());
    if (p->payload.size() == 36 && p->payload[1] == 0) c.bmcId = readLe32(p->payload, 8);
    return p->payload;
  }

  std::optional<Bytes> rakp1(Console& c) {
    crypto::randomBytes(c.rm);
    auto reply = send(v20Plain(kRakp1, 0, 0, rakp1Payload(c)), c.peer);
    if (!reply) return std::nullopt;
    auto p = parseV20(*reply);
    EXPECT_TRUE(p.has_value());
    if (!p) return std::nullopt;
    EXPECT_EQ(p->payloadType, kRakp2);
    EXPECT_TRUE(p->trailer.empty());
    if (p->payload.size() >= 40 && p->payload[1] == 0) c.rc.assign(p->payload.begin() + 8, p->payload.begin() + 24);
    return p->payload;
  }

  std::optional<Bytes> rakp3(Console& c, ByteView code, uint8_t status = 0) {
    auto reply = send(v20Plain(kRakp3, 0, 0, rakp3Payload(c, code, status)), c.peer);
    if (!reply) return std::nullopt;
    auto p = parseV20(*reply);
    EXPECT_TRUE(p.has_value());
    if (!p) return std::nullopt;
    EXPECT_EQ(p->payloadType, kRakp4);
    EXPECT_TRUE(p->trailer.empty());
    return p->payload;
  }

  void deriveKeys(Console& c) {
    c.sik = crypto::deriveSik(c.suite.auth, c.key, c.rm, c.rc, c.role, c.user);
    c.k1 = crypto::deriveKey(c.suite.auth, c.sik, 1);
    c.k2 = crypto::deriveKey(c.suite.auth, c.sik, 2);
  }

  // The whole RMCP+ login with every reply checked. Use with ASSERT_NO_FATAL_FAILURE.
  void login(Console& c, uint8_t suiteId) {
    auto open = openSession(c, suiteId);
    ASSERT_TRUE(open.has_value()) << "no Open Session response";
    ASSERT_EQ(open->size(), 36u);
    ASSERT_EQ((*open)[1], 0x00) << "Open Session status";
    ASSERT_NE(c.bmcId, 0u);

    auto r2 = rakp1(c);
    ASSERT_TRUE(r2.has_value()) << "no RAKP 2";
    ASSERT_EQ((*r2)[1], 0x00) << "RAKP 2 status";
    ASSERT_EQ(r2->size(), 40 + crypto::rakpAuthCodeLength(c.suite.auth));
    ASSERT_EQ(Bytes(r2->begin() + 24, r2->begin() + 40), Bytes(kGuid.begin(), kGuid.end()));
    if (c.suite.auth != AuthAlg::none) {
      ASSERT_EQ(Bytes(r2->begin() + 40, r2->end()), expectedRakp2Code(c)) << "RAKP 2 HMAC";
    }

    auto r4 = rakp3(c, rakp3Code(c));
    ASSERT_TRUE(r4.has_value()) << "no RAKP 4";
    ASSERT_EQ((*r4)[1], 0x00) << "RAKP 4 status";
    ASSERT_EQ(readLe32(*r4, 4), c.consoleId);
    deriveKeys(c);
    ASSERT_EQ(r4->size(), 8 + crypto::rakp4IcvLength(c.suite.auth));
    if (c.suite.auth != AuthAlg::none) {
      Bytes icv = crypto::hmac(c.suite.auth, c.sik, cat({c.rm, le32(c.bmcId), kGuid}));
      icv.resize(crypto::rakp4IcvLength(c.suite.auth));
      ASSERT_EQ(Bytes(r4->begin() + 8, r4->end()), icv) << "RAKP 4 ICV";
    }
    Session* s = channel.sessions().find(c.bmcId);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->state, SessionState::active);
  }

  // Verifies and opens an in-session RMCP+ reply; returns the IPMI message inside.
  std::optional<Bytes> openReply(Console& c, ByteView d) {
    auto p = parseV20(d);
    EXPECT_TRUE(p.has_value());
    if (!p) return std::nullopt;
    const bool auth = c.suite.integrity != IntegrityAlg::none;
    const bool enc = c.suite.conf != ConfAlg::none;
    EXPECT_EQ(p->payloadType, (enc ? 0x80 : 0) | (auth ? 0x40 : 0));
    EXPECT_EQ(p->sid, c.consoleId) << "replies carry the console's session id";
    EXPECT_GT(p->seq, c.lastInbound) << "outbound sequence numbers increase";
    c.lastInbound = p->seq;
    if (auth) {
      const size_t codeLength = crypto::integrityCodeLength(c.suite.integrity);
      EXPECT_GE(p->trailer.size(), codeLength + 2);
      if (p->trailer.size() < codeLength + 2) return std::nullopt;
      const size_t padLength = p->trailer[p->trailer.size() - codeLength - 2];
      EXPECT_EQ(p->trailer[p->trailer.size() - codeLength - 1], 0x07) << "next header";
      EXPECT_EQ(p->trailer.size(), padLength + 2 + codeLength);
      EXPECT_EQ((d.size() - 4 - codeLength) % 4, 0u) << "integrity pad to a multiple of 4";
      for (size_t i = 0; i < padLength; ++i) EXPECT_EQ(p->trailer[i], 0xFF) << "pad byte " << i;
      Bytes expect = crypto::integrityCode(c.suite.integrity, c.k1, c.key, d.subspan(4, d.size() - 4 - codeLength));
      EXPECT_EQ(Bytes(d.end() - static_cast<std::ptrdiff_t>(codeLength), d.end()), expect) << "reply AuthCode";
    } else {
      EXPECT_TRUE(p->trailer.empty());
    }
    if (!enc) return p->payload;
    auto plain = crypto::aesCbc128Decrypt(c.k2, p->payload);
    EXPECT_TRUE(plain.has_value()) << "reply does not decrypt";
    return plain;
  }

  // Sends one in-session request with the next session sequence number; returns the opened reply.
  std::optional<IpmiMsg> request(Console& c, uint8_t netfn, uint8_t cmd, Bytes data = {}) {
    const Bytes msg = ipmiRequest(netfn, cmd, data, static_cast<uint8_t>(++c.rqSeq & 0x3F));
    auto reply = send(sessionPacket(c, msg, ++c.seq), c.peer);
    if (!reply) return std::nullopt;
    auto m = openReply(c, *reply);
    if (!m) return std::nullopt;
    return parseResponse(*m);
  }

  // IPMI v1.5: Get Session Challenge; returns the response message.
  std::optional<IpmiMsg> getChallenge(Console15& c, uint8_t authType) {
    Bytes data{authType};
    Bytes name = padded(c.user, 16);
    data.insert(data.end(), name.begin(), name.end());
    auto reply = send(v15Packet(AuthType15::none, 0, 0, ipmiRequest(kApp, kGetChallenge, data, ++c.rqSeq), {}), c.peer);
    if (!reply) return std::nullopt;
    auto p = parseV15(*reply);
    EXPECT_TRUE(p.has_value());
    if (!p) return std::nullopt;
    EXPECT_EQ(p->authType, 0);
    EXPECT_EQ(p->sid, 0u);
    auto m = parseResponse(p->message);
    if (m && m->cc == Cc::ok && m->data.size() == 20) {
      c.sid = readLe32(m->data, 0);
      std::copy(m->data.begin() + 4, m->data.end(), c.challenge.begin());
    }
    return m;
  }

  Bytes activateMessage(Console15& c, uint8_t priv = 0x04) {
    Bytes data;
    Writer(data).u8(static_cast<uint8_t>(c.type)).u8(priv).bytes(c.challenge).u32le(0x01020304);
    return ipmiRequest(kApp, kActivateSession, data, ++c.rqSeq);
  }

  // Get Session Challenge + Activate Session with every reply checked.
  void activate15(Console15& c) {
    auto ch = getChallenge(c, static_cast<uint8_t>(c.type));
    ASSERT_TRUE(ch.has_value());
    ASSERT_EQ(ch->cc, Cc::ok);
    ASSERT_EQ(ch->data.size(), 20u);
    ASSERT_NE(c.sid, 0u);
    const Bytes msg = activateMessage(c);
    auto reply = send(v15Packet(c.type, 0, c.sid, msg, c.password16), c.peer);
    ASSERT_TRUE(reply.has_value()) << "no Activate Session reply";
    auto p = parseV15(*reply);
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(p->authType, static_cast<uint8_t>(c.type));
    ASSERT_EQ(p->sid, c.sid);
    ASSERT_EQ(p->code, crypto::authCode15(c.type, c.password16, p->sid, p->message, p->seq)) << "reply auth code";
    auto m = parseResponse(p->message);
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(m->cc, Cc::ok);
    ASSERT_EQ(m->data.size(), 10u);
    EXPECT_EQ(m->data[0], static_cast<uint8_t>(c.type));
    EXPECT_EQ(readLe32(m->data, 1), c.sid);
    c.inbound = readLe32(m->data, 5);
    EXPECT_NE(c.inbound, 0u);
    EXPECT_EQ(m->data[9], 0x04);
    c.seq = c.inbound - 1;
  }

  // One in-session v1.5 request at sequence number `seq`; returns the verified reply message.
  std::optional<IpmiMsg> request15(Console15& c, uint32_t seq, uint8_t netfn, uint8_t cmd, Bytes data = {}) {
    const Bytes msg = ipmiRequest(netfn, cmd, data, static_cast<uint8_t>(++c.rqSeq & 0x3F));
    auto reply = send(v15Packet(c.type, seq, c.sid, msg, c.password16), c.peer);
    if (!reply) return std::nullopt;
    auto p = parseV15(*reply);
    EXPECT_TRUE(p.has_value());
    if (!p) return std::nullopt;
    EXPECT_EQ(p->sid, c.sid);
    EXPECT_EQ(p->authType, static_cast<uint8_t>(c.type));
    EXPECT_EQ(p->code, crypto::authCode15(c.type, c.password16, c.sid, p->message, p->seq)) << "reply auth code";
    return parseResponse(p->message);
  }

  ChannelSecurity security;
  FakeCredentials creds;
  FakeDispatcher dispatcher;
  FakeClock clock;
  LanChannel channel{security, creds, dispatcher, clock, kGuid};
  bool checkPrefixes = false;
};

// ---- ASF / RMCP ---------------------------------------------------------------------------------------

Bytes asfPing(uint8_t rmcpSeq, uint8_t tag) {
  return Bytes{0x06, 0x00, rmcpSeq, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, tag, 0x00, 0x00};
}

TEST_F(LanChannelTest, AsfPingGetsA28BytePongEchoingTagAndRmcpSequence) {
  for (uint8_t seq : {uint8_t{0xFF}, uint8_t{0x00}, uint8_t{0x17}}) {
    auto reply = send(asfPing(seq, 0x5C), peerOf(9, 1000));
    ASSERT_TRUE(reply.has_value());
    const Bytes expect = {0x06, 0x00, seq,  0x06, 0x00, 0x00, 0x11, 0xBE, 0x40, 0x5C, 0x00, 0x10, 0x00, 0x00,
                          0x11, 0xBE, 0x00, 0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(*reply, expect) << "rmcp seq " << int{seq};
  }
  EXPECT_EQ(channel.counters().asfPings, 3u);
  EXPECT_EQ(channel.counters().replied, 3u);
  EXPECT_TRUE(dispatcher.calls.empty());
}

TEST_F(LanChannelTest, AsfPongAndRmcpAckGetNothing) {
  const Bytes pong = {0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x40, 0x01, 0x00, 0x10, 0x00, 0x00,
                      0x11, 0xBE, 0x00, 0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const Bytes emptyPong = {0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x40, 0x01, 0x00, 0x00};
  const Bytes ack = {0x06, 0x00, 0x05, 0x86};
  const Bytes ackOfIpmi = {0x06, 0x00, 0x05, 0x87};
  const Bytes otherIana = {0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBF, 0x80, 0x01, 0x00, 0x00};
  const Bytes oldVersion = {0x05, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x01, 0x00, 0x00};
  for (const Bytes& d : {pong, emptyPong, ack, ackOfIpmi, otherIana, oldVersion}) {
    const uint64_t before = channel.counters().totalDropped();
    EXPECT_FALSE(send(d, peerOf(9, 1000)).has_value());
    EXPECT_EQ(channel.counters().totalDropped(), before + 1);
  }
  EXPECT_EQ(channel.counters().replied, 0u);
  EXPECT_EQ(channel.counters().asfPings, 0u);
}

TEST_F(LanChannelTest, TruncatedAsfPingIsDropped) {
  checkPrefixes = true;
  EXPECT_TRUE(send(asfPing(0xFF, 1), peerOf(9, 1000)).has_value());
}

TEST_F(LanChannelTest, GarbageIsDroppedAndCounted) {
  const std::vector<Bytes> garbage = {
      {}, {0x06}, {0x06, 0x00, 0xFF, 0x07}, {0x06, 0x00, 0xFF, 0x08, 0x00}, Bytes(600, 0xFF), Bytes(64, 0x00),
  };
  for (const Bytes& d : garbage) EXPECT_FALSE(send(d, peerOf(9, 1000)).has_value());
  EXPECT_EQ(channel.counters().totalDropped(), garbage.size());
  EXPECT_EQ(channel.counters().received, garbage.size());
}

// ---- Out-of-session requests -----------------------------------------------------------------------------

TEST_F(LanChannelTest, GetChannelAuthCapsOutOfSessionReachesTheDispatcher) {
  const Bytes msg = ipmiRequest(kApp, kGetAuthCaps, Bytes{0x8E, 0x04}, 0x11);
  auto reply = send(v15Packet(AuthType15::none, 0, 0, msg, {}), peerOf(9, 1000));
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(dispatcher.calls.size(), 1u);
  const auto& call = dispatcher.calls[0];
  EXPECT_TRUE(call.ctx.outOfSession);
  EXPECT_EQ(call.ctx.privilege, Privilege::none);
  EXPECT_EQ(call.ctx.sessionId, 0u);
  EXPECT_EQ(call.ctx.userId, 0);
  EXPECT_EQ(call.ctx.channel, 1);
  EXPECT_FALSE(call.ctx.ipmi20);
  EXPECT_EQ(call.netfn, kApp);
  EXPECT_EQ(call.lun, 0);
  EXPECT_EQ(call.cmd, kGetAuthCaps);
  EXPECT_EQ(call.data, (Bytes{0x8E, 0x04}));

  auto p = parseV15(*reply);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->authType, 0);
  EXPECT_EQ(p->seq, 0u);
  EXPECT_EQ(p->sid, 0u);
  auto m = parseResponse(p->message);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->rqAddr, 0x81);
  EXPECT_EQ(m->netfn, kApp | 1);
  EXPECT_EQ(m->rsAddr, 0x20);
  EXPECT_EQ(m->rqSeq, 0x11);
  EXPECT_EQ(m->cmd, kGetAuthCaps);
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(m->data, kCanned);
}

TEST_F(LanChannelTest, RmcpPlusSessionZeroRequestReachesTheDispatcher) {
  const Bytes msg = ipmiRequest(kApp, kGetCipherSuites, Bytes{0x0E, 0x00, 0x80}, 0x02);
  auto reply = send(v20Plain(0x00, 0, 0, msg), peerOf(9, 1000));
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(dispatcher.calls.size(), 1u);
  EXPECT_TRUE(dispatcher.calls[0].ctx.outOfSession);
  EXPECT_TRUE(dispatcher.calls[0].ctx.ipmi20);
  EXPECT_EQ(dispatcher.calls[0].cmd, kGetCipherSuites);
  auto p = parseV20(*reply);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->payloadType, 0x00);
  EXPECT_EQ(p->sid, 0u);
  EXPECT_TRUE(p->trailer.empty());
  auto m = parseResponse(p->payload);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(m->data, kCanned);
}

TEST_F(LanChannelTest, RequestTheDispatcherRefusesOutOfSessionGetsNoReply) {
  dispatcher.answer = [](const RequestContext&, const IpmiRequest&) { return std::optional<IpmiResponse>{}; };
  const Bytes msg = ipmiRequest(0x00, 0x02, Bytes{0x02}, 0x01);  // Chassis Control: power cycle
  EXPECT_FALSE(send(v15Packet(AuthType15::none, 0, 0, msg, {}), peerOf(9, 1000)).has_value());
  EXPECT_FALSE(send(v20Plain(0x00, 0, 0, msg), peerOf(9, 1000)).has_value());
  EXPECT_EQ(dispatcher.calls.size(), 2u);
  EXPECT_EQ(channel.counters().totalDropped(), 2u);
}

TEST_F(LanChannelTest, SignedOrEncryptedSessionZeroPacketsAreDropped) {
  const Bytes msg = ipmiRequest(kApp, kGetDeviceId, {}, 0x01);
  EXPECT_FALSE(send(v20Plain(0x40, 0, 0, msg), peerOf(9, 1000)).has_value());
  EXPECT_FALSE(send(v20Plain(0x80, 0, 0, msg), peerOf(9, 1000)).has_value());
  EXPECT_FALSE(send(v15Packet(AuthType15::md5, 0, 0, msg, padded("x", 16)), peerOf(9, 1000)).has_value());
  EXPECT_TRUE(dispatcher.calls.empty());
}

// ---- Open Session ----------------------------------------------------------------------------------------

TEST_F(LanChannelTest, OpenSessionReturnsExactlyTheRequestedAlgorithmsForEachEnabledSuite) {
  for (uint8_t suiteId : {uint8_t{17}, uint8_t{3}}) {
    Console c;
    c.consoleId = 0x10000000u + suiteId;
    auto open = openSession(c, suiteId);
    ASSERT_TRUE(open.has_value()) << int{suiteId};
    ASSERT_EQ(open->size(), 36u);
    const Bytes& p = *open;
    EXPECT_EQ(p[0], 0x42) << "message tag";
    EXPECT_EQ(p[1], 0x00) << "status";
    EXPECT_EQ(p[2], 0x04) << "maximum privilege";
    EXPECT_EQ(readLe32(p, 4), c.consoleId);
    EXPECT_NE(readLe32(p, 8), 0u);
    const Bytes algs(p.begin() + 12, p.end());
    const Bytes expect = {0x00, 0, 0, 0x08, static_cast<uint8_t>(c.suite.auth),      0, 0, 0,
                          0x01, 0, 0, 0x08, static_cast<uint8_t>(c.suite.integrity), 0, 0, 0,
                          0x02, 0, 0, 0x08, static_cast<uint8_t>(c.suite.conf),      0, 0, 0};
    EXPECT_EQ(algs, expect) << "suite " << int{suiteId};
    Session* s = channel.sessions().find(readLe32(p, 8));
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->state, SessionState::opened);
    EXPECT_EQ(s->suite.id, suiteId);
  }
  EXPECT_EQ(channel.sessions().pendingCount(), 2u);
}

TEST_F(LanChannelTest, OpenSessionForADisabledSuiteIs0x11AndCreatesNoSession) {
  for (uint8_t suiteId : {uint8_t{0}, uint8_t{1}, uint8_t{2}, uint8_t{8}, uint8_t{16}}) {
    Console c;
    auto open = openSession(c, suiteId);
    ASSERT_TRUE(open.has_value()) << int{suiteId};
    ASSERT_EQ(open->size(), 8u) << "an error response stops after the console session id";
    EXPECT_EQ((*open)[0], 0x42);
    EXPECT_EQ((*open)[1], 0x11) << "no matching cipher suite, suite " << int{suiteId};
    EXPECT_EQ(readLe32(*open, 4), c.consoleId);
  }
  // An algorithm combination that is no suite at all.
  auto reply = send(v20Plain(kOpenReq, 0, 0, openSessionPayload(0x99, 0x03, 0x01, 0x01, 0x04)), peerOf(9, 1000));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(parseV20(*reply)->payload[1], 0x11);
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, OpenSessionPrivilegeZeroMeansHighestAllowed) {
  Console c;
  auto open = openSession(c, 17, 0x00);
  ASSERT_TRUE(open.has_value());
  ASSERT_EQ(open->size(), 36u);
  EXPECT_EQ((*open)[2], 0x04);

  security.channelPrivilegeLimit = Privilege::operator_;
  Console d;
  d.consoleId = 0x777;
  open = openSession(d, 17, 0x00);
  ASSERT_TRUE(open.has_value());
  ASSERT_EQ(open->size(), 36u);
  EXPECT_EQ((*open)[2], 0x03) << "highest the channel allows";

  security.channelPrivilegeLimit = Privilege::administrator;
  security.suitePrivilegeLimit[3] = Privilege::user;
  Console e;
  open = openSession(e, 3, 0x00);
  ASSERT_TRUE(open.has_value());
  ASSERT_EQ(open->size(), 36u);
  EXPECT_EQ((*open)[2], 0x02) << "highest the suite allows";
}

TEST_F(LanChannelTest, OpenSessionExplicitPrivilegeIsEchoedAndCapped) {
  Console c;
  auto open = openSession(c, 17, 0x03);
  ASSERT_TRUE(open.has_value());
  ASSERT_EQ(open->size(), 36u);
  EXPECT_EQ((*open)[2], 0x03);

  security.channelPrivilegeLimit = Privilege::user;
  Console d;
  open = openSession(d, 17, 0x04);
  ASSERT_TRUE(open.has_value());
  ASSERT_EQ(open->size(), 8u);
  EXPECT_NE((*open)[1], 0x00) << "administrator above the channel limit is refused";
}

TEST_F(LanChannelTest, OpenSessionWithConsoleIdZeroIsRefused) {
  Console c;
  c.consoleId = 0;
  auto open = openSession(c, 17);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ((*open)[1], 0x12) << "invalid parameter";
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, OpenSessionWhenAllSessionsAreActiveIs0x01) {
  security.maxSessions = 1;
  Console a;
  ASSERT_NO_FATAL_FAILURE(login(a, 17));
  Console b;
  b.consoleId = 0xBBBB;
  auto open = openSession(b, 17);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ((*open)[1], 0x01) << "insufficient resources";
  EXPECT_EQ(channel.sessions().size(), 1u);
}

// ---- RAKP ---------------------------------------------------------------------------------------------

TEST_F(LanChannelTest, Rakp1WithAnUnknownUserIs0x0DWithoutHmacAndForgetsTheSession) {
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  const uint32_t bmcId = c.bmcId;
  c.user = "mallory";
  auto r2 = rakp1(c);
  ASSERT_TRUE(r2.has_value());
  ASSERT_EQ(r2->size(), 8u) << "no random, GUID or HMAC";
  EXPECT_EQ((*r2)[0], 0x21);
  EXPECT_EQ((*r2)[1], 0x0D) << "unauthorized name";
  EXPECT_EQ(readLe32(*r2, 4), c.consoleId);
  EXPECT_EQ(channel.sessions().find(bmcId), nullptr);
  EXPECT_EQ(channel.sessions().size(), 0u);

  c.user = std::string(kAdminName);
  EXPECT_FALSE(rakp1(c).has_value()) << "the session id is gone";
  EXPECT_TRUE(creds.failures.empty()) << "there is no user to charge";
}

TEST_F(LanChannelTest, Rakp1ForALockedOutOrNonMessagingUserLooksLikeAnUnknownUser) {
  creds.locked.insert(kAdminId);
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  auto r2 = rakp1(c);
  ASSERT_TRUE(r2.has_value());
  ASSERT_EQ(r2->size(), 8u);
  EXPECT_EQ((*r2)[1], 0x0D);

  Console d;
  d.user = "nomsg";
  d.key = padded("nomsgpass", 20);
  ASSERT_TRUE(openSession(d, 17).has_value());
  r2 = rakp1(d);
  ASSERT_TRUE(r2.has_value());
  ASSERT_EQ(r2->size(), 8u);
  EXPECT_EQ((*r2)[1], 0x0D);
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, Rakp2HmacVerifiesWithTheConsolesOwnComputation) {
  for (uint8_t role : {uint8_t{0x14}, uint8_t{0x04}, uint8_t{0x12}}) {
    Console c;
    c.role = role;
    ASSERT_TRUE(openSession(c, 17).has_value());
    auto r2 = rakp1(c);
    ASSERT_TRUE(r2.has_value());
    ASSERT_EQ(r2->size(), 8u + 16 + 16 + 32);
    EXPECT_EQ((*r2)[0], 0x21);
    EXPECT_EQ((*r2)[1], 0x00);
    EXPECT_EQ(readLe32(*r2, 4), c.consoleId);
    EXPECT_EQ(Bytes(r2->begin() + 24, r2->begin() + 40), Bytes(kGuid.begin(), kGuid.end()));
    EXPECT_EQ(Bytes(r2->begin() + 40, r2->end()), expectedRakp2Code(c)) << "role 0x" << std::hex << int{role};
  }
  Console sha1;
  ASSERT_TRUE(openSession(sha1, 3).has_value());
  auto r2 = rakp1(sha1);
  ASSERT_TRUE(r2.has_value());
  ASSERT_EQ(r2->size(), 8u + 16 + 16 + 20);
  EXPECT_EQ(Bytes(r2->begin() + 40, r2->end()), expectedRakp2Code(sha1));
}

TEST_F(LanChannelTest, Rakp1RoleAboveTheUsersLimitIsRefused) {
  Console c;
  c.user = "oper";
  c.key = padded("operpass", 20);
  c.role = 0x14;  // administrator; the user is an operator
  ASSERT_TRUE(openSession(c, 17).has_value());
  auto r2 = rakp1(c);
  ASSERT_TRUE(r2.has_value());
  ASSERT_EQ(r2->size(), 8u);
  EXPECT_NE((*r2)[1], 0x00);
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, Rakp3WithABadHmacIs0x0FAndRecordsALoginFailure) {
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  ASSERT_TRUE(rakp1(c).has_value());
  Bytes code = rakp3Code(c);
  code[5] ^= 0x01;
  auto r4 = rakp3(c, code);
  ASSERT_TRUE(r4.has_value());
  ASSERT_EQ(r4->size(), 8u) << "no ICV";
  EXPECT_EQ((*r4)[0], 0x31);
  EXPECT_EQ((*r4)[1], 0x0F) << "invalid integrity check value";
  EXPECT_EQ(readLe32(*r4, 4), c.consoleId);
  EXPECT_EQ(creds.failures, (std::vector<uint8_t>{kAdminId}));
  EXPECT_TRUE(creds.successes.empty());
  EXPECT_EQ(channel.sessions().find(c.bmcId), nullptr);
  EXPECT_EQ(channel.counters().loginFailures, 1u);

  EXPECT_FALSE(rakp3(c, rakp3Code(c)).has_value()) << "no second try on the same session";
}

TEST_F(LanChannelTest, Rakp3WithAWrongPasswordIs0x0F) {
  Console c;
  ASSERT_TRUE(openSession(c, 3).has_value());
  c.key = padded("wrong-password", 20);
  ASSERT_TRUE(rakp1(c).has_value());
  auto r4 = rakp3(c, rakp3Code(c));
  ASSERT_TRUE(r4.has_value());
  EXPECT_EQ((*r4)[1], 0x0F);
  EXPECT_EQ(creds.failures, (std::vector<uint8_t>{kAdminId}));
}

TEST_F(LanChannelTest, Rakp3WithTruncatedOrEmptyHmacIsRefused) {
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  ASSERT_TRUE(rakp1(c).has_value());
  Bytes code = rakp3Code(c);
  code.pop_back();
  auto r4 = rakp3(c, code);
  ASSERT_TRUE(r4.has_value());
  EXPECT_EQ((*r4)[1], 0x0F);
  Console d;
  ASSERT_TRUE(openSession(d, 17).has_value());
  ASSERT_TRUE(rakp1(d).has_value());
  r4 = rakp3(d, {});
  ASSERT_TRUE(r4.has_value());
  EXPECT_EQ((*r4)[1], 0x0F);
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, Rakp3WithAnErrorStatusForgetsTheSession) {
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  ASSERT_TRUE(rakp1(c).has_value());
  EXPECT_FALSE(rakp3(c, {}, 0x0F).has_value());
  EXPECT_EQ(channel.sessions().find(c.bmcId), nullptr);
}

TEST_F(LanChannelTest, GoodRakp3GivesAVerifiableRakp4Icv) {
  for (uint8_t suiteId : {uint8_t{3}, uint8_t{17}}) {
    Console c;
    c.consoleId = 0x2000u + suiteId;
    ASSERT_NO_FATAL_FAILURE(login(c, suiteId)) << "suite " << int{suiteId};
  }
  EXPECT_EQ(creds.successes, (std::vector<uint8_t>{kAdminId, kAdminId}));
  EXPECT_TRUE(creds.failures.empty());
  EXPECT_EQ(channel.counters().sessionsOpened, 2u);
  EXPECT_EQ(channel.sessions().activeSessions(), 2);
}

TEST_F(LanChannelTest, Rakp4IcvUsesKgWhenConfigured) {
  security.kg = padded("the-bmc-key", 20);
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  auto r2 = rakp1(c);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(Bytes(r2->begin() + 40, r2->end()), expectedRakp2Code(c)) << "RAKP 2 is keyed by Kuid, not Kg";
  auto r4 = rakp3(c, rakp3Code(c));
  ASSERT_TRUE(r4.has_value());
  ASSERT_EQ((*r4)[1], 0x00);
  c.sik = crypto::deriveSik(c.suite.auth, security.kg, c.rm, c.rc, c.role, c.user);
  Bytes icv = crypto::hmac(c.suite.auth, c.sik, cat({c.rm, le32(c.bmcId), kGuid}));
  icv.resize(16);
  EXPECT_EQ(Bytes(r4->begin() + 8, r4->end()), icv);
  c.k1 = crypto::deriveKey(c.suite.auth, c.sik, 1);
  c.k2 = crypto::deriveKey(c.suite.auth, c.sik, 2);
  auto m = request(c, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
}

TEST_F(LanChannelTest, RakpOutOfOrderOrRepeatedIsRefusedWithoutASession) {
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  // RAKP 3 before RAKP 1.
  EXPECT_FALSE(rakp3(c, Bytes(32, 0xAA)).has_value());
  ASSERT_NE(channel.sessions().find(c.bmcId), nullptr);
  EXPECT_EQ(channel.sessions().find(c.bmcId)->state, SessionState::opened);
  // RAKP 1 twice.
  ASSERT_TRUE(rakp1(c).has_value());
  const Bytes rc = c.rc;
  EXPECT_FALSE(rakp1(c).has_value());
  // RAKP 1 for an unknown id.
  Console stranger;
  stranger.bmcId = 0x12345678;
  EXPECT_FALSE(rakp1(stranger).has_value());
  EXPECT_EQ(channel.sessions().activeSessions(), 0);
  // In-session traffic before RAKP 3 is dropped.
  Console early = c;
  early.suite = *crypto::cipherSuite(0);
  EXPECT_FALSE(send(sessionPacket(early, ipmiRequest(kApp, kGetDeviceId, {}, 1), 1), c.peer).has_value());
  EXPECT_TRUE(dispatcher.calls.empty());
}

TEST_F(LanChannelTest, Rakp1FromAnotherPeerIsDropped) {
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  Console thief = c;
  thief.peer = peerOf(66, 6666);
  EXPECT_FALSE(rakp1(thief).has_value());
  EXPECT_EQ(dropped(Drop::wrongPeer), 1u);
  ASSERT_NE(channel.sessions().find(c.bmcId), nullptr);
  EXPECT_EQ(channel.sessions().find(c.bmcId)->state, SessionState::opened) << "the real console can go on";
  auto r2 = rakp1(c);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ((*r2)[1], 0x00);
}

TEST_F(LanChannelTest, Rakp1WithoutAUserNameIsRefused) {
  Console c;
  c.user.clear();
  c.key = Bytes(20, 0);
  ASSERT_TRUE(openSession(c, 17).has_value());
  auto r2 = rakp1(c);
  ASSERT_TRUE(r2.has_value());
  ASSERT_EQ(r2->size(), 8u);
  EXPECT_EQ((*r2)[1], 0x0D) << "no null user, no anonymous login";
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, Rakp1NameLengthMustMatchAndBeAtMost16) {
  Console c;
  ASSERT_TRUE(openSession(c, 17).has_value());
  Bytes payload = rakp1Payload(c);
  payload[27] = static_cast<uint8_t>(c.user.size() + 1);  // ULengthM one more than the bytes that follow
  auto reply = send(v20Plain(kRakp1, 0, 0, payload), c.peer);
  ASSERT_TRUE(reply.has_value());
  auto p = parseV20(*reply);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->payload.size(), 8u);
  EXPECT_EQ(p->payload[1], 0x0C) << "invalid name length";
  EXPECT_EQ(channel.sessions().size(), 0u);

  Console d;
  d.user = std::string(17, 'a');
  ASSERT_TRUE(openSession(d, 17).has_value());
  auto r2 = rakp1(d);
  ASSERT_TRUE(r2.has_value());
  ASSERT_EQ(r2->size(), 8u);
  EXPECT_EQ((*r2)[1], 0x0C);
}

TEST_F(LanChannelTest, Rakp4WhenTheTableFilledMeanwhileIs0x01ForThisConsole) {
  security.maxSessions = 1;
  Console a;
  Console b;
  b.consoleId = 0x0B0B0B0B;
  b.peer = peerOf(5, 5555);
  ASSERT_TRUE(openSession(a, 17).has_value());
  ASSERT_TRUE(openSession(b, 17).has_value());
  ASSERT_TRUE(rakp1(a).has_value());
  ASSERT_TRUE(rakp1(b).has_value());
  auto r4a = rakp3(a, rakp3Code(a));
  ASSERT_TRUE(r4a.has_value());
  ASSERT_EQ((*r4a)[1], 0x00);
  auto r4b = rakp3(b, rakp3Code(b));
  ASSERT_TRUE(r4b.has_value());
  ASSERT_EQ(r4b->size(), 8u);
  EXPECT_EQ((*r4b)[1], 0x01) << "insufficient resources";
  EXPECT_EQ(readLe32(*r4b, 4), b.consoleId) << "RAKP 4 carries the console's session id (§13.23)";
  EXPECT_EQ(channel.sessions().find(b.bmcId), nullptr);
  EXPECT_EQ(channel.sessions().activeSessions(), 1);
}

TEST_F(LanChannelTest, ResponseMirrorsTheRequestLuns) {
  // rsLUN 1 in byte 2, rqLUN 2 in byte 5 (IPMI v2.0 §13.8).
  Bytes m;
  Writer w(m);
  w.u8(0x20).u8(static_cast<uint8_t>((kApp << 2) | 1));
  w.u8(checksum(ByteView(m).first(2)));
  w.u8(0x81).u8(static_cast<uint8_t>((0x05 << 2) | 2)).u8(kGetAuthCaps).u8(0x8E).u8(0x04);
  w.u8(checksum(ByteView(m).subspan(3)));
  auto reply = send(v15Packet(AuthType15::none, 0, 0, m, {}), peerOf(9, 1000));
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(dispatcher.calls.size(), 1u);
  EXPECT_EQ(dispatcher.calls[0].lun, 1);
  auto r = parseResponse(parseV15(*reply)->message);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rqLun, 2);
  EXPECT_EQ(r->rsLun, 1);
  EXPECT_EQ(r->rqSeq, 0x05);
}

TEST_F(LanChannelTest, ExpiredSessionsAreGoneForTheirConsole) {
  Console c;
  ASSERT_NO_FATAL_FAILURE(login(c, 17));
  ASSERT_TRUE(request(c, kApp, kGetDeviceId).has_value());
  clock.advance(seconds(security.sessionTimeoutSeconds + 1));
  channel.sessions().expire();
  EXPECT_FALSE(request(c, kApp, kGetDeviceId).has_value());
  EXPECT_EQ(dropped(Drop::unknownSession), 1u);
}

// ---- In-session traffic ----------------------------------------------------------------------------------

class LoggedInTest : public LanChannelTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(login(c, 17)); }
  Console c;
};

TEST_F(LoggedInTest, EncryptedSignedGetDeviceIdReachesTheDispatcherAndTheReplyVerifies) {
  auto m = request(c, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value()) << "no reply";
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(m->data, kCanned);
  EXPECT_EQ(m->cmd, kGetDeviceId);
  EXPECT_EQ(m->netfn, kApp | 1);
  EXPECT_EQ(m->rqSeq, c.rqSeq);
  ASSERT_EQ(dispatcher.calls.size(), 1u);
  const auto& call = dispatcher.calls[0];
  EXPECT_FALSE(call.ctx.outOfSession);
  EXPECT_TRUE(call.ctx.ipmi20);
  EXPECT_EQ(call.ctx.sessionId, c.bmcId);
  EXPECT_EQ(call.ctx.userId, kAdminId);
  EXPECT_EQ(call.ctx.channel, 1);
  EXPECT_EQ(call.ctx.privilege, Privilege::user) << "a session starts at User (or its maximum if lower)";
  EXPECT_EQ(call.ctx.sessions, &channel.sessions());
  EXPECT_EQ(call.cmd, kGetDeviceId);
  EXPECT_TRUE(call.data.empty());
}

TEST_F(LoggedInTest, TheSessionsPrivilegeReachesTheDispatcher) {
  auto set = request(c, kApp, kSetSessionPrivilege, {0x04});
  ASSERT_TRUE(set.has_value());
  ASSERT_EQ(set->cc, Cc::ok);
  EXPECT_EQ(set->data, (Bytes{0x04}));
  ASSERT_TRUE(request(c, kApp, kGetDeviceId).has_value());
  EXPECT_EQ(dispatcher.calls.back().ctx.privilege, Privilege::administrator);
  auto high = request(c, kApp, kSetSessionPrivilege, {0x05});
  ASSERT_TRUE(high.has_value());
  EXPECT_EQ(high->cc, Cc{0x81});
}

TEST_F(LoggedInTest, OneFlippedByteAnywhereInTheSessionPartIsDroppedAndCounted) {
  const Bytes msg = ipmiRequest(kApp, kGetDeviceId, {}, 0x07);
  const Bytes good = sessionPacket(c, msg, c.seq + 1);
  for (size_t i = 4; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    const uint64_t before = channel.counters().totalDropped();
    EXPECT_FALSE(channel.handle(bad, c.peer).has_value()) << "byte " << i;
    EXPECT_EQ(channel.counters().totalDropped(), before + 1) << "byte " << i;
  }
  EXPECT_TRUE(dispatcher.calls.empty());
  // Nothing above advanced the window: the genuine packet still goes through.
  auto reply = channel.handle(good, c.peer);
  ASSERT_TRUE(reply.has_value());
  ++c.seq;
  EXPECT_TRUE(openReply(c, *reply).has_value());
  EXPECT_EQ(dispatcher.calls.size(), 1u);
}

TEST_F(LoggedInTest, FlippedPayloadAuthCodeOrPadIsAnAuthenticationFailure) {
  const Bytes msg = ipmiRequest(kApp, kGetDeviceId, {}, 0x07);
  const Bytes good = sessionPacket(c, msg, c.seq + 1);
  const size_t codeLength = 16;
  const size_t payloadStart = 4 + 12;
  const size_t payloadLength = static_cast<size_t>(good[14]) | (static_cast<size_t>(good[15]) << 8);
  const size_t padStart = payloadStart + payloadLength;
  const size_t padLength = good[good.size() - codeLength - 2];
  ASSERT_GT(padLength, 0u) << "an encrypted payload of 16n bytes needs 2 pad bytes";
  struct Case {
    const char* what;
    size_t at;
  };
  const Case cases[] = {{"payload (IV)", payloadStart + 3},
                        {"payload (ciphertext)", payloadStart + payloadLength - 1},
                        {"auth code", good.size() - 1},
                        {"auth code", good.size() - codeLength},
                        {"pad", padStart}};
  for (const Case& k : cases) {
    Bytes bad = good;
    bad[k.at] ^= 0x80;
    const uint64_t before = dropped(Drop::authFailed);
    EXPECT_FALSE(channel.handle(bad, c.peer).has_value()) << k.what;
    EXPECT_EQ(dropped(Drop::authFailed), before + 1) << k.what;
  }
  EXPECT_TRUE(dispatcher.calls.empty());
  EXPECT_TRUE(creds.failures.empty()) << "an in-session bad packet is not a login failure";
}

TEST_F(LoggedInTest, AReplayedPacketIsDropped) {
  const Bytes msg = ipmiRequest(kApp, kGetDeviceId, {}, 0x09);
  const Bytes packet = sessionPacket(c, msg, ++c.seq);
  auto first = channel.handle(packet, c.peer);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(channel.handle(packet, c.peer).has_value());
  EXPECT_EQ(dropped(Drop::replay), 1u);
  EXPECT_EQ(dispatcher.calls.size(), 1u);
}

TEST_F(LoggedInTest, SequenceWindowIs15AheadAnd16Behind) {
  c.seq = 1000;
  ASSERT_TRUE(request(c, kApp, kGetDeviceId).has_value());  // establishes the top of the window
  const uint32_t top = c.seq;
  auto sendAt = [&](uint32_t seq) {
    return channel.handle(
        sessionPacket(c, ipmiRequest(kApp, kGetDeviceId, Bytes{static_cast<uint8_t>(seq)}, 0x20), seq), c.peer);
  };
  EXPECT_FALSE(sendAt(top + 20).has_value()) << "20 ahead";
  EXPECT_FALSE(sendAt(top + 16).has_value()) << "16 ahead";
  EXPECT_EQ(dropped(Drop::replay), 2u);
  EXPECT_TRUE(sendAt(top + 15).has_value()) << "15 ahead";
  EXPECT_TRUE(sendAt(top + 1).has_value()) << "14 behind the new top, never seen";
  EXPECT_FALSE(sendAt(top + 15).has_value()) << "duplicate";
  EXPECT_TRUE(sendAt(top + 15 - 16).has_value()) << "16 behind";
  EXPECT_FALSE(sendAt(top + 15 - 17).has_value()) << "17 behind";
  EXPECT_FALSE(sendAt(0).has_value()) << "sequence number 0 is never valid in a session";
}

TEST_F(LoggedInTest, UnauthenticatedOrUnencryptedPacketsInASuite17SessionAreDropped) {
  const Bytes msg = ipmiRequest(kApp, kGetDeviceId, {}, 0x0A);
  Console plain = c;
  plain.suite = *crypto::cipherSuite(0);  // neither signed nor encrypted
  Console signedOnly = c;
  signedOnly.suite = *crypto::cipherSuite(16);  // HMAC-SHA256-128, no encryption
  Console encryptedOnly = c;
  encryptedOnly.suite.integrity = IntegrityAlg::none;
  for (const Console* k : {&plain, &signedOnly, &encryptedOnly}) {
    EXPECT_FALSE(channel.handle(sessionPacket(*k, msg, ++c.seq), c.peer).has_value());
  }
  EXPECT_EQ(dropped(Drop::notAllowed), 3u);
  EXPECT_TRUE(dispatcher.calls.empty());
  // v1.5 framing with the RMCP+ session id.
  EXPECT_FALSE(channel.handle(v15Packet(AuthType15::none, ++c.seq, c.bmcId, msg, {}), c.peer).has_value());
  EXPECT_FALSE(channel.handle(v15Packet(AuthType15::md5, ++c.seq, c.bmcId, msg, padded(kAdminPassword, 16)), c.peer)
                   .has_value());
  EXPECT_TRUE(dispatcher.calls.empty());
}

TEST_F(LoggedInTest, ARetryIsAnsweredFromTheCacheWithoutDispatchingAgain) {
  const Bytes msg = ipmiRequest(0x00, 0x02, Bytes{0x02}, 0x15);  // Chassis Control: power cycle
  auto first = channel.handle(sessionPacket(c, msg, ++c.seq), c.peer);
  ASSERT_TRUE(first.has_value());
  auto firstMsg = openReply(c, *first);
  ASSERT_TRUE(firstMsg.has_value());
  ASSERT_EQ(dispatcher.calls.size(), 1u);

  auto retry = channel.handle(sessionPacket(c, msg, ++c.seq), c.peer);  // same rqSeq, new session seq
  ASSERT_TRUE(retry.has_value());
  auto retryMsg = openReply(c, *retry);
  ASSERT_TRUE(retryMsg.has_value());
  EXPECT_EQ(*retryMsg, *firstMsg);
  EXPECT_EQ(dispatcher.calls.size(), 1u) << "the power cycle must not run twice";
  EXPECT_EQ(channel.counters().cacheHits, 1u);

  // A new rqSeq, or the same rqSeq with other data, is a new command.
  ASSERT_TRUE(channel.handle(sessionPacket(c, ipmiRequest(0x00, 0x02, Bytes{0x02}, 0x16), ++c.seq), c.peer));
  EXPECT_EQ(dispatcher.calls.size(), 2u);
  ASSERT_TRUE(channel.handle(sessionPacket(c, ipmiRequest(0x00, 0x02, Bytes{0x00}, 0x15), ++c.seq), c.peer));
  EXPECT_EQ(dispatcher.calls.size(), 3u);
  ASSERT_TRUE(channel.handle(sessionPacket(c, ipmiRequest(0x00, 0x03, Bytes{0x02}, 0x15), ++c.seq), c.peer));
  EXPECT_EQ(dispatcher.calls.size(), 4u);
}

TEST_F(LoggedInTest, TheRetryCacheExpires) {
  const Bytes msg = ipmiRequest(0x00, 0x02, Bytes{0x01}, 0x21);
  ASSERT_TRUE(channel.handle(sessionPacket(c, msg, ++c.seq), c.peer).has_value());
  clock.advance(seconds(30));
  ASSERT_TRUE(channel.handle(sessionPacket(c, msg, ++c.seq), c.peer).has_value());
  EXPECT_EQ(dispatcher.calls.size(), 2u) << "a 30 s old entry is not a retry";
}

TEST_F(LoggedInTest, TheCacheIsPerSession) {
  const Bytes msg = ipmiRequest(0x00, 0x02, Bytes{0x02}, 0x15);
  ASSERT_TRUE(channel.handle(sessionPacket(c, msg, ++c.seq), c.peer).has_value());
  Console other;
  other.consoleId = 0xC0C0;
  other.peer = peerOf(4, 4444);
  ASSERT_NO_FATAL_FAILURE(login(other, 17));
  ASSERT_TRUE(channel.handle(sessionPacket(other, msg, ++other.seq), other.peer).has_value());
  EXPECT_EQ(dispatcher.calls.size(), 2u);
}

TEST_F(LoggedInTest, CloseSessionIsAnsweredThenTheSessionIsGone) {
  auto m = request(c, kApp, kCloseSession, le32(c.bmcId));
  ASSERT_TRUE(m.has_value()) << "the reply is sent, signed and encrypted with the session's keys";
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(channel.sessions().find(c.bmcId), nullptr);
  EXPECT_EQ(channel.sessions().size(), 0u);
  const size_t calls = dispatcher.calls.size();
  EXPECT_FALSE(request(c, kApp, kGetDeviceId).has_value());
  EXPECT_EQ(dispatcher.calls.size(), calls);
  EXPECT_GE(dropped(Drop::unknownSession), 1u);
}

TEST_F(LoggedInTest, WrongPeerForAnExistingSessionIsDropped) {
  const Bytes packet = sessionPacket(c, ipmiRequest(kApp, kGetDeviceId, {}, 0x30), c.seq + 1);
  PeerAddress otherPort = c.peer;
  otherPort.port = static_cast<uint16_t>(c.peer.port + 1);
  PeerAddress otherHost = c.peer;
  otherHost.addr[3] ^= 0xFF;
  PeerAddress v6 = c.peer;
  v6.v6 = true;
  for (const PeerAddress& p : {otherPort, otherHost, v6}) EXPECT_FALSE(channel.handle(packet, p).has_value());
  EXPECT_EQ(dropped(Drop::wrongPeer), 3u);
  EXPECT_TRUE(dispatcher.calls.empty());
  EXPECT_TRUE(channel.handle(packet, c.peer).has_value()) << "the real console is unaffected";
}

TEST_F(LoggedInTest, NonIpmiPayloadsInASessionAreNotAnswered) {
  const Bytes data = {0x01, 0x00, 0x00, 0x00, 'h', 'i'};
  EXPECT_FALSE(channel.handle(sessionPacket(c, data, ++c.seq, 0x01), c.peer).has_value());  // SOL
  EXPECT_FALSE(channel.handle(sessionPacket(c, data, ++c.seq, 0x10), c.peer).has_value());
  EXPECT_TRUE(dispatcher.calls.empty());
  EXPECT_TRUE(request(c, kApp, kGetDeviceId).has_value());
}

TEST_F(LoggedInTest, ResponsesToARequestFromTheBmcNetFnAreNotDispatched) {
  Bytes msg = ipmiRequest(kApp | 1, kGetDeviceId, {}, 0x05);  // odd NetFn: a response
  EXPECT_FALSE(channel.handle(sessionPacket(c, msg, ++c.seq), c.peer).has_value());
  msg = ipmiRequest(kApp, kGetDeviceId, {}, 0x05);
  msg.back() ^= 0x01;  // bad checksum
  EXPECT_FALSE(channel.handle(sessionPacket(c, msg, ++c.seq), c.peer).has_value());
  EXPECT_TRUE(dispatcher.calls.empty());
}

TEST_F(LanChannelTest, TwoConsolesHaveIndependentSessions) {
  Console a;
  Console b;
  b.consoleId = 0x0B0B0B0B;
  b.peer = peerOf(5, 5555);
  ASSERT_NO_FATAL_FAILURE(login(a, 17));
  ASSERT_NO_FATAL_FAILURE(login(b, 3));
  EXPECT_NE(a.bmcId, b.bmcId);
  ASSERT_TRUE(request(a, kApp, kGetDeviceId).has_value());
  ASSERT_TRUE(request(b, kApp, kGetDeviceId).has_value());
  // b's keys do not open a's session.
  Console forged = b;
  forged.bmcId = a.bmcId;
  forged.peer = a.peer;
  EXPECT_FALSE(channel.handle(sessionPacket(forged, ipmiRequest(kApp, kGetDeviceId, {}, 9), 1000), a.peer));
  EXPECT_EQ(dispatcher.calls.size(), 2u);
}

// ---- Every implemented suite, lab mode ---------------------------------------------------------------------

class AllSuitesTest : public LanChannelTest, public ::testing::WithParamInterface<uint8_t> {};

TEST_P(AllSuitesTest, LoginAndOneRequest) {
  const uint8_t suiteId = GetParam();
  security.cipherSuites.assign(crypto::implementedSuiteIds().begin(), crypto::implementedSuiteIds().end());
  Console c;
  ASSERT_NO_FATAL_FAILURE(login(c, suiteId));
  EXPECT_EQ(c.suite.id, suiteId);
  auto m = request(c, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(m->data, kCanned);
  auto again = request(c, kApp, kGetDeviceId, {0x01});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(dispatcher.calls.size(), 2u);
  EXPECT_EQ(dispatcher.calls.back().ctx.sessionId, c.bmcId);
}

INSTANTIATE_TEST_SUITE_P(LabMode, AllSuitesTest, ::testing::Values(0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17),
                         [](const ::testing::TestParamInfo<uint8_t>& suite) {
                           return "Suite" + std::to_string(suite.param);
                         });

TEST_F(LanChannelTest, Suite0And1And2OnlyWhenEnabled) {
  for (uint8_t suiteId : {uint8_t{0}, uint8_t{1}, uint8_t{2}}) {
    Console c;
    auto open = openSession(c, suiteId);
    ASSERT_TRUE(open.has_value());
    EXPECT_EQ((*open)[1], 0x11) << "suite " << int{suiteId} << " is off by default";
  }
  security.cipherSuites = {17, 3, 0, 1, 2};
  for (uint8_t suiteId : {uint8_t{0}, uint8_t{1}, uint8_t{2}}) {
    Console c;
    c.consoleId = 0x300u + suiteId;
    ASSERT_NO_FATAL_FAILURE(login(c, suiteId)) << "suite " << int{suiteId};
    auto m = request(c, kApp, kGetDeviceId);
    ASSERT_TRUE(m.has_value()) << "suite " << int{suiteId};
    EXPECT_EQ(m->cc, Cc::ok);
  }
}

TEST_F(LanChannelTest, Suite2PacketsMustBeSignedAndAFlippedByteIsDropped) {
  security.cipherSuites = {2};
  Console c;
  ASSERT_NO_FATAL_FAILURE(login(c, 2));
  const Bytes good = sessionPacket(c, ipmiRequest(kApp, kGetDeviceId, {0x01, 0x02}, 0x01), c.seq + 1);
  for (size_t i = 4; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x04;
    EXPECT_FALSE(channel.handle(bad, c.peer).has_value()) << "byte " << i;
  }
  Console plain = c;
  plain.suite = *crypto::cipherSuite(0);
  EXPECT_FALSE(channel.handle(sessionPacket(plain, ipmiRequest(kApp, kGetDeviceId, {}, 2), c.seq + 1), c.peer));
  EXPECT_TRUE(dispatcher.calls.empty());
  auto reply = channel.handle(good, c.peer);
  ASSERT_TRUE(reply.has_value());
  ++c.seq;
  EXPECT_TRUE(openReply(c, *reply).has_value());
}

// ---- IPMI v1.5 ----------------------------------------------------------------------------------------

TEST_F(LanChannelTest, GetSessionChallengeForAnUnknownUserIs0x81) {
  Console15 c;
  c.user = "nobody";
  auto m = getChallenge(c, 0x02);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc{0x81});
  EXPECT_TRUE(m->data.empty());
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, GetSessionChallengeForADisabledAuthTypeIs0xCC) {
  for (uint8_t type : {uint8_t{0x00}, uint8_t{0x01}, uint8_t{0x04}, uint8_t{0x05}}) {
    Console15 c;
    auto m = getChallenge(c, type);
    ASSERT_TRUE(m.has_value()) << int{type};
    EXPECT_EQ(m->cc, Cc::invalidField) << "auth type " << int{type};
    EXPECT_TRUE(m->data.empty());
  }
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, GetSessionChallengeGivesATemporaryIdAndChallenge) {
  Console15 c;
  auto m = getChallenge(c, 0x02);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->cc, Cc::ok);
  ASSERT_EQ(m->data.size(), 20u);
  Session* s = channel.sessions().find(c.sid);
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->ipmi20);
  EXPECT_EQ(s->state, SessionState::challenged);
  EXPECT_EQ(Bytes(s->challenge.begin(), s->challenge.end()), Bytes(c.challenge.begin(), c.challenge.end()));
  EXPECT_TRUE(dispatcher.calls.empty()) << "handled by the session layer";
}

TEST_F(LanChannelTest, ActivateSessionWithTheRightMd5CodeOpensASession) {
  Console15 c;
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  Session* s = channel.sessions().find(c.sid);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, SessionState::active);
  EXPECT_EQ(creds.successes, (std::vector<uint8_t>{kAdminId}));
  EXPECT_EQ(channel.counters().sessionsOpened, 1u);

  auto m = request15(c, c.inbound, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(m->data, kCanned);
  ASSERT_EQ(dispatcher.calls.size(), 1u);
  EXPECT_FALSE(dispatcher.calls[0].ctx.outOfSession);
  EXPECT_FALSE(dispatcher.calls[0].ctx.ipmi20);
  EXPECT_EQ(dispatcher.calls[0].ctx.sessionId, c.sid);
  EXPECT_EQ(dispatcher.calls[0].ctx.userId, kAdminId);
  EXPECT_EQ(dispatcher.calls[0].ctx.privilege, Privilege::user);
}

TEST_F(LanChannelTest, Ipmi15SequenceWindowFollowsTheReturnedInboundNumber) {
  Console15 c;
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  const uint32_t n = c.inbound;
  ASSERT_TRUE(request15(c, n, kApp, kGetDeviceId).has_value()) << "the returned inbound number";
  EXPECT_FALSE(request15(c, n, kApp, kGetDeviceId).has_value()) << "duplicate";
  EXPECT_TRUE(request15(c, n + 8, kApp, kGetDeviceId).has_value()) << "+8";
  EXPECT_FALSE(request15(c, n + 8, kApp, kGetDeviceId).has_value()) << "duplicate";
  EXPECT_FALSE(request15(c, n + 17, kApp, kGetDeviceId).has_value()) << "+9 beyond the top";
  EXPECT_TRUE(request15(c, n + 3, kApp, kGetDeviceId).has_value()) << "behind, unseen";
  EXPECT_FALSE(request15(c, n + 3, kApp, kGetDeviceId).has_value()) << "duplicate";
  EXPECT_TRUE(request15(c, n + 16, kApp, kGetDeviceId).has_value()) << "+8 again";
  EXPECT_EQ(dispatcher.calls.size(), 4u);
  EXPECT_EQ(dropped(Drop::replay), 4u);
}

TEST_F(LanChannelTest, ActivateSessionWithAWrongAuthCodeIsDroppedAndRecorded) {
  Console15 c;
  auto ch = getChallenge(c, 0x02);
  ASSERT_TRUE(ch.has_value());
  ASSERT_EQ(ch->cc, Cc::ok);
  const Bytes msg = activateMessage(c);
  EXPECT_FALSE(send(v15Packet(c.type, 0, c.sid, msg, padded("not-the-password", 16)), c.peer).has_value());
  EXPECT_EQ(creds.failures, (std::vector<uint8_t>{kAdminId}));
  EXPECT_EQ(dropped(Drop::authFailed), 1u);
  EXPECT_EQ(channel.sessions().find(c.sid), nullptr);
  EXPECT_FALSE(send(v15Packet(c.type, 0, c.sid, msg, c.password16), c.peer).has_value()) << "no second try";
  EXPECT_TRUE(creds.successes.empty());
}

TEST_F(LanChannelTest, ActivateSessionWithAWrongChallengeIsRefused) {
  Console15 c;
  auto ch = getChallenge(c, 0x02);
  ASSERT_TRUE(ch.has_value());
  c.challenge[0] ^= 0xFF;
  EXPECT_FALSE(send(v15Packet(c.type, 0, c.sid, activateMessage(c), c.password16), c.peer).has_value());
  EXPECT_EQ(channel.sessions().activeSessions(), 0);
}

TEST_F(LanChannelTest, ActivateSessionAboveTheUsersPrivilegeIs0x86) {
  Console15 c;
  c.user = "oper";
  c.password16 = padded("operpass", 16);
  auto ch = getChallenge(c, 0x02);
  ASSERT_TRUE(ch.has_value());
  ASSERT_EQ(ch->cc, Cc::ok);
  auto reply = send(v15Packet(c.type, 0, c.sid, activateMessage(c, 0x04), c.password16), c.peer);
  ASSERT_TRUE(reply.has_value());
  auto p = parseV15(*reply);
  ASSERT_TRUE(p.has_value());
  auto m = parseResponse(p->message);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc{0x86});
  EXPECT_TRUE(m->data.empty());
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, Ipmi15InSessionPacketWithABadAuthCodeIsDropped) {
  Console15 c;
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  const Bytes msg = ipmiRequest(kApp, kGetDeviceId, {0x10, 0x20}, 0x33);
  Bytes bad = v15Packet(c.type, c.inbound, c.sid, msg, c.password16);
  bad[4 + 9 + 3] ^= 0x01;  // inside the auth code
  EXPECT_FALSE(channel.handle(bad, c.peer).has_value());
  // Two data bytes changed so that the message checksum still holds: only the auth code can tell.
  Bytes badMsg = v15Packet(c.type, c.inbound, c.sid, msg, c.password16);
  const size_t dataAt = badMsg.size() - msg.size() + 6;
  ++badMsg[dataAt];
  --badMsg[dataAt + 1];
  EXPECT_FALSE(channel.handle(badMsg, c.peer).has_value());
  EXPECT_EQ(dropped(Drop::authFailed), 2u);
  Bytes none = v15Packet(AuthType15::none, c.inbound, c.sid, msg, {});
  EXPECT_FALSE(channel.handle(none, c.peer).has_value()) << "the session's auth type is MD5";
  EXPECT_TRUE(dispatcher.calls.empty());
  EXPECT_NE(channel.sessions().find(c.sid), nullptr) << "an active session survives bad packets";
  EXPECT_TRUE(creds.failures.empty());
  EXPECT_TRUE(request15(c, c.inbound, kApp, kGetDeviceId).has_value());
}

TEST_F(LanChannelTest, Ipmi15UnsignedPacketsOnlyWithPerMessageAuthenticationDisabled) {
  Console15 c;
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  const Bytes msg = ipmiRequest(kApp, kGetDeviceId, {}, 0x35);
  EXPECT_FALSE(channel.handle(v15Packet(AuthType15::none, c.inbound, c.sid, msg, {}), c.peer).has_value());
  security.perMessageAuth = false;  // IPMI v2.0 §6.12.4
  auto reply = channel.handle(v15Packet(AuthType15::none, c.inbound, c.sid, msg, {}), c.peer);
  ASSERT_TRUE(reply.has_value());
  auto p = parseV15(*reply);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->authType, 0);
  EXPECT_EQ(p->sid, c.sid);
  EXPECT_FALSE(channel.handle(v15Packet(AuthType15::none, c.inbound, c.sid, msg, {}), c.peer).has_value())
      << "unsigned packets still go through the sequence window";
  // Signed packets remain valid and checked.
  EXPECT_TRUE(request15(c, c.inbound + 1, kApp, kGetDeviceId).has_value());
  EXPECT_FALSE(channel.handle(v15Packet(c.type, c.inbound + 2, c.sid, msg, padded("bad", 16)), c.peer).has_value());
}

TEST_F(LanChannelTest, Ipmi15ActivateSessionMustBeSignedEvenWithoutPerMessageAuthentication) {
  security.perMessageAuth = false;
  Console15 c;
  auto ch = getChallenge(c, 0x02);
  ASSERT_TRUE(ch.has_value());
  ASSERT_EQ(ch->cc, Cc::ok);
  EXPECT_FALSE(send(v15Packet(AuthType15::none, 0, c.sid, activateMessage(c), {}), c.peer).has_value());
  EXPECT_EQ(channel.sessions().activeSessions(), 0);
}

TEST_F(LanChannelTest, Ipmi15WrongPeerIsDropped) {
  Console15 c;
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  const Bytes packet = v15Packet(c.type, c.inbound, c.sid, ipmiRequest(kApp, kGetDeviceId, {}, 0x34), c.password16);
  PeerAddress other = c.peer;
  other.port = static_cast<uint16_t>(other.port + 1);
  EXPECT_FALSE(channel.handle(packet, other).has_value());
  EXPECT_EQ(dropped(Drop::wrongPeer), 1u);
  EXPECT_TRUE(channel.handle(packet, c.peer).has_value());
}

TEST_F(LanChannelTest, Ipmi15ActivateFromAnotherPeerIsDropped) {
  Console15 c;
  ASSERT_TRUE(getChallenge(c, 0x02).has_value());
  PeerAddress other = c.peer;
  other.addr[0] = 192;
  EXPECT_FALSE(send(v15Packet(c.type, 0, c.sid, activateMessage(c), c.password16), other).has_value());
  EXPECT_EQ(dropped(Drop::wrongPeer), 1u);
  EXPECT_TRUE(creds.failures.empty());
}

TEST_F(LanChannelTest, Ipmi15CloseSessionRemovesTheSessionAfterTheReply) {
  Console15 c;
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  auto m = request15(c, c.inbound, kApp, kCloseSession, le32(c.sid));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(channel.sessions().find(c.sid), nullptr);
  EXPECT_FALSE(request15(c, c.inbound + 1, kApp, kGetDeviceId).has_value());
}

TEST_F(LanChannelTest, Ipmi15DisabledDropsEverythingButAuthCaps) {
  security.ipmi15Enabled = false;
  Console15 c;
  EXPECT_FALSE(getChallenge(c, 0x02).has_value());
  auto reply = send(v15Packet(AuthType15::none, 0, 0, ipmiRequest(kApp, kGetAuthCaps, {0x8E, 0x04}, 1), {}), c.peer);
  EXPECT_TRUE(reply.has_value());
}

// Access mode "disabled" (Set Channel Access, IPMI v2.0 §22.22): no session set-up, answered at once
// rather than with silence; discovery still answered; sessions already open keep working.
TEST_F(LanChannelTest, ADisabledChannelRefusesSessionSetUpAtOnceAndKeepsOpenSessions) {
  Console open20;
  ASSERT_NO_FATAL_FAILURE(login(open20, 17));
  Console15 open15;
  ASSERT_NO_FATAL_FAILURE(activate15(open15));
  Console half;  // Open Session and RAKP 1 done, RAKP 3 still to come
  half.consoleId = 0x0BADCAFE;
  half.peer = peerOf(3, 3000);
  auto halfOpen = openSession(half, 17);
  ASSERT_TRUE(halfOpen.has_value());
  ASSERT_EQ((*halfOpen)[1], 0x00);
  auto halfRakp2 = rakp1(half);
  ASSERT_TRUE(halfRakp2.has_value());
  Console afterOpen;  // Open Session done, RAKP 1 still to come
  afterOpen.consoleId = 0x0BADF00D;
  afterOpen.peer = peerOf(4, 4000);
  ASSERT_TRUE(openSession(afterOpen, 3).has_value());
  Console15 challenged;  // Get Session Challenge done, Activate Session still to come
  challenged.peer = peerOf(5, 5000);
  auto challenge = getChallenge(challenged, 0x02);
  ASSERT_TRUE(challenge.has_value());
  ASSERT_EQ(challenge->cc, Cc::ok);
  const size_t before = channel.sessions().size();

  security.channelEnabled = false;

  // Discovery, both formats: answered by the dispatcher as usual.
  const size_t calls = dispatcher.calls.size();
  auto caps = send(v15Packet(AuthType15::none, 0, 0, ipmiRequest(kApp, kGetAuthCaps, {0x8E, 0x04}, 1), {}), peerOf(9, 1));
  ASSERT_TRUE(caps.has_value());
  auto suites = send(v20Plain(0x00, 0, 0, ipmiRequest(kApp, kGetCipherSuites, {0x0E, 0x00, 0x80}, 2)), peerOf(9, 1));
  ASSERT_TRUE(suites.has_value());
  EXPECT_EQ(dispatcher.calls.size(), calls + 2);

  // Other session-less requests: D5h ("not supported in present state") without reaching the dispatcher.
  auto challenge15 = getChallenge(challenged, 0x02);
  ASSERT_TRUE(challenge15.has_value());
  EXPECT_EQ(challenge15->cc, Cc::notSupportedInState);
  auto v20DeviceId = send(v20Plain(0x00, 0, 0, ipmiRequest(kApp, kGetDeviceId, {}, 3)), peerOf(9, 1));
  ASSERT_TRUE(v20DeviceId.has_value());
  auto p = parseV20(*v20DeviceId);
  ASSERT_TRUE(p.has_value());
  auto m = parseResponse(p->payload);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::notSupportedInState);
  EXPECT_EQ(dispatcher.calls.size(), calls + 2);

  // Open Session, RAKP 1 and RAKP 3: status 01h (insufficient resources); the pending sessions go.
  Console fresh;
  fresh.consoleId = 0x0FEEDFED;
  fresh.peer = peerOf(6, 6000);
  auto refused = openSession(fresh, 17);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ((*refused)[1], 0x01);
  EXPECT_EQ(readLe32(*refused, 4), fresh.consoleId);
  auto rakp2 = rakp1(afterOpen);
  ASSERT_TRUE(rakp2.has_value());
  EXPECT_EQ((*rakp2)[1], 0x01);
  auto rakp4 = rakp3(half, rakp3Code(half));
  ASSERT_TRUE(rakp4.has_value());
  EXPECT_EQ((*rakp4)[1], 0x01);
  EXPECT_EQ(channel.sessions().find(half.bmcId), nullptr);
  EXPECT_EQ(channel.sessions().find(afterOpen.bmcId), nullptr);
  // A challenge from before cannot be turned into a session now.
  EXPECT_FALSE(send(v15Packet(AuthType15::md5, 0, challenged.sid, activateMessage(challenged), challenged.password16),
                    challenged.peer)
                   .has_value());
  EXPECT_EQ(channel.sessions().find(challenged.sid), nullptr);
  EXPECT_EQ(channel.sessions().size(), before - 3);

  // The sessions already open, RMCP+ and IPMI 1.5, keep their messaging.
  auto r20 = request(open20, kApp, kGetDeviceId);
  ASSERT_TRUE(r20.has_value());
  EXPECT_EQ(r20->cc, Cc::ok);
  auto r15 = request15(open15, open15.inbound, kApp, kGetDeviceId);
  ASSERT_TRUE(r15.has_value());
  EXPECT_EQ(r15->cc, Cc::ok);

  // Enabled again: set-up works as before.
  security.channelEnabled = true;
  Console again;
  again.consoleId = 0x0A6A1A00;
  again.peer = peerOf(7, 7000);
  ASSERT_NO_FATAL_FAILURE(login(again, 17));
}

TEST_F(LanChannelTest, GetSessionChallengeForALockedOutUserIs0x81) {
  creds.locked.insert(kAdminId);
  Console15 c;
  auto m = getChallenge(c, 0x02);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc{0x81});
  EXPECT_EQ(channel.sessions().size(), 0u);
}

class Ipmi15AuthTypesTest : public LanChannelTest, public ::testing::WithParamInterface<AuthType15> {};

TEST_P(Ipmi15AuthTypesTest, LabModeSessionWithEachAuthType) {
  security.authTypes15 = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 4);
  Console15 c;
  c.type = GetParam();
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  auto m = request15(c, c.inbound, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
  EXPECT_EQ(m->data, kCanned);
  EXPECT_FALSE(request15(c, c.inbound, kApp, kGetDeviceId).has_value()) << "replay";
}

INSTANTIATE_TEST_SUITE_P(LabMode, Ipmi15AuthTypesTest,
                         ::testing::Values(AuthType15::none, AuthType15::md2, AuthType15::md5, AuthType15::password),
                         [](const ::testing::TestParamInfo<AuthType15>& type) {
                           return "AuthType" + std::to_string(static_cast<int>(type.param));
                         });

TEST_F(LanChannelTest, Ipmi15WrongPasswordIsRefusedForEverySignedAuthType) {
  security.authTypes15 = (1u << 1) | (1u << 2) | (1u << 4);
  for (AuthType15 type : {AuthType15::md2, AuthType15::md5, AuthType15::password}) {
    Console15 c;
    c.type = type;
    auto ch = getChallenge(c, static_cast<uint8_t>(type));
    ASSERT_TRUE(ch.has_value());
    ASSERT_EQ(ch->cc, Cc::ok);
    EXPECT_FALSE(send(v15Packet(type, 0, c.sid, activateMessage(c), padded("guess", 16)), c.peer).has_value())
        << "auth type " << static_cast<int>(type);
  }
  EXPECT_EQ(creds.failures.size(), 3u);
  EXPECT_EQ(channel.sessions().size(), 0u);
}

TEST_F(LanChannelTest, AFloodOfOpenSessionsLeavesActiveSessionsAlone) {
  Console c;
  ASSERT_NO_FATAL_FAILURE(login(c, 17));
  for (uint32_t i = 0; i < 3 * SessionTable::kMaxPending; ++i) {
    Console flood;
    flood.consoleId = 0x70000000u + i;
    flood.peer = peerOf(static_cast<uint8_t>(100 + i % 50), static_cast<uint16_t>(1024 + i));
    auto open = openSession(flood, 17);
    ASSERT_TRUE(open.has_value());
    ASSERT_EQ((*open)[1], 0x00) << "pending sessions recycle their own slots";
  }
  EXPECT_LE(channel.sessions().pendingCount(), SessionTable::kMaxPending);
  auto m = request(c, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
}

TEST_F(LanChannelTest, SessionlessRepliesAmplifyLessThanThreeTimes) {
  auto ratio = [](size_t reply, size_t request) { return static_cast<double>(reply) / static_cast<double>(request); };
  const Bytes ping = asfPing(0xFF, 1);
  auto pong = send(ping, peerOf(9, 1000));
  ASSERT_TRUE(pong.has_value());
  EXPECT_LT(ratio(pong->size(), ping.size()), 3.0);

  Console c;
  const Bytes open = v20Plain(kOpenReq, 0, 0, openSessionPayload(c.consoleId, 0x03, 0x04, 0x01, 0x04));
  auto openReply = send(open, c.peer);
  ASSERT_TRUE(openReply.has_value());
  EXPECT_LT(ratio(openReply->size(), open.size()), 3.0);
  c.suite = *crypto::cipherSuite(17);
  c.bmcId = readLe32(parseV20(*openReply)->payload, 8);
  c.user = "a";  // the shortest RAKP 1 gets the longest relative answer
  creds.add(9, "a", "pw", Privilege::administrator);
  c.key = padded("pw", 20);
  const Bytes r1 = v20Plain(kRakp1, 0, 0, rakp1Payload(c));
  auto r2 = send(r1, c.peer);
  ASSERT_TRUE(r2.has_value());
  EXPECT_LT(ratio(r2->size(), r1.size()), 3.0);
}

// ---- Truncation -------------------------------------------------------------------------------------------

TEST_F(LanChannelTest, EveryPrefixOfEveryRmcpPlusPacketIsDroppedWithoutAReply) {
  checkPrefixes = true;
  Console c0;
  ASSERT_TRUE(send(asfPing(0xFF, 3), c0.peer).has_value());
  ASSERT_TRUE(send(v15Packet(AuthType15::none, 0, 0, ipmiRequest(kApp, kGetAuthCaps, {0x8E, 0x04}, 1), {}), c0.peer));
  ASSERT_TRUE(send(v20Plain(0, 0, 0, ipmiRequest(kApp, kGetCipherSuites, {0x0E, 0x00, 0x80}, 2)), c0.peer));
  ASSERT_NO_FATAL_FAILURE(login(c0, 17));
  auto m = request(c0, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->cc, Cc::ok);
  m = request(c0, kApp, kCloseSession, le32(c0.bmcId));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(channel.counters().replied, 8u);
}

TEST_F(LanChannelTest, EveryPrefixOfEveryIpmi15PacketIsDroppedWithoutAReply) {
  checkPrefixes = true;
  Console15 c;
  ASSERT_NO_FATAL_FAILURE(activate15(c));
  auto m = request15(c, c.inbound, kApp, kGetDeviceId);
  ASSERT_TRUE(m.has_value());
  m = request15(c, c.inbound + 1, kApp, kCloseSession, le32(c.sid));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(channel.counters().replied, 4u);
}

TEST_F(LanChannelTest, EveryPrefixOfEveryPacketOfAnUnencryptedSuiteIsDropped) {
  security.cipherSuites = {2, 1, 0};
  checkPrefixes = true;
  for (uint8_t suiteId : {uint8_t{2}, uint8_t{1}, uint8_t{0}}) {
    Console c;
    c.consoleId = 0x400u + suiteId;
    ASSERT_NO_FATAL_FAILURE(login(c, suiteId));
    EXPECT_TRUE(request(c, kApp, kGetDeviceId, {0x01, 0x02, 0x03}).has_value());
  }
}

TEST_F(LanChannelTest, LengthFieldsLargerThanTheDatagramAreDropped) {
  Console c;
  Bytes open = v20Plain(kOpenReq, 0, 0, openSessionPayload(0x1234, 3, 4, 1, 4));
  open[14] = 0xFF;  // payload length LS byte
  open[15] = 0xFF;
  EXPECT_FALSE(channel.handle(open, c.peer).has_value());
  Bytes v15 = v15Packet(AuthType15::none, 0, 0, ipmiRequest(kApp, kGetAuthCaps, {0x8E, 0x04}, 1), {});
  v15[13] = 0xFF;  // message length
  EXPECT_FALSE(channel.handle(v15, c.peer).has_value());
  EXPECT_EQ(channel.counters().totalDropped(), 2u);
  EXPECT_TRUE(dispatcher.calls.empty());
  EXPECT_EQ(channel.sessions().size(), 0u);
}

}  // namespace
}  // namespace simbmc::net
