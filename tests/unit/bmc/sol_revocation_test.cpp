// Revoking SOL access ends an active SOL payload (bmc/transport/sol.hpp "Revocation"), through a
// real bmc::Bmc and its registry as the LAN channel would call it: session A holds SOL, session B
// (or A itself) changes what A's activation relied on. IPMI v2.0 §15.9 Table 15-3 (the "SOL
// deactivating" status), §24.1 (activation conditions), §24.6 (Set User Payload Access), §22.23
// (Set Channel Access), §22.26/22.30 (Set User Access, Set User Password), §22.18 (Set Session
// Privilege Level), §26.2 Table 26-5 (SOL parameters 1 and 2). Virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "bmc/bmc.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::bmc {
namespace {

using std::chrono::milliseconds;

constexpr uint8_t kApp = netfn::app;
constexpr uint8_t kTransport = netfn::transport;
constexpr uint32_t kSidA = 0xA0A0A0A0, kSidB = 0xB0B0B0B0;

class FakeHost final : public HostControl {
 public:
  bool powerOn() const override { return true; }
  Cc request(ChassisAction, RestartCause) override { return Cc::ok; }
  RestartCause lastRestartCause() const override { return RestartCause::unknown; }
  bool lastPowerOnViaIpmi() const override { return false; }
  uint64_t powerOnSeconds() const override { return 0; }
  void addListener(Listener) override {}
};

class FakePayloads final : public net::PayloadChannel {
 public:
  bool openPayload(uint32_t sid, uint8_t, const net::PayloadGrant& g) override {
    open[sid] = g;
    return true;
  }
  void closePayload(uint32_t sid, uint8_t) override { open.erase(sid); }
  bool setPayloadEncrypted(uint32_t sid, uint8_t, bool e) override {
    if (!open.contains(sid)) return false;
    open[sid].encrypted = e;
    return true;
  }
  bool sendPayload(uint32_t sid, uint8_t, ByteView payload) override {
    if (!open.contains(sid)) return false;  // what the LAN channel does once the payload is closed
    sent.emplace_back(sid, Bytes(payload.begin(), payload.end()));
    return true;
  }
  uint16_t localPort() const override { return 623; }
  // The status bytes (Table 15-3 byte 4) of the packets sent to `sid`.
  std::vector<uint8_t> statusTo(uint32_t sid) const {
    std::vector<uint8_t> out;
    for (const auto& [s, p] : sent) {
      if (s == sid && p.size() >= 4) out.push_back(p[3]);
    }
    return out;
  }
  std::map<uint32_t, net::PayloadGrant> open;
  std::vector<std::pair<uint32_t, Bytes>> sent;
};

// Sessions whose privilege Set Session Privilege Level really changes.
class FakeSessions final : public net::SessionControl {
 public:
  Cc setPrivilege(uint32_t sid, Privilege requested, Privilege& out) override {
    auto it = infos.find(sid);
    if (it == infos.end()) return Cc::unspecified;
    if (requested != Privilege::none) it->second.privilege = requested;
    out = it->second.privilege;
    return Cc::ok;
  }
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
  void add(uint32_t id, uint8_t user, Privilege p) {
    net::SessionInfo i;
    i.sessionId = id;
    i.userId = user;
    i.privilege = p;
    i.ipmi20 = true;
    i.integrity = true;
    i.confidentiality = true;
    infos[id] = i;
  }
  std::map<uint32_t, net::SessionInfo> infos;
};

class SolRevocationTest : public ::testing::Test {
 protected:
  SolRevocationTest() : bmc(config(), clock, timers, host, nullptr) {}

  static BmcConfig config() {
    BmcConfig c;
    c.sol.instances = 2;
    c.sol.historyReplay = 0;
    return c;
  }

  void SetUp() override {
    ASSERT_TRUE(bmc.start().hasValue());
    auto a = bmc.users().upsert("alice", "pw-a", Privilege::administrator, {1});
    auto b = bmc.users().upsert("bob", "pw-b", Privilege::administrator, {1});
    ASSERT_TRUE(a.hasValue() && b.hasValue());
    alice = *a;
    bob = *b;
    sessions.add(kSidA, alice, Privilege::administrator);
    sessions.add(kSidB, bob, Privilege::administrator);
  }

  net::RequestContext ctx(uint32_t sid) const {
    net::RequestContext c;
    c.channel = 1;
    c.ipmi20 = true;
    c.sessionId = sid;
    auto info = sessions.findById(sid);
    c.userId = info->userId;
    c.privilege = info->privilege;
    c.sessions = const_cast<FakeSessions*>(&sessions);
    c.payloads = const_cast<FakePayloads*>(&payloads);
    return c;
  }
  Cc call(uint32_t sid, uint8_t netfn, uint8_t cmd, Bytes data) {
    auto r = bmc.registry().dispatch(ctx(sid), net::IpmiRequest{netfn, 0, cmd, data});
    EXPECT_TRUE(r.has_value());
    return r ? r->cc : Cc::unspecified;
  }
  Cc activate(uint32_t sid, uint8_t instance = 1) { return call(sid, kApp, 0x48, {0x01, instance, 0xC6, 0, 0, 0}); }
  void advance(milliseconds d) {
    clock.advance(d);
    timers.runDue();
  }
  // A holds instance 1 with its console traffic flowing.
  void aHoldsSol() {
    ASSERT_EQ(activate(kSidA), Cc::ok);
    advance(milliseconds(100));
    ASSERT_EQ(bmc.sol().sessionOf(1), kSidA);
  }
  // A was told "SOL deactivating" (as its last packet) and the payload is gone.
  void expectAWasDeactivated() {
    const auto st = payloads.statusTo(kSidA);
    ASSERT_FALSE(st.empty());
    EXPECT_EQ(st.back() & net::sol::kStDeactivating, net::sol::kStDeactivating);
    EXPECT_EQ(std::count_if(st.begin(), st.end(), [](uint8_t s) { return (s & net::sol::kStDeactivating) != 0; }), 1);
    EXPECT_EQ(bmc.sol().sessionOf(1), 0u);
    EXPECT_FALSE(payloads.open.contains(kSidA));
    const size_t before = payloads.sent.size();
    advance(milliseconds(2000));  // nothing more: no retries, no character packets
    EXPECT_EQ(payloads.sent.size(), before);
  }
  void expectAStillHoldsSol() {
    EXPECT_EQ(bmc.sol().sessionOf(1), kSidA);
    EXPECT_TRUE(payloads.open.contains(kSidA));
    for (uint8_t st : payloads.statusTo(kSidA)) EXPECT_EQ(st & net::sol::kStDeactivating, 0);
  }

  FakeClock clock;
  TimerQueue timers{clock};
  FakeHost host;
  FakePayloads payloads;
  FakeSessions sessions;
  Bmc bmc;
  uint8_t alice = 0, bob = 0;
};

// Set User Payload Access (§24.6), byte 2 [7:6] = 01b disable, byte 3 bit 1 = SOL.
TEST_F(SolRevocationTest, RemovingTheUsersSolPayloadAccessEndsItsPayload) {
  aHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x4C, {0x01, static_cast<uint8_t>(0x40 | alice), 0x02, 0, 0, 0}), Cc::ok);
  expectAWasDeactivated();
  EXPECT_EQ(activate(kSidA), Cc::insufficientPrivilege);
  // Given back: A may activate again.
  EXPECT_EQ(call(kSidB, kApp, 0x4C, {0x01, alice, 0x02, 0, 0, 0}), Cc::ok);
  EXPECT_EQ(activate(kSidA), Cc::ok);
}

TEST_F(SolRevocationTest, AnotherUsersAccessChangeLeavesThePayloadAlone) {
  aHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x4C, {0x01, static_cast<uint8_t>(0x40 | bob), 0x02, 0, 0, 0}), Cc::ok);
  // Set User Payload Access with no payload bit selected changes nothing.
  EXPECT_EQ(call(kSidB, kApp, 0x4C, {0x01, static_cast<uint8_t>(0x40 | alice), 0x00, 0, 0, 0}), Cc::ok);
  EXPECT_EQ(call(kSidB, kApp, 0x47, {bob, 0x00}), Cc::ok);  // bob disabled
  expectAStillHoldsSol();
}

TEST_F(SolRevocationTest, RevokingOwnAccessEndsOwnPayload) {
  aHoldsSol();
  EXPECT_EQ(call(kSidA, kApp, 0x4C, {0x0E, static_cast<uint8_t>(0x40 | alice), 0x02, 0, 0, 0}), Cc::ok);
  expectAWasDeactivated();
}

// Set User Password (§22.30) operation 00b: disable user.
TEST_F(SolRevocationTest, DisablingTheUserEndsItsPayload) {
  aHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x47, {alice, 0x00}), Cc::ok);
  expectAWasDeactivated();
}

// Set User Access (§22.26): the user's privilege limit on the channel below the SOL privilege.
TEST_F(SolRevocationTest, LoweringTheUsersPrivilegeLimitBelowTheSolPrivilegeEndsItsPayload) {
  aHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x43, {0x91, alice, 0x03}), Cc::ok);  // operator
  expectAWasDeactivated();
}

TEST_F(SolRevocationTest, ALimitStillAtTheSolPrivilegeKeepsThePayload) {
  ASSERT_EQ(call(kSidB, kTransport, 0x21, {0x01, 0x02, 0xC3}), Cc::ok);  // SOL privilege: operator
  aHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x43, {0x91, alice, 0x03}), Cc::ok);  // operator: still enough
  EXPECT_EQ(call(kSidB, kApp, 0x40, {0x01, 0x00, 0x83}), Cc::ok);   // channel limit operator
  expectAStillHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x43, {0x91, alice, 0x02}), Cc::ok);  // user: below
  expectAWasDeactivated();
}

// Set Channel Access (§22.22): byte 3 [7:6] = 10b sets the volatile (active) privilege limit; the
// non-volatile one (01b) takes effect only after a restart.
TEST_F(SolRevocationTest, LoweringTheChannelPrivilegeLimitEndsThePayload) {
  aHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x40, {0x01, 0x00, 0x43}), Cc::ok);  // non-volatile only
  expectAStillHoldsSol();
  EXPECT_EQ(call(kSidB, kApp, 0x40, {0x01, 0x00, 0x83}), Cc::ok);  // volatile: operator
  expectAWasDeactivated();
  EXPECT_EQ(call(kSidB, kApp, 0x40, {0x01, 0x00, 0x84}), Cc::ok);
}

// Set Channel Access (§22.22 Table 22-28) byte 2 [2:0] = 000b: the channel is "disabled for IPMI
// messaging". Only the volatile (active) setting, [7:6] = 10b, takes effect at once: every payload
// on the channel ends and activation answers 0x81 until the access mode allows access again. The
// sessions stay open (and their IPMI messages are still answered: that is how access comes back).
TEST_F(SolRevocationTest, DisablingTheChannelEndsEveryPayload) {
  aHoldsSol();
  ASSERT_EQ(activate(kSidB, 2), Cc::ok);
  EXPECT_EQ(call(kSidB, kApp, 0x40, {0x01, 0x60, 0x00}), Cc::ok);  // non-volatile only: at the next start
  expectAStillHoldsSol();
  EXPECT_TRUE(bmc.lan().channelEnabled);
  EXPECT_EQ(call(kSidB, kApp, 0x40, {0x01, 0xA0, 0x00}), Cc::ok);  // volatile: disabled now
  EXPECT_FALSE(bmc.lan().channelEnabled);
  expectAWasDeactivated();
  EXPECT_EQ(bmc.sol().sessionOf(2), 0u);
  EXPECT_FALSE(payloads.open.contains(kSidB));
  EXPECT_EQ(activate(kSidA), Cc{0x81});
  EXPECT_EQ(activate(kSidB, 2), Cc{0x81});
  const Bytes getVolatile{0x01, 0x80};
  auto access = bmc.registry().dispatch(ctx(kSidA), net::IpmiRequest{kApp, 0, 0x41, getVolatile});
  ASSERT_TRUE(access.has_value());
  EXPECT_EQ(access->cc, Cc::ok);
  EXPECT_EQ(access->data, (Bytes{0x20, 0x04}));  // alerting disabled, mode 0; privilege limit unchanged
  // Pre-boot only (001b) is an access mode that allows access: SOL comes back.
  EXPECT_EQ(call(kSidA, kApp, 0x40, {0x01, 0xA1, 0x00}), Cc::ok);
  EXPECT_TRUE(bmc.lan().channelEnabled);
  EXPECT_EQ(activate(kSidA), Cc::ok);
  const size_t sent = payloads.sent.size();
  EXPECT_EQ(call(kSidA, kApp, 0x40, {0x01, 0xA2, 0x00}), Cc::ok);  // always available: it stays
  EXPECT_EQ(bmc.sol().sessionOf(1), kSidA);
  EXPECT_TRUE(payloads.open.contains(kSidA));
  EXPECT_EQ(payloads.sent.size(), sent);
}

// The non-volatile access mode is what the channel starts with: "disabled" stored by one run is in
// effect in the next, which then refuses SOL on it.
TEST(SolChannelAccess, ANonVolatileDisabledChannelStartsDisabled) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::array<uint8_t, 32> key{};
  key.fill(0x3C);
  FakeClock clock;
  TimerQueue timers{clock};
  FakeHost host;
  FakePayloads payloads;
  FakeSessions sessions;
  auto run = [&](uint8_t accessByte, bool expectEnabledAtStart) {
    auto store = storage::StateStore::open(dir.file("state.db"), storage::SecretBox(key));
    ASSERT_TRUE(store.hasValue());
    Bmc bmc(BmcConfig{}, clock, timers, host, store->get());
    ASSERT_TRUE(bmc.start().hasValue());
    EXPECT_EQ(bmc.lan().channelEnabled, expectEnabledAtStart);
    auto admin = bmc.users().upsert("alice", "pw-a", Privilege::administrator, {1});
    ASSERT_TRUE(admin.hasValue());
    sessions.add(kSidA, *admin, Privilege::administrator);
    net::RequestContext c;
    c.channel = 1;
    c.ipmi20 = true;
    c.sessionId = kSidA;
    c.userId = *admin;
    c.privilege = Privilege::administrator;
    c.sessions = &sessions;
    c.payloads = &payloads;
    auto dispatch = [&](uint8_t cmd, Bytes data) {
      return bmc.registry().dispatch(c, net::IpmiRequest{kApp, 0, cmd, data});
    };
    auto activation = dispatch(0x48, {0x01, 0x01, 0xC6, 0, 0, 0});
    ASSERT_TRUE(activation.has_value());
    EXPECT_EQ(activation->cc, expectEnabledAtStart ? Cc::ok : Cc{0x81});
    if (activation->cc == Cc::ok) {
      ASSERT_TRUE(dispatch(0x49, {0x01, 0x01, 0, 0, 0, 0}).has_value());
    }
    auto set = dispatch(0x40, {0x01, accessByte, 0x00});
    ASSERT_TRUE(set.has_value());
    EXPECT_EQ(set->cc, Cc::ok);
    EXPECT_EQ(bmc.lan().channelEnabled, expectEnabledAtStart) << "a non-volatile change waits for the next start";
  };
  run(0x60, true);   // stores "disabled"
  run(0x62, false);  // starts disabled; stores "always available"
  run(0x62, true);   // and starts enabled again
}

// SOL parameter 1 "SOL Enable" = 0 (§26.2 Table 26-5): every payload ends, then activation is 0x81.
TEST_F(SolRevocationTest, DisablingSolEndsEveryPayload) {
  aHoldsSol();
  ASSERT_EQ(activate(kSidB, 2), Cc::ok);
  EXPECT_EQ(call(kSidB, kTransport, 0x21, {0x01, 0x01, 0x00}), Cc::ok);
  expectAWasDeactivated();
  EXPECT_EQ(bmc.sol().sessionOf(2), 0u);
  EXPECT_FALSE(payloads.open.contains(kSidB));
  EXPECT_EQ(activate(kSidA), Cc{0x81});
}

// SOL parameter 2 privilege raised above the session's: OEM (5h) is above administrator.
TEST_F(SolRevocationTest, RaisingTheSolPrivilegeAboveTheSessionEndsThePayload) {
  aHoldsSol();
  EXPECT_EQ(call(kSidB, kTransport, 0x21, {0x01, 0x02, 0xC4}), Cc::ok);  // unchanged level
  expectAStillHoldsSol();
  EXPECT_EQ(call(kSidB, kTransport, 0x21, {0x01, 0x02, 0xC5}), Cc::ok);
  expectAWasDeactivated();
}

// Set Session Privilege Level (§22.18): the SOL session lowering itself below the SOL privilege.
TEST_F(SolRevocationTest, TheSessionLoweringItsOwnPrivilegeEndsItsPayload) {
  aHoldsSol();
  EXPECT_EQ(call(kSidA, kApp, 0x3B, {0x03}), Cc::ok);
  expectAWasDeactivated();
}

}  // namespace
}  // namespace simbmc::bmc
