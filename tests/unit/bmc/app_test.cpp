// App NetFn handlers (bmc/app/app.cpp) through a real bmc::Bmc and its registry, as the LAN channel
// would call them. IPMI v2.0 §20 (device), §22 (BMC device and messaging, channels, users,
// sessions), Appendix G (privileges).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bmc/bmc.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "net/crypto.hpp"

namespace simbmc::bmc {
namespace {

constexpr uint8_t kApp = netfn::app;
constexpr uint8_t kGetDeviceId = 0x01;
constexpr uint8_t kColdReset = 0x02;
constexpr uint8_t kSetAcpi = 0x06;
constexpr uint8_t kGetAcpi = 0x07;
constexpr uint8_t kSetGlobalEnables = 0x2E;
constexpr uint8_t kGetGlobalEnables = 0x2F;
constexpr uint8_t kClearMessageFlags = 0x30;
constexpr uint8_t kGetMessageFlags = 0x31;
constexpr uint8_t kGetSystemGuid = 0x37;
constexpr uint8_t kGetAuthCaps = 0x38;
constexpr uint8_t kSetSessionPrivilege = 0x3B;
constexpr uint8_t kCloseSession = 0x3C;
constexpr uint8_t kGetSessionInfo = 0x3D;
constexpr uint8_t kGetChannelInfo = 0x42;
constexpr uint8_t kSetUserAccess = 0x43;
constexpr uint8_t kGetUserAccess = 0x44;
constexpr uint8_t kSetUserName = 0x45;
constexpr uint8_t kGetUserName = 0x46;
constexpr uint8_t kSetUserPassword = 0x47;
constexpr uint8_t kGetCipherSuites = 0x54;

// A reply as the client sees it.
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

Resp ok(Bytes data = {}) { return Resp{Cc::ok, std::move(data)}; }
Resp err(Cc cc) { return Resp{cc, {}}; }

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

// HostControl that does nothing: the App NetFn never drives power.
class FakeHost final : public HostControl {
 public:
  bool powerOn() const override { return true; }
  Cc request(ChassisAction, RestartCause) override { return Cc::ok; }
  RestartCause lastRestartCause() const override { return RestartCause::unknown; }
  bool lastPowerOnViaIpmi() const override { return false; }
  uint64_t powerOnSeconds() const override { return 0; }
  void addListener(Listener l) override { listeners.push_back(std::move(l)); }
  std::vector<Listener> listeners;
};

// A scripted session table for the session commands.
class FakeSessions final : public net::SessionControl {
 public:
  Cc setPrivilege(uint32_t sessionId, Privilege requested, Privilege& out) override {
    setCalls.emplace_back(sessionId, requested);
    if (setCc != Cc::ok) return setCc;
    out = requested == Privilege::none ? current : requested;
    current = out;
    return Cc::ok;
  }
  Cc closeSession(uint32_t caller, uint32_t targetId, uint8_t targetHandle) override {
    closeCalls.push_back(CloseCall{caller, targetId, targetHandle});
    return closeCc;
  }
  uint8_t maxSessions() const override { return max; }
  uint8_t activeSessions() const override { return static_cast<uint8_t>(sessions.size()); }
  std::optional<net::SessionInfo> findById(uint32_t id) const override {
    for (const auto& s : sessions) {
      if (s.sessionId == id) return s;
    }
    return std::nullopt;
  }
  std::optional<net::SessionInfo> findByHandle(uint8_t handle) const override {
    for (const auto& s : sessions) {
      if (s.handle == handle) return s;
    }
    return std::nullopt;
  }
  std::optional<net::SessionInfo> findByIndex(uint8_t index) const override {
    auto sorted = sessions;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.handle < b.handle; });
    if (index == 0 || index > sorted.size()) return std::nullopt;
    return sorted[index - 1];
  }

  struct CloseCall {
    uint32_t caller, id;
    uint8_t handle;
    bool operator==(const CloseCall&) const = default;
  };
  std::vector<net::SessionInfo> sessions;
  uint8_t max = 16;
  Privilege current = Privilege::user;
  Cc setCc = Cc::ok;
  Cc closeCc = Cc::ok;
  std::vector<std::pair<uint32_t, Privilege>> setCalls;
  std::vector<CloseCall> closeCalls;
};

net::SessionInfo sessionInfo(uint8_t handle, uint32_t id, uint8_t user, Privilege p, bool v20,
                             std::array<uint8_t, 4> ip, uint16_t port) {
  net::SessionInfo s;
  s.handle = handle;
  s.sessionId = id;
  s.userId = user;
  s.privilege = p;
  s.channel = 1;
  s.ipmi20 = v20;
  s.remoteIp = ip;
  s.remotePort = port;
  return s;
}

BmcConfig testConfig() {
  BmcConfig c;
  c.identity.deviceId = 0x20;
  c.identity.deviceRevision = 0x03;
  c.identity.firmwareMajor = 0x02;
  c.identity.firmwareMinor = 0x45;
  c.identity.manufacturerId = 0x0ABCDE;
  c.identity.productId = 0x1234;
  c.identity.auxFirmware = {0x01, 0x02, 0x03, 0x04};
  for (uint8_t i = 0; i < 16; ++i) {
    c.identity.deviceGuid[i] = static_cast<uint8_t>(0x10 + i);
    c.identity.systemGuid[i] = static_cast<uint8_t>(0x80 + i);
  }
  return c;
}

class AppTest : public ::testing::Test {
 protected:
  AppTest() : bmc(testConfig(), clock, timers, host, nullptr) {}

  void SetUp() override {
    auto started = bmc.start();
    ASSERT_TRUE(started.hasValue()) << started.error().message;
  }

  Resp call(uint8_t cmd, Bytes data = {}, Privilege privilege = Privilege::administrator) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = privilege;
    ctx.sessionId = 0x0A0B0C0D;
    ctx.userId = 2;
    ctx.ipmi20 = true;
    ctx.sessions = &sessions;
    return callWith(ctx, cmd, std::move(data));
  }

  Resp callWith(const net::RequestContext& ctx, uint8_t cmd, Bytes data) {
    auto r = bmc.registry().dispatch(ctx, net::IpmiRequest{kApp, 0, cmd, data});
    EXPECT_TRUE(r.has_value()) << "dropped";
    if (!r) return err(Cc::unspecified);
    if (r->cc != Cc::ok) {
      EXPECT_TRUE(r->data.empty()) << "an error reply carries data";
    }
    return Resp{r->cc, r->data};
  }

  std::optional<net::IpmiResponse> outOfSession(uint8_t cmd, Bytes data) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.outOfSession = true;
    ctx.sessions = &sessions;
    return bmc.registry().dispatch(ctx, net::IpmiRequest{kApp, 0, cmd, data});
  }

  uint8_t addUser(std::string_view name, std::string_view password, Privilege p = Privilege::administrator) {
    auto id = bmc.users().upsert(name, password, p, {1});
    EXPECT_TRUE(id.hasValue());
    return id ? *id : 0;
  }

  FakeClock clock;
  TimerQueue timers{clock};
  FakeHost host;
  FakeSessions sessions;
  Bmc bmc;
};

// ---- Get Device ID (§20.1) ------------------------------------------------------------------------------

TEST_F(AppTest, GetDeviceIdHasTheFifteenDocumentedBytes) {
  const Resp r = call(kGetDeviceId, {}, Privilege::user);
  ASSERT_EQ(r.cc, Cc::ok);
  ASSERT_EQ(r.data.size(), 15u);
  // Revision 3 with bit 7 "provides device SDRs"; additional device support B7h: chassis, IPMB event
  // generator and receiver, SEL, SDR repository, sensor device (no FRU devices configured here).
  EXPECT_EQ(r.data, (Bytes{0x20, 0x83, 0x02, 0x45, 0x02, 0xB7, 0xDE, 0xBC, 0x0A, 0x34, 0x12, 0x01, 0x02, 0x03, 0x04}));
}

TEST_F(AppTest, GetDeviceIdMasksReservedBits) {
  BmcConfig c = testConfig();
  c.identity.deviceRevision = 0xF7;  // only bits 3:0 are the revision; bit 7 means "provides SDRs"
  c.identity.firmwareMajor = 0xFF;   // bit 7 set would say "device busy"
  c.identity.manufacturerId = 0xFFFFFFFF;
  Bmc other(c, clock, timers, host, nullptr);
  ASSERT_TRUE(other.start());
  net::RequestContext ctx;
  ctx.privilege = Privilege::user;
  auto r = other.registry().dispatch(ctx, net::IpmiRequest{kApp, 0, kGetDeviceId, {}});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->data.size(), 15u);
  EXPECT_EQ(r->data[1], 0x87) << "bit 7 comes from the device SDR commands, not the config";
  EXPECT_EQ(r->data[2], 0x7F);
  EXPECT_EQ(r->data[6], 0xFF);
  EXPECT_EQ(r->data[7], 0xFF);
  EXPECT_EQ(r->data[8], 0x0F) << "manufacturer id is 20 bits";
}

TEST_F(AppTest, GetDeviceIdIsStrictAboutLengthAndPrivilege) {
  EXPECT_EQ(call(kGetDeviceId, {0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetDeviceId, {}, Privilege::callback), err(Cc::insufficientPrivilege));
  EXPECT_FALSE(outOfSession(kGetDeviceId, {}).has_value()) << "not a pre-session command";
}

TEST_F(AppTest, AppCommandPrivilegesFollowAppendixG) {
  const std::vector<std::pair<uint8_t, Privilege>> table = {
      {0x01, Privilege::user},          {0x02, Privilege::administrator}, {0x03, Privilege::administrator},
      {0x04, Privilege::user},          {0x06, Privilege::administrator}, {0x07, Privilege::user},
      {0x08, Privilege::user},          {0x2E, Privilege::administrator}, {0x2F, Privilege::user},
      {0x30, Privilege::administrator}, {0x31, Privilege::user},          {0x3C, Privilege::callback},
      {0x3D, Privilege::user},          {0x42, Privilege::user},          {0x43, Privilege::administrator},
      {0x44, Privilege::operator_},     {0x45, Privilege::administrator}, {0x46, Privilege::operator_},
      {0x47, Privilege::administrator},
  };
  for (const auto& [cmd, priv] : table) {
    EXPECT_EQ(bmc.registry().privilegeOf(kApp, cmd), priv) << "cmd 0x" << std::hex << int{cmd};
  }
}

// ---- Get System GUID, pre-session set ----------------------------------------------------------------------

TEST_F(AppTest, PreSessionCommandsAreAnsweredOutOfSession) {
  auto guid = outOfSession(kGetSystemGuid, {});
  ASSERT_TRUE(guid.has_value());
  EXPECT_EQ(guid->cc, Cc::ok);
  const auto systemGuid = testConfig().identity.systemGuid;
  EXPECT_EQ(guid->data, Bytes(systemGuid.begin(), systemGuid.end()));
  auto caps = outOfSession(kGetAuthCaps, {0x8E, 0x04});
  ASSERT_TRUE(caps.has_value());
  EXPECT_EQ(caps->cc, Cc::ok);
  auto suites = outOfSession(kGetCipherSuites, {0x0E, 0x00, 0x80});
  ASSERT_TRUE(suites.has_value());
  EXPECT_EQ(suites->cc, Cc::ok);
  for (uint8_t cmd : {kColdReset, kSetAcpi, kGetUserName, kSetUserPassword, kGetSessionInfo, kGetChannelInfo}) {
    EXPECT_FALSE(outOfSession(cmd, {0x01}).has_value()) << "cmd 0x" << std::hex << int{cmd};
  }
}

// ---- Get Channel Authentication Capabilities (§22.13) ----------------------------------------------------

TEST_F(AppTest, AuthCapsV15RequestIsExactlyEightBytesWithoutExtendedData) {
  const Resp r = call(kGetAuthCaps, {0x0E, 0x04});
  ASSERT_EQ(r.cc, Cc::ok);
  EXPECT_EQ(r.data, (Bytes{0x01, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}));
  // Channel 1 by number gives the same.
  EXPECT_EQ(call(kGetAuthCaps, {0x01, 0x04}), r);
}

TEST_F(AppTest, AuthCapsV2RequestSetsBit7AndExtendedCapabilities) {
  const Resp r = call(kGetAuthCaps, {0x8E, 0x04});
  ASSERT_EQ(r.cc, Cc::ok);
  EXPECT_EQ(r.data, (Bytes{0x01, 0x84, 0x04, 0x03, 0x00, 0x00, 0x00, 0x00}));
  auto pre = outOfSession(kGetAuthCaps, {0x8E, 0x02});
  ASSERT_TRUE(pre.has_value());
  EXPECT_EQ(pre->data, r.data);
}

TEST_F(AppTest, AuthCapsFollowTheChannelSettings) {
  net::ChannelSecurity& lan = bmc.lan();
  lan.authTypes15 = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 4);
  lan.perMessageAuth = false;
  lan.kg = padded("kg", 20);
  EXPECT_EQ(call(kGetAuthCaps, {0x8E, 0x04}).data, (Bytes{0x01, 0x97, 0x34, 0x03, 0x00, 0x00, 0x00, 0x00}));
  lan.ipmi15Enabled = false;
  lan.kg = Bytes(20, 0);  // all zero: not set
  EXPECT_EQ(call(kGetAuthCaps, {0x8E, 0x04}).data, (Bytes{0x01, 0x80, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00}));
}

TEST_F(AppTest, AuthCapsForAnotherChannelIs0xCC) {
  for (uint8_t ch : {uint8_t{0x00}, uint8_t{0x02}, uint8_t{0x07}, uint8_t{0x0F}, uint8_t{0x8F}}) {
    EXPECT_EQ(call(kGetAuthCaps, {ch, 0x04}), err(Cc::invalidField)) << "channel byte 0x" << std::hex << int{ch};
  }
  EXPECT_EQ(call(kGetAuthCaps, {0x0E, 0x00}), err(Cc::invalidField)) << "privilege 0 is reserved";
  EXPECT_EQ(call(kGetAuthCaps, {0x0E, 0x06}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetAuthCaps, {0x4E, 0x04}), err(Cc::invalidField)) << "reserved bit";
  EXPECT_EQ(call(kGetAuthCaps, {0x0E}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetAuthCaps, {0x0E, 0x04, 0x00}), err(Cc::invalidLength));
}

// ---- Get Channel Cipher Suites (§22.15) ----------------------------------------------------------------

Bytes record(uint8_t id) {
  auto cs = net::crypto::cipherSuite(id);
  return Bytes{0xC0, id, static_cast<uint8_t>(cs->auth),
               static_cast<uint8_t>(0x40 | static_cast<uint8_t>(cs->integrity)),
               static_cast<uint8_t>(0x80 | static_cast<uint8_t>(cs->conf))};
}

TEST_F(AppTest, CipherSuiteRecordsForTheDefaultSuites) {
  const Resp r = call(kGetCipherSuites, {0x0E, 0x00, 0x80});
  ASSERT_EQ(r.cc, Cc::ok);
  EXPECT_EQ(r.data, (Bytes{0x01, 0xC0, 0x11, 0x03, 0x44, 0x81, 0xC0, 0x03, 0x01, 0x41, 0x81}));
  EXPECT_EQ(call(kGetCipherSuites, {0x01, 0x00, 0x80}), r);
  EXPECT_EQ(call(kGetCipherSuites, {0x0E, 0x01, 0x80}), r) << "SOL payload";
}

TEST_F(AppTest, CipherSuiteRecordsComeIn16ByteChunks) {
  const auto ids = net::crypto::implementedSuiteIds();
  bmc.lan().cipherSuites.assign(ids.begin(), ids.end());
  Bytes all;
  for (uint8_t id : ids) {
    const Bytes rec = record(id);
    all.insert(all.end(), rec.begin(), rec.end());
  }
  ASSERT_EQ(all.size(), 60u);
  // ipmitool's loop: ask for index 0, 1, ... while the reply carries exactly 16 record bytes.
  Bytes collected;
  uint8_t index = 0;
  for (;; ++index) {
    const Resp r = call(kGetCipherSuites, {0x0E, 0x00, static_cast<uint8_t>(0x80 | index)});
    ASSERT_EQ(r.cc, Cc::ok) << "index " << int{index};
    ASSERT_GE(r.data.size(), 1u);
    ASSERT_LE(r.data.size(), 17u);
    EXPECT_EQ(r.data[0], 0x01);
    collected.insert(collected.end(), r.data.begin() + 1, r.data.end());
    if (r.data.size() != 17) break;
    ASSERT_LT(index, 10) << "never ends";
  }
  EXPECT_EQ(index, 3);
  EXPECT_EQ(collected, all);
}

TEST_F(AppTest, CipherSuiteIndexPastTheEndIsAnEmptyList) {
  // Exactly as ipmitool loops: a reply with fewer than 16 record bytes (here none) ends the list.
  for (uint8_t index : {uint8_t{1}, uint8_t{2}, uint8_t{0x3F}}) {
    EXPECT_EQ(call(kGetCipherSuites, {0x0E, 0x00, static_cast<uint8_t>(0x80 | index)}), ok({0x01}))
        << "index " << int{index};
  }
  bmc.lan().cipherSuites.clear();
  EXPECT_EQ(call(kGetCipherSuites, {0x0E, 0x00, 0x80}), ok({0x01})) << "no suites at all";
}

TEST_F(AppTest, CipherSuiteAlgorithmListListsEachAlgorithmOnce) {
  const Resp r = call(kGetCipherSuites, {0x0E, 0x00, 0x00});
  ASSERT_EQ(r.cc, Cc::ok);
  EXPECT_EQ(r.data, (Bytes{0x01, 0x03, 0x01, 0x44, 0x41, 0x81}));
}

TEST_F(AppTest, CipherSuitesBadRequests) {
  EXPECT_EQ(call(kGetCipherSuites, {0x02, 0x00, 0x80}), err(Cc::invalidField)) << "another channel";
  EXPECT_EQ(call(kGetCipherSuites, {0x0E, 0x00, 0xC0}), err(Cc::invalidField)) << "reserved bit 6";
  EXPECT_EQ(call(kGetCipherSuites, {0x0E, 0x40, 0x80}), err(Cc::invalidField)) << "reserved payload bits";
  EXPECT_EQ(call(kGetCipherSuites, {0x0E, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetCipherSuites, {0x0E, 0x00, 0x80, 0x00}), err(Cc::invalidLength));
}

// ---- Users (§22.26-22.30) --------------------------------------------------------------------------

TEST_F(AppTest, SetAndGetUserName) {
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x03}, padded("bob", 16)})), ok());
  EXPECT_EQ(call(kGetUserName, {0x03}, Privilege::operator_), ok(padded("bob", 16)));
  ASSERT_NE(bmc.users().get(3), nullptr);
  EXPECT_EQ(bmc.users().get(3)->name, "bob");
  // Full 16 bytes, no terminator.
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x04}, padded("sixteen-chars-ok", 16)})), ok());
  EXPECT_EQ(call(kGetUserName, {0x04}), ok(padded("sixteen-chars-ok", 16)));
  // A user that does not exist has an empty name.
  EXPECT_EQ(call(kGetUserName, {0x09}), ok(Bytes(16, 0)));
  // Renaming.
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x03}, padded("robert", 16)})), ok());
  EXPECT_EQ(call(kGetUserName, {0x03}), ok(padded("robert", 16)));
}

TEST_F(AppTest, SetUserNameRefusals) {
  addUser("admin", "pw");  // id 2
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x01}, padded("root", 16)})), err(Cc::invalidField)) << "null user";
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x00}, padded("root", 16)})), err(Cc::invalidField));
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x11}, padded("root", 16)})), err(Cc::invalidField)) << "user 17";
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x03}, padded("admin", 16)})), err(Cc::invalidField)) << "duplicate";
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x03}, padded("x", 15)})), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x03}, padded("x", 17)})), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserName, cat({Bytes{0x03}, padded("x", 16)}), Privilege::operator_),
            err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetUserName, {0x00}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetUserName, {0x11}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetUserName, {0x02}, Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetUserName, {}), err(Cc::invalidLength));
}

TEST_F(AppTest, SetUserPassword16ThenTest) {
  const uint8_t id = addUser("admin", "old");
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x02}, padded("new-pass", 16)})), ok());
  ASSERT_NE(bmc.users().get(id), nullptr);
  EXPECT_EQ(bmc.users().get(id)->password, padded("new-pass", 8));
  EXPECT_FALSE(bmc.users().get(id)->password20);
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x03}, padded("new-pass", 16)})), ok()) << "test: right";
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x03}, padded("old", 16)})), err(Cc{0x80})) << "test: wrong";
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x03}, padded("new-pasS", 16)})), err(Cc{0x80}));
  auto c = bmc.users().findUser(1, "admin");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->password, padded("new-pass", 20)) << "RAKP sees the new password";
}

TEST_F(AppTest, SetUserPassword20ThenTest) {
  const uint8_t id = addUser("admin", "old");
  const Bytes pw20 = padded("eighteen-char-pass", 20);
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{static_cast<uint8_t>(0x80 | id), 0x02}, pw20})), ok());
  EXPECT_TRUE(bmc.users().get(id)->password20);
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{static_cast<uint8_t>(0x80 | id), 0x03}, pw20})), ok());
  EXPECT_EQ(
      call(kSetUserPassword, cat({Bytes{static_cast<uint8_t>(0x80 | id), 0x03}, padded("eighteen-char-pasX", 20)})),
      err(Cc{0x80}));
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x03}, padded("eighteen-char-pa", 16)})), err(Cc{0x81}))
      << "a 20-byte password tested as 16 bytes";
}

TEST_F(AppTest, SetUserPasswordWrongSizeIs0xC7) {
  const uint8_t id = addUser("admin", "old");
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x02}, padded("x", 20)})), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{static_cast<uint8_t>(0x80 | id), 0x02}, padded("x", 16)})),
            err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x02}, padded("x", 15)})), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserPassword, {id, 0x02}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserPassword, {id, 0x03}), err(Cc::invalidLength));
  EXPECT_EQ(bmc.users().get(id)->password, padded("old", 3)) << "unchanged";
}

TEST_F(AppTest, SetUserPasswordEnableAndDisable) {
  const uint8_t id = addUser("admin", "pw");
  EXPECT_EQ(call(kSetUserPassword, {id, 0x00}), ok());
  EXPECT_FALSE(bmc.users().get(id)->enabled);
  EXPECT_FALSE(bmc.users().findUser(1, "admin").has_value());
  EXPECT_EQ(call(kGetUserAccess, {0x01, id}).data.at(1) & 0xC0, 0x80) << "disabled";
  // ipmitool sends the (unused) password field along with enable/disable.
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{id, 0x01}, Bytes(16, 0)})), ok());
  EXPECT_TRUE(bmc.users().get(id)->enabled);
  EXPECT_TRUE(bmc.users().findUser(1, "admin").has_value());
  EXPECT_EQ(call(kGetUserAccess, {0x01, id}).data.at(1) & 0xC0, 0x40) << "enabled";
  EXPECT_EQ(bmc.users().get(id)->password, padded("pw", 2)) << "enable keeps the password";
}

TEST_F(AppTest, SetUserPasswordRefusals) {
  EXPECT_EQ(call(kSetUserPassword, {0x01, 0x01}), err(Cc::invalidField)) << "the null user stays disabled";
  EXPECT_EQ(call(kSetUserPassword, {0x00, 0x01}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetUserPassword, {0x11, 0x01}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetUserPassword, {0x42, 0x01}), err(Cc::invalidField)) << "reserved bit 6";
  EXPECT_EQ(call(kSetUserPassword, {0x02, 0x05}), err(Cc::invalidField)) << "reserved operation bits";
  EXPECT_EQ(call(kSetUserPassword, cat({Bytes{0x09, 0x03}, padded("x", 16)})), err(Cc{0x80}))
      << "testing the password of a user that does not exist";
  EXPECT_EQ(call(kSetUserPassword, {0x02, 0x01}, Privilege::operator_), err(Cc::insufficientPrivilege));
}

TEST_F(AppTest, GetUserAccessFields) {
  const uint8_t a = addUser("admin", "pw", Privilege::administrator);
  const uint8_t o = addUser("oper", "pw", Privilege::operator_);
  ASSERT_TRUE(bmc.users().update(o, [](User& u) { u.enabled = false; }));
  // Byte 1 max ids, byte 2 enable status | enabled count, byte 3 fixed names, byte 4 access.
  EXPECT_EQ(call(kGetUserAccess, {0x01, a}, Privilege::operator_), ok({16, 0x40 | 1, 1, 0x30 | 0x04}));
  EXPECT_EQ(call(kGetUserAccess, {0x0E, o}), ok({16, 0x80 | 1, 1, 0x30 | 0x03}));
  EXPECT_EQ(call(kGetUserAccess, {0x01, 0x09}), ok({16, 0x00 | 1, 1, 0x0F})) << "an empty slot: no access";
  EXPECT_EQ(call(kGetUserAccess, {0x02, a}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetUserAccess, {0x01, 0x00}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetUserAccess, {0x01, 0x11}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetUserAccess, {0x01}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetUserAccess, {0x01, a}, Privilege::user), err(Cc::insufficientPrivilege));
}

TEST_F(AppTest, SetUserAccessChangesBitsOnlyWhenAsked) {
  const uint8_t id = addUser("oper", "pw", Privilege::operator_);
  // Bit 7 set: callback-only, link auth and messaging follow bits 6:4; privilege user.
  EXPECT_EQ(call(kSetUserAccess, {0x80 | 0x40 | 0x01, id, 0x02}), ok());
  const User* u = bmc.users().get(id);
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(u->access[1].callbackOnly);
  EXPECT_FALSE(u->access[1].linkAuth);
  EXPECT_FALSE(u->access[1].ipmiMessaging);
  EXPECT_EQ(u->access[1].privilegeLimit, Privilege::user);
  EXPECT_EQ(call(kGetUserAccess, {0x01, id}).data.at(3), 0x40 | 0x02);
  // Bit 7 clear: only the privilege changes.
  EXPECT_EQ(call(kSetUserAccess, {0x01 | 0x30, id, 0x04}), ok());
  u = bmc.users().get(id);
  EXPECT_TRUE(u->access[1].callbackOnly);
  EXPECT_FALSE(u->access[1].ipmiMessaging);
  EXPECT_EQ(u->access[1].privilegeLimit, Privilege::administrator);
  // Messaging back on, with the optional session-limit byte and the current-channel number.
  EXPECT_EQ(call(kSetUserAccess, {0x80 | 0x30 | 0x0E, id, 0x03, 0x00}), ok());
  EXPECT_EQ(call(kGetUserAccess, {0x01, id}).data.at(3), 0x30 | 0x03);
  // No access.
  EXPECT_EQ(call(kSetUserAccess, {0x01, id, 0x0F}), ok());
  EXPECT_FALSE(bmc.users().findUser(1, "oper").has_value());
  EXPECT_EQ(call(kGetUserAccess, {0x01, id}).data.at(3) & 0x0F, 0x0F);
}

TEST_F(AppTest, SetUserAccessRefusals) {
  const uint8_t id = addUser("oper", "pw", Privilege::operator_);
  EXPECT_EQ(call(kSetUserAccess, {0x02, id, 0x02}), err(Cc::invalidField)) << "another channel";
  EXPECT_EQ(call(kSetUserAccess, {0x01, 0x00, 0x02}), err(Cc::invalidField)) << "user 0";
  EXPECT_EQ(call(kSetUserAccess, {0x01, 0x11, 0x02}), err(Cc::invalidField)) << "user 17";
  EXPECT_EQ(call(kSetUserAccess, {0x01, id, 0x00}), err(Cc::invalidField)) << "privilege 0 is reserved";
  EXPECT_EQ(call(kSetUserAccess, {0x01, id, 0x07}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetUserAccess, {0x01, id}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserAccess, {0x01, id, 0x02, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUserAccess, {0x01, id, 0x02}, Privilege::operator_), err(Cc::insufficientPrivilege));
  EXPECT_EQ(bmc.users().get(id)->access[1].privilegeLimit, Privilege::operator_) << "unchanged";
}

// ---- Sessions (§22.18-22.20) --------------------------------------------------------------------------

TEST_F(AppTest, SetSessionPrivilegeGoesToTheSessionTable) {
  EXPECT_EQ(call(kSetSessionPrivilege, {0x04}, Privilege::user), ok({0x04}));
  ASSERT_EQ(sessions.setCalls.size(), 1u);
  EXPECT_EQ(sessions.setCalls[0], std::make_pair(uint32_t{0x0A0B0C0D}, Privilege::administrator));
  EXPECT_EQ(call(kSetSessionPrivilege, {0x00}, Privilege::user), ok({0x04})) << "0: read the current level";
  sessions.setCc = Cc{0x81};
  EXPECT_EQ(call(kSetSessionPrivilege, {0x05}), err(Cc{0x81}));
  EXPECT_EQ(call(kSetSessionPrivilege, {0x0F}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetSessionPrivilege, {0x14}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetSessionPrivilege, {}), err(Cc::invalidLength));
}

TEST_F(AppTest, CloseSessionByIdAndByHandle) {
  EXPECT_EQ(call(kCloseSession, {0x0D, 0x0C, 0x0B, 0x0A}, Privilege::callback), ok());
  EXPECT_EQ(call(kCloseSession, {0x00, 0x00, 0x00, 0x00, 0x03}), ok());
  ASSERT_EQ(sessions.closeCalls.size(), 2u);
  EXPECT_EQ(sessions.closeCalls[0], (FakeSessions::CloseCall{0x0A0B0C0D, 0x0A0B0C0D, 0}));
  EXPECT_EQ(sessions.closeCalls[1], (FakeSessions::CloseCall{0x0A0B0C0D, 0, 3}));
  sessions.closeCc = Cc{0x87};
  EXPECT_EQ(call(kCloseSession, {0x01, 0x02, 0x03, 0x04}), err(Cc{0x87}));
}

TEST_F(AppTest, CloseSessionLengths) {
  EXPECT_EQ(call(kCloseSession, {0x01, 0x02, 0x03}), err(Cc::invalidLength));
  EXPECT_EQ(call(kCloseSession, {0x01, 0x02, 0x03, 0x04, 0x05}), err(Cc::invalidLength))
      << "the handle byte is only present with session id 0";
  EXPECT_EQ(call(kCloseSession, {0x00, 0x00, 0x00, 0x00}), err(Cc::invalidLength))
      << "session id 0 needs the handle byte (§22.19)";
  EXPECT_TRUE(sessions.closeCalls.empty());
}

TEST_F(AppTest, GetSessionInfoForTheCurrentSession) {
  sessions.max = 20;
  sessions.sessions = {sessionInfo(3, 0x0A0B0C0D, 2, Privilege::administrator, true, {192, 168, 1, 7}, 0xC001),
                       sessionInfo(1, 0x11111111, 5, Privilege::user, false, {10, 0, 0, 1}, 623)};
  const Resp r = call(kGetSessionInfo, {0x00}, Privilege::user);
  ASSERT_EQ(r.cc, Cc::ok);
  EXPECT_EQ(r.data, (Bytes{0x03, 20, 2, 0x02, 0x04, 0x11, 192, 168, 1, 7, 0, 0, 0, 0, 0, 0, 0x01, 0xC0}));
}

TEST_F(AppTest, GetSessionInfoByIndexHandleAndId) {
  sessions.sessions = {sessionInfo(3, 0x0A0B0C0D, 2, Privilege::administrator, true, {192, 168, 1, 7}, 0xC001),
                       sessionInfo(1, 0x11111111, 5, Privilege::user, false, {10, 0, 0, 1}, 623)};
  const Bytes second = {0x01, 16, 2, 0x05, 0x02, 0x01, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x6F, 0x02};
  EXPECT_EQ(call(kGetSessionInfo, {0x01}), ok(second)) << "index 1 = lowest handle";
  EXPECT_EQ(call(kGetSessionInfo, {0x02}).data.at(0), 0x03);
  EXPECT_EQ(call(kGetSessionInfo, {0xFE, 0x01}), ok(second));
  EXPECT_EQ(call(kGetSessionInfo, {0xFF, 0x11, 0x11, 0x11, 0x11}), ok(second));
  // Nothing there: handle 0 and the counts.
  EXPECT_EQ(call(kGetSessionInfo, {0x03}), ok({0x00, 16, 2}));
  EXPECT_EQ(call(kGetSessionInfo, {0xFE, 0x09}), ok({0x00, 16, 2}));
  EXPECT_EQ(call(kGetSessionInfo, {0xFF, 0x01, 0x00, 0x00, 0x00}), ok({0x00, 16, 2}));
}

TEST_F(AppTest, GetSessionInfoBadRequests) {
  EXPECT_EQ(call(kGetSessionInfo, {0x40}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetSessionInfo, {0xFD}), err(Cc::invalidField));
  EXPECT_EQ(call(kGetSessionInfo, {0xFE}), err(Cc::invalidLength)) << "handle missing";
  EXPECT_EQ(call(kGetSessionInfo, {0xFF, 0x01, 0x02}), err(Cc::invalidLength)) << "id short";
  EXPECT_EQ(call(kGetSessionInfo, {0x01, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetSessionInfo, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetSessionInfo, {0x00}, Privilege::callback), err(Cc::insufficientPrivilege));
}

// ---- Get Channel Info (§22.24) -------------------------------------------------------------------------

TEST_F(AppTest, GetChannelInfoForTheLanChannel) {
  sessions.sessions = {sessionInfo(1, 1, 2, Privilege::user, true, {}, 1),
                       sessionInfo(2, 2, 2, Privilege::user, true, {}, 2)};
  const Bytes lan = {0x01, 0x04, 0x01, 0x82, 0xF2, 0x1B, 0x00, 0x00, 0x00};
  EXPECT_EQ(call(kGetChannelInfo, {0x01}, Privilege::user), ok(lan));
  EXPECT_EQ(call(kGetChannelInfo, {0x0E}), ok(lan)) << "this channel";
}

TEST_F(AppTest, GetChannelInfoForTheSystemInterface) {
  EXPECT_EQ(call(kGetChannelInfo, {0x0F}), ok({0x0F, 0x0C, 0x05, 0x00, 0xF2, 0x1B, 0x00, 0x00, 0x00}));
}

TEST_F(AppTest, GetChannelInfoForAnyOtherChannelIs0xCC) {
  for (uint8_t ch : {uint8_t{0x00}, uint8_t{0x02}, uint8_t{0x07}, uint8_t{0x0B}, uint8_t{0x0D}}) {
    EXPECT_EQ(call(kGetChannelInfo, {ch}), err(Cc::invalidField)) << "channel " << int{ch};
  }
  EXPECT_EQ(call(kGetChannelInfo, {0x11}), err(Cc::invalidField)) << "reserved bits";
  EXPECT_EQ(call(kGetChannelInfo, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetChannelInfo, {0x01, 0x00}), err(Cc::invalidLength));
}

// ---- ACPI, global enables, message flags (§20.6-20.7, §22.1-22.4) -------------------------------------

TEST_F(AppTest, SetAndGetAcpiPowerState) {
  EXPECT_EQ(call(kGetAcpi, {}, Privilege::user), ok({0x00, 0x00}));
  EXPECT_EQ(call(kSetAcpi, {0x80 | 0x05, 0x80 | 0x03}), ok());  // S5/G2 soft off, D3
  EXPECT_EQ(call(kGetAcpi, {}), ok({0x05, 0x03}));
  EXPECT_EQ(call(kSetAcpi, {0x01, 0x80 | 0x01}), ok()) << "system state not selected by bit 7";
  EXPECT_EQ(call(kGetAcpi, {}), ok({0x05, 0x01}));
  EXPECT_EQ(call(kSetAcpi, {0x80 | 0x7F, 0x80 | 0x7F}), ok()) << "7Fh: no change";
  EXPECT_EQ(call(kGetAcpi, {}), ok({0x05, 0x01}));
  EXPECT_EQ(call(kSetAcpi, {0x80 | 0x20, 0x00}), ok()) << "legacy on";
  EXPECT_EQ(call(kGetAcpi, {}), ok({0x20, 0x01}));
}

TEST_F(AppTest, SetAcpiPowerStateRefusals) {
  EXPECT_EQ(call(kSetAcpi, {0x80 | 0x30, 0x00}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetAcpi, {0x00, 0x80 | 0x08}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetAcpi, {0x80}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetAcpi, {0x80, 0x80}, Privilege::operator_), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetAcpi, {}), ok({0x00, 0x00})) << "unchanged";
}

TEST_F(AppTest, SetAcpiPowerStateReservedValuesAre0xCC) {
  // IPMI v2.0 §20.6: system states 00h-0Ah, 20h, 21h, 2Ah, 7Fh; device states D0-D3 (00h-03h),
  // 2Ah unknown, 7Fh no change (the same sets as FreeIPMI's IPMI_ACPI_*_POWER_STATE_VALID).
  for (uint8_t sys : {uint8_t{0x0B}, uint8_t{0x1F}, uint8_t{0x22}, uint8_t{0x29}}) {
    EXPECT_EQ(call(kSetAcpi, {static_cast<uint8_t>(0x80 | sys), 0x00}), err(Cc::invalidField))
        << "system state 0x" << std::hex << int{sys};
  }
  for (uint8_t dev : {uint8_t{0x04}, uint8_t{0x05}, uint8_t{0x07}}) {
    EXPECT_EQ(call(kSetAcpi, {0x00, static_cast<uint8_t>(0x80 | dev)}), err(Cc::invalidField))
        << "device state 0x" << std::hex << int{dev};
  }
  EXPECT_EQ(call(kGetAcpi, {}), ok({0x00, 0x00})) << "unchanged";
}

TEST_F(AppTest, SetAcpiPowerStateUnknownIs2Ah) {
  EXPECT_EQ(call(kSetAcpi, {0x80 | 0x2A, 0x80 | 0x2A}), ok());
  EXPECT_EQ(call(kGetAcpi, {}), ok({0x2A, 0x2A}));
}

TEST_F(AppTest, GlobalEnables) {
  EXPECT_EQ(call(kGetGlobalEnables, {}, Privilege::user), ok({0x0C}));
  EXPECT_EQ(call(kSetGlobalEnables, {0x0D}), ok());
  EXPECT_EQ(call(kGetGlobalEnables, {}), ok({0x0D}));
  EXPECT_EQ(call(kSetGlobalEnables, {0x1D}), err(Cc::invalidField)) << "reserved bit 4";
  EXPECT_EQ(call(kGetGlobalEnables, {}), ok({0x0D}));
  EXPECT_EQ(call(kSetGlobalEnables, {0x00}, Privilege::operator_), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kColdReset, {}), ok());
  EXPECT_EQ(call(kGetGlobalEnables, {}), ok({0x0C})) << "a cold reset restores the defaults";
}

TEST_F(AppTest, MessageFlags) {
  EXPECT_EQ(call(kGetMessageFlags, {}, Privilege::user), ok({0x00}));
  bmc.app().messageFlags = 0x0B;
  EXPECT_EQ(call(kGetMessageFlags, {}), ok({0x0B}));
  EXPECT_EQ(call(kClearMessageFlags, {0x01}), ok());
  EXPECT_EQ(call(kGetMessageFlags, {}), ok({0x0A}));
  EXPECT_EQ(call(kClearMessageFlags, {0x0A}), ok());
  EXPECT_EQ(call(kGetMessageFlags, {}), ok({0x00}));
  EXPECT_EQ(call(kClearMessageFlags, {}), err(Cc::invalidLength));
}

}  // namespace
}  // namespace simbmc::bmc
