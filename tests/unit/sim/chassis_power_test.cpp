// The Chassis NetFn (bmc::ChassisService) driving the simulated host (HostPowerSim) in virtual time.
// Lives with the sim tests because sim/ links bmc/, not the other way round; the byte-level tests of
// each command are in tests/unit/bmc/chassis_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "bmc/chassis/chassis.hpp"
#include "bmc/registry.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "sim/host_power.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::sim {
namespace {

using bmc::Bytes;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint8_t kGetStatus = 0x01;
constexpr uint8_t kControl = 0x02;
constexpr uint8_t kRestartCause = 0x07;
constexpr uint8_t kSetBoot = 0x08;
constexpr uint8_t kGetBoot = 0x09;
constexpr uint8_t kPoh = 0x0F;

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

PowerConfig slowHost(bool initiallyOn) {
  PowerConfig c;
  c.powerOnDelay = milliseconds(2000);
  c.powerOffDelay = milliseconds(1000);
  c.cycleOffTime = milliseconds(5000);
  c.resetTime = milliseconds(500);
  c.softShutdownTime = milliseconds(3000);
  c.initiallyOn = initiallyOn;
  return c;
}

std::unique_ptr<storage::StateStore> openStore(const std::string& path) {
  std::array<uint8_t, 32> key{};
  key.fill(0x11);
  auto store = storage::StateStore::open(path, storage::SecretBox(key));
  EXPECT_TRUE(store.hasValue()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

class ChassisPowerTest : public ::testing::Test {
 protected:
  // Builds the host and the chassis service as the daemon does (host first: it outlives the service).
  void start(PowerConfig power, storage::StateStore* store = nullptr, uint64_t poh = 0) {
    chassis_.reset();
    host_ = std::make_unique<HostPowerSim>(queue_, std::move(power), poh);
    registry_ = std::make_unique<bmc::CommandRegistry>();
    chassis_ = std::make_unique<bmc::ChassisService>(*host_, queue_, store, bmc::ChassisConfig{});
    auto loaded = chassis_->load();
    ASSERT_TRUE(loaded.hasValue()) << loaded.error().message;
    chassis_->registerCommands(*registry_);
  }
  void TearDown() override {
    chassis_.reset();
    host_.reset();
  }

  Resp call(uint8_t cmd, Bytes data = {}) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = Privilege::operator_;
    ctx.sessionId = 0x55;
    ctx.userId = 3;
    net::IpmiRequest req;
    req.netfn = netfn::chassis;
    req.cmd = cmd;
    req.data = data;
    auto r = registry_->dispatch(ctx, req);
    EXPECT_TRUE(r.has_value());
    if (!r) return Resp{Cc::unspecified, {}};
    return Resp{r->cc, std::move(r->data)};
  }
  bool powerBit() {
    Resp r = call(kGetStatus);
    EXPECT_EQ(r.data.size(), 4u);
    return !r.data.empty() && (r.data[0] & 0x01) != 0;
  }
  uint8_t bootFlagsByte1() {
    Resp r = call(kGetBoot, {0x05, 0x00, 0x00});
    EXPECT_EQ(r.data.size(), 7u);
    return r.data.size() == 7 ? r.data[2] : 0xFF;
  }
  void advance(std::chrono::nanoseconds d) {
    clock_.advance(d);
    queue_.runDue();
  }

  FakeClock clock_;
  TimerQueue queue_{clock_};
  std::unique_ptr<HostPowerSim> host_;
  std::unique_ptr<bmc::CommandRegistry> registry_;
  std::unique_ptr<bmc::ChassisService> chassis_;
};

TEST_F(ChassisPowerTest, PowerOnTakesThePowerOnDelay) {
  start(slowHost(false));
  EXPECT_EQ(call(kGetStatus), ok({0x40, 0x00, 0x40, 0x00}));
  EXPECT_EQ(call(kControl, {0x01}), ok());
  advance(milliseconds(1999));
  EXPECT_FALSE(powerBit());
  advance(milliseconds(1));
  EXPECT_EQ(call(kGetStatus), ok({0x41, 0x10, 0x40, 0x00}));
  EXPECT_EQ(call(kRestartCause), ok({0x01, 0x01}));
}

TEST_F(ChassisPowerTest, PowerOffAndCycle) {
  start(slowHost(true));
  EXPECT_TRUE(powerBit());
  EXPECT_EQ(call(kControl, {0x00}), ok());
  advance(milliseconds(999));
  EXPECT_TRUE(powerBit());
  advance(milliseconds(1));
  EXPECT_FALSE(powerBit());

  // Cycle is refused while off (the sim's rule), then accepted once on.
  EXPECT_EQ(call(kControl, {0x02}), err(Cc::notSupportedInState));
  EXPECT_EQ(call(kControl, {0x01}), ok());
  advance(seconds(2));
  EXPECT_TRUE(powerBit());
  EXPECT_EQ(call(kControl, {0x02}), ok());
  EXPECT_FALSE(powerBit());  // off at once
  // Busy while the cycle is running.
  EXPECT_EQ(call(kControl, {0x03}), err(Cc::nodeBusy));
  advance(milliseconds(4999));
  EXPECT_FALSE(powerBit());
  advance(milliseconds(1));
  EXPECT_TRUE(powerBit());
  EXPECT_EQ(call(kRestartCause), ok({0x01, 0x01}));
}

TEST_F(ChassisPowerTest, SoftShutdownEndsOff) {
  start(slowHost(true));
  EXPECT_EQ(call(kControl, {0x05}), ok());
  advance(milliseconds(2999));
  EXPECT_TRUE(powerBit());
  advance(milliseconds(1));
  EXPECT_FALSE(powerBit());
  EXPECT_EQ(call(kControl, {0x05}), err(Cc::notSupportedInState));
}

TEST_F(ChassisPowerTest, PohFollowsTheHostsOnTime) {
  start(slowHost(true), nullptr, 3600);
  advance(hours(2));
  EXPECT_EQ(call(kPoh), ok({0x01, 180, 0x00, 0x00, 0x00}));
  EXPECT_EQ(call(kControl, {0x00}), ok());
  advance(seconds(1));
  advance(hours(5));
  EXPECT_EQ(call(kPoh), ok({0x01, 180, 0x00, 0x00, 0x00}));
}

TEST_F(ChassisPowerTest, NextBootFlagsAreConsumedWhenTheCycleCompletes) {
  start(slowHost(true));
  EXPECT_EQ(call(kSetBoot, {0x05, 0x80, 0x04, 0x00, 0x00, 0x00}), ok());
  EXPECT_EQ(call(kControl, {0x02}), ok());
  advance(seconds(4));
  EXPECT_EQ(bootFlagsByte1(), 0x80);  // still off: not booted yet
  advance(seconds(1));
  EXPECT_TRUE(powerBit());
  EXPECT_EQ(bootFlagsByte1(), 0x00);
}

TEST_F(ChassisPowerTest, ValidBitTimesOutWithoutAChassisControl) {
  start(slowHost(true));
  EXPECT_EQ(call(kSetBoot, {0x05, 0xC0, 0x04, 0x00, 0x00, 0x00}), ok());
  advance(seconds(60));
  EXPECT_EQ(bootFlagsByte1(), 0x40);
}

TEST_F(ChassisPowerTest, PreviousStateRestoreAfterRestart) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto store = openStore(dir.file("state.db"));
  ASSERT_NE(store, nullptr);

  // First run: the host is on; the operator picks "previous state", and the daemon stops.
  start(slowHost(true), store.get());
  EXPECT_EQ(call(0x06, {0x01}), ok({0x07}));

  // Second run: AC returns with the host off; the daemon applies the policy.
  start(slowHost(false), store.get());
  ASSERT_EQ(chassis_->powerRestorePolicy(), 0x01);
  EXPECT_TRUE(chassis_->wasPoweredOn());
  EXPECT_EQ(host_->applyRestorePolicy(static_cast<PowerRestorePolicy>(chassis_->powerRestorePolicy()),
                                      chassis_->wasPoweredOn()),
            Cc::ok);
  advance(seconds(2));
  EXPECT_EQ(call(kGetStatus), ok({0x21, 0x00, 0x40, 0x00}));
  EXPECT_EQ(call(kRestartCause), ok({0x07, 0x00}));

  // Power off, third run: stays off.
  EXPECT_EQ(call(kControl, {0x00}), ok());
  advance(seconds(1));
  start(slowHost(false), store.get());
  EXPECT_FALSE(chassis_->wasPoweredOn());
  EXPECT_EQ(host_->applyRestorePolicy(PowerRestorePolicy::previousState, chassis_->wasPoweredOn()), Cc::ok);
  advance(seconds(10));
  EXPECT_FALSE(powerBit());
}

}  // namespace
}  // namespace simbmc::sim
