#include "sensors/sdr.hpp"

#include <gtest/gtest.h>

namespace simbmc::sensors {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes withName(Bytes head, const std::string& name) {
  head.insert(head.end(), name.begin(), name.end());
  return head;
}

Sensor make(SensorConfig c) {
  auto s = Sensor::create(std::move(c));
  EXPECT_TRUE(s.hasValue()) << (s ? "" : s.error().message);
  return std::move(*s);
}

SensorConfig cpuTemp() {
  SensorConfig c;
  c.number = 0x30;
  c.name = "CPU Temp";
  c.entityId = 0x03;
  c.sensorType = 0x01;
  c.baseUnit = 1;
  c.nominal = 40;
  c.thresholds[kUnc] = 85;
  c.thresholds[kUc] = 95;
  c.thresholds[kUnr] = 105;
  c.positiveHysteresis = 2;
  c.negativeHysteresis = 2;
  return c;
}

// IPMI v2.0 Table 43-1, byte by byte (the comments are the table's byte numbers).
TEST(Sdr, FullSensorRecordLayout) {
  const Bytes expected = withName(
      {
          0x00, 0x00,  // 1-2 record ID: assigned by the repository
          0x51,        // 3 SDR version
          0x01,        // 4 full sensor record
          0x33,        // 5 bytes that follow (43 + 8-character name)
          0x20,        // 6 owner: BMC slave address
          0x00,        // 7 channel 0, LUN 0
          0x30,        // 8 sensor number
          0x03, 0x01,  // 9-10 entity: processor, physical instance 1
          0x7F,        // 11 init scanning, events, thresholds, hysteresis, type; events and scanning on
          0x68,        // 12 auto re-arm, hysteresis and thresholds readable+settable, per-threshold events
          0x01, 0x01,  // 13-14 temperature, threshold
          0x80, 0x0A,  // 15-16 assertions: unc/uc/unr going high; no lower comparisons
          0x80, 0x7A,  // 17-18 deassertions, same; unc/uc/unr comparisons returned
          0x38, 0x38,  // 19-20 readable, settable thresholds
          0x00,        // 21 unsigned, no rate, no modifier
          0x01, 0x00,  // 22-23 degrees C
          0x00,        // 24 linear
          0x01, 0x00, 0x00, 0x00, 0x00, 0x00,  // 25-30 M = 1, B = 0, R = 0, Bexp = 0
          0x01,        // 31 nominal reading given
          0x28, 0x00, 0x00,  // 32-34 nominal 40, normal max/min
          0xFF, 0x00,  // 35-36 sensor max/min reading
          0x69, 0x5F, 0x55, 0x00, 0x00, 0x00,  // 37-42 unr 105, uc 95, unc 85, lnr, lc, lnc
          0x02, 0x02,  // 43-44 hysteresis
          0x00, 0x00,  // 45-46 reserved
          0x00,        // 47 OEM
          0xC8,        // 48 8-bit ASCII, 8 characters
      },
      "CPU Temp");
  EXPECT_EQ(encodeSdr(make(cpuTemp())), expected);
}

TEST(Sdr, FullRecordFollowsCurrentThresholdsFactorsAndOwner) {
  SensorConfig c = cpuTemp();
  c.entityInstance = 2;
  c.logicalEntity = true;
  c.thresholds = {};
  c.thresholds[kLc] = -10;
  c.thresholds[kUc] = 60;
  c.nominal.reset();
  c.format = AnalogFormat::twosComplement;
  c.percentage = true;
  Sensor s = make(c);
  std::array<uint8_t, kThresholdCount> raw{};
  raw[kUc] = 55;
  ASSERT_TRUE(s.setThresholds(1u << kUc, raw));
  s.setHysteresis(3, 4);
  const Bytes r = encodeSdr(s, 0x22, 0x01, 0x02);
  ASSERT_EQ(r.size(), 56u);
  EXPECT_EQ(r[5], 0x22);
  EXPECT_EQ(r[6], 0x21);  // channel 2, LUN 1
  EXPECT_EQ(r[9], 0x82);  // logical instance 2
  EXPECT_EQ(r[14] | (r[15] << 8), 0x2204);  // lc going low + uc going high; lc comparison
  EXPECT_EQ(r[16] | (r[17] << 8), 0x2204);  // uc comparison
  EXPECT_EQ(r[18], 0x12);
  EXPECT_EQ(r[20], 0x81);  // 2's complement, percentage
  EXPECT_EQ(r[34], 0x7F);  // max reading in 2's complement
  EXPECT_EQ(r[35], 0x80);
  EXPECT_EQ(r[37], 55);
  EXPECT_EQ(r[40], s.factors().toRaw(-10));
  EXPECT_EQ(r[42], 3);
  EXPECT_EQ(r[43], 4);
  uint8_t f[6];
  s.factors().encode(f);
  EXPECT_EQ(Bytes(r.begin() + 24, r.begin() + 30), Bytes(f, f + 6));
}

TEST(Sdr, SensorWithoutEventsSaysSo) {
  SensorConfig c = cpuTemp();
  c.events = false;
  c.thresholdsSettable = false;
  const Bytes r = encodeSdr(make(c));
  EXPECT_EQ(r[10], 0x7D);                    // event generation off
  EXPECT_EQ(r[11], 0x40 | 0x20 | 0x04 | 0x03);  // thresholds readable only, no events
  EXPECT_EQ(r[14] | (r[15] << 8), 0x0000);
  EXPECT_EQ(r[16] | (r[17] << 8), 0x7000);
  EXPECT_EQ(r[19], 0x00);
}

// Table 43-2.
TEST(Sdr, CompactSensorRecordLayout) {
  SensorConfig c;
  c.number = 0x50;
  c.name = "Intrusion";
  const SensorKind* k = findKind("chassis_intrusion");
  c.sensorType = k->sensorType;
  c.readingType = k->readingType;
  c.entityId = k->entityId;
  const Bytes expected = withName(
      {
          0x00, 0x00, 0x51, 0x02,
          0x24,        // 5 bytes that follow (27 + 9)
          0x20, 0x00, 0x50,
          0x17, 0x01,  // 9-10 system chassis 1
          0x67,        // 11 init scanning, events, type; events and scanning on
          0x40,        // 12 auto re-arm, per-state event enables
          0x05, 0x6F,  // 13-14 physical security, sensor-specific
          0x7F, 0x00,  // 15-16 assertion events: offsets 0-6
          0x7F, 0x00,  // 17-18 deassertion events
          0x7F, 0x00,  // 19-20 states the reading returns
          0x00, 0x00, 0x00,  // 21-23 units
          0x01, 0x00,  // 24-25 share count 1, no instance sharing
          0x00, 0x00,  // 26-27 hysteresis
          0x00, 0x00, 0x00,  // 28-30 reserved
          0x00,        // 31 OEM
          0xC9,        // 32 9 characters
      },
      "Intrusion");
  EXPECT_EQ(encodeSdr(make(c)), expected);
}

// Table 43-3.
TEST(Sdr, EventOnlyRecordLayout) {
  SensorConfig c;
  c.number = 0x60;
  c.name = "Watchdog";
  c.sensorType = 0x23;
  c.readingType = 0x6F;
  c.record = RecordKind::eventOnly;
  const Bytes expected = withName(
      {
          0x00, 0x00, 0x51, 0x03,
          0x14,        // 5 bytes that follow (12 + 8)
          0x20, 0x00, 0x60,
          0x07, 0x01,  // 9-10 system board 1
          0x23, 0x6F,  // 11-12 watchdog 2, sensor-specific
          0x01, 0x00,  // 13-14 share count 1
          0x00,        // 15 reserved
          0x00,        // 16 OEM
          0xC8,        // 17 8 characters
      },
      "Watchdog");
  EXPECT_EQ(encodeSdr(make(c)), expected);
}

TEST(Sdr, SetSensorTypeShowsInTheRecord) {
  Sensor s = make(cpuTemp());
  s.setType(0x02, 0x01);
  EXPECT_EQ(encodeSdr(s)[12], 0x02);
}

}  // namespace
}  // namespace simbmc::sensors
