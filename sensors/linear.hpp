// Linear sensor reading conversion, IPMI v2.0 §36.3 "Sensor Reading Conversion Formula":
//
//     y = (M * x + B * 10^Bexp) * 10^Rexp
//
// where x is the 8-bit raw reading interpreted by the analog data format (Table 43-1, sensor units 1
// [7:6]: unsigned, 1's complement or 2's complement), M and B are 10-bit two's complement values and
// Bexp / Rexp are 4-bit two's complement exponents. Factors are what a full sensor record (bytes
// 25..30) and Get Sensor Reading Factors (§35.5) carry. Pure value types; no I/O.
#pragma once

#include <cstdint>
#include <optional>

namespace simbmc::sensors {

// Table 43-1, byte 21 [7:6].
enum class AnalogFormat : uint8_t { unsignedRaw = 0, onesComplement = 1, twosComplement = 2, none = 3 };

struct Factors {
  int16_t m = 1;      // -512..511
  int16_t b = 0;      // -512..511
  int8_t bExp = 0;    // -8..7
  int8_t rExp = 0;    // -8..7
  AnalogFormat format = AnalogFormat::unsignedRaw;

  bool operator==(const Factors&) const = default;

  // Smallest and largest x the format can express (0..255, -127..127 or -128..127).
  int minX() const;
  int maxX() const;
  // The raw byte interpreted as a signed x per the format (1's complement 0xFF reads as -0 = 0).
  int toX(uint8_t raw) const;
  // x back to the raw byte; x must be in minX()..maxX().
  uint8_t fromX(int x) const;

  double toValue(uint8_t raw) const;
  // The raw byte whose value is nearest to `value`, clamped to the format's range (so a reading
  // beyond the sensor's range reads as its end, as hardware saturates).
  uint8_t toRaw(double value) const;
  // The value change of one raw count (M * 10^Rexp).
  double step() const;
  // Hysteresis in raw counts for an amount in units (rounded, 0..255).
  uint8_t countsFor(double amount) const;

  // The record's bytes 25..30 (M, M/tolerance, B, B/accuracy, accuracy/direction, R/B exponents);
  // tolerance, accuracy and direction are 0.
  void encode(uint8_t out[6]) const;
};

// Factors for a sensor whose readings lie in [lo, hi]: the smallest step of the 1, 2, 2.5, 5 x 10^n
// series that covers the range within the format's x range, so round numbers in the config (95 °C,
// 3.3 V, 12 V) stay exact on the wire; an offset B when the range does not start at 0. nullopt when
// no representable factors exist (a range wider than 255 * 5.11e9, or not finite). lo <= hi.
std::optional<Factors> chooseFactors(double lo, double hi, AnalogFormat format = AnalogFormat::unsignedRaw);

}  // namespace simbmc::sensors
