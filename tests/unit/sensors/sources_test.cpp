#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "sensors/i2c.hpp"
#include "sensors/source.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::sensors {
namespace {

using storage::testing::TempDir;
using Kind = SourceConfig::Kind;
using Shape = SourceConfig::Shape;

std::unique_ptr<SensorSource> make(const SourceConfig& c, const SourceEnv& env = {}) {
  auto s = makeSource(c, env);
  EXPECT_TRUE(s.hasValue()) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

double at(SensorSource& s, int64_t ms) {
  auto v = s.read(Millis(ms));
  EXPECT_TRUE(v.hasValue()) << (v ? "" : v.error().message);
  return v.valueOr(NAN);
}

void writeText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(StaticSource, ValueOrUnavailable) {
  SourceConfig c;
  c.value = 42.5;
  auto s = make(c);
  EXPECT_FALSE(s->blocking());
  EXPECT_DOUBLE_EQ(at(*s, 0), 42.5);
  EXPECT_DOUBLE_EQ(at(*s, 99999), 42.5);
  c.unavailable = true;
  EXPECT_FALSE(make(c)->read(Millis(0)).hasValue());
  EXPECT_EQ(configuredRange(c), std::nullopt);
}

TEST(WaveformSource, SineRampSquare) {
  SourceConfig c;
  c.kind = Kind::waveform;
  c.min = 20;
  c.max = 80;
  c.period = Millis(1000);
  auto sine = make(c);
  EXPECT_NEAR(at(*sine, 0), 50, 1e-9);
  EXPECT_NEAR(at(*sine, 250), 80, 1e-9);
  EXPECT_NEAR(at(*sine, 750), 20, 1e-9);
  EXPECT_NEAR(at(*sine, 1250), 80, 1e-9);
  c.phase = 0.25;
  EXPECT_NEAR(at(*make(c), 0), 80, 1e-9);

  c.phase = 0;
  c.shape = Shape::ramp;
  auto ramp = make(c);
  EXPECT_NEAR(at(*ramp, 0), 20, 1e-9);
  EXPECT_NEAR(at(*ramp, 500), 50, 1e-9);
  EXPECT_NEAR(at(*ramp, 1100), 26, 1e-9);

  c.shape = Shape::square;
  c.duty = 0.25;
  auto square = make(c);
  EXPECT_DOUBLE_EQ(at(*square, 0), 80);
  EXPECT_DOUBLE_EQ(at(*square, 249), 80);
  EXPECT_DOUBLE_EQ(at(*square, 250), 20);
  EXPECT_DOUBLE_EQ(at(*square, 999), 20);
  EXPECT_EQ(configuredRange(c), (std::pair{20.0, 80.0}));
}

TEST(WaveformSource, RandomWalkIsBoundedAndReproducible) {
  SourceConfig c;
  c.kind = Kind::waveform;
  c.shape = Shape::randomWalk;
  c.min = 30;
  c.max = 40;
  c.step = 3;
  c.seed = 7;
  auto a = make(c);
  auto b = make(c);
  c.seed = 8;
  auto other = make(c);
  bool differs = false;
  double lo = 100, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    const double va = at(*a, i), vb = at(*b, i), vo = at(*other, i);
    EXPECT_DOUBLE_EQ(va, vb);
    differs |= va != vo;
    lo = std::min(lo, va);
    hi = std::max(hi, va);
  }
  EXPECT_TRUE(differs);
  EXPECT_GE(lo, 30);
  EXPECT_LE(hi, 40);
  EXPECT_LT(lo, 32);  // it does wander over the whole band
  EXPECT_GT(hi, 38);
}

TEST(WaveformSource, InvalidSettings) {
  SourceConfig c;
  c.kind = Kind::waveform;
  c.min = 5;
  c.max = 1;
  EXPECT_FALSE(makeSource(c).hasValue());
  c.max = 10;
  c.period = Millis(0);
  EXPECT_FALSE(makeSource(c).hasValue());
  c.period = Millis(10);
  c.duty = 1.5;
  EXPECT_FALSE(makeSource(c).hasValue());
}

TEST(ScenarioSource, StepsAtTheirTimes) {
  SourceConfig c;
  c.kind = Kind::scenario;
  c.steps = {{Millis(3000), 97}, {Millis(1000), 40}, {Millis(6000), 0, true}, {Millis(8000), 41}};
  auto s = make(c);
  EXPECT_DOUBLE_EQ(at(*s, 0), 40);  // before the first step: the first step's value
  EXPECT_DOUBLE_EQ(at(*s, 2999), 40);
  EXPECT_DOUBLE_EQ(at(*s, 3000), 97);
  EXPECT_FALSE(s->read(Millis(6500)).hasValue());
  EXPECT_DOUBLE_EQ(at(*s, 9000), 41);
  EXPECT_EQ(configuredRange(c), (std::pair{40.0, 97.0}));

  c.loop = Millis(10000);
  auto looped = make(c);
  EXPECT_DOUBLE_EQ(at(*looped, 13000), 97);
  EXPECT_DOUBLE_EQ(at(*looped, 21000), 40);

  c.steps.clear();
  EXPECT_FALSE(makeSource(c).hasValue());
}

TEST(FileSource, ReadsTheFirstNumber) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  SourceConfig c;
  c.kind = Kind::file;
  c.path = dir.file("value");
  c.scale = 0.5;
  c.offset = 1;
  auto s = make(c);
  EXPECT_TRUE(s->blocking());
  EXPECT_FALSE(s->read(Millis(0)).hasValue());  // missing
  writeText(c.path, "84 degrees\n");
  EXPECT_DOUBLE_EQ(at(*s, 0), 43);
  writeText(c.path, "-2.5e1");
  EXPECT_DOUBLE_EQ(at(*s, 0), -11.5);
  writeText(c.path, "hot");
  EXPECT_FALSE(s->read(Millis(0)).hasValue());
  writeText(c.path, "");
  EXPECT_FALSE(s->read(Millis(0)).hasValue());
  c.path.clear();
  EXPECT_FALSE(makeSource(c).hasValue());
}

// A fake /sys/class/hwmon: two chips, numbered in the opposite order of their names.
class HwmonSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    writeText(dir_.file("hwmon0/name"), "nct6775\n");
    writeText(dir_.file("hwmon0/in0_input"), "1208\n");
    writeText(dir_.file("hwmon0/fan2_input"), "1530\n");
    writeText(dir_.file("hwmon0/power1_input"), "125000000\n");
    writeText(dir_.file("hwmon0/curr1_input"), "2500\n");
    writeText(dir_.file("hwmon1/name"), "coretemp\n");
    writeText(dir_.file("hwmon1/temp1_input"), "45000\n");
    writeText(dir_.file("hwmon1/temp1_label"), "Package id 0\n");
    writeText(dir_.file("hwmon1/temp2_input"), "-5500\n");
    writeText(dir_.file("hwmon1/temp2_label"), "Core 0\n");
  }
  SourceConfig config() {
    SourceConfig c;
    c.kind = Kind::hwmon;
    c.root = dir_.path();
    return c;
  }
  TempDir dir_;
};

TEST_F(HwmonSourceTest, ScalesEachInputType) {
  SourceConfig c = config();
  c.chip = "nct6775";
  auto read = [&](const std::string& input) {
    c.input = input;
    return at(*make(c), 0);
  };
  EXPECT_NEAR(read("in0"), 1.208, 1e-9);
  EXPECT_NEAR(read("fan2"), 1530, 1e-9);
  EXPECT_NEAR(read("power1"), 125, 1e-9);
  EXPECT_NEAR(read("curr1"), 2.5, 1e-9);
  c.chip = "coretemp";
  EXPECT_NEAR(read("temp1"), 45, 1e-9);
  EXPECT_NEAR(read("temp2"), -5.5, 1e-9);
}

TEST_F(HwmonSourceTest, ByLabelByDeviceAndScaleOverride) {
  SourceConfig c = config();
  c.chip = "coretemp";
  c.label = "Core 0";
  EXPECT_NEAR(at(*make(c), 0), -5.5, 1e-9);
  c.label.clear();
  c.chip.clear();
  c.device = "hwmon1";
  c.input = "temp1";
  c.scale = 1e-3 * 9 / 5;
  c.offset = 32;
  EXPECT_NEAR(at(*make(c), 0), 113, 1e-9);
}

TEST_F(HwmonSourceTest, MissingChipInputOrLabelFailsTheReadNotTheSource) {
  SourceConfig c = config();
  c.chip = "k10temp";
  c.input = "temp1";
  auto s = make(c);
  EXPECT_TRUE(s->blocking());
  EXPECT_FALSE(s->read(Millis(0)).hasValue());
  // The chip appears later (module loaded): the same source starts working.
  writeText(dir_.file("hwmon2/name"), "k10temp\n");
  writeText(dir_.file("hwmon2/temp1_input"), "51250\n");
  EXPECT_NEAR(at(*s, 0), 51.25, 1e-9);

  c.chip = "coretemp";
  c.input = "temp9";
  EXPECT_FALSE(make(c)->read(Millis(0)).hasValue());
  c.input.clear();
  c.label = "Core 7";
  EXPECT_FALSE(make(c)->read(Millis(0)).hasValue());
  c.root = dir_.file("nowhere");
  EXPECT_FALSE(make(c)->read(Millis(0)).hasValue());
}

TEST_F(HwmonSourceTest, ConfigErrors) {
  SourceConfig c = config();
  EXPECT_FALSE(makeSource(c).hasValue());  // neither chip nor device
  c.chip = "coretemp";
  c.device = "hwmon1";
  c.input = "temp1";
  EXPECT_FALSE(makeSource(c).hasValue());  // both
  c.device.clear();
  c.input = "../hwmon0/in0";
  EXPECT_FALSE(makeSource(c).hasValue());
  c.input = "temp1";
  c.label = "Core 0";
  EXPECT_FALSE(makeSource(c).hasValue());
  c.chip.clear();
  c.label.clear();
  c.device = "..";
  EXPECT_FALSE(makeSource(c).hasValue());
}

// Registers by (address, register); a missing entry is a NAK.
class FakeI2cBus final : public I2cBus {
 public:
  explicit FakeI2cBus(std::map<std::pair<uint8_t, uint8_t>, std::vector<uint8_t>>* regs) : regs_(regs) {}
  Result<std::vector<uint8_t>> readRegister(uint8_t address, uint8_t reg, size_t length) override {
    auto it = regs_->find({address, reg});
    if (it == regs_->end()) return makeError(Error::Kind::io, "nak");
    std::vector<uint8_t> v = it->second;
    v.resize(length);
    return v;
  }

 private:
  std::map<std::pair<uint8_t, uint8_t>, std::vector<uint8_t>>* regs_;
};

class I2cSourceTest : public ::testing::Test {
 protected:
  SourceEnv env() {
    SourceEnv e;
    e.openI2c = [this](int bus) -> std::unique_ptr<I2cBus> {
      opened_.push_back(bus);
      return std::make_unique<FakeI2cBus>(&regs_);
    };
    return e;
  }
  SourceConfig config(SourceConfig::I2cDevice device, uint8_t address) {
    SourceConfig c;
    c.kind = Kind::i2c;
    c.bus = 3;
    c.address = address;
    c.i2cDevice = device;
    return c;
  }
  std::map<std::pair<uint8_t, uint8_t>, std::vector<uint8_t>> regs_;
  std::vector<int> opened_;
};

TEST_F(I2cSourceTest, Lm75AndTmp102Temperatures) {
  regs_[{0x48, 0x00}] = {0x19, 0x80};  // 25.5 °C
  auto lm75 = make(config(SourceConfig::I2cDevice::lm75, 0x48), env());
  EXPECT_TRUE(lm75->blocking());
  EXPECT_DOUBLE_EQ(at(*lm75, 0), 25.5);
  EXPECT_EQ(opened_, std::vector<int>{3});
  regs_[{0x48, 0x00}] = {0xFF, 0x80};  // -0.5 °C
  EXPECT_DOUBLE_EQ(at(*lm75, 0), -0.5);
  regs_[{0x48, 0x00}] = {0xE7, 0x00};  // -25 °C
  EXPECT_DOUBLE_EQ(at(*lm75, 0), -25);

  regs_[{0x49, 0x00}] = {0x19, 0x10};  // 25.0625 °C, 12-bit
  auto tmp = make(config(SourceConfig::I2cDevice::tmp102, 0x49), env());
  EXPECT_DOUBLE_EQ(at(*tmp, 0), 25.0625);
  regs_[{0x49, 0x00}] = {0x0C, 0x81};  // 25 °C in 13-bit extended mode
  EXPECT_DOUBLE_EQ(at(*tmp, 0), 25);
  regs_[{0x49, 0x00}] = {0xFF, 0x00};  // -1 °C
  EXPECT_DOUBLE_EQ(at(*tmp, 0), -1);

  regs_.erase({0x49, 0x00});
  EXPECT_FALSE(tmp->read(Millis(0)).hasValue());
}

TEST_F(I2cSourceTest, Ina219VoltagesCurrentPower) {
  regs_[{0x40, 0x02}] = {0x5D, 0xC2};  // 3000 counts of 4 mV = 12.000 V (CNVR bit set)
  regs_[{0x40, 0x01}] = {0x13, 0x88};  // 5000 counts of 10 uV = 50 mV
  SourceConfig c = config(SourceConfig::I2cDevice::ina219, 0x40);
  c.shuntOhms = 0.1;
  c.measure = SourceConfig::Ina219Measure::busVoltage;
  EXPECT_NEAR(at(*make(c, env()), 0), 12.0, 1e-12);
  c.measure = SourceConfig::Ina219Measure::shuntVoltage;
  EXPECT_NEAR(at(*make(c, env()), 0), 0.05, 1e-12);
  c.measure = SourceConfig::Ina219Measure::current;
  EXPECT_NEAR(at(*make(c, env()), 0), 0.5, 1e-12);
  c.measure = SourceConfig::Ina219Measure::power;
  EXPECT_NEAR(at(*make(c, env()), 0), 6.0, 1e-12);
  regs_[{0x40, 0x01}] = {0xEC, 0x78};  // -5000 counts: current flowing backwards
  c.measure = SourceConfig::Ina219Measure::current;
  EXPECT_NEAR(at(*make(c, env()), 0), -0.5, 1e-12);
}

TEST_F(I2cSourceTest, ConfigErrors) {
  SourceConfig c = config(SourceConfig::I2cDevice::ina219, 0x40);
  c.shuntOhms = 0;
  EXPECT_FALSE(makeSource(c, env()).hasValue());
  c = config(SourceConfig::I2cDevice::lm75, 0x80);
  EXPECT_FALSE(makeSource(c, env()).hasValue());
  c = config(SourceConfig::I2cDevice::lm75, 0x48);
  c.bus = -1;
  EXPECT_FALSE(makeSource(c, env()).hasValue());
}

TEST(I2cDecoders, RegisterFormats) {
  EXPECT_DOUBLE_EQ(lm75Celsius(0x7D, 0x00), 125);
  EXPECT_DOUBLE_EQ(lm75Celsius(0xC9, 0x00), -55);
  EXPECT_DOUBLE_EQ(tmp102Celsius(0x7F, 0xF0), 127.9375);
  EXPECT_DOUBLE_EQ(ina219BusVolts(0xFA, 0x00), 32.0);
  EXPECT_NEAR(ina219ShuntVolts(0x7D, 0x00), 0.32, 1e-12);
}

// The real bus on a device node that is not an I2C adapter: a clean error, no crash.
TEST(LinuxI2cBus, NotAnAdapterIsAnError) {
  LinuxI2cBus bus("/dev/null");
  EXPECT_FALSE(bus.readRegister(0x48, 0x00, 2).hasValue());
  LinuxI2cBus missing("/nonexistent/i2c-99");
  EXPECT_FALSE(missing.readRegister(0x48, 0x00, 2).hasValue());
  EXPECT_FALSE(bus.readRegister(0x48, 0x00, 0).hasValue());
}

}  // namespace
}  // namespace simbmc::sensors
