#include "sensors/linear.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

namespace simbmc::sensors {
namespace {

// The conversion formula of IPMI v2.0 §36.3 written out independently of Factors::toValue.
double spec(const Factors& f, int x) {
  return (f.m * x + f.b * std::pow(10.0, f.bExp)) * std::pow(10.0, f.rExp);
}

// Every raw byte survives raw -> value -> raw, and every value in [lo, hi] comes back within half
// a step (the resolution) of itself.
void expectRoundTrips(const Factors& f, double lo, double hi) {
  for (int raw = 0; raw < 256; ++raw) {
    const auto r = static_cast<uint8_t>(raw);
    if (f.format == AnalogFormat::onesComplement && raw == 0xFF) continue;  // -0 reads as +0 (0x00)
    EXPECT_EQ(f.toRaw(f.toValue(r)), r) << "raw " << raw;
    EXPECT_NEAR(f.toValue(r), spec(f, f.toX(r)), 1e-9 * std::max(1.0, std::abs(spec(f, f.toX(r)))));
  }
  const double step = f.step();
  for (int i = 0; i <= 1000; ++i) {
    const double v = lo + (hi - lo) * i / 1000.0;
    EXPECT_NEAR(f.toValue(f.toRaw(v)), v, step / 2 + 1e-9 * std::max(1.0, std::abs(v))) << "value " << v;
  }
  // The whole range is covered.
  EXPECT_LE(f.toValue(f.fromX(f.minX())), lo + 1e-9 * std::max(1.0, std::abs(lo)));
  EXPECT_GE(f.toValue(f.fromX(f.maxX())), hi - 1e-9 * std::max(1.0, std::abs(hi)));
}

TEST(Linear, TemperatureRangeGetsHalfDegreeSteps) {
  auto f = chooseFactors(0, 127);
  ASSERT_TRUE(f);
  EXPECT_EQ(std::tie(f->m, f->b, f->bExp, f->rExp), std::make_tuple(int16_t{5}, int16_t{0}, int8_t{0}, int8_t{-1}));
  EXPECT_DOUBLE_EQ(f->toValue(f->toRaw(95)), 95.0);
  EXPECT_EQ(f->toRaw(95), 190);
  expectRoundTrips(*f, 0, 127);
}

TEST(Linear, FullByteRangeIsTheIdentity) {
  auto f = chooseFactors(0, 255);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->m, 1);
  EXPECT_EQ(f->b, 0);
  EXPECT_EQ(f->rExp, 0);
  for (int raw = 0; raw < 256; ++raw) EXPECT_DOUBLE_EQ(f->toValue(static_cast<uint8_t>(raw)), raw);
}

TEST(Linear, VoltageRailsKeepRoundNumbersExact) {
  auto f = chooseFactors(0, 4.5);  // 3.3 V rail
  ASSERT_TRUE(f);
  EXPECT_EQ(f->m, 2);
  EXPECT_EQ(f->rExp, -2);
  EXPECT_EQ(f->toRaw(3.3), 165);
  EXPECT_DOUBLE_EQ(f->toValue(165), 3.3);
  expectRoundTrips(*f, 0, 4.5);

  auto twelve = chooseFactors(0, 16.5);
  ASSERT_TRUE(twelve);
  EXPECT_DOUBLE_EQ(twelve->toValue(twelve->toRaw(12.0)), 12.0);
  EXPECT_DOUBLE_EQ(twelve->toValue(twelve->toRaw(13.2)), 13.2);
  expectRoundTrips(*twelve, 0, 16.5);
}

TEST(Linear, RangeStartingBelowZeroUsesAnOffset) {
  auto f = chooseFactors(-40, 125);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->m, 1);
  EXPECT_EQ(f->rExp, 0);
  EXPECT_EQ(f->b, -40);
  EXPECT_EQ(f->bExp, 0);
  EXPECT_EQ(f->toRaw(-40), 0);
  EXPECT_DOUBLE_EQ(f->toValue(0), -40);
  expectRoundTrips(*f, -40, 125);
}

TEST(Linear, EntirelyNegativeRange) {
  auto f = chooseFactors(-100, -20);
  ASSERT_TRUE(f);
  EXPECT_LT(f->b, 0);
  expectRoundTrips(*f, -100, -20);
  EXPECT_DOUBLE_EQ(f->toValue(f->toRaw(-55.5)), -55.5);
}

TEST(Linear, OffsetTooLargeForBIsScaledByBExponent) {
  // 1000..1100 in steps of 0.5: B' = 10000 tenths needs B = 100, Bexp = 2.
  auto f = chooseFactors(1000, 1100);
  ASSERT_TRUE(f);
  EXPECT_GT(f->bExp, 0);
  EXPECT_LE(f->b, 511);
  expectRoundTrips(*f, 1000, 1100);
}

TEST(Linear, TinyRange) {
  auto f = chooseFactors(0, 0.001);
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->step(), 5e-6, 1e-18);
  expectRoundTrips(*f, 0, 0.001);
}

TEST(Linear, LargeRanges) {
  auto rpm = chooseFactors(0, 100000);
  ASSERT_TRUE(rpm);
  EXPECT_DOUBLE_EQ(rpm->step(), 500);
  expectRoundTrips(*rpm, 0, 100000);

  auto huge = chooseFactors(0, 1e12);
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->rExp, 7);
  EXPECT_LE(huge->m, 511);
  expectRoundTrips(*huge, 0, 1e12);

  EXPECT_FALSE(chooseFactors(0, 1e13));
}

TEST(Linear, DegenerateAndInvalidRanges) {
  auto f = chooseFactors(45, 45);
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->toValue(f->toRaw(45)), 45);
  EXPECT_FALSE(chooseFactors(2, 1));
  EXPECT_FALSE(chooseFactors(0, NAN));
  EXPECT_FALSE(chooseFactors(0, INFINITY));
  EXPECT_FALSE(chooseFactors(0, 1, AnalogFormat::none));
}

TEST(Linear, TwosComplementCentresOnZero) {
  auto f = chooseFactors(-40, 125, AnalogFormat::twosComplement);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->m, 1);
  EXPECT_EQ(f->b, 0);
  EXPECT_EQ(f->toRaw(-40), 0xD8);
  EXPECT_EQ(f->toX(0x80), -128);
  EXPECT_DOUBLE_EQ(f->toValue(0xFF), -1);
  expectRoundTrips(*f, -40, 125);

  // A range beyond -128..127 steps moves to a coarser step and still centres on zero.
  auto wide = chooseFactors(-300, 300, AnalogFormat::twosComplement);
  ASSERT_TRUE(wide);
  EXPECT_EQ(wide->b, 0);
  expectRoundTrips(*wide, -300, 300);
}

TEST(Linear, OnesComplement) {
  auto f = chooseFactors(-100, 100, AnalogFormat::onesComplement);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->toX(0xFF), 0);      // negative zero
  EXPECT_EQ(f->toX(0x80), -127);
  EXPECT_EQ(f->fromX(-1), 0xFE);
  EXPECT_EQ(f->fromX(-127), 0x80);
  expectRoundTrips(*f, -100, 100);
}

TEST(Linear, ValuesBeyondTheRangeSaturate) {
  auto f = chooseFactors(0, 127);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->toRaw(1000), 0xFF);
  EXPECT_EQ(f->toRaw(-5), 0x00);
  EXPECT_EQ(f->toRaw(NAN), 0x00);
}

TEST(Linear, HysteresisCounts) {
  auto f = chooseFactors(0, 127);  // 0.5 per count
  ASSERT_TRUE(f);
  EXPECT_EQ(f->countsFor(2), 4);
  EXPECT_EQ(f->countsFor(0), 0);
  EXPECT_EQ(f->countsFor(-1), 0);
  EXPECT_EQ(f->countsFor(1000), 255);
}

// Table 43-1 bytes 25..30: M and B as 10-bit two's complement split 8 + 2, exponents as nibbles.
TEST(Linear, EncodesFactorsAsTheRecordDoes) {
  Factors f;
  f.m = -3;
  f.b = -40;
  f.bExp = 2;
  f.rExp = -1;
  uint8_t out[6];
  f.encode(out);
  EXPECT_EQ(out[0], 0xFD);
  EXPECT_EQ(out[1], 0xC0);
  EXPECT_EQ(out[2], 0xD8);
  EXPECT_EQ(out[3], 0xC0);
  EXPECT_EQ(out[4], 0x00);
  EXPECT_EQ(out[5], 0xF2);

  f = Factors{};
  f.m = 511;
  f.b = 300;
  f.bExp = -8;
  f.rExp = 7;
  f.encode(out);
  EXPECT_EQ(out[0], 0xFF);
  EXPECT_EQ(out[1], 0x40);
  EXPECT_EQ(out[2], 0x2C);
  EXPECT_EQ(out[3], 0x40);
  EXPECT_EQ(out[5], 0x78);
}

}  // namespace
}  // namespace simbmc::sensors
