#include "sensors/linear.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace simbmc::sensors {
namespace {

double pow10(int e) {
  static constexpr std::array<double, 16> kPos = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                  1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  return e >= 0 ? kPos[static_cast<size_t>(e)] : 1.0 / kPos[static_cast<size_t>(-e)];
}

// a * 10^e computed so that a negative exponent divides by an exact power of ten (1.65 stays 1.65
// rather than 165 * 0.010000000000000000208).
double scale(double a, int e) { return e >= 0 ? a * pow10(e) : a / pow10(-e); }

struct Candidate {
  int m;
  int r;
};

// Steps in increasing order: 1, 2, 2.5, 5 x 10^r for r = -8..7, then multiples of 10^7 up to the
// largest M, so a huge range still gets factors.
const std::vector<Candidate>& candidates() {
  static const std::vector<Candidate> list = [] {
    std::vector<Candidate> v;
    for (int r = -8; r <= 7; ++r) {
      v.push_back({1, r});
      v.push_back({2, r});
      if (r - 1 >= -8) v.push_back({25, r - 1});
      v.push_back({5, r});
    }
    for (int m : {10, 20, 25, 50, 100, 200, 250, 500}) v.push_back({m, 7});
    return v;
  }();
  return list;
}

}  // namespace

int Factors::minX() const {
  switch (format) {
    case AnalogFormat::onesComplement: return -127;
    case AnalogFormat::twosComplement: return -128;
    default: return 0;
  }
}

int Factors::maxX() const {
  switch (format) {
    case AnalogFormat::onesComplement:
    case AnalogFormat::twosComplement: return 127;
    default: return 255;
  }
}

int Factors::toX(uint8_t raw) const {
  switch (format) {
    case AnalogFormat::onesComplement:
      return (raw & 0x80) != 0 ? -static_cast<int>(static_cast<uint8_t>(~raw) & 0x7F) : raw;
    case AnalogFormat::twosComplement:
      return static_cast<int8_t>(raw);
    default:
      return raw;
  }
}

uint8_t Factors::fromX(int x) const {
  x = std::clamp(x, minX(), maxX());
  if (format == AnalogFormat::onesComplement && x < 0) return static_cast<uint8_t>(~static_cast<uint8_t>(-x));
  return static_cast<uint8_t>(x & 0xFF);
}

double Factors::toValue(uint8_t raw) const {
  const double inner = static_cast<double>(m) * toX(raw) + scale(b, bExp);
  return scale(inner, rExp);
}

uint8_t Factors::toRaw(double value) const {
  if (std::isnan(value) || m == 0) return fromX(minX());
  const double x = (scale(value, -rExp) - scale(b, bExp)) / m;
  if (x <= minX()) return fromX(minX());
  if (x >= maxX()) return fromX(maxX());
  return fromX(static_cast<int>(std::lround(x)));
}

double Factors::step() const { return std::abs(scale(m, rExp)); }

uint8_t Factors::countsFor(double amount) const {
  const double s = step();
  if (!(amount > 0) || s <= 0) return 0;
  return static_cast<uint8_t>(std::clamp<double>(std::lround(amount / s), 0, 255));
}

void Factors::encode(uint8_t out[6]) const {
  out[0] = static_cast<uint8_t>(m & 0xFF);
  out[1] = static_cast<uint8_t>(((m >> 8) & 0x03) << 6);  // [5:0] tolerance 0
  out[2] = static_cast<uint8_t>(b & 0xFF);
  out[3] = static_cast<uint8_t>(((b >> 8) & 0x03) << 6);  // [5:0] accuracy LS 0
  out[4] = 0x00;                                          // accuracy MS, accuracy exp, direction
  out[5] = static_cast<uint8_t>(((rExp & 0x0F) << 4) | (bExp & 0x0F));
}

std::optional<Factors> chooseFactors(double lo, double hi, AnalogFormat format) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi || format == AnalogFormat::none) return std::nullopt;
  Factors probe;
  probe.format = format;
  const int xmin = probe.minX();
  const int xmax = probe.maxX();
  // Floating-point slack: 3.3 / 0.02 must count as 165 steps, not 164.99999.
  const auto tol = [](double v) { return 1e-9 * std::max(1.0, std::abs(v)); };

  for (const Candidate& c : candidates()) {
    const double s = scale(c.m, c.r);
    if ((hi - lo) > s * (xmax - xmin) + tol(hi - lo)) continue;
    Factors f = probe;
    f.m = static_cast<int16_t>(c.m);
    f.rExp = static_cast<int8_t>(c.r);
    // No offset when the range fits around zero (the natural choice for signed formats).
    if (lo >= xmin * s - tol(lo) && hi <= xmax * s + tol(hi)) return f;

    // Otherwise x = xmin reads as a whole number of steps at or below lo: B' = M * (n - xmin) in
    // units of 10^r, written as B * 10^Bexp with B rounded down so the range stays covered.
    const double n = std::floor(lo / s + 1e-9);
    if (std::abs(n) > 1e12) continue;
    const auto bPrime = static_cast<int64_t>(c.m) * (static_cast<int64_t>(n) - xmin);
    for (int e = 0; e <= 7; ++e) {
      const auto p = static_cast<int64_t>(pow10(e));
      int64_t bq = bPrime / p;
      if (bPrime < 0 && bq * p != bPrime) --bq;  // floor for negative offsets
      if (bq < -512 || bq > 511) continue;
      f.b = static_cast<int16_t>(bq);
      f.bExp = static_cast<int8_t>(e);
      if (f.toValue(f.fromX(xmax)) + tol(hi) >= hi && f.toValue(f.fromX(xmin)) - tol(lo) <= lo) return f;
      break;  // a larger exponent only loses more of the offset
    }
  }
  return std::nullopt;
}

}  // namespace simbmc::sensors
