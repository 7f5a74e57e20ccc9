// [[bmc.sensor]] config tables: values parsed into sensors::SensorConfig, every mistake reported
// together with its location, and the embedded demo config's sensors building valid sensors.
#include "bmc/daemon/sensor_config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bmc/daemon/config.hpp"
#include "sensors/sdr.hpp"

namespace simbmc::daemon {
namespace {

using sensors::SourceConfig;

Result<DaemonConfig> parse(const std::string& sensors) {
  return parseConfig("[[bmc]]\nname = \"t\"\nport = 6230\n\n" + sensors, "test.toml");
}

std::vector<sensors::SensorConfig> parsed(const std::string& text) {
  auto c = parse(text);
  EXPECT_TRUE(c.hasValue()) << (c ? "" : c.error().message);
  return c ? c->instances.at(0).bmc.sensors : std::vector<sensors::SensorConfig>{};
}

bool mentions(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

TEST(SensorConfigTest, ThresholdSensorWithEverything) {
  auto s = parsed(R"(
[[bmc.sensor]]
number = 0x30
name = "CPU Temp"
type = "temperature"
entity = "processor"
entity_instance = 2
units = "degrees F"
analog_format = "2s_complement"
range = [-40, 125]
nominal = 40
normal_min = 10
normal_max = 70.5
thresholds = { lnr = -20, lcr = -10, lnc = 0, unc = 85, ucr = 95, unr = 105 }
hysteresis = [2, 1.5]
thresholds_settable = false
events = false
poll_ms = 250
source = { kind = "waveform", shape = "square", min = 30, max = 50, period_ms = 2000, duty = 0.25, phase = 0.5 }
)");
  ASSERT_EQ(s.size(), 1u);
  const auto& c = s[0];
  EXPECT_EQ(c.number, 0x30);
  EXPECT_EQ(c.name, "CPU Temp");
  EXPECT_EQ(c.sensorType, 0x01);
  EXPECT_EQ(c.readingType, 0x01);
  EXPECT_EQ(c.entityId, 0x03);
  EXPECT_EQ(c.entityInstance, 2);
  EXPECT_EQ(c.baseUnit, 2);
  EXPECT_EQ(c.format, sensors::AnalogFormat::twosComplement);
  EXPECT_EQ(c.rangeMin, -40);
  EXPECT_EQ(c.rangeMax, 125);
  EXPECT_EQ(c.nominal, 40);
  EXPECT_EQ(c.normalMax, 70.5);
  EXPECT_EQ(c.thresholds[sensors::kLnr], -20);
  EXPECT_EQ(c.thresholds[sensors::kLc], -10);
  EXPECT_EQ(c.thresholds[sensors::kLnc], 0);
  EXPECT_EQ(c.thresholds[sensors::kUc], 95);
  EXPECT_EQ(c.positiveHysteresis, 2);
  EXPECT_EQ(c.negativeHysteresis, 1.5);
  EXPECT_FALSE(c.thresholdsSettable);
  EXPECT_FALSE(c.events);
  EXPECT_EQ(c.poll, Millis(250));
  EXPECT_EQ(c.source.kind, SourceConfig::Kind::waveform);
  EXPECT_EQ(c.source.shape, SourceConfig::Shape::square);
  EXPECT_EQ(c.source.period, Millis(2000));
  EXPECT_EQ(c.source.duty, 0.25);
}

TEST(SensorConfigTest, SourcesOfEveryKind) {
  auto s = parsed(R"(
[[bmc.sensor]]
number = 1
name = "S"
type = "voltage"
source = { kind = "static", value = 3.3 }

[[bmc.sensor]]
number = 2
name = "Sc"
type = "chassis_intrusion"
source = { kind = "scenario", loop_ms = 10000, steps = [{ at_ms = 0, states = [] }, { at_ms = 5000, states = [0, 2] }, { at_ms = 7000, unavailable = true }] }

[[bmc.sensor]]
number = 3
name = "H"
type = "temperature"
source = { kind = "hwmon", root = "/tmp/x", chip = "coretemp", label = "Package id 0", scale = 0.001, offset = -1 }

[[bmc.sensor]]
number = 4
name = "I"
type = "current"
range = [0, 4]
source = { kind = "i2c", bus = 2, address = 0x40, device = "ina219", measure = "current", shunt_ohms = 0.01 }

[[bmc.sensor]]
number = 5
name = "F"
type = "fan"
range = [0, 10000]
source = { kind = "file", path = "/run/fan", scale = 60 }

[[bmc.sensor]]
number = 6
name = "W"
type = "fan"
source = { kind = "waveform", shape = "random_walk", min = 1000, max = 2000, step = 10, seed = 99 }

[[bmc.sensor]]
number = 7
name = "PSU"
type = "power_supply"

[[bmc.sensor]]
number = 8
name = "Raw"
sensor_type = 0x0D
reading_type = 0x08
)");
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(s[0].source.kind, SourceConfig::Kind::staticValue);
  EXPECT_EQ(s[0].source.value, 3.3);
  EXPECT_EQ(s[1].source.kind, SourceConfig::Kind::scenario);
  ASSERT_EQ(s[1].source.steps.size(), 3u);
  EXPECT_EQ(s[1].source.steps[1].at, Millis(5000));
  EXPECT_EQ(s[1].source.steps[1].value, 5);  // states 0 and 2
  EXPECT_TRUE(s[1].source.steps[2].unavailable);
  EXPECT_EQ(s[1].source.loop, Millis(10000));
  EXPECT_EQ(s[2].source.kind, SourceConfig::Kind::hwmon);
  EXPECT_EQ(s[2].source.label, "Package id 0");
  EXPECT_EQ(s[2].source.scale, 0.001);
  EXPECT_EQ(s[2].source.offset, -1);
  EXPECT_EQ(s[3].source.kind, SourceConfig::Kind::i2c);
  EXPECT_EQ(s[3].source.bus, 2);
  EXPECT_EQ(s[3].source.address, 0x40);
  EXPECT_EQ(s[3].source.i2cDevice, SourceConfig::I2cDevice::ina219);
  EXPECT_EQ(s[3].source.measure, SourceConfig::Ina219Measure::current);
  EXPECT_EQ(s[4].source.path, "/run/fan");
  EXPECT_EQ(s[4].source.scale, 60);
  EXPECT_EQ(s[5].source.shape, SourceConfig::Shape::randomWalk);
  EXPECT_EQ(s[5].source.seed, 99u);
  // A discrete kind without a source reads its "device is there" state.
  EXPECT_EQ(s[6].source.kind, SourceConfig::Kind::staticValue);
  EXPECT_EQ(s[6].source.value, 1);
  EXPECT_EQ(s[6].sensorType, 0x08);
  EXPECT_EQ(s[6].readingType, 0x6F);
  EXPECT_EQ(s[6].entityId, 0x0A);
  // Numeric type codes: generic "device present" reading type.
  EXPECT_EQ(s[7].sensorType, 0x0D);
  EXPECT_EQ(s[7].readingType, 0x08);
  EXPECT_EQ(s[7].readingMask, 0x0003);
}

TEST(SensorConfigTest, EveryMistakeIsReportedWithItsLocation) {
  auto c = parse(R"(
[[bmc.sensor]]
number = 300
name = ""
type = "humidity"
colour = "red"

[[bmc.sensor]]
number = 2
name = "Order"
type = "temperature"
thresholds = { unc = 90, uc = 80, lower = 1 }
hysteresis = -1

[[bmc.sensor]]
number = 3
name = "Src"
type = "temperature"
source = { kind = "waveform", shape = "zigzag", min = 1 }

[[bmc.sensor]]
number = 4
name = "Steps"
type = "temperature"
source = { kind = "scenario", steps = [{ value = 1 }, { at_ms = 5, value = 2, states = [1] }] }

[[bmc.sensor]]
number = 5
name = "I2C"
type = "temperature"
source = { kind = "i2c", address = 0x90 }

[[bmc.sensor]]
number = 6
name = "Dup"
type = "fan"

[[bmc.sensor]]
number = 6
name = "Dup2"
type = "fan"

[[bmc.sensor]]
number = 7
name = "Dup"
type = "fan"

[[bmc.sensor]]
number = 8
name = "Hw"
type = "temperature"
source = { kind = "hwmon", chip = "a", device = "hwmon0", input = "temp1" }

[[bmc.sensor]]
number = 9
name = "Rec"
type = "temperature"
record = "compact"
)");
  ASSERT_FALSE(c.hasValue());
  const std::string& m = c.error().message;
  for (const char* want : {
           "bmc[0].sensor[0].number: expected an integer in 0..254",
           "bmc[0].sensor[0].name: required, 1..16 characters",
           "bmc[0].sensor[0].type: expected one of temperature",
           "bmc[0].sensor[0]: unknown key 'colour'",
           "bmc[0].sensor[1].thresholds: unknown key 'lower'",
           "bmc[0].sensor[1].hysteresis: must not be negative",
           "bmc[0].sensor[2].source.shape: expected sine, ramp, square or random_walk",
           "bmc[0].sensor[2].source: min and max are required",
           "bmc[0].sensor[3].source.steps[0].at_ms: required",
           "bmc[0].sensor[3].source.steps[1]: give exactly one of value, states and unavailable = true",
           "bmc[0].sensor[4].source.address: expected an integer in 3..119",
           "bmc[0].sensor[4].source.device: required: lm75, tmp102 or ina219",
           "bmc[0].sensor[6].number: sensor number 6 is used twice",
           "bmc[0].sensor[7].name: sensor name 'Dup' is used twice",
           "bmc[0].sensor[8].source: hwmon: give exactly one of chip and device",
           "bmc[0].sensor[9]: sensor 9 'Rec': threshold sensors need a full record",
       }) {
    EXPECT_TRUE(mentions(m, want)) << "missing: " << want << "\n" << m;
  }

  c = parse("[[bmc.sensor]]\nnumber = 1\nname = \"T\"\ntype = \"temperature\"\nthresholds = { unc = 90, uc = 80 }\n");
  ASSERT_FALSE(c.hasValue());
  EXPECT_TRUE(mentions(c.error().message, "bmc[0].sensor[0]: sensor 1 'T': threshold uc (80) is below unc (90)"))
      << c.error().message;
}

TEST(SensorConfigTest, DemoConfigSensorsBuild) {
  auto c = parseConfig(kDefaultConfig, "<default config>");
  ASSERT_TRUE(c.hasValue()) << c.error().message;
  const auto& list = c->instances.at(0).bmc.sensors;
  std::vector<std::string> names;
  for (const auto& s : list) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"CPU Temp", "System Temp", "Inlet Temp", "12V", "5V", "3.3V", "FAN1",
                                             "FAN2", "FAN3", "PSU1 Power", "PSU1 Status", "Intrusion"}));
  for (const auto& cfg : list) {
    auto source = sensors::makeSource(cfg.source);
    ASSERT_TRUE(source.hasValue()) << cfg.name;
    auto s = sensors::Sensor::create(cfg, (*source)->range());
    ASSERT_TRUE(s.hasValue()) << s.error().message;
    // Every configured threshold is exact on the wire: the factors keep round numbers round.
    for (size_t i = 0; i < sensors::kThresholdCount; ++i) {
      if (!cfg.thresholds[i]) continue;
      EXPECT_NEAR(s->factors().toValue(s->thresholds().raw[i]), *cfg.thresholds[i], 1e-9) << cfg.name << " " << i;
    }
    const auto record = sensors::encodeSdr(*s);
    EXPECT_EQ(record[4], record.size() - 5);
  }
  // No stand-in for the watchdog's sensor: the BMC's own "BMC Watchdog" (81h, compact record) is the
  // one clients list, and a configured type 23h sensor would take its place.
  for (const auto& cfg : list) {
    EXPECT_NE(cfg.number, 0x81) << cfg.name;
    EXPECT_NE(cfg.sensorType, 0x23) << cfg.name;
  }
}

}  // namespace
}  // namespace simbmc::daemon
