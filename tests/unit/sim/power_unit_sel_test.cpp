// Host power changes in the SEL: a whole bmc::Bmc driving the simulated host (HostPowerSim) in
// virtual time, commands dispatched as the LAN channel does, and the SEL records its Power Unit
// sensor logs (IPMI v2.0 §32.1 system event record, Table 42-3 sensor type 09h) for chassis power
// off/on, a power cycle, a soft shutdown and a watchdog power down, and across daemon restarts (the
// way bmc/daemon/instance.cpp restarts: host off, then the restore policy). Lives with the sim tests
// because sim/ links bmc/.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <ostream>
#include <vector>

#include "bmc/bmc.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "sim/host_power.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::sim {
namespace {

using bmc::Bytes;
using std::chrono::milliseconds;

constexpr uint8_t kPowerUnit = bmc::PowerUnitConfig::kDefaultNumber;

// One SEL record, the fields this test cares about.
struct Logged {
  uint8_t sensorType;
  uint8_t sensorNumber;
  bool deassertion;
  uint8_t offset;
  bool operator==(const Logged&) const = default;
};

void PrintTo(const Logged& l, std::ostream* os) {
  *os << std::hex << "{type " << int(l.sensorType) << " num " << int(l.sensorNumber)
      << (l.deassertion ? " deassert " : " assert ") << int(l.offset) << "}" << std::dec;
}

Logged powerOff(bool deassertion) { return Logged{0x09, kPowerUnit, deassertion, 0x00}; }
Logged powerCycle() { return Logged{0x09, kPowerUnit, false, 0x01}; }

class PowerUnitSelTest : public ::testing::Test {
 protected:
  void SetUp() override { boot(true); }

  // Starts host and BMC as the daemon does. With a store, a restart: the host starts off unless this
  // is the first start, then the restore policy runs.
  void boot(bool initiallyOn, storage::StateStore* store = nullptr, const std::string& selPath = ":memory:",
            uint8_t policy = 0x02) {
    bmc_.reset();
    host_.reset();
    PowerConfig power;
    power.powerOnDelay = milliseconds(0);
    power.powerOffDelay = milliseconds(200);
    power.cycleOffTime = milliseconds(3000);
    power.softShutdownTime = milliseconds(2000);
    const bool firstStart = store == nullptr || !*store->get("chassis.power_on");
    power.initiallyOn = firstStart && initiallyOn;
    host_ = std::make_unique<HostPowerSim>(queue_, power, 0);
    bmc::BmcConfig config;
    config.sel.path = selPath;
    config.chassis.powerRestorePolicy = policy;
    bmc_ = std::make_unique<bmc::Bmc>(config, clock_, queue_, *host_, store);
    auto started = bmc_->start();
    ASSERT_TRUE(started.hasValue()) << started.error().message;
    if (!firstStart) {
      host_->applyRestorePolicy(static_cast<PowerRestorePolicy>(bmc_->chassis().powerRestorePolicy()),
                                bmc_->chassis().wasPoweredOn());
    }
  }
  void TearDown() override {
    bmc_.reset();
    host_.reset();
  }

  Cc call(uint8_t netfn, uint8_t cmd, Bytes data) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = Privilege::administrator;
    ctx.sessionId = 0x99;
    ctx.userId = 2;
    auto r = bmc_->registry().dispatch(ctx, net::IpmiRequest{netfn, 0, cmd, std::move(data)});
    EXPECT_TRUE(r.has_value());
    return r ? r->cc : Cc::unspecified;
  }
  void chassis(uint8_t action) { ASSERT_EQ(call(netfn::chassis, 0x02, {action}), Cc::ok); }
  void advance(milliseconds d) {
    for (milliseconds step(0); step < d; step += milliseconds(100)) {
      clock_.advance(milliseconds(100));
      queue_.runDue();
    }
  }

  // Every SEL record logged since the last call, in order; checks the fields common to all.
  std::vector<Logged> logged() {
    std::vector<Logged> out;
    storage::SelStore* sel = bmc_->sel().store();
    uint16_t id = storage::SelStore::kFirst;
    for (int i = 0; i < 100; ++i) {
      auto e = sel->get(id);
      if (!e) break;
      const auto& d = e->data;
      if (e->id > seen_) {
        EXPECT_EQ(d[2], 0x02) << "system event record";
        EXPECT_EQ(d[7], 0x20) << "generator: the BMC";
        EXPECT_EQ(d[9], 0x04) << "EvMRev";
        EXPECT_EQ(d[12] & 0x7F, 0x6F) << "sensor-specific";
        out.push_back(Logged{d[10], d[11], (d[12] & 0x80) != 0, static_cast<uint8_t>(d[13] & 0x0F)});
        seen_ = e->id;
      }
      if (e->nextId == storage::SelStore::kLast) break;
      id = e->nextId;
    }
    return out;
  }

  FakeClock clock_;
  TimerQueue queue_{clock_};
  std::unique_ptr<HostPowerSim> host_;
  std::unique_ptr<bmc::Bmc> bmc_;
  uint16_t seen_ = 0;
};

TEST_F(PowerUnitSelTest, RestartsLogOnlyWhatChangedWhileTheBmcWasDown) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::array<uint8_t, 32> key{};
  key.fill(0x42);
  auto opened = storage::StateStore::open(dir.file("state.db"), storage::SecretBox(key));
  ASSERT_TRUE(opened.hasValue()) << opened.error().message;
  auto store = std::move(*opened);
  const std::string sel = dir.file("sel.db");

  boot(true, store.get(), sel);  // first start, host on
  EXPECT_EQ(logged(), std::vector<Logged>{});
  boot(true, store.get(), sel);  // restart: the policy (always on) powers the host on again
  advance(milliseconds(3000));
  EXPECT_EQ(logged(), std::vector<Logged>{}) << "a restart that finds the host as it was logs nothing";

  chassis(0x00);
  advance(milliseconds(200));
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(false)});
  boot(true, store.get(), sel, /*always off*/ 0x00);
  advance(milliseconds(3000));
  EXPECT_EQ(logged(), std::vector<Logged>{}) << "off before, off after: already in the SEL";

  boot(true, store.get(), sel, /*always on*/ 0x02);  // off before, powered on by the policy
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(true)});

  boot(true, store.get(), sel, /*always off*/ 0x00);  // on before, kept off: lost power meanwhile
  EXPECT_EQ(logged(), std::vector<Logged>{});
  advance(milliseconds(1000));
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(false)});
  bmc_.reset();
  host_.reset();
}

TEST_F(PowerUnitSelTest, ChassisPowerOffAndOn) {
  EXPECT_EQ(logged(), std::vector<Logged>{}) << "the host is on at start";
  chassis(0x00);
  EXPECT_EQ(logged(), std::vector<Logged>{}) << "not before power is actually off";
  advance(milliseconds(200));
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(false)});
  chassis(0x01);
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(true)});
  // A second "on" changes nothing and logs nothing.
  chassis(0x01);
  advance(milliseconds(1000));
  EXPECT_EQ(logged(), std::vector<Logged>{});
}

TEST_F(PowerUnitSelTest, PowerCycleLogsTheCycleAndBothEdgesOfPowerOff) {
  chassis(0x02);
  EXPECT_EQ(logged(), (std::vector<Logged>{powerOff(false), powerCycle()}));
  advance(milliseconds(2900));
  EXPECT_EQ(logged(), std::vector<Logged>{});
  advance(milliseconds(100));
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(true)});
  EXPECT_TRUE(host_->powerOn());
}

TEST_F(PowerUnitSelTest, PowerDownDuringACycleKeepsThePowerOffAsserted) {
  chassis(0x02);
  logged();
  chassis(0x00);  // cancels the cycle: the host stays off
  advance(milliseconds(5000));
  EXPECT_EQ(logged(), std::vector<Logged>{});
  EXPECT_FALSE(host_->powerOn());
  chassis(0x01);
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(true)});
}

TEST_F(PowerUnitSelTest, SoftShutdownLogsWhenTheOsHasShutDown) {
  chassis(0x05);
  advance(milliseconds(1900));
  EXPECT_EQ(logged(), std::vector<Logged>{});
  advance(milliseconds(100));
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(false)});
}

TEST_F(PowerUnitSelTest, HardResetIsNotAPowerChange) {
  chassis(0x03);
  advance(milliseconds(1000));
  EXPECT_EQ(logged(), std::vector<Logged>{});
}

TEST_F(PowerUnitSelTest, WatchdogPowerDownLogsTheWatchdogThenThePowerUnit) {
  // Set Watchdog Timer (§27.6): SMS/OS, power down, 1 s; then Reset Watchdog Timer starts it.
  ASSERT_EQ(call(netfn::app, 0x24, {0x04, 0x02, 0x00, 0x00, 10, 0}), Cc::ok);
  ASSERT_EQ(call(netfn::app, 0x22, {}), Cc::ok);
  advance(milliseconds(1500));
  EXPECT_EQ(logged(), (std::vector<Logged>{{0x23, 0x81, false, 0x02}, powerOff(false)}));
  EXPECT_FALSE(host_->powerOn());
}

TEST_F(PowerUnitSelTest, WatchdogPowerCycleLogsTheCycle) {
  ASSERT_EQ(call(netfn::app, 0x24, {0x04, 0x03, 0x00, 0x00, 10, 0}), Cc::ok);
  ASSERT_EQ(call(netfn::app, 0x22, {}), Cc::ok);
  advance(milliseconds(1000));
  EXPECT_EQ(logged(), (std::vector<Logged>{{0x23, 0x81, false, 0x03}, powerOff(false), powerCycle()}));
  advance(milliseconds(3000));
  EXPECT_EQ(logged(), std::vector<Logged>{powerOff(true)});
}

}  // namespace
}  // namespace simbmc::sim
