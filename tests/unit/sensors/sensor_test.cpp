#include "sensors/sensor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <ostream>

namespace simbmc::sensors {

void PrintTo(const SensorEvent& e, std::ostream* os) {
  *os << "{sensor " << int(e.sensorNumber) << " type " << int(e.sensorType) << " rt " << int(e.readingType)
      << (e.deassertion ? " deassert" : " assert") << std::hex << " data " << int(e.data[0]) << " "
      << int(e.data[1]) << " " << int(e.data[2]) << std::dec << "}";
}

namespace {

using Events = std::vector<SensorEvent>;

// A CPU temperature: unc 85, uc 95, unr 105, 2 degrees of hysteresis both ways. The derived range
// 0..131.25 gives 1 degree per count, so raw values equal degrees.
SensorConfig cpuTemp() {
  SensorConfig c;
  c.number = 0x30;
  c.name = "CPU Temp";
  c.sensorType = 0x01;
  c.baseUnit = 1;
  c.thresholds[kUnc] = 85;
  c.thresholds[kUc] = 95;
  c.thresholds[kUnr] = 105;
  c.positiveHysteresis = 2;
  c.negativeHysteresis = 2;
  return c;
}

Sensor make(SensorConfig c) {
  auto s = Sensor::create(std::move(c));
  EXPECT_TRUE(s.hasValue()) << (s ? "" : s.error().message);
  return std::move(*s);
}

SensorEvent thresholdEvent(uint8_t offset, bool deassert, uint8_t reading, uint8_t threshold, uint8_t number = 0x30,
                           uint8_t type = 0x01) {
  return SensorEvent{number, type, 0x01, deassert, {static_cast<uint8_t>(0x50 | offset), reading, threshold}};
}

TEST(Sensor, DerivedFactorsGiveOneDegreePerCount) {
  Sensor s = make(cpuTemp());
  EXPECT_EQ(s.factors().m, 1);
  EXPECT_EQ(s.factors().rExp, 0);
  EXPECT_EQ(s.thresholds().raw[kUc], 95);
  EXPECT_EQ(s.thresholds().readable, 0x38);
  EXPECT_EQ(s.thresholds().settable, 0x38);
  EXPECT_EQ(s.positiveHysteresis(), 2);
  // unc going high (7), uc going high (9), unr going high (11).
  EXPECT_EQ(s.supportedAssertions(), 0x0A80);
  EXPECT_EQ(s.supportedDeassertions(), 0x0A80);
  EXPECT_FALSE(s.reading().available);
}

TEST(Sensor, CrossingUpAssertsOnceAndFallingBelowHysteresisDeassertsOnce) {
  Sensor s = make(cpuTemp());
  EXPECT_EQ(s.update(40.0), Events{});
  EXPECT_TRUE(s.reading().available);
  EXPECT_EQ(s.reading().raw, 40);
  EXPECT_EQ(s.reading().states, 0);

  EXPECT_EQ(s.update(90.0), Events{thresholdEvent(7, false, 90, 85)});
  EXPECT_EQ(s.update(96.0), Events{thresholdEvent(9, false, 96, 95)});
  EXPECT_EQ(s.reading().states, 0x18);  // >= unc, >= uc
  // Dithering around the threshold inside the hysteresis band: nothing new.
  for (double v : {95.0, 94.0, 93.0, 95.0, 96.0, 93.0}) EXPECT_EQ(s.update(v), Events{}) << v;
  EXPECT_EQ(s.reading().states, 0x18);
  // Below 95 - 2: uc deasserts, once.
  EXPECT_EQ(s.update(92.0), Events{thresholdEvent(9, true, 92, 95)});
  EXPECT_EQ(s.update(92.0), Events{});
  EXPECT_EQ(s.reading().states, 0x08);
  EXPECT_EQ(s.update(82.0), Events{thresholdEvent(7, true, 82, 85)});
  EXPECT_EQ(s.assertedEvents(), 0);
  EXPECT_EQ(s.deassertedEvents(), 0x0280);
}

TEST(Sensor, AJumpPastSeveralThresholdsOrdersEventsBySeverity) {
  Sensor s = make(cpuTemp());
  s.update(40.0);
  EXPECT_EQ(s.update(110.0), (Events{thresholdEvent(7, false, 110, 85), thresholdEvent(9, false, 110, 95),
                                     thresholdEvent(11, false, 110, 105)}));
  EXPECT_EQ(s.reading().states, 0x38);
  EXPECT_EQ(s.update(20.0), (Events{thresholdEvent(11, true, 20, 105), thresholdEvent(9, true, 20, 95),
                                    thresholdEvent(7, true, 20, 85)}));
}

TEST(Sensor, LowerThresholdsAssertGoingLowWithNegativeHysteresis) {
  SensorConfig c;
  c.number = 0x40;
  c.name = "FAN1";
  c.sensorType = 0x04;
  c.baseUnit = 18;
  c.rangeMin = 0;
  c.rangeMax = 25500;  // 100 RPM per count
  c.thresholds[kLnr] = 300;
  c.thresholds[kLc] = 500;
  c.thresholds[kLnc] = 800;
  c.negativeHysteresis = 100;
  Sensor s = make(c);
  EXPECT_EQ(s.factors().step(), 100);
  EXPECT_EQ(s.supportedAssertions(), 0x0015);  // lnc, lc, lnr going low
  EXPECT_EQ(s.update(3000.0), Events{});
  auto ev = [](uint8_t off, bool de, uint8_t reading, uint8_t thr) {
    return SensorEvent{0x40, 0x04, 0x01, de, {static_cast<uint8_t>(0x50 | off), reading, thr}};
  };
  EXPECT_EQ(s.update(700.0), Events{ev(0, false, 7, 8)});
  EXPECT_EQ(s.update(400.0), Events{ev(2, false, 4, 5)});
  EXPECT_EQ(s.reading().states, 0x03);
  EXPECT_EQ(s.update(600.0), Events{});  // 600 <= 500 + 100: still asserted
  EXPECT_EQ(s.update(700.0), Events{ev(2, true, 7, 5)});
  EXPECT_EQ(s.update(1000.0), Events{ev(0, true, 10, 8)});
}

TEST(Sensor, EventsOnlyWhenEnabled) {
  SensorConfig c = cpuTemp();
  c.events = false;
  Sensor quiet = make(c);
  EXPECT_EQ(quiet.supportedAssertions(), 0);
  EXPECT_EQ(quiet.update(100.0), Events{});
  EXPECT_EQ(quiet.reading().states, 0x18);  // the state machine still runs

  Sensor s = make(cpuTemp());
  EventEnables e = s.enables();
  e.assertion &= static_cast<uint16_t>(~(1u << 9));  // no "uc going high" assertion
  s.setEnables(e);
  s.update(40.0);
  EXPECT_EQ(s.update(100.0), Events{thresholdEvent(7, false, 100, 85)});
  EXPECT_EQ(s.update(40.0), (Events{thresholdEvent(9, true, 40, 95), thresholdEvent(7, true, 40, 85)}));

  e = s.enables();
  e.allEvents = false;
  s.setEnables(e);
  EXPECT_EQ(s.update(100.0), Events{});
  EXPECT_EQ(s.reading().states, 0x18);

  // Unsupported enable bits are dropped.
  e.allEvents = true;
  e.assertion = 0x7FFF;
  s.setEnables(e);
  EXPECT_EQ(s.enables().assertion, 0x0A80);
}

TEST(Sensor, ScanningDisabledFreezesTheState) {
  Sensor s = make(cpuTemp());
  s.update(40.0);
  EventEnables e = s.enables();
  e.scanning = false;
  s.setEnables(e);
  EXPECT_EQ(s.update(100.0), Events{});
  EXPECT_EQ(s.reading().states, 0);
  e.scanning = true;
  s.setEnables(e);
  EXPECT_EQ(s.reevaluate().size(), 2u);
}

TEST(Sensor, FailedSampleMakesTheReadingUnavailableAndKeepsTheState) {
  Sensor s = make(cpuTemp());
  s.update(100.0);
  EXPECT_EQ(s.update(makeError(Error::Kind::io, "gone")), Events{});
  EXPECT_FALSE(s.reading().available);
  EXPECT_EQ(s.reading().states, 0x18);
  EXPECT_EQ(s.update(NAN), Events{});
  EXPECT_FALSE(s.reading().available);
  // Back, still hot: no repeated assertion; cooled: one deassertion each.
  EXPECT_EQ(s.update(100.0), Events{});
  EXPECT_EQ(s.update(40.0).size(), 2u);
}

TEST(Sensor, RearmAssertsPresentConditionsAgain) {
  Sensor s = make(cpuTemp());
  s.update(96.0);
  EXPECT_EQ(s.rearm(true, 0, 0), (Events{thresholdEvent(7, false, 96, 85), thresholdEvent(9, false, 96, 95)}));
  EXPECT_EQ(s.rearm(false, 1u << 9, 0), Events{thresholdEvent(9, false, 96, 95)});
  // Inside the hysteresis band a re-armed threshold stays deasserted: the reading is below it.
  s.update(94.0);
  EXPECT_EQ(s.rearm(false, 1u << 9, 0), Events{});
  EXPECT_EQ(s.reading().states, 0x08);
}

TEST(Sensor, NewThresholdsTakeEffectOnReevaluation) {
  Sensor s = make(cpuTemp());
  s.update(90.0);
  std::array<uint8_t, kThresholdCount> raw{};
  raw[kUc] = 88;
  EXPECT_TRUE(s.setThresholds(1u << kUc, raw));
  EXPECT_EQ(s.thresholds().raw[kUc], 88);
  EXPECT_EQ(s.thresholds().raw[kUnc], 85);  // untouched
  EXPECT_EQ(s.reevaluate(), Events{thresholdEvent(9, false, 90, 88)});
  // Not settable (not configured): refused, nothing changes.
  raw[kLc] = 5;
  EXPECT_FALSE(s.setThresholds((1u << kUc) | (1u << kLc), raw));
  EXPECT_EQ(s.thresholds().raw[kLc], 0);

  SensorConfig fixed = cpuTemp();
  fixed.thresholdsSettable = false;
  Sensor f = make(fixed);
  EXPECT_EQ(f.thresholds().settable, 0);
  EXPECT_FALSE(f.setThresholds(1u << kUc, raw));
}

TEST(Sensor, DiscreteStatesAssertAndDeassert) {
  SensorConfig c;
  c.number = 0x50;
  c.name = "Intrusion";
  const SensorKind* k = findKind("chassis_intrusion");
  ASSERT_NE(k, nullptr);
  c.sensorType = k->sensorType;
  c.readingType = k->readingType;
  Sensor s = make(c);
  EXPECT_EQ(s.readingMask(), 0x007F);
  EXPECT_EQ(s.recordKind(), RecordKind::compact);
  EXPECT_EQ(s.update(0.0), Events{});
  EXPECT_EQ(s.update(1.0), Events{(SensorEvent{0x50, 0x05, 0x6F, false, {0x00, 0xFF, 0xFF}})});
  EXPECT_EQ(s.reading().states, 0x0001);
  EXPECT_EQ(s.assertedEvents(), 0x0001);
  EXPECT_EQ(s.update(1.0), Events{});
  // Offset 0 clears and offset 2 (I/O card area) sets: deassertion first.
  EXPECT_EQ(s.update(4.0), (Events{SensorEvent{0x50, 0x05, 0x6F, true, {0x00, 0xFF, 0xFF}},
                                   SensorEvent{0x50, 0x05, 0x6F, false, {0x02, 0xFF, 0xFF}}}));
  EXPECT_EQ(s.deassertedEvents(), 0x0001);
  // States outside the reading mask are ignored.
  EXPECT_EQ(s.update(static_cast<double>(0x4000 | 4)), Events{});
  EXPECT_EQ(s.reading().states, 0x0004);
  // Re-arm: the present state asserts again.
  EXPECT_EQ(s.rearm(true, 0, 0), (Events{SensorEvent{0x50, 0x05, 0x6F, false, {0x02, 0xFF, 0xFF}}}));
}

TEST(Sensor, DeassertionEventsOnlyForTheStatesConfiguredSo) {
  // A Power Unit: off (0) deasserts when power returns, a power cycle (1) is momentary.
  SensorConfig c;
  c.number = 0x80;
  c.name = "Pwr Unit Status";
  c.sensorType = 0x09;
  c.readingType = kSensorSpecificReadingType;
  c.readingMask = 0x0003;
  c.deassertionEvents = 0x0001;
  Sensor s = make(c);
  EXPECT_EQ(s.supportedAssertions(), 0x0003);
  EXPECT_EQ(s.supportedDeassertions(), 0x0001);
  EXPECT_EQ(s.enables().deassertion, 0x0001);
  EXPECT_EQ(s.update(0.0), Events{});
  EXPECT_EQ(s.update(3.0), (Events{SensorEvent{0x80, 0x09, 0x6F, false, {0x00, 0xFF, 0xFF}},
                                   SensorEvent{0x80, 0x09, 0x6F, false, {0x01, 0xFF, 0xFF}}}));
  EXPECT_EQ(s.update(0.0), (Events{SensorEvent{0x80, 0x09, 0x6F, true, {0x00, 0xFF, 0xFF}}}));
  // The state machine still ran for offset 1: status and reading agree with the source, and a
  // momentary state is never reported as deasserted.
  EXPECT_EQ(s.assertedEvents(), 0x0000);
  EXPECT_EQ(s.deassertedEvents(), 0x0001);
  // A client cannot enable what the sensor does not support.
  EventEnables e = s.enables();
  e.deassertion = 0x7FFF;
  s.setEnables(e);
  EXPECT_EQ(s.enables().deassertion, 0x0001);
}

TEST(Sensor, ResetThresholdsReturnsToTheConfiguredValues) {
  Sensor s = make(cpuTemp());
  std::array<uint8_t, kThresholdCount> raw{};
  raw[kUc] = 90;
  raw[kUnr] = 120;
  ASSERT_TRUE(s.setThresholds((1u << kUc) | (1u << kUnr), raw));
  s.setHysteresis(5, 6);
  Sensor configured = s;
  configured.resetThresholds();
  EXPECT_EQ(configured.thresholds().raw[kUc], 95);
  EXPECT_EQ(configured.thresholds().raw[kUnr], 105);
  EXPECT_EQ(configured.thresholds().raw[kUnc], 85);
  EXPECT_EQ(configured.positiveHysteresis(), 2);
  EXPECT_EQ(configured.negativeHysteresis(), 2);
  EXPECT_EQ(s.thresholds().raw[kUc], 90);  // the copy, not the sensor
  EXPECT_EQ(s.positiveHysteresis(), 5);
}

TEST(Sensor, SetTypeChangesWhatEventsCarry) {
  Sensor s = make(cpuTemp());
  s.setType(0x02, 0x01);
  s.update(40.0);
  auto events = s.update(90.0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].sensorType, 0x02);
}

TEST(Sensor, ConfigValidation) {
  auto fails = [](SensorConfig c, const std::string& what) {
    auto s = Sensor::create(std::move(c));
    ASSERT_FALSE(s.hasValue());
    EXPECT_NE(s.error().message.find(what), std::string::npos) << s.error().message;
  };
  SensorConfig c = cpuTemp();
  c.name = "";
  fails(c, "name");
  c.name = "A name of 17 char";
  fails(c, "name");
  c = cpuTemp();
  c.number = 0xFF;
  fails(c, "255");
  c = cpuTemp();
  c.thresholds[kUc] = 80;  // below unc
  fails(c, "below");
  c = cpuTemp();
  c.record = RecordKind::compact;
  fails(c, "full record");
  c = cpuTemp();
  c.rangeMin = 0;
  c.rangeMax = 50;
  fails(c, "outside the range");
  c = cpuTemp();
  c.readingType = 0x20;
  fails(c, "reading type");
  c = cpuTemp();
  c.poll = Millis(1);
  fails(c, "poll_ms");
}

TEST(Sensor, RangeIncludesWhatTheSourceProduces) {
  SensorConfig c = cpuTemp();
  auto s = Sensor::create(c, std::pair{-20.0, 300.0});
  ASSERT_TRUE(s.hasValue()) << s.error().message;
  EXPECT_LE(s->factors().toValue(s->factors().fromX(s->factors().minX())), -20.0);
  EXPECT_GE(s->factors().toValue(s->factors().fromX(s->factors().maxX())), 300.0);
}

TEST(Catalog, NamesAndCodes) {
  EXPECT_EQ(unitCode("degrees C"), 1);
  EXPECT_EQ(unitCode("Volts"), 4);
  EXPECT_EQ(unitCode("RPM"), 18);
  EXPECT_EQ(unitCode("watts"), 6);
  EXPECT_FALSE(unitCode("furlongs"));
  EXPECT_EQ(entityCode("processor"), 0x03);
  EXPECT_EQ(entityCode("power supply"), 0x0A);
  EXPECT_EQ(entityCode("air_inlet"), 0x40);
  EXPECT_EQ(findKind("watchdog")->sensorType, 0x23);
  EXPECT_EQ(findKind("power_unit")->sensorType, 0x09);
  EXPECT_EQ(definedStates(0x09, 0x6F), 0x00FF);
  EXPECT_EQ(findKind("Fan")->baseUnit, 18);
  EXPECT_EQ(findKind("nope"), nullptr);
  EXPECT_EQ(definedStates(0x00, 0x03), 0x0003);
  EXPECT_EQ(definedStates(0x08, 0x6F), 0x00FF);
  EXPECT_EQ(definedStates(0xC0, 0x6F), 0x7FFF);
}

}  // namespace
}  // namespace simbmc::sensors
