#include "bmc/chassis/chassis.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::bmc {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr uint8_t kGetCapabilities = 0x00;
constexpr uint8_t kGetStatus = 0x01;
constexpr uint8_t kControl = 0x02;
constexpr uint8_t kReset = 0x03;
constexpr uint8_t kIdentify = 0x04;
constexpr uint8_t kSetPolicy = 0x06;
constexpr uint8_t kRestartCause = 0x07;
constexpr uint8_t kSetBoot = 0x08;
constexpr uint8_t kGetBoot = 0x09;
constexpr uint8_t kPoh = 0x0F;

constexpr Cc kParamNotSupported{0x80};
constexpr Cc kSetInProgressActive{0x81};

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

// HostControl whose transitions complete at once; the simulated state machine with delays is
// exercised against ChassisService in tests/unit/sim/chassis_power_test.cpp.
class FakeHost final : public HostControl {
 public:
  bool powerOn() const override { return on; }
  Cc request(ChassisAction action, RestartCause c) override {
    requests.emplace_back(action, c);
    if (nextCc != Cc::ok) return nextCc;
    switch (action) {
      case ChassisAction::powerUp:
        if (!on) completeOn(c);
        break;
      case ChassisAction::powerDown:
        if (on) completeOff();
        break;
      case ChassisAction::powerCycle:
        completeOff();
        completeOn(c);
        break;
      case ChassisAction::hardReset:
        cause = c;
        notify(PowerEvent::reset);
        break;
      default:
        break;
    }
    return Cc::ok;
  }
  RestartCause lastRestartCause() const override { return cause; }
  bool lastPowerOnViaIpmi() const override { return viaIpmi; }
  uint64_t powerOnSeconds() const override { return poh; }
  void addListener(Listener l) override { listeners.push_back(std::move(l)); }

  void completeOn(RestartCause c) {
    on = true;
    cause = c;
    viaIpmi = c == RestartCause::chassisControl;
    notify(PowerEvent::poweredOn);
  }
  void completeOff() {
    on = false;
    notify(PowerEvent::poweredOff);
  }
  void notify(PowerEvent e) {
    const auto copy = listeners;
    for (const auto& l : copy) l(e);
  }

  bool on = true;
  RestartCause cause = RestartCause::unknown;
  bool viaIpmi = false;
  uint64_t poh = 0;
  Cc nextCc = Cc::ok;
  std::vector<std::pair<ChassisAction, RestartCause>> requests;
  std::vector<Listener> listeners;
};

std::array<uint8_t, 32> testKey() {
  std::array<uint8_t, 32> key{};
  key.fill(0x3C);
  return key;
}

std::unique_ptr<storage::StateStore> openStore(const std::string& path) {
  auto store = storage::StateStore::open(path, storage::SecretBox(testKey()));
  EXPECT_TRUE(store.hasValue()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

class ChassisTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  // (Re)creates the service as the daemon would: construct, load, register.
  void start(ChassisConfig config = {}, storage::StateStore* store = nullptr) {
    chassis_.reset();
    registry_ = std::make_unique<CommandRegistry>();
    chassis_ = std::make_unique<ChassisService>(host_, queue_, store, config);
    auto loaded = chassis_->load();
    ASSERT_TRUE(loaded.hasValue()) << loaded.error().message;
    chassis_->registerCommands(*registry_);
  }

  Resp call(uint8_t cmd, Bytes data = {}, Privilege privilege = Privilege::operator_, uint8_t channel = 1) {
    net::RequestContext ctx;
    ctx.channel = channel;
    ctx.privilege = privilege;
    ctx.sessionId = 0x1234;
    ctx.userId = 2;
    net::IpmiRequest req;
    req.netfn = netfn::chassis;
    req.cmd = cmd;
    req.data = data;
    auto r = registry_->dispatch(ctx, req);
    EXPECT_TRUE(r.has_value());
    if (!r) return err(Cc::unspecified);
    return Resp{r->cc, std::move(r->data)};
  }

  Resp status() { return call(kGetStatus); }
  Resp bootParam(uint8_t param, uint8_t set = 0) { return call(kGetBoot, {param, set, 0x00}); }
  Bytes bootFlags() {
    Resp r = bootParam(5);
    EXPECT_EQ(r.cc, Cc::ok);
    return r.data.size() == 7 ? Bytes(r.data.begin() + 2, r.data.end()) : Bytes{};
  }
  void advance(std::chrono::nanoseconds d) {
    clock_.advance(d);
    queue_.runDue();
  }

  FakeClock clock_;
  TimerQueue queue_{clock_};
  FakeHost host_;
  std::unique_ptr<CommandRegistry> registry_;
  std::unique_ptr<ChassisService> chassis_;
};

// ---- Get Chassis Capabilities / Status ------------------------------------------------------

TEST_F(ChassisTest, CapabilitiesReportTheBmcForEveryDevice) {
  EXPECT_EQ(call(kGetCapabilities), ok({0x00, 0x20, 0x20, 0x20, 0x20, 0x20}));
  EXPECT_EQ(call(kGetCapabilities, {0x00}), err(Cc::invalidLength));
}

TEST_F(ChassisTest, StatusReportsPowerPolicyAndIdentifySupport) {
  // On, restore policy "always on" (2) in bits 6:5, identify supported and off.
  EXPECT_EQ(status(), ok({0x41, 0x00, 0x40, 0x00}));
  host_.on = false;
  EXPECT_EQ(status(), ok({0x40, 0x00, 0x40, 0x00}));
  EXPECT_EQ(call(kGetStatus, {0x00}), err(Cc::invalidLength));
}

TEST_F(ChassisTest, StatusShowsPowerOnViaIpmi) {
  EXPECT_EQ(call(kControl, {0x00}), ok());
  EXPECT_EQ(status(), ok({0x40, 0x00, 0x40, 0x00}));
  EXPECT_EQ(call(kControl, {0x01}), ok());
  EXPECT_EQ(status(), ok({0x41, 0x10, 0x40, 0x00}));
  // Powered on by something else: the "via IPMI" bit follows the host.
  host_.completeOff();
  host_.completeOn(RestartCause::powerButton);
  EXPECT_EQ(status(), ok({0x41, 0x00, 0x40, 0x00}));
}

TEST_F(ChassisTest, WithoutIdentifySupportTheCommandIsUnknownAndStatusSaysSo) {
  ChassisConfig config;
  config.identifySupported = false;
  start(config);
  EXPECT_EQ(call(kIdentify), err(Cc::invalidCommand));
  EXPECT_EQ(status(), ok({0x41, 0x00, 0x00, 0x00}));
}

// ---- Chassis Control ------------------------------------------------------------------------

TEST_F(ChassisTest, ControlPassesEachActionToTheHost) {
  for (uint8_t action = 0; action <= 5; ++action) EXPECT_EQ(call(kControl, {action}), ok()) << int(action);
  ASSERT_EQ(host_.requests.size(), 6u);
  for (uint8_t action = 0; action <= 5; ++action) {
    EXPECT_EQ(host_.requests[action].first, static_cast<ChassisAction>(action));
    EXPECT_EQ(host_.requests[action].second, RestartCause::chassisControl);
  }
}

TEST_F(ChassisTest, ControlPassesTheHostsCompletionCodeThrough) {
  host_.nextCc = Cc::notSupportedInState;
  EXPECT_EQ(call(kControl, {0x05}), err(Cc::notSupportedInState));
  host_.nextCc = Cc::nodeBusy;
  EXPECT_EQ(call(kControl, {0x02}), err(Cc::nodeBusy));
}

TEST_F(ChassisTest, ControlRefusesBadRequestsWithoutTouchingTheHost) {
  EXPECT_EQ(call(kControl, {0x06}), err(Cc::invalidField));
  EXPECT_EQ(call(kControl, {0x11}), err(Cc::invalidField));  // reserved nibble set
  EXPECT_EQ(call(kControl, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(kControl, {0x01, 0x00}), err(Cc::invalidLength));
  EXPECT_TRUE(host_.requests.empty());
}

TEST_F(ChassisTest, ChassisResetIsNotImplemented) { EXPECT_EQ(call(kReset), err(Cc::invalidCommand)); }

TEST_F(ChassisTest, PrivilegesFollowAppendixG) {
  const Privilege user = Privilege::user;
  EXPECT_EQ(call(kControl, {0x00}, user), err(Cc::insufficientPrivilege));
  EXPECT_TRUE(host_.requests.empty());
  EXPECT_TRUE(host_.on);
  EXPECT_EQ(call(kIdentify, {}, user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kSetPolicy, {0x00}, user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kSetBoot, {0x00, 0x01}, user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetBoot, {0x05, 0x00, 0x00}, user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetCapabilities, {}, user).cc, Cc::ok);
  EXPECT_EQ(call(kGetStatus, {}, user).cc, Cc::ok);
  EXPECT_EQ(call(kRestartCause, {}, user).cc, Cc::ok);
  EXPECT_EQ(call(kPoh, {}, user).cc, Cc::ok);
  EXPECT_EQ(call(kControl, {0x00}, Privilege::operator_), ok());
  EXPECT_EQ(call(kControl, {0x01}, Privilege::administrator), ok());
}

// ---- Chassis Identify -----------------------------------------------------------------------

TEST_F(ChassisTest, IdentifyWithoutDataLastsFifteenSeconds) {
  EXPECT_EQ(call(kIdentify), ok());
  EXPECT_EQ(status().data[2], 0x50);  // supported, temporary on
  advance(seconds(14));
  EXPECT_EQ(status().data[2], 0x50);
  advance(seconds(1));
  EXPECT_EQ(status().data[2], 0x40);
}

TEST_F(ChassisTest, IdentifyIntervalForceAndOff) {
  EXPECT_EQ(call(kIdentify, {5}), ok());
  advance(seconds(4));
  EXPECT_EQ(status().data[2], 0x50);
  advance(seconds(1));
  EXPECT_EQ(status().data[2], 0x40);

  // ipmitool "chassis identify force": interval 0, force on: indefinitely on.
  EXPECT_EQ(call(kIdentify, {0x00, 0x01}), ok());
  EXPECT_EQ(status().data[2], 0x60);
  advance(hours(5));
  EXPECT_EQ(status().data[2], 0x60);
  // "chassis identify 0" turns it off; reserved bits of byte 2 are ignored.
  EXPECT_EQ(call(kIdentify, {0x00, 0xFE}), ok());
  EXPECT_EQ(status().data[2], 0x40);
  EXPECT_EQ(call(kIdentify, {0x00, 0x00, 0x00}), err(Cc::invalidLength));
}

TEST_F(ChassisTest, IdentifyAgainRestartsTheInterval) {
  EXPECT_EQ(call(kIdentify, {10}), ok());
  advance(seconds(8));
  EXPECT_EQ(call(kIdentify, {10}), ok());
  advance(seconds(8));
  EXPECT_EQ(status().data[2], 0x50);
  advance(seconds(2));
  EXPECT_EQ(status().data[2], 0x40);
  // A forced identify is not cut short by an earlier timer.
  EXPECT_EQ(call(kIdentify, {3}), ok());
  EXPECT_EQ(call(kIdentify, {3, 0x01}), ok());
  advance(seconds(10));
  EXPECT_EQ(status().data[2], 0x60);
}

// ---- Power restore policy -------------------------------------------------------------------

TEST_F(ChassisTest, SetPowerRestorePolicy) {
  EXPECT_EQ(call(kSetPolicy, {0x00}), ok({0x07}));
  EXPECT_EQ(chassis_->powerRestorePolicy(), 0);
  EXPECT_EQ(status().data[0], 0x01);
  EXPECT_EQ(call(kSetPolicy, {0x01}), ok({0x07}));
  EXPECT_EQ(status().data[0], 0x21);
  // 3 = "no change": only reports what is supported (ipmitool "chassis policy list").
  EXPECT_EQ(call(kSetPolicy, {0x03}), ok({0x07}));
  EXPECT_EQ(chassis_->powerRestorePolicy(), 1);
  // Reserved bits 7:3 are ignored.
  EXPECT_EQ(call(kSetPolicy, {0xFA}), ok({0x07}));
  EXPECT_EQ(chassis_->powerRestorePolicy(), 2);
  EXPECT_EQ(call(kSetPolicy, {0x04}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetPolicy, {0x07}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetPolicy, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetPolicy, {0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(chassis_->powerRestorePolicy(), 2);
}

TEST_F(ChassisTest, ConfiguredPolicyIsTheDefault) {
  ChassisConfig config;
  config.powerRestorePolicy = 0x01;
  start(config);
  EXPECT_EQ(chassis_->powerRestorePolicy(), 1);
  EXPECT_EQ(status().data[0], 0x21);

  config.powerRestorePolicy = 0x05;
  ChassisService bad(host_, queue_, nullptr, config);
  auto loaded = bad.load();
  ASSERT_FALSE(loaded.hasValue());
  EXPECT_EQ(loaded.error().kind, Error::Kind::invalidArgument);
}

// ---- Restart cause, POH ---------------------------------------------------------------------

TEST_F(ChassisTest, RestartCauseNamesTheCommandingChannel) {
  EXPECT_EQ(call(kRestartCause), ok({0x00, 0x00}));
  EXPECT_EQ(call(kControl, {0x02}), ok());
  EXPECT_EQ(call(kRestartCause), ok({0x01, 0x01}));
  // Over the system interface (channel 15).
  EXPECT_EQ(call(kControl, {0x03}, Privilege::administrator, 0x0F), ok());
  EXPECT_EQ(call(kRestartCause), ok({0x01, 0x0F}));
  // A restart the BMC did not command has no channel.
  host_.cause = RestartCause::watchdog;
  host_.notify(PowerEvent::reset);
  EXPECT_EQ(call(kRestartCause), ok({0x04, 0x00}));
  EXPECT_EQ(call(kRestartCause, {0x00}), err(Cc::invalidLength));
}

TEST_F(ChassisTest, PohCountsMinutes) {
  host_.poh = 3 * 3600 + 59;
  EXPECT_EQ(call(kPoh), ok({0x01, 0xB4, 0x00, 0x00, 0x00}));  // 180 minutes
  host_.poh = 0x12345678ull * 60 + 30;
  EXPECT_EQ(call(kPoh), ok({0x01, 0x78, 0x56, 0x34, 0x12}));
  host_.poh = (1ull << 32) * 60;  // beyond 32 bits of minutes: saturates
  EXPECT_EQ(call(kPoh), ok({0x01, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(call(kPoh, {0x00}), err(Cc::invalidLength));
}

// ---- System boot options --------------------------------------------------------------------

TEST_F(ChassisTest, SetInProgressProtocol) {
  EXPECT_EQ(bootParam(0), ok({0x01, 0x00, 0x00}));
  EXPECT_EQ(call(kSetBoot, {0x00, 0x01}), ok());
  EXPECT_EQ(bootParam(0), ok({0x01, 0x00, 0x01}));
  // §28.12: "set in progress" while already in progress.
  EXPECT_EQ(call(kSetBoot, {0x00, 0x01}), err(kSetInProgressActive));
  // Commit write is accepted and leaves the state alone.
  EXPECT_EQ(call(kSetBoot, {0x00, 0x02}), ok());
  EXPECT_EQ(bootParam(0), ok({0x01, 0x00, 0x01}));
  EXPECT_EQ(call(kSetBoot, {0x00, 0x00}), ok());
  EXPECT_EQ(bootParam(0), ok({0x01, 0x00, 0x00}));
  EXPECT_EQ(call(kSetBoot, {0x00, 0x00}), ok());
  EXPECT_EQ(call(kSetBoot, {0x00, 0x03}), err(Cc::invalidField));
  EXPECT_EQ(call(kSetBoot, {0x00, 0x01}), ok());
}

TEST_F(ChassisTest, IpmitoolBootdevSequenceRoundTrips) {
  // ipmitool chassis bootdev pxe options=persistent,efiboot
  EXPECT_EQ(call(kSetBoot, {0x00, 0x01}), ok());
  EXPECT_EQ(call(kSetBoot, {0x04, 0x01, 0x01}), ok());
  EXPECT_EQ(call(kSetBoot, {0x05, 0xE0, 0x04, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(call(kSetBoot, {0x00, 0x02}), ok());
  EXPECT_EQ(call(kSetBoot, {0x00, 0x00}), ok());
  // ipmitool chassis bootparam get 5
  EXPECT_EQ(bootParam(5), ok({0x01, 0x05, 0xE0, 0x04, 0x00, 0x00, 0x00}));
  EXPECT_EQ(bootParam(4), ok({0x01, 0x04, 0x00, 0x01}));
  // Bit 7 of the Get selector is reserved and ignored.
  EXPECT_EQ(call(kGetBoot, {0x85, 0x00, 0x00}), ok({0x01, 0x05, 0xE0, 0x04, 0x00, 0x00, 0x00}));
}

TEST_F(ChassisTest, BootFlagsAreStoredVerbatim) {
  const Bytes flags = {0xA0, 0xDB, 0xFF, 0x0F, 0x1F};
  Bytes req = {0x05};
  req.insert(req.end(), flags.begin(), flags.end());
  EXPECT_EQ(call(kSetBoot, req), ok());
  EXPECT_EQ(bootFlags(), flags);
}

TEST_F(ChassisTest, SimpleParametersRoundTrip) {
  EXPECT_EQ(call(kSetBoot, {0x01, 0x42}), ok());
  EXPECT_EQ(bootParam(1), ok({0x01, 0x01, 0x42}));
  EXPECT_EQ(call(kSetBoot, {0x02, 0xFF}), ok());
  EXPECT_EQ(bootParam(2), ok({0x01, 0x02, 0x03}));  // reserved bits 7:2 dropped
  EXPECT_EQ(call(kSetBoot, {0x03, 0xFF}), ok());
  EXPECT_EQ(bootParam(3), ok({0x01, 0x03, 0x1F}));  // reserved bits 7:5 dropped
  const Bytes info = {0x01, 0x78, 0x56, 0x34, 0x12, 0x00, 0x10, 0x5E, 0x65};
  Bytes req = {0x06};
  req.insert(req.end(), info.begin(), info.end());
  EXPECT_EQ(call(kSetBoot, req), ok());
  Bytes expect = {0x01, 0x06};
  expect.insert(expect.end(), info.begin(), info.end());
  EXPECT_EQ(bootParam(6), ok(expect));
}

TEST_F(ChassisTest, BootInfoAcknowledgeWritesOnlyMaskedBits) {
  EXPECT_EQ(bootParam(4), ok({0x01, 0x04, 0x00, 0x00}));
  EXPECT_EQ(call(kSetBoot, {0x04, 0x1F, 0x1F}), ok());
  EXPECT_EQ(bootParam(4), ok({0x01, 0x04, 0x00, 0x1F}));
  EXPECT_EQ(call(kSetBoot, {0x04, 0x03, 0x00}), ok());
  EXPECT_EQ(bootParam(4), ok({0x01, 0x04, 0x00, 0x1C}));
  EXPECT_EQ(call(kSetBoot, {0x04, 0x00, 0xFF}), ok());  // empty mask: no change
  EXPECT_EQ(call(kSetBoot, {0x04, 0xE0, 0xFF}), ok());  // reserved bits only: no change
  EXPECT_EQ(bootParam(4), ok({0x01, 0x04, 0x00, 0x1C}));
}

TEST_F(ChassisTest, InvalidLockedMarkIsKeptPerParameter) {
  EXPECT_EQ(call(kSetBoot, {0x81, 0x07}), ok());
  EXPECT_EQ(bootParam(1), ok({0x01, 0x81, 0x07}));
  EXPECT_EQ(bootParam(2), ok({0x01, 0x02, 0x00}));
  EXPECT_EQ(call(kSetBoot, {0x01, 0x08}), ok());
  EXPECT_EQ(bootParam(1), ok({0x01, 0x01, 0x08}));
}

TEST_F(ChassisTest, MailboxBlocks) {
  // Block 0: IANA 0x000157 (Intel, LE) then 13 data bytes; ipmitool sends short blocks.
  EXPECT_EQ(call(kSetBoot, {0x07, 0x00, 0x57, 0x01, 0x00, 'h', 'i'}), ok());
  Bytes expect = {0x01, 0x07, 0x00, 0x57, 0x01, 0x00, 'h', 'i'};
  expect.resize(3 + 16, 0x00);
  EXPECT_EQ(bootParam(7, 0), ok(expect));

  Bytes full = {0x07, 0x0F};
  for (uint8_t i = 0; i < 16; ++i) full.push_back(static_cast<uint8_t>(0xA0 + i));
  EXPECT_EQ(call(kSetBoot, full), ok());
  Bytes fullExpect = {0x01, 0x07};
  fullExpect.insert(fullExpect.end(), full.begin() + 1, full.end());
  EXPECT_EQ(bootParam(7, 15), ok(fullExpect));

  // A shorter write replaces the whole block.
  EXPECT_EQ(call(kSetBoot, {0x07, 0x0F, 0x01}), ok());
  Bytes shortExpect = {0x01, 0x07, 0x0F, 0x01};
  shortExpect.resize(3 + 16, 0x00);
  EXPECT_EQ(bootParam(7, 15), ok(shortExpect));

  // Past the end: 0xC9, which is how ipmitool "bootmbox get" finds the end.
  EXPECT_EQ(bootParam(7, 16), err(Cc::parameterOutOfRange));
  EXPECT_EQ(call(kSetBoot, {0x07, 0x10, 0x01}), err(Cc::parameterOutOfRange));
  full.push_back(0x00);
  EXPECT_EQ(call(kSetBoot, full), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x07}), err(Cc::invalidLength));
}

TEST_F(ChassisTest, UnknownBootParameterIsNotSupported) {
  EXPECT_EQ(bootParam(8), err(kParamNotSupported));
  EXPECT_EQ(bootParam(0x60), err(kParamNotSupported));  // OEM range
  EXPECT_EQ(bootParam(0x7F), err(kParamNotSupported));
  EXPECT_EQ(call(kSetBoot, {0x08, 0x00}), err(kParamNotSupported));
  EXPECT_EQ(call(kSetBoot, {0x7F}), err(kParamNotSupported));
}

TEST_F(ChassisTest, BootOptionLengthsAreExact) {
  EXPECT_EQ(call(kSetBoot, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x00, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x03, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x04, 0x01}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x04, 0x01, 0x01, 0x01}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetBoot, {0x06, 1, 2, 3, 4, 5, 6, 7, 8}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetBoot, {0x05}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetBoot, {0x05, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetBoot, {0x05, 0x00, 0x00, 0x00}), err(Cc::invalidLength));
  // Nothing was written by the refused requests.
  EXPECT_EQ(bootFlags(), (Bytes{0x00, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(bootParam(0), ok({0x01, 0x00, 0x00}));
}

TEST_F(ChassisTest, ValidBitClearsSixtySecondsAfterItWasSet) {
  EXPECT_EQ(call(kSetBoot, {0x05, 0xA0, 0x04, 0x00, 0x00, 0x00}), ok());
  advance(seconds(59));
  EXPECT_EQ(bootFlags()[0], 0xA0);
  advance(seconds(1));
  EXPECT_EQ(bootFlags(), (Bytes{0x20, 0x04, 0x00, 0x00, 0x00}));  // only the valid bit goes
}

TEST_F(ChassisTest, RewritingTheFlagsRestartsTheTimeout) {
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x08, 0x00, 0x00, 0x00}), ok());
  advance(seconds(50));
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), ok());
  advance(seconds(50));
  EXPECT_EQ(bootFlags()[0], 0x80);
  advance(seconds(10));
  EXPECT_EQ(bootFlags()[0], 0x00);
}

TEST_F(ChassisTest, ParameterThreeCanDisableTheTimeout) {
  EXPECT_EQ(call(kSetBoot, {0x03, 0x08}), ok());
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), ok());
  advance(seconds(120));
  EXPECT_EQ(bootFlags()[0], 0x80);

  // Also when it is set after the flags.
  EXPECT_EQ(call(kSetBoot, {0x03, 0x00}), ok());
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), ok());
  advance(seconds(30));
  EXPECT_EQ(call(kSetBoot, {0x03, 0x08}), ok());
  advance(seconds(60));
  EXPECT_EQ(bootFlags()[0], 0x80);
}

TEST_F(ChassisTest, ChassisControlStopsTheTimeoutAndTheBootConsumesTheFlags) {
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(call(kControl, {0x00}), ok());  // power down: no boot yet
  advance(seconds(120));
  EXPECT_EQ(bootFlags()[0], 0x80);
  EXPECT_EQ(call(kControl, {0x01}), ok());  // power up: the next boot used them
  EXPECT_EQ(bootFlags(), (Bytes{0x00, 0x04, 0x00, 0x00, 0x00}));
}

TEST_F(ChassisTest, ResetConsumesNextBootFlags) {
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x14, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(call(kControl, {0x03}), ok());
  EXPECT_EQ(bootFlags()[0], 0x00);
}

TEST_F(ChassisTest, PersistentFlagsSurviveBoots) {
  EXPECT_EQ(call(kSetBoot, {0x05, 0xE0, 0x04, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(call(kControl, {0x02}), ok());
  advance(hours(1));
  EXPECT_EQ(call(kControl, {0x03}), ok());
  EXPECT_EQ(bootFlags(), (Bytes{0xE0, 0x04, 0x00, 0x00, 0x00}));
}

TEST_F(ChassisTest, ParameterThreeKeepsFlagsOnButtonBoots) {
  EXPECT_EQ(call(kSetBoot, {0x03, 0x08 | 0x01}), ok());
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), ok());
  host_.completeOff();
  host_.completeOn(RestartCause::powerButton);
  EXPECT_EQ(bootFlags()[0], 0x80);
  // Not for a watchdog reset (bit 2 clear), nor for a commanded boot.
  host_.cause = RestartCause::watchdog;
  host_.notify(PowerEvent::reset);
  EXPECT_EQ(bootFlags()[0], 0x00);
}

// ---- Persistence ----------------------------------------------------------------------------

TEST_F(ChassisTest, SettingsSurviveARestart) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  {
    auto store = openStore(path);
    ASSERT_NE(store, nullptr);
    start({}, store.get());
    EXPECT_EQ(call(kSetPolicy, {0x00}), ok({0x07}));
    EXPECT_EQ(call(kSetBoot, {0x03, 0x08}), ok());
    EXPECT_EQ(call(kSetBoot, {0x04, 0x1F, 0x0A}), ok());
    EXPECT_EQ(call(kSetBoot, {0x05, 0xE0, 0x04, 0x00, 0x00, 0x00}), ok());
    EXPECT_EQ(call(kSetBoot, {0x01, 0x42}), ok());
    host_.poh = 7200;
    EXPECT_EQ(call(kControl, {0x00}), ok());
    chassis_.reset();
  }
  auto store = openStore(path);
  ASSERT_NE(store, nullptr);
  start({}, store.get());
  EXPECT_EQ(chassis_->powerRestorePolicy(), 0);
  EXPECT_FALSE(chassis_->wasPoweredOn());
  EXPECT_EQ(status(), ok({0x00, 0x00, 0x40, 0x00}));
  EXPECT_EQ(bootParam(3), ok({0x01, 0x03, 0x08}));
  EXPECT_EQ(bootParam(4), ok({0x01, 0x04, 0x00, 0x0A}));
  EXPECT_EQ(bootParam(5), ok({0x01, 0x05, 0xE0, 0x04, 0x00, 0x00, 0x00}));
  EXPECT_EQ(bootParam(1), ok({0x01, 0x01, 0x00}));  // not a persisted parameter
  auto poh = store->get("chassis.poh_seconds");
  ASSERT_TRUE(poh.hasValue());
  ASSERT_TRUE(poh->has_value());
  EXPECT_EQ(**poh, (std::vector<uint8_t>{0x20, 0x1C, 0, 0, 0, 0, 0, 0}));
}

TEST_F(ChassisTest, WasPoweredOnRemembersThePreviousRun) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto store = openStore(dir.file("state.db"));
  ASSERT_NE(store, nullptr);

  // First run: no history; the host is on and stays on (no transition at all).
  host_.on = true;
  start({}, store.get());
  EXPECT_FALSE(chassis_->wasPoweredOn());

  // Second run: the host comes up off (AC returned); it was on before.
  host_.on = false;
  start({}, store.get());
  EXPECT_TRUE(chassis_->wasPoweredOn());

  // Third run: nothing powered it on during the second one.
  start({}, store.get());
  EXPECT_FALSE(chassis_->wasPoweredOn());

  // Power on, restart: remembered.
  EXPECT_EQ(call(kControl, {0x01}), ok());
  start({}, store.get());
  EXPECT_TRUE(chassis_->wasPoweredOn());
}

TEST_F(ChassisTest, CorruptSettingsFailTheLoad) {
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> bad = {
      {"chassis.restore_policy", {0x03}},
      {"chassis.restore_policy", {0x01, 0x01}},
      {"chassis.power_on", {0x02}},
      {"chassis.boot.5", {0x80, 0x04}},
      {"chassis.boot.3", {}},
  };
  for (const auto& [key, value] : bad) {
    auto store = openStore(":memory:");
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->put(key, value).hasValue());
    ChassisService service(host_, queue_, store.get(), {});
    auto loaded = service.load();
    ASSERT_FALSE(loaded.hasValue()) << key;
    EXPECT_EQ(loaded.error().kind, Error::Kind::corrupt) << key;
  }
}

TEST_F(ChassisTest, AFailedWriteIsAnErrorAndChangesNothing) {
  auto store = openStore(":memory:");
  ASSERT_NE(store, nullptr);
  start({}, store.get());
  ASSERT_TRUE(store->database().exec("PRAGMA query_only = 1").hasValue());
  EXPECT_EQ(call(kSetPolicy, {0x00}), err(Cc::unspecified));
  EXPECT_EQ(chassis_->powerRestorePolicy(), 2);
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), err(Cc::unspecified));
  EXPECT_EQ(bootFlags(), (Bytes{0x00, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(call(kSetBoot, {0x04, 0x01, 0x01}), err(Cc::unspecified));
  EXPECT_EQ(bootParam(4), ok({0x01, 0x04, 0x00, 0x00}));
  // Volatile parameters do not touch the store.
  EXPECT_EQ(call(kSetBoot, {0x00, 0x01}), ok());
  // Power events still update the live state.
  EXPECT_EQ(call(kControl, {0x00}), ok());
  EXPECT_EQ(status().data[0] & 0x01, 0x00);
}

TEST_F(ChassisTest, ListenerOfADestroyedServiceIsInert) {
  chassis_.reset();
  registry_.reset();
  host_.completeOff();
  host_.completeOn(RestartCause::chassisControl);
  host_.notify(PowerEvent::reset);
  EXPECT_EQ(host_.listeners.size(), 1u);
}

TEST_F(ChassisTest, TimersAreCancelledWithTheService) {
  EXPECT_EQ(call(kIdentify, {30}), ok());
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(queue_.size(), 2u);
  chassis_.reset();
  EXPECT_EQ(queue_.size(), 0u);
  advance(hours(1));
}

}  // namespace
}  // namespace simbmc::bmc
