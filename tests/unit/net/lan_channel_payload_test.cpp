// LanChannel payload hooks (net/lan_channel.hpp, net/dispatch.hpp PayloadChannel/PayloadHandler):
// routing of activated non-IPMI payloads (SOL) after integrity, decryption and the sequence window,
// the granted inbound size, unsolicited sends through the transmit callback, and the session-close
// notification. Sessions are made active directly in the SessionTable (the RMCP+ handshake has its
// own tests in lan_channel_test.cpp). Plus the UdpServer wiring on a loopback socket.
// IPMI v2.0 §13.6 (RMCP+ session header), §13.28 (integrity, confidentiality), §24.1 (activation).
#include <utility>  // before Asio (Boost 1.74 with g++ 12 in C++20)

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "net/crypto.hpp"
#include "net/lan_channel.hpp"
#include "net/udp_server.hpp"
#include "no_credentials.hpp"

namespace simbmc::net {
namespace {

using std::chrono::seconds;

constexpr std::array<uint8_t, 16> kGuid{};
constexpr uint8_t kSol = kPayloadTypeSol;

using testing::NoCredentials;

// Answers everything with CC 0; Close Session goes to the channel's SessionControl like bmc/ does.
class RecordingDispatcher final : public Dispatcher {
 public:
  std::optional<IpmiResponse> dispatch(const RequestContext& ctx, const IpmiRequest& req) override {
    contexts.push_back(ctx);
    if (req.netfn == 0x06 && req.cmd == 0x3C && ctx.sessions != nullptr) {
      Reader r(req.data);
      const uint32_t id = r.u32le();
      return IpmiResponse{ctx.sessions->closeSession(ctx.sessionId, id, 0), {}};
    }
    if (onDispatch) onDispatch(ctx);
    return IpmiResponse{Cc::ok, {}};
  }
  std::vector<RequestContext> contexts;
  std::function<void(const RequestContext&)> onDispatch;
};

class RecordingHandler final : public PayloadHandler {
 public:
  void onPayload(uint32_t sid, uint8_t type, ByteView p) override {
    got.push_back({sid, type, Bytes(p.begin(), p.end())});
    if (reply) reply(sid);
  }
  void onSessionClosed(uint32_t sid) override { closed.push_back(sid); }
  struct Got {
    uint32_t sid;
    uint8_t type;
    Bytes payload;
  };
  std::vector<Got> got;
  std::vector<uint32_t> closed;
  std::function<void(uint32_t)> reply;
};

PeerAddress peer(uint8_t last, uint16_t port) {
  PeerAddress p;
  p.addr = {10, 1, 1, last};
  p.port = port;
  return p;
}

// One console's view of an active session: keys are made up, the channel is told them directly.
struct Console {
  PeerAddress from;
  crypto::CipherSuite suite;
  uint32_t bmcId = 0, consoleId = 0;
  Bytes k1, k2, userKey;
  uint32_t seq = 0;

  // An RMCP+ packet; `encrypt`/`sign` default to what the suite negotiates.
  Bytes packet(uint8_t type, ByteView payload, std::optional<bool> encrypt = {}, std::optional<uint32_t> seqNo = {}) {
    const bool auth = suite.integrity != crypto::IntegrityAlg::none;
    const bool enc = encrypt.value_or(suite.conf != crypto::ConfAlg::none);
    const Bytes body = enc ? crypto::aesCbc128Encrypt(k2, payload) : Bytes(payload.begin(), payload.end());
    Bytes d{0x06, 0x00, 0xFF, 0x07};
    const size_t start = d.size();
    Writer w(d);
    w.u8(0x06).u8(static_cast<uint8_t>(type | (enc ? 0x80 : 0) | (auth ? 0x40 : 0)));
    w.u32le(bmcId).u32le(seqNo.value_or(++seq)).u16le(static_cast<uint16_t>(body.size())).bytes(body);
    if (auth) {
      const size_t pad = (4 - (d.size() - start + 2) % 4) % 4;
      for (size_t i = 0; i < pad; ++i) w.u8(0xFF);
      w.u8(static_cast<uint8_t>(pad)).u8(0x07);
      w.bytes(crypto::integrityCode(suite.integrity, k1, userKey, ByteView(d).subspan(start)));
    }
    return d;
  }

  struct Decoded {
    uint8_t type;
    bool encrypted, signedOk;
    uint32_t sid, seq;
    Bytes payload;
  };
  // Checks the integrity code and decrypts, as the console would.
  std::optional<Decoded> decode(ByteView d) const {
    if (d.size() < 16 || d[4] != 0x06) return std::nullopt;
    Reader r(d.subspan(5));
    Decoded out{};
    const uint8_t pt = r.u8();
    out.type = pt & 0x3F;
    out.encrypted = (pt & 0x80) != 0;
    out.sid = r.u32le();
    out.seq = r.u32le();
    ByteView body = r.bytes(r.u16le());
    if (!r.ok()) return std::nullopt;
    const size_t codeLen = crypto::integrityCodeLength(suite.integrity);
    if ((pt & 0x40) != 0) {
      ByteView signedPart = d.subspan(4, d.size() - 4 - codeLen);
      out.signedOk = crypto::constantTimeEqual(crypto::integrityCode(suite.integrity, k1, userKey, signedPart),
                                               d.subspan(d.size() - codeLen));
    }
    if (out.encrypted) {
      auto plain = crypto::aesCbc128Decrypt(k2, body);
      if (!plain) return std::nullopt;
      out.payload = *plain;
    } else {
      out.payload.assign(body.begin(), body.end());
    }
    return out;
  }
};

class LanChannelPayloadTest : public ::testing::Test {
 protected:
  LanChannelPayloadTest() {
    channel.setPayloadHandler(&handler);
    channel.setTransmit([this](const PeerAddress& to, ByteView d) { wire.push_back({to, Bytes(d.begin(), d.end())}); });
  }

  Console login(uint8_t suiteId, uint8_t last = 2) {
    Console c;
    c.from = peer(last, static_cast<uint16_t>(40000 + last));
    c.suite = *crypto::cipherSuite(suiteId);
    Session* s = channel.sessions().createPending(true, c.from);
    EXPECT_NE(s, nullptr);
    c.bmcId = s->id;
    c.consoleId = 0xC0DE0000u + last;
    c.k1 = Bytes(32, static_cast<uint8_t>(0x10 + last));
    c.k2 = Bytes(32, static_cast<uint8_t>(0x20 + last));
    c.userKey = Bytes(20, 0x33);
    s->remoteId = c.consoleId;
    s->suite = c.suite;
    s->k1 = c.k1;
    s->k2 = c.k2;
    s->userKey = c.userKey;
    s->privilege = s->maxPrivilege = Privilege::administrator;
    EXPECT_TRUE(channel.sessions().activate(*s));
    return c;
  }

  uint64_t dropped(Drop why) const { return channel.counters().dropped[static_cast<size_t>(why)]; }

  FakeClock clock;
  ChannelSecurity security;
  NoCredentials credentials;
  RecordingDispatcher dispatcher;
  RecordingHandler handler;
  LanChannel channel{security, credentials, dispatcher, clock, kGuid};
  struct Out {
    PeerAddress to;
    Bytes data;
  };
  std::vector<Out> wire;
};

const Bytes kSolPacket = {0x01, 0x00, 0x00, 0x00, 'h', 'i'};

TEST_F(LanChannelPayloadTest, SolBeforeActivationIsDropped) {
  Console c = login(17);
  EXPECT_FALSE(channel.handle(c.packet(kSol, kSolPacket), c.from).has_value());
  EXPECT_TRUE(handler.got.empty());
  EXPECT_EQ(dropped(Drop::notAllowed), 1u);
}

TEST_F(LanChannelPayloadTest, AnActivatedPayloadReachesTheHandlerDecrypted) {
  Console c = login(17);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  EXPECT_FALSE(channel.handle(c.packet(kSol, kSolPacket), c.from).has_value());
  ASSERT_EQ(handler.got.size(), 1u);
  EXPECT_EQ(handler.got[0].sid, c.bmcId);
  EXPECT_EQ(handler.got[0].type, kSol);
  EXPECT_EQ(handler.got[0].payload, kSolPacket);
  EXPECT_EQ(channel.counters().payloadsReceived, 1u);
  EXPECT_TRUE(wire.empty());
}

TEST_F(LanChannelPayloadTest, OtherSessionsDoNotShareTheActivation) {
  Console a = login(17, 2), b = login(17, 3);
  ASSERT_TRUE(channel.openPayload(a.bmcId, kSol, PayloadGrant{true, 259}));
  channel.handle(b.packet(kSol, kSolPacket), b.from);
  EXPECT_TRUE(handler.got.empty());
}

TEST_F(LanChannelPayloadTest, AboveTheGrantedSizeIsDroppedAsOversized) {
  Console c = login(3);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 8}));
  channel.handle(c.packet(kSol, Bytes(8, 0x01)), c.from);
  EXPECT_EQ(handler.got.size(), 1u);
  channel.handle(c.packet(kSol, Bytes(9, 0x01)), c.from);
  EXPECT_EQ(handler.got.size(), 1u);
  EXPECT_EQ(dropped(Drop::oversized), 1u);
  channel.handle(c.packet(kSol, Bytes(1400, 0x01)), c.from);
  EXPECT_EQ(dropped(Drop::oversized), 2u);
}

TEST_F(LanChannelPayloadTest, SolPacketsGetTheSameIntegrityAndReplayChecks) {
  Console c = login(17);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  Bytes p = c.packet(kSol, kSolPacket);
  Bytes bad = p;
  bad[bad.size() - 1] ^= 0x01;
  channel.handle(bad, c.from);
  EXPECT_EQ(dropped(Drop::authFailed), 1u);
  channel.handle(p, c.from);
  channel.handle(p, c.from);  // replay
  EXPECT_EQ(handler.got.size(), 1u);
  EXPECT_EQ(dropped(Drop::replay), 1u);
  channel.handle(c.packet(kSol, kSolPacket), peer(99, 1));  // another address
  EXPECT_EQ(dropped(Drop::wrongPeer), 1u);
  EXPECT_EQ(handler.got.size(), 1u);
}

TEST_F(LanChannelPayloadTest, EncryptionFollowsTheGrant) {
  Console c = login(17);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  channel.handle(c.packet(kSol, kSolPacket, false), c.from);  // plaintext in an encrypted activation
  EXPECT_TRUE(handler.got.empty());
  ASSERT_TRUE(channel.setPayloadEncrypted(c.bmcId, kSol, false));  // Suspend Payload Encryption
  // Suspended: plaintext is accepted, and encrypted input is no longer required but still taken.
  channel.handle(c.packet(kSol, kSolPacket, false), c.from);
  ASSERT_EQ(handler.got.size(), 1u);
  channel.handle(c.packet(kSol, kSolPacket, true), c.from);
  ASSERT_EQ(handler.got.size(), 2u);
  EXPECT_EQ(handler.got[1].payload, kSolPacket);
  ASSERT_TRUE(channel.setPayloadEncrypted(c.bmcId, kSol, true));  // Resume: plaintext refused again
  channel.handle(c.packet(kSol, kSolPacket, false), c.from);
  EXPECT_EQ(handler.got.size(), 2u);
  // IPMI messages keep the suite's encryption regardless.
  const Bytes msg = {0x20, 0x18, 0xC8, 0x81, 0x04, 0x01, 0x7A};
  EXPECT_FALSE(channel.handle(c.packet(0x00, msg, false), c.from).has_value());
  EXPECT_TRUE(channel.handle(c.packet(0x00, msg, true), c.from).has_value());
}

TEST_F(LanChannelPayloadTest, SendPayloadIsSignedEncryptedAndSequenced) {
  Console c = login(17);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  const Bytes ack = {0x00, 0x01, 0x02, 0x00};
  ASSERT_TRUE(channel.sendPayload(c.bmcId, kSol, ack));
  ASSERT_TRUE(channel.sendPayload(c.bmcId, kSol, kSolPacket));
  ASSERT_EQ(wire.size(), 2u);
  EXPECT_EQ(wire[0].to, c.from);
  auto d0 = c.decode(wire[0].data), d1 = c.decode(wire[1].data);
  ASSERT_TRUE(d0 && d1);
  EXPECT_EQ(d0->type, kSol);
  EXPECT_TRUE(d0->encrypted);
  EXPECT_TRUE(d0->signedOk);
  EXPECT_EQ(d0->sid, c.consoleId);
  EXPECT_EQ(d0->payload, ack);
  EXPECT_EQ(d1->payload, kSolPacket);
  EXPECT_EQ(d1->seq, d0->seq + 1);
  EXPECT_EQ(channel.counters().payloadsSent, 2u);
  // Unencrypted when the activation says so.
  ASSERT_TRUE(channel.setPayloadEncrypted(c.bmcId, kSol, false));
  ASSERT_TRUE(channel.sendPayload(c.bmcId, kSol, ack));
  auto d2 = c.decode(wire.back().data);
  ASSERT_TRUE(d2);
  EXPECT_FALSE(d2->encrypted);
  EXPECT_TRUE(d2->signedOk);
  EXPECT_EQ(d2->payload, ack);
}

TEST_F(LanChannelPayloadTest, ReplyAndUnsolicitedSendsShareTheSequence) {
  Console c = login(3);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  handler.reply = [this](uint32_t sid) { channel.sendPayload(sid, kSol, Bytes{0, 1, 2, 0}); };
  channel.handle(c.packet(kSol, kSolPacket), c.from);
  const Bytes msg = {0x20, 0x18, 0xC8, 0x81, 0x04, 0x01, 0x7A};
  auto reply = channel.handle(c.packet(0x00, msg), c.from);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_EQ(c.decode(*reply)->seq, c.decode(wire[0].data)->seq + 1);
}

TEST_F(LanChannelPayloadTest, SendPayloadFailsWithoutSessionActivationOrTransmit) {
  Console c = login(17);
  EXPECT_FALSE(channel.sendPayload(c.bmcId, kSol, kSolPacket));  // not activated
  EXPECT_FALSE(channel.sendPayload(0xDEAD, kSol, kSolPacket));
  EXPECT_FALSE(channel.openPayload(0xDEAD, kSol, PayloadGrant{true, 259}));
  EXPECT_FALSE(channel.openPayload(c.bmcId, 0x00, PayloadGrant{true, 259}));  // IPMI is not a payload to open
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  channel.setTransmit(nullptr);
  EXPECT_FALSE(channel.sendPayload(c.bmcId, kSol, kSolPacket));
  EXPECT_TRUE(wire.empty());
}

TEST_F(LanChannelPayloadTest, ClosingThePayloadStopsRouting) {
  Console c = login(17);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  channel.closePayload(c.bmcId, kSol);
  channel.handle(c.packet(kSol, kSolPacket), c.from);
  EXPECT_TRUE(handler.got.empty());
  EXPECT_FALSE(channel.sendPayload(c.bmcId, kSol, kSolPacket));
}

TEST_F(LanChannelPayloadTest, RequestsCarryThePayloadChannel) {
  Console c = login(17);
  dispatcher.onDispatch = [this](const RequestContext& ctx) {
    EXPECT_EQ(ctx.payloads, &channel);
    EXPECT_TRUE(channel.openPayload(ctx.sessionId, kSol, PayloadGrant{true, 259}));  // Activate Payload
  };
  Bytes activate = {0x20, 0x18, 0xC8, 0x81, 0x04, 0x48, 0x01, 0x01, 0xC6, 0x00, 0x00, 0x00};
  activate.push_back(checksum(ByteView(activate).subspan(3)));
  ASSERT_TRUE(channel.handle(c.packet(0x00, activate), c.from).has_value());
  ASSERT_EQ(dispatcher.contexts.size(), 1u);
  channel.handle(c.packet(kSol, kSolPacket), c.from);
  EXPECT_EQ(handler.got.size(), 1u);
}

TEST_F(LanChannelPayloadTest, EveryWayASessionEndsIsReported) {
  Console a = login(17, 2), b = login(17, 3), d = login(17, 4);
  // Close Session by another session (administrator).
  Bytes close = {0x20, 0x18, 0xC8, 0x81, 0x04, 0x3C};
  Writer(close).u32le(b.bmcId);
  close.push_back(checksum(ByteView(close).subspan(3)));
  ASSERT_TRUE(channel.handle(a.packet(0x00, close), a.from).has_value());
  EXPECT_EQ(handler.closed, std::vector<uint32_t>{b.bmcId});
  // Its own Close Session: after the reply.
  Bytes own = {0x20, 0x18, 0xC8, 0x81, 0x08, 0x3C};
  Writer(own).u32le(a.bmcId);
  own.push_back(checksum(ByteView(own).subspan(3)));
  ASSERT_TRUE(channel.handle(a.packet(0x00, own), a.from).has_value());
  EXPECT_EQ(handler.closed, (std::vector<uint32_t>{b.bmcId, a.bmcId}));
  // Timeout.
  ASSERT_TRUE(channel.openPayload(d.bmcId, kSol, PayloadGrant{true, 259}));
  clock.advance(seconds(security.sessionTimeoutSeconds + 1));
  channel.sessions().expire();
  EXPECT_EQ(handler.closed.back(), d.bmcId);
  EXPECT_FALSE(channel.sendPayload(d.bmcId, kSol, kSolPacket));
  // Pending sessions are not reported.
  channel.sessions().createPending(true, peer(9, 9));
  clock.advance(seconds(10));
  channel.sessions().expire();
  EXPECT_EQ(handler.closed.size(), 3u);
}

TEST_F(LanChannelPayloadTest, SolTrafficKeepsTheSessionAlive) {
  Console c = login(17);
  ASSERT_TRUE(channel.openPayload(c.bmcId, kSol, PayloadGrant{true, 259}));
  for (int i = 0; i < 5; ++i) {
    clock.advance(seconds(security.sessionTimeoutSeconds - 1));
    channel.handle(c.packet(kSol, kSolPacket), c.from);
    channel.sessions().expire();
  }
  EXPECT_TRUE(handler.closed.empty());
  // Outbound traffic alone does not: a dead console is reaped.
  for (int i = 0; i < 5; ++i) {
    clock.advance(seconds(security.sessionTimeoutSeconds / 2));
    channel.sendPayload(c.bmcId, kSol, kSolPacket);
    channel.sessions().expire();
  }
  EXPECT_EQ(handler.closed, std::vector<uint32_t>{c.bmcId});
}

TEST(LanChannelPayloadLifetimeTest, DestroyingTheChannelClosesActiveSessions) {
  FakeClock clock;
  ChannelSecurity security;
  NoCredentials credentials;
  RecordingDispatcher dispatcher;
  RecordingHandler handler;
  uint32_t id = 0;
  {
    LanChannel channel(security, credentials, dispatcher, clock, kGuid);
    channel.setPayloadHandler(&handler);
    Session* s = channel.sessions().createPending(true, peer(2, 2));
    id = s->id;
    ASSERT_TRUE(channel.sessions().activate(*s));
    channel.sessions().createPending(true, peer(3, 3));  // pending: not reported
  }
  EXPECT_EQ(handler.closed, std::vector<uint32_t>{id});
}

// The UDP server is the channel's transmit path and tells it the bound port (loopback only).
TEST(UdpServerPayloadTest, UnsolicitedPacketsLeaveThroughTheServersSocket) {
  namespace asio = boost::asio;
  asio::io_context io;
  FakeClock clock;
  ChannelSecurity security;
  NoCredentials credentials;
  RecordingDispatcher dispatcher;
  LanChannel channel(security, credentials, dispatcher, clock, kGuid);
  {
    UdpServer server(io, channel);
    ASSERT_TRUE(server.open("127.0.0.1", 0).hasValue());
    EXPECT_NE(server.localPort(), 0);
    EXPECT_EQ(channel.localPort(), server.localPort());

    asio::ip::udp::socket client(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    Session* s = channel.sessions().createPending(true, toPeerAddress(client.local_endpoint()));
    s->suite = *crypto::cipherSuite(17);
    s->k1 = Bytes(32, 1);
    s->k2 = Bytes(32, 2);
    s->userKey = Bytes(20, 3);
    s->remoteId = 0x12345678;
    ASSERT_TRUE(channel.sessions().activate(*s));
    ASSERT_TRUE(channel.openPayload(s->id, kSol, PayloadGrant{true, 259}));
    ASSERT_TRUE(channel.sendPayload(s->id, kSol, kSolPacket));

    std::array<uint8_t, 2048> buf{};
    asio::ip::udp::endpoint from;
    boost::system::error_code ec;
    client.non_blocking(false);
    // The datagram is already queued on loopback; a blocking read with a bounded socket timeout.
    struct timeval tv{5, 0};
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const size_t n = client.receive_from(asio::buffer(buf), from, 0, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(from.port(), server.localPort());
    ASSERT_GT(n, 16u);
    EXPECT_EQ(buf[5], 0xC1);  // SOL, encrypted and signed
  }
  EXPECT_EQ(channel.localPort(), 0);  // the server is gone
  EXPECT_FALSE(channel.sendPayload(0, kSol, kSolPacket));
}

}  // namespace
}  // namespace simbmc::net
