// SolService (bmc/transport/sol.hpp) through a CommandRegistry, as the LAN channel would call it,
// with a fake host console, a fake payload channel and a fake session table; virtual time.
// IPMI v2.0 §24.1-24.5 (payload commands), §26.2-26.3 Table 26-5 (SOL configuration parameters),
// §15.9 (SOL packets).
#include "bmc/transport/sol.hpp"

#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::bmc {
namespace {

using std::chrono::milliseconds;

constexpr uint8_t kApp = netfn::app;
constexpr uint8_t kTransport = netfn::transport;
constexpr uint8_t kActivate = 0x48, kDeactivate = 0x49, kStatus = 0x4A, kInstanceInfo = 0x4B, kSuspend = 0x55;
constexpr uint8_t kSetSol = 0x21, kGetSol = 0x22;
constexpr uint32_t kSidA = 0x1111AAAA, kSidB = 0x2222BBBB, kSidWeak = 0x3333CCCC;
constexpr uint16_t kPort = 6230;

struct Resp {
  Cc cc = Cc::ok;
  Bytes data;
  bool operator==(const Resp&) const = default;
};
void PrintTo(const Resp& r, std::ostream* os) {
  *os << "cc=0x" << std::hex << static_cast<int>(r.cc) << " data=[";
  for (uint8_t b : r.data) *os << " " << static_cast<int>(b);
  *os << " ]" << std::dec;
}
Resp ok(Bytes d = {}) { return Resp{Cc::ok, std::move(d)}; }
Resp err(Cc cc) { return Resp{cc, {}}; }
Bytes bytesOf(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string text(ByteView b) { return std::string(b.begin(), b.end()); }

class FakeConsole final : public HostConsole {
 public:
  int addOutputListener(OutputListener l) override {
    listeners[next] = std::move(l);
    return next++;
  }
  void removeListener(int handle) override { listeners.erase(handle); }
  size_t write(std::span<const uint8_t> b) override {
    const size_t n = std::min(room, b.size());
    written += text(b.first(n));
    return n;
  }
  void sendBreak() override { ++breaks; }
  std::string history() const override { return hist; }
  void emit(std::string_view s) {
    const Bytes b = bytesOf(s);
    auto copy = listeners;
    for (auto& [h, l] : copy) l(b);
  }
  std::map<int, OutputListener> listeners;
  int next = 1;
  std::string written, hist;
  size_t room = SIZE_MAX;
  int breaks = 0;
};

class FakePayloads final : public net::PayloadChannel {
 public:
  struct Sent {
    uint32_t sid;
    net::SolPacket p;
    Bytes raw;
  };
  bool openPayload(uint32_t sid, uint8_t type, const net::PayloadGrant& g) override {
    open[sid] = g;
    EXPECT_EQ(type, net::kPayloadTypeSol);
    return true;
  }
  void closePayload(uint32_t sid, uint8_t) override {
    open.erase(sid);
    closed.push_back(sid);
  }
  bool setPayloadEncrypted(uint32_t sid, uint8_t, bool e) override {
    if (!open.contains(sid)) return false;
    open[sid].encrypted = e;
    return true;
  }
  bool sendPayload(uint32_t sid, uint8_t type, ByteView payload) override {
    EXPECT_EQ(type, net::kPayloadTypeSol);
    if (!open.contains(sid)) return false;
    Sent s{sid, {}, Bytes(payload.begin(), payload.end())};
    s.p = *net::SolPacket::parse(s.raw);
    s.p.data = ByteView(s.raw).subspan(4);
    sent.push_back(std::move(s));
    return true;
  }
  uint16_t localPort() const override { return kPort; }
  std::vector<Sent> to(uint32_t sid) const {
    std::vector<Sent> out;
    for (const Sent& s : sent) {
      if (s.sid == sid) out.push_back(s);
    }
    return out;
  }
  std::map<uint32_t, net::PayloadGrant> open;
  std::vector<uint32_t> closed;
  std::vector<Sent> sent;
};

class FakeSessions final : public net::SessionControl {
 public:
  Cc setPrivilege(uint32_t, Privilege, Privilege&) override { return Cc::unspecified; }
  Cc closeSession(uint32_t, uint32_t, uint8_t) override { return Cc::unspecified; }
  uint8_t maxSessions() const override { return 16; }
  uint8_t activeSessions() const override { return static_cast<uint8_t>(infos.size()); }
  std::optional<net::SessionInfo> findById(uint32_t id) const override {
    auto it = infos.find(id);
    if (it == infos.end()) return std::nullopt;
    return it->second;
  }
  std::optional<net::SessionInfo> findByHandle(uint8_t) const override { return std::nullopt; }
  std::optional<net::SessionInfo> findByIndex(uint8_t) const override { return std::nullopt; }
  void add(uint32_t id, bool integrity, bool confidentiality) {
    net::SessionInfo i;
    i.sessionId = id;
    i.ipmi20 = true;
    i.privilege = Privilege::administrator;
    i.integrity = integrity;
    i.confidentiality = confidentiality;
    infos[id] = i;
  }
  std::map<uint32_t, net::SessionInfo> infos;
};

std::array<uint8_t, 32> testKey() {
  std::array<uint8_t, 32> key{};
  key.fill(0x5A);
  return key;
}

class SolServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto id = users.upsert("admin", "pw", Privilege::administrator, {1});
    ASSERT_TRUE(id.hasValue());
    adminId = *id;
    auto op = users.upsert("nosol", "pw", Privilege::administrator, {1});
    ASSERT_TRUE(op.hasValue());
    noSolId = *op;
    ASSERT_TRUE(users.update(noSolId, [](User& u) { u.access[1].payloadMask = 0; }).hasValue());
    sessions.add(kSidA, true, true);
    sessions.add(kSidB, true, true);
    sessions.add(kSidWeak, true, false);  // suite 2/7: integrity, no confidentiality
    start();
  }

  void start(SolConfig config = {}, storage::StateStore* store = nullptr) {
    registry = std::make_unique<CommandRegistry>();
    sol.reset();
    sol = std::make_unique<SolService>(timers, users, store, lan, [this] { return consolePtr; }, config);
    ASSERT_TRUE(sol->load().hasValue());
    sol->registerCommands(*registry);
  }

  RequestContext ctx(uint32_t sid, Privilege p = Privilege::administrator, uint8_t user = 0) {
    RequestContext c;
    c.channel = 1;
    c.privilege = p;
    c.ipmi20 = true;
    c.sessionId = sid;
    c.userId = user != 0 ? user : adminId;
    c.sessions = &sessions;
    c.payloads = &payloads;
    return c;
  }

  Resp call(const RequestContext& c, uint8_t nf, uint8_t cmd, const Bytes& data) {
    auto r = registry->dispatch(c, net::IpmiRequest{nf, 0, cmd, data});
    EXPECT_TRUE(r.has_value());
    return r ? Resp{r->cc, r->data} : Resp{Cc::unspecified, {}};
  }
  Resp activate(uint32_t sid, uint8_t instance = 1, uint8_t aux = 0xC6) {
    return call(ctx(sid), kApp, kActivate, {0x01, instance, aux, 0, 0, 0});
  }
  Resp deactivate(uint32_t sid, uint8_t instance = 1, Privilege p = Privilege::administrator) {
    return call(ctx(sid, p), kApp, kDeactivate, {0x01, instance, 0, 0, 0, 0});
  }
  Resp getSol(uint8_t param, uint8_t channel = 0x0E) {
    return call(ctx(kSidA), kTransport, kGetSol, {channel, param, 0, 0});
  }
  Resp setSol(uint8_t param, Bytes data) {
    Bytes req{0x0E, param};
    req.insert(req.end(), data.begin(), data.end());
    return call(ctx(kSidA), kTransport, kSetSol, req);
  }
  void advance(milliseconds d) {
    clock.advance(d);
    timers.runDue();
  }
  Bytes solPacket(uint8_t seq, uint8_t ack, uint8_t accepted, uint8_t op, std::string_view chars = {}) {
    const Bytes c = bytesOf(chars);
    return net::SolPacket{seq, ack, accepted, op, c}.encode();
  }

  FakeClock clock;
  TimerQueue timers{clock};
  UserDb users{clock, nullptr};
  net::ChannelSecurity lan;
  FakeConsole console;
  HostConsole* consolePtr = &console;
  FakePayloads payloads;
  FakeSessions sessions;
  std::unique_ptr<CommandRegistry> registry;
  std::unique_ptr<SolService> sol;
  uint8_t adminId = 0, noSolId = 0;
};

// ---- Activate Payload (§24.1) ---------------------------------------------------------------------

TEST_F(SolServiceTest, ActivateRepliesExactlyTwelveBytes) {
  // 4 auxiliary bytes, max inbound and outbound payload (LE16), the session's UDP port, VLAN none.
  EXPECT_EQ(activate(kSidA), ok({0, 0, 0, 0, 0x03, 0x01, 0x03, 0x01, kPort & 0xFF, kPort >> 8, 0xFF, 0xFF}));
  ASSERT_TRUE(payloads.open.contains(kSidA));
  EXPECT_TRUE(payloads.open[kSidA].encrypted);
  EXPECT_EQ(payloads.open[kSidA].maxInbound, 263);  // advertised 259, plus pyghmi's extra header
  EXPECT_EQ(sol->sessionOf(1), kSidA);
  EXPECT_EQ(console.listeners.size(), 1u);
}

TEST_F(SolServiceTest, AnActiveInstanceAnswers0x80ForEverySession) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_EQ(activate(kSidA), err(Cc{0x80}));
  EXPECT_EQ(activate(kSidB), err(Cc{0x80}));
  EXPECT_EQ(sol->sessionOf(1), kSidA);
}

TEST_F(SolServiceTest, OneSolInstancePerSessionIs0x82) {
  SolConfig c;
  c.instances = 2;
  start(c);
  ASSERT_EQ(activate(kSidA, 1).cc, Cc::ok);
  EXPECT_EQ(activate(kSidA, 2), err(Cc{0x82}));
  EXPECT_EQ(activate(kSidB, 2).cc, Cc::ok);
}

TEST_F(SolServiceTest, DisabledSolIs0x81) {
  ASSERT_EQ(setSol(1, {0x00}), ok());
  EXPECT_EQ(activate(kSidA), err(Cc{0x81}));
  ASSERT_EQ(setSol(1, {0x01}), ok());
  EXPECT_EQ(activate(kSidA).cc, Cc::ok);
}

TEST_F(SolServiceTest, EncryptionMismatchIs0x83Or0x84) {
  // Encryption asked for in a session whose cipher suite has none.
  EXPECT_EQ(activate(kSidWeak, 1, 0xC6), err(Cc{0x83}));
  // Without encryption while parameter 2 forces it (the default).
  EXPECT_EQ(activate(kSidA, 1, 0x46), err(Cc{0x84}));
  EXPECT_EQ(activate(kSidWeak, 1, 0x46), err(Cc{0x84}));
  // Not forced: SOL may run unencrypted, even in an encrypted session.
  ASSERT_EQ(setSol(2, {0x44}), ok());
  EXPECT_EQ(activate(kSidA, 1, 0x46).cc, Cc::ok);
  EXPECT_FALSE(payloads.open[kSidA].encrypted);
}

TEST_F(SolServiceTest, ForcedAuthenticationNeedsAnIntegritySession) {
  sessions.add(0x0BAD, false, false);
  ASSERT_EQ(setSol(2, {0x44}), ok());  // force authentication only
  EXPECT_EQ(activate(0x0BAD, 1, 0x00), err(Cc{0x84}));
  ASSERT_EQ(setSol(2, {0x04}), ok());
  EXPECT_EQ(activate(0x0BAD, 1, 0x00).cc, Cc::ok);
}

TEST_F(SolServiceTest, PrivilegeBelowTheSolParameterOrNoPayloadAccessIs0xD4) {
  EXPECT_EQ(call(ctx(kSidA, Privilege::operator_), kApp, kActivate, {1, 1, 0xC6, 0, 0, 0}), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(ctx(kSidA, Privilege::administrator, noSolId), kApp, kActivate, {1, 1, 0xC6, 0, 0, 0}),
            err(Cc::insufficientPrivilege));
  ASSERT_EQ(setSol(2, {0xC2}), ok());  // SOL for users
  EXPECT_EQ(call(ctx(kSidA, Privilege::user), kApp, kActivate, {1, 1, 0xC6, 0, 0, 0}).cc, Cc::ok);
}

TEST_F(SolServiceTest, BadTypeInstanceOrLength) {
  EXPECT_EQ(call(ctx(kSidA), kApp, kActivate, {0x00, 1, 0xC6, 0, 0, 0}), err(Cc::invalidField));  // IPMI
  EXPECT_EQ(call(ctx(kSidA), kApp, kActivate, {0x01, 0, 0xC6, 0, 0, 0}), err(Cc::invalidField));
  EXPECT_EQ(call(ctx(kSidA), kApp, kActivate, {0x01, 2, 0xC6, 0, 0, 0}), err(Cc::invalidField));  // capacity 1
  EXPECT_EQ(call(ctx(kSidA), kApp, kActivate, {0x41, 1, 0xC6, 0, 0, 0}), err(Cc::invalidField));  // reserved
  EXPECT_EQ(call(ctx(kSidA), kApp, kActivate, {0x01, 1, 0xC6, 0, 0}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA), kApp, kActivate, {0x01, 1, 0xC6, 0, 0, 0, 0}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA), kApp, kDeactivate, {0x01, 1}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA), kApp, kStatus, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA), kApp, kInstanceInfo, {0x01}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 1}), err(Cc::invalidLength));
  EXPECT_EQ(sol->sessionOf(1), 0u);
}

TEST_F(SolServiceTest, OutsideAnRmcpPlusSessionActivationIsNotSupported) {
  RequestContext c = ctx(kSidA);
  c.payloads = nullptr;  // IPMI 1.5 session or a system interface
  EXPECT_EQ(registry->dispatch(c, net::IpmiRequest{kApp, 0, kActivate, Bytes{1, 1, 0xC6, 0, 0, 0}})->cc,
            Cc::notSupportedInState);
}

// ---- Deactivate Payload (§24.2) and takeover --------------------------------------------------------

TEST_F(SolServiceTest, DeactivationByAnotherSessionTellsTheOwnerAndFreesTheInstance) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_EQ(deactivate(kSidB), ok());
  auto toA = payloads.to(kSidA);
  ASSERT_EQ(toA.size(), 1u);
  EXPECT_EQ(toA[0].p.status, net::sol::kStDeactivating);
  EXPECT_EQ(toA[0].p.seq, 0);
  EXPECT_FALSE(payloads.open.contains(kSidA));
  EXPECT_TRUE(console.listeners.empty());
  // Takeover: the new session activates the instance.
  EXPECT_EQ(activate(kSidB).cc, Cc::ok);
  EXPECT_EQ(sol->sessionOf(1), kSidB);
}

TEST_F(SolServiceTest, TheOwnerDeactivatingGetsOnlyTheReply) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_EQ(deactivate(kSidA), ok());
  EXPECT_TRUE(payloads.to(kSidA).empty());
  EXPECT_EQ(payloads.closed, std::vector<uint32_t>{kSidA});
  EXPECT_EQ(deactivate(kSidA), err(Cc{0x80}));  // already deactivated
}

TEST_F(SolServiceTest, TakeoverNeedsTheSolPrivilege) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_EQ(deactivate(kSidB, 1, Privilege::operator_), err(Cc::insufficientPrivilege));
  EXPECT_EQ(sol->sessionOf(1), kSidA);
}

TEST_F(SolServiceTest, AClosedSessionFreesItsInstance) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  sol->onSessionClosed(kSidA);
  EXPECT_EQ(sol->sessionOf(1), 0u);
  EXPECT_TRUE(console.listeners.empty());
  EXPECT_EQ(timers.size(), 0u);
  EXPECT_EQ(activate(kSidB).cc, Cc::ok);
}

TEST_F(SolServiceTest, DisablingSolDeactivatesActiveInstances) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  ASSERT_EQ(setSol(1, {0x00}), ok());
  ASSERT_EQ(payloads.to(kSidA).size(), 1u);
  EXPECT_EQ(payloads.to(kSidA)[0].p.status, net::sol::kStDeactivating);
  EXPECT_EQ(sol->sessionOf(1), 0u);
  EXPECT_EQ(deactivate(kSidA), err(Cc{0x81}));
}

// ---- Status and instance info (§24.4, §24.5) ---------------------------------------------------------

TEST_F(SolServiceTest, ActivationStatusListsCapacityAndActiveInstances) {
  SolConfig c;
  c.instances = 3;
  start(c);
  EXPECT_EQ(call(ctx(kSidA), kApp, kStatus, {0x01}), ok({0x03, 0x00, 0x00}));
  ASSERT_EQ(activate(kSidB, 3).cc, Cc::ok);
  EXPECT_EQ(call(ctx(kSidA), kApp, kStatus, {0x01}), ok({0x03, 0x04, 0x00}));
  EXPECT_EQ(call(ctx(kSidA), kApp, kStatus, {0x02}), err(Cc::invalidField));
}

TEST_F(SolServiceTest, InstanceInfoNamesTheSession) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_EQ(call(ctx(kSidB), kApp, kInstanceInfo, {0x01, 0x01}), ok({0xAA, 0xAA, 0x11, 0x11, 0x01, 0, 0, 0, 0, 0, 0, 0}));
  ASSERT_EQ(deactivate(kSidA), ok());
  EXPECT_EQ(call(ctx(kSidB), kApp, kInstanceInfo, {0x01, 0x01}), ok(Bytes(12, 0)));
  EXPECT_EQ(call(ctx(kSidB), kApp, kInstanceInfo, {0x01, 0x02}), err(Cc::invalidField));
}

// ---- Suspend/Resume Payload Encryption (§24.3) -----------------------------------------------------

// Table 24-4: operation 0 suspends, 1 resumes (or starts), 2 regenerates the IV, 3 is reserved.
TEST_F(SolServiceTest, SuspendResumeEncryption) {
  auto suspend = [&](uint32_t sid, uint8_t op) { return call(ctx(sid), kApp, kSuspend, {0x01, 0x01, op}); };
  EXPECT_EQ(suspend(kSidA, 0), err(Cc{0x83}));  // not active
  EXPECT_EQ(suspend(kSidA, 1), err(Cc{0x83}));
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_EQ(suspend(kSidA, 0), err(Cc{0x81}));  // parameter 2 forces encryption
  EXPECT_TRUE(payloads.open[kSidA].encrypted);
  EXPECT_EQ(suspend(kSidB, 1), err(Cc{0x81}));  // not the owner
  EXPECT_EQ(suspend(kSidA, 1), ok());           // already encrypted: nothing to change
  EXPECT_EQ(suspend(kSidA, 2), ok());           // AES-CBC-128: a fresh IV in every packet anyway
  EXPECT_TRUE(payloads.open[kSidA].encrypted);
  ASSERT_EQ(setSol(2, {0x44}), ok());           // encryption no longer forced
  EXPECT_EQ(suspend(kSidA, 0), ok());
  EXPECT_FALSE(payloads.open[kSidA].encrypted);
  EXPECT_EQ(suspend(kSidA, 0), ok());           // already suspended
  EXPECT_EQ(suspend(kSidA, 2), ok());
  EXPECT_FALSE(payloads.open[kSidA].encrypted);
  EXPECT_EQ(suspend(kSidA, 1), ok());
  EXPECT_TRUE(payloads.open[kSidA].encrypted);
  ASSERT_EQ(deactivate(kSidA), ok());
  EXPECT_EQ(suspend(kSidA, 1), err(Cc{0x83}));
  ASSERT_EQ(activate(kSidWeak, 1, 0x40).cc, Cc::ok);
  for (uint8_t op : {0, 1, 2}) EXPECT_EQ(suspend(kSidWeak, op), err(Cc{0x82})) << int(op);  // no encryption in that session
}

TEST_F(SolServiceTest, ResumeStartsEncryptionOfAPayloadActivatedWithout) {
  ASSERT_EQ(setSol(2, {0x44}), ok());
  ASSERT_EQ(activate(kSidA, 1, 0x40).cc, Cc::ok);
  EXPECT_FALSE(payloads.open[kSidA].encrypted);
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x01, 0x01}), ok());
  EXPECT_TRUE(payloads.open[kSidA].encrypted);
}

TEST_F(SolServiceTest, SuspendResumeBadRequests) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x01, 0x03}), err(Cc::invalidField));  // reserved operation
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x01, 0x04}), err(Cc::invalidField));  // reserved bits
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x00, 0x01}), err(Cc::invalidField));  // instance 0
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x02, 0x01}), err(Cc::invalidField));  // beyond capacity
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x11, 0x01}), err(Cc::invalidField));  // reserved bits
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x02, 0x01, 0x01}), err(Cc::invalidField));  // OEM explicit
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x41, 0x01, 0x01}), err(Cc::invalidField));  // reserved bits
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x00, 0x01, 0x00}), err(Cc{0x80}));  // IPMI messages: never
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x01}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x01, 0x01, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA, Privilege::callback), kApp, kSuspend, {0x01, 0x01, 0x01}), err(Cc::insufficientPrivilege));
  EXPECT_TRUE(payloads.open[kSidA].encrypted);
}

TEST_F(SolServiceTest, ForcingEncryptionEndsASuspendedPayload) {
  ASSERT_EQ(setSol(2, {0x44}), ok());
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  ASSERT_EQ(call(ctx(kSidA), kApp, kSuspend, {0x01, 0x01, 0x00}), ok());
  ASSERT_EQ(setSol(2, {0xC4}), ok());
  auto toA = payloads.to(kSidA);
  ASSERT_EQ(toA.size(), 1u);
  EXPECT_EQ(toA[0].p.status, net::sol::kStDeactivating);
  EXPECT_EQ(sol->sessionOf(1), 0u);
}

TEST_F(SolServiceTest, ForcingAuthenticationEndsAPayloadWithoutIntegrity) {
  sessions.add(kSidWeak, false, false);  // suite 0/1: no integrity
  ASSERT_EQ(setSol(2, {0x04}), ok());
  ASSERT_EQ(activate(kSidWeak, 1, 0x00).cc, Cc::ok);
  ASSERT_EQ(setSol(2, {0x44}), ok());
  EXPECT_EQ(sol->sessionOf(1), 0u);
}

// ---- The character stream -------------------------------------------------------------------------

TEST_F(SolServiceTest, ANewSessionSeesTheHistoryThenLiveOutputAndTypes) {
  console.hist = "BIOS\r\nlogin: ";
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  EXPECT_TRUE(payloads.to(kSidA).empty());  // nothing before the Activate Payload reply went out
  advance(milliseconds(50));                // default accumulate interval: 10 x 5 ms
  auto sent = payloads.to(kSidA);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].p.seq, 1);
  EXPECT_EQ(text(sent[0].p.data), "BIOS\r\nlogin: ");
  sol->onPayload(kSidA, net::kPayloadTypeSol, solPacket(0, 1, 13, 0));  // ACK
  console.emit("x");
  advance(milliseconds(50));
  sent = payloads.to(kSidA);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(text(sent[1].p.data), "x");
  EXPECT_EQ(sent[1].p.seq, 2);
  // A keystroke reaches the host and is ACKed.
  sol->onPayload(kSidA, net::kPayloadTypeSol, solPacket(1, 2, 1, 0, "r"));
  EXPECT_EQ(console.written, "r");
  sent = payloads.to(kSidA);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].p.ackSeq, 1);
  EXPECT_EQ(sent[2].p.accepted, 1);
  // A break request.
  sol->onPayload(kSidA, net::kPayloadTypeSol, solPacket(2, 0, 0, net::sol::kOpBreak));
  EXPECT_EQ(console.breaks, 1);
}

TEST_F(SolServiceTest, HistoryReplayIsBoundedAndCanBeOff) {
  SolConfig c;
  c.historyReplay = 4;
  start(c);
  console.hist = "0123456789";
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  advance(milliseconds(50));
  ASSERT_EQ(payloads.to(kSidA).size(), 1u);
  EXPECT_EQ(text(payloads.to(kSidA)[0].p.data), "6789");
  c.historyReplay = 0;
  start(c);
  ASSERT_EQ(activate(kSidB).cc, Cc::ok);
  advance(milliseconds(500));
  EXPECT_TRUE(payloads.to(kSidB).empty());
}

TEST_F(SolServiceTest, TimingComesFromParameters3And4) {
  ASSERT_EQ(setSol(3, {2, 4}), ok());   // 10 ms, threshold 4
  ASSERT_EQ(setSol(4, {2, 5}), ok());   // 2 retries, 50 ms apart
  console.hist.clear();
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  advance(milliseconds(10));
  console.emit("ab");
  advance(milliseconds(9));
  EXPECT_TRUE(payloads.to(kSidA).empty());
  advance(milliseconds(1));
  ASSERT_EQ(payloads.to(kSidA).size(), 1u);
  advance(milliseconds(50));
  advance(milliseconds(50));
  EXPECT_EQ(payloads.to(kSidA).size(), 3u);  // two retries
  advance(milliseconds(50));
  EXPECT_EQ(payloads.to(kSidA).size(), 3u);
  sol->onPayload(kSidA, net::kPayloadTypeSol, solPacket(0, 1, 2, 0));
  console.emit("abcd");  // threshold: at once
  EXPECT_EQ(payloads.to(kSidA).size(), 4u);
}

TEST_F(SolServiceTest, WithoutAConsoleTransferIsUnavailable) {
  consolePtr = nullptr;
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  sol->onPayload(kSidA, net::kPayloadTypeSol, solPacket(1, 0, 0, 0, "abc"));
  ASSERT_EQ(payloads.to(kSidA).size(), 1u);
  EXPECT_EQ(payloads.to(kSidA)[0].p.status, net::sol::kStTransferUnavailable);
  EXPECT_EQ(payloads.to(kSidA)[0].p.accepted, 3);
}

TEST_F(SolServiceTest, PacketsOfOtherSessionsOrTypesAreIgnored) {
  ASSERT_EQ(activate(kSidA).cc, Cc::ok);
  sol->onPayload(kSidB, net::kPayloadTypeSol, solPacket(1, 0, 0, 0, "x"));
  sol->onPayload(kSidA, 0x02, solPacket(1, 0, 0, 0, "y"));
  sol->onPayload(kSidA, net::kPayloadTypeSol, Bytes{1, 2});
  EXPECT_EQ(console.written, "");
}

// ---- SOL configuration parameters (§26.2-26.3) ----------------------------------------------------

TEST_F(SolServiceTest, GetEveryParameterWithItsExactLength) {
  EXPECT_EQ(getSol(0), ok({0x11, 0x00}));
  EXPECT_EQ(getSol(1), ok({0x11, 0x01}));
  EXPECT_EQ(getSol(2), ok({0x11, 0xC4}));
  EXPECT_EQ(getSol(3), ok({0x11, 10, 96}));
  EXPECT_EQ(getSol(4), ok({0x11, 7, 50}));
  EXPECT_EQ(getSol(5), ok({0x11, 0x0A}));
  EXPECT_EQ(getSol(6), ok({0x11, 0x0A}));
  EXPECT_EQ(getSol(7), ok({0x11, 0x01}));
  EXPECT_EQ(getSol(8), ok({0x11, kPort & 0xFF, kPort >> 8}));
  EXPECT_EQ(getSol(9), err(Cc{0x80}));
  EXPECT_EQ(getSol(0xC0), err(Cc{0x80}));
  EXPECT_EQ(getSol(1, 0x81), ok({0x11}));  // revision only
  EXPECT_EQ(getSol(1, 0x01), ok({0x11, 0x01}));
  EXPECT_EQ(getSol(1, 0x02), err(Cc::invalidField));  // not the LAN channel
  EXPECT_EQ(call(ctx(kSidA), kTransport, kGetSol, {0x0E, 1, 0}), err(Cc::invalidLength));
  EXPECT_EQ(call(ctx(kSidA), kTransport, kGetSol, {0x0E, 1, 0, 0, 0}), err(Cc::invalidLength));
}

TEST_F(SolServiceTest, SetParametersRoundTrip) {
  EXPECT_EQ(setSol(1, {0x00}), ok());
  EXPECT_EQ(getSol(1), ok({0x11, 0x00}));
  EXPECT_EQ(setSol(2, {0x83}), ok());
  EXPECT_EQ(getSol(2), ok({0x11, 0x83}));
  EXPECT_EQ(setSol(3, {12, 200}), ok());
  EXPECT_EQ(getSol(3), ok({0x11, 12, 200}));
  EXPECT_EQ(setSol(4, {3, 20}), ok());
  EXPECT_EQ(getSol(4), ok({0x11, 3, 20}));
  EXPECT_EQ(setSol(5, {0x06}), ok());
  EXPECT_EQ(setSol(6, {0x09}), ok());
  EXPECT_EQ(getSol(5), ok({0x11, 0x06}));
  EXPECT_EQ(getSol(6), ok({0x11, 0x09}));
}

TEST_F(SolServiceTest, BadSetsAreRefusedAndChangeNothing) {
  EXPECT_EQ(setSol(1, {0x02}), err(Cc::invalidField));
  EXPECT_EQ(setSol(1, {0x01, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(setSol(2, {0xC1}), err(Cc::invalidField));  // callback is not a SOL privilege
  EXPECT_EQ(setSol(2, {0xC6}), err(Cc::invalidField));
  EXPECT_EQ(setSol(3, {0, 5}), err(Cc::invalidField));
  EXPECT_EQ(setSol(3, {5, 0}), err(Cc::invalidField));
  EXPECT_EQ(setSol(3, {5}), err(Cc::invalidLength));
  EXPECT_EQ(setSol(4, {0x08, 5}), err(Cc::invalidField));
  EXPECT_EQ(setSol(5, {0x05}), err(Cc::invalidField));
  EXPECT_EQ(setSol(7, {0x01}), err(Cc{0x82}));  // read only
  EXPECT_EQ(setSol(8, {0x6F, 0x02}), err(Cc{0x82}));
  EXPECT_EQ(setSol(9, {0x00}), err(Cc{0x80}));
  EXPECT_EQ(call(ctx(kSidA), kTransport, kSetSol, {0x02, 1, 0x01}), err(Cc::invalidField));  // channel
  EXPECT_EQ(getSol(1), ok({0x11, 0x01}));
  EXPECT_EQ(getSol(2), ok({0x11, 0xC4}));
  EXPECT_EQ(getSol(3), ok({0x11, 10, 96}));
}

TEST_F(SolServiceTest, SetInProgressProtocol) {
  EXPECT_EQ(setSol(0, {0x01}), ok());
  EXPECT_EQ(getSol(0), ok({0x11, 0x01}));
  EXPECT_EQ(setSol(0, {0x01}), err(Cc{0x81}));  // already in progress
  EXPECT_EQ(setSol(1, {0x00}), ok());
  EXPECT_EQ(setSol(0, {0x02}), ok());  // commit write: nothing pending
  EXPECT_EQ(getSol(0), ok({0x11, 0x01}));
  EXPECT_EQ(setSol(0, {0x00}), ok());
  EXPECT_EQ(getSol(0), ok({0x11, 0x00}));
  EXPECT_EQ(setSol(0, {0x03}), err(Cc::invalidField));
}

TEST_F(SolServiceTest, SettingNeedsAdministratorReadingUser) {
  EXPECT_EQ(call(ctx(kSidA, Privilege::operator_), kTransport, kSetSol, {0x0E, 1, 0}), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(ctx(kSidA, Privilege::user), kTransport, kGetSol, {0x0E, 1, 0, 0}).cc, Cc::ok);
}

TEST_F(SolServiceTest, ParametersPersist) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  {
    auto store = storage::StateStore::open(dir.file("state.db"), storage::SecretBox(testKey()));
    ASSERT_TRUE(store.hasValue());
    start({}, store->get());
    ASSERT_EQ(setSol(1, {0x00}), ok());
    ASSERT_EQ(setSol(3, {20, 40}), ok());
    ASSERT_EQ(setSol(4, {1, 2}), ok());
    ASSERT_EQ(setSol(2, {0x43}), ok());
    ASSERT_EQ(setSol(6, {0x07}), ok());
    sol.reset();
  }
  auto store = storage::StateStore::open(dir.file("state.db"), storage::SecretBox(testKey()));
  ASSERT_TRUE(store.hasValue());
  start({}, store->get());
  EXPECT_EQ(getSol(1), ok({0x11, 0x00}));
  EXPECT_EQ(getSol(2), ok({0x11, 0x43}));
  EXPECT_EQ(getSol(3), ok({0x11, 20, 40}));
  EXPECT_EQ(getSol(4), ok({0x11, 1, 2}));
  EXPECT_EQ(getSol(6), ok({0x11, 0x07}));
  EXPECT_EQ(getSol(0), ok({0x11, 0x00}));  // set in progress is volatile
  sol.reset();
}

TEST_F(SolServiceTest, ConfigDefaultsShowUpInTheParameters) {
  SolConfig c;
  c.enabled = false;
  c.privilege = Privilege::user;
  c.forceEncryption = false;
  c.accumulateInterval = 4;
  c.sendThreshold = 1;
  start(c);
  EXPECT_EQ(getSol(1), ok({0x11, 0x00}));
  EXPECT_EQ(getSol(2), ok({0x11, 0x42}));
  EXPECT_EQ(getSol(3), ok({0x11, 4, 1}));
}

}  // namespace
}  // namespace simbmc::bmc
