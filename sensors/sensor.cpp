#include "sensors/sensor.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <span>

#include <fmt/core.h>

namespace simbmc::sensors {
namespace {

// Table 42-2 threshold event offsets for the direction each threshold asserts in: lower thresholds
// "going low", upper thresholds "going high".
constexpr std::array<uint8_t, kThresholdCount> kAssertOffset = {0x00, 0x02, 0x04, 0x07, 0x09, 0x0B};
constexpr std::array<const char*, kThresholdCount> kThresholdName = {"lnc", "lc", "lnr", "unc", "uc", "unr"};

constexpr uint16_t bit(unsigned n) { return static_cast<uint16_t>(1u << n); }

// Table 42-3 sensor types with their config names. Threshold kinds carry their usual unit; the
// discrete ones the sensor-specific offsets the spec defines for them.
constexpr SensorKind kKinds[] = {
    {"temperature", 0x01, kThresholdReadingType, 1, 0x07, 0},
    {"voltage", 0x02, kThresholdReadingType, 4, 0x07, 0},
    {"current", 0x03, kThresholdReadingType, 5, 0x07, 0},
    {"fan", 0x04, kThresholdReadingType, 18, 0x1D, 0},
    {"power", 0x08, kThresholdReadingType, 6, 0x0A, 0},
    {"presence", 0x25, kSensorSpecificReadingType, 0, 0x07, 0x0007},           // present/absent/disabled
    {"power_supply", 0x08, kSensorSpecificReadingType, 0, 0x0A, 0x00FF},       // presence .. inactive
    {"processor", 0x07, kSensorSpecificReadingType, 0, 0x03, 0x1FFF},          // IERR .. correctable MCE
    {"chassis_intrusion", 0x05, kSensorSpecificReadingType, 0, 0x17, 0x007F},  // general chassis .. fan area
    {"intrusion", 0x05, kSensorSpecificReadingType, 0, 0x17, 0x007F},
    {"watchdog2", 0x23, kSensorSpecificReadingType, 0, 0x07, 0x010F},          // expired, reset, off, cycle, interrupt
    {"watchdog", 0x23, kSensorSpecificReadingType, 0, 0x07, 0x010F},
    {"os_boot", 0x1F, kSensorSpecificReadingType, 0, 0x07, 0x07FF},            // A: boot .. installation failed
    {"system_event", 0x12, kSensorSpecificReadingType, 0, 0x07, 0x003F},       // reconfigured .. clock sync
    {"power_unit", 0x09, kSensorSpecificReadingType, 0, 0x13, 0x00FF},         // power off .. predictive failure
};

std::string normalized(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '-') c = '_';
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

struct Named {
  std::string_view name;
  uint8_t code;
};

// Table 43-15 (a useful subset by name; any code can be given as a number).
constexpr Named kUnits[] = {
    {"unspecified", 0}, {"none", 0},         {"degrees_c", 1},  {"celsius", 1},     {"c", 1},
    {"degrees_f", 2},   {"fahrenheit", 2},   {"degrees_k", 3},  {"kelvin", 3},      {"volts", 4},
    {"v", 4},           {"amps", 5},         {"a", 5},          {"watts", 6},       {"w", 6},
    {"joules", 7},      {"coulombs", 8},     {"va", 9},         {"nits", 10},       {"lumen", 11},
    {"lux", 12},        {"candela", 13},     {"kpa", 14},       {"psi", 15},        {"newton", 16},
    {"cfm", 17},        {"rpm", 18},         {"hz", 19},        {"microseconds", 20}, {"milliseconds", 21},
    {"seconds", 22},    {"minutes", 23},     {"hours", 24},     {"days", 25},       {"weeks", 26},
    {"mm", 32},         {"cm", 33},          {"m", 34},         {"liters", 37},     {"revolutions", 41},
    {"cycles", 42},     {"gravities", 43},   {"ohms", 54},      {"ppm", 58},        {"decibels", 60},
    {"dba", 61},        {"bits", 66},        {"bytes", 70},     {"kilobytes", 71},  {"megabytes", 72},
    {"gigabytes", 73},  {"packets", 85},     {"messages", 86},  {"errors", 88},     {"correctable_errors", 89},
    {"uncorrectable_errors", 90}, {"grams", 92},
};

// Table 43-13.
constexpr Named kEntities[] = {
    {"unspecified", 0x00},  {"other", 0x01},          {"processor", 0x03},        {"cpu", 0x03},
    {"disk", 0x04},         {"system_management_module", 0x06}, {"system_board", 0x07}, {"baseboard", 0x07},
    {"memory_module", 0x08}, {"processor_module", 0x09}, {"power_supply", 0x0A},   {"psu", 0x0A},
    {"add_in_card", 0x0B},  {"front_panel", 0x0C},    {"back_panel", 0x0D},       {"power_system_board", 0x0E},
    {"drive_backplane", 0x0F}, {"processor_board", 0x12}, {"power_unit", 0x13},   {"power_module", 0x14},
    {"system_chassis", 0x17}, {"chassis", 0x17},      {"fan", 0x1D},              {"cooling_device", 0x1D},
    {"cooling_unit", 0x1E}, {"cable", 0x1F},          {"memory", 0x20},           {"memory_device", 0x20},
    {"system_firmware", 0x22}, {"bios", 0x22},        {"operating_system", 0x23}, {"battery", 0x28},
    {"management_controller", 0x2E}, {"air_inlet", 0x40},
};

std::optional<uint8_t> lookup(std::span<const Named> table, std::string_view name) {
  const std::string n = normalized(name);
  for (const Named& e : table) {
    if (e.name == n) return e.code;
  }
  return std::nullopt;
}

Error invalid(const SensorConfig& c, const std::string& what) {
  return makeError(Error::Kind::invalidArgument,
                   fmt::format("sensor {} '{}': {}", c.number, c.name, what));
}

}  // namespace

const SensorKind* findKind(std::string_view name) {
  const std::string n = normalized(name);
  for (const SensorKind& k : kKinds) {
    if (k.name == n) return &k;
  }
  return nullptr;
}

std::vector<std::string_view> kindNames() {
  std::vector<std::string_view> v;
  for (const SensorKind& k : kKinds) v.push_back(k.name);
  return v;
}

std::optional<uint8_t> unitCode(std::string_view name) { return lookup(kUnits, name); }
std::optional<uint8_t> entityCode(std::string_view name) { return lookup(kEntities, name); }

uint16_t definedStates(uint8_t sensorType, uint8_t readingType) {
  switch (readingType) {  // Table 42-2, generic discrete reading types
    case 0x02: return 0x0007;
    case 0x03: case 0x04: case 0x05: case 0x06: case 0x08: case 0x09: return 0x0003;
    case 0x07: case 0x0A: return 0x01FF;
    case 0x0B: return 0x00FF;
    case 0x0C: return 0x000F;
    case kSensorSpecificReadingType:
      for (const SensorKind& k : kKinds) {
        if (k.sensorType == sensorType && k.readingType == kSensorSpecificReadingType) return k.readingMask;
      }
      return 0x7FFF;
    default: return 0x7FFF;
  }
}

// ---- Sensor -----------------------------------------------------------------------------------

Result<Sensor> Sensor::create(SensorConfig config, std::optional<std::pair<double, double>> sourceRange) {
  const SensorConfig& c = config;
  if (c.name.empty() || c.name.size() > 16) return invalid(c, "name must be 1..16 characters");
  if (c.number == 0xFF) return invalid(c, "sensor number 255 is reserved");
  if (c.entityInstance > 0x7F) return invalid(c, "entity instance must be 0..127");
  const uint8_t rt = c.readingType;
  const bool threshold = rt == kThresholdReadingType;
  if (!threshold && !(rt >= 0x02 && rt <= 0x0C) && !(rt >= 0x6F && rt <= 0x7F)) {
    return invalid(c, "event/reading type must be 0x01 (threshold), 0x02..0x0C (generic) or 0x6F..0x7F");
  }
  if (c.poll.count() < 10) return invalid(c, "poll_ms must be at least 10");

  Sensor s(std::move(config));
  const SensorConfig& cfg = s.config_;
  s.sensorType_ = cfg.sensorType;
  s.readingType_ = cfg.readingType;

  if (threshold) {
    if (cfg.record == RecordKind::compact) return invalid(cfg, "threshold sensors need a full record (no linearization in compact records)");
    // Configured thresholds must be ordered lnr <= lc <= lnc < unc <= uc <= unr.
    const std::array<ThresholdIndex, kThresholdCount> order = {kLnr, kLc, kLnc, kUnc, kUc, kUnr};
    std::optional<double> prev;
    const char* prevName = nullptr;
    for (ThresholdIndex i : order) {
      const auto& t = cfg.thresholds[i];
      if (!t) continue;
      if (!std::isfinite(*t)) return invalid(cfg, fmt::format("threshold {} is not a number", kThresholdName[i]));
      if (prev && *t < *prev) {
        return invalid(cfg, fmt::format("threshold {} ({}) is below {} ({})", kThresholdName[i], *t, prevName, *prev));
      }
      prev = t;
      prevName = kThresholdName[i];
    }

    // The reading range: configured, or wide enough for the thresholds and what the source gives,
    // with 25 % headroom so a reading above the highest threshold is still a number.
    double lo = 0, hi = 0;
    if (cfg.rangeMin || cfg.rangeMax) {
      if (!cfg.rangeMin || !cfg.rangeMax) return invalid(cfg, "range needs both min and max");
      lo = *cfg.rangeMin;
      hi = *cfg.rangeMax;
      if (!(lo < hi)) return invalid(cfg, "range min must be below max");
    } else {
      double mn = 0, mx = 0;
      auto take = [&](double v) {
        mn = std::min(mn, v);
        mx = std::max(mx, v);
      };
      for (const auto& t : cfg.thresholds) {
        if (t) take(*t);
      }
      for (const auto& v : {cfg.nominal, cfg.normalMin, cfg.normalMax}) {
        if (v) take(*v);
      }
      if (sourceRange) {
        take(sourceRange->first);
        take(sourceRange->second);
      }
      lo = mn < 0 ? mn * 1.25 : 0;
      hi = mx > 0 ? mx * 1.25 : 1;
    }
    auto factors = chooseFactors(lo, hi, cfg.format);
    if (!factors) return invalid(cfg, fmt::format("no linearization covers the range {}..{}", lo, hi));
    s.factors_ = *factors;
    const double rlo = s.factors_.toValue(s.factors_.fromX(s.factors_.minX()));
    const double rhi = s.factors_.toValue(s.factors_.fromX(s.factors_.maxX()));
    for (size_t i = 0; i < kThresholdCount; ++i) {
      const auto& t = cfg.thresholds[i];
      if (!t) continue;
      if (*t < rlo - s.factors_.step() / 2 || *t > rhi + s.factors_.step() / 2) {
        return invalid(cfg, fmt::format("threshold {} ({}) is outside the range {}..{}", kThresholdName[i], *t, rlo, rhi));
      }
      s.thresholds_.raw[i] = s.factors_.toRaw(*t);
      s.thresholds_.readable |= static_cast<uint8_t>(1u << i);
    }
    s.thresholds_.settable = cfg.thresholdsSettable ? s.thresholds_.readable : 0;
    if (cfg.positiveHysteresis < 0 || cfg.negativeHysteresis < 0) return invalid(cfg, "hysteresis must not be negative");
    s.posHyst_ = s.factors_.countsFor(cfg.positiveHysteresis);
    s.negHyst_ = s.factors_.countsFor(cfg.negativeHysteresis);
    if (cfg.events) {
      for (size_t i = 0; i < kThresholdCount; ++i) {
        if ((s.thresholds_.readable & (1u << i)) != 0) s.supportedAssert_ |= bit(kAssertOffset[i]);
      }
      s.supportedDeassert_ = s.supportedAssert_;
    }
  } else {
    if (cfg.record == RecordKind::full) return invalid(cfg, "discrete sensors use a compact or event-only record");
    s.readingMask_ = cfg.readingMask != 0 ? static_cast<uint16_t>(cfg.readingMask & 0x7FFF)
                                          : definedStates(cfg.sensorType, cfg.readingType);
    s.factors_.format = AnalogFormat::none;
    if (cfg.events) {
      s.supportedAssert_ = s.readingMask_;
      s.supportedDeassert_ = static_cast<uint16_t>(s.readingMask_ & cfg.deassertionEvents);
    }
  }
  // The source settings live in the source object; a fleet of sensors need not keep a second copy.
  s.config_.source = SourceConfig{};
  s.enables_.allEvents = cfg.events;
  s.enables_.scanning = true;
  s.enables_.assertion = s.supportedAssert_;
  s.enables_.deassertion = s.supportedDeassert_;
  return s;
}

RecordKind Sensor::recordKind() const {
  if (config_.record != RecordKind::automatic) return config_.record;
  return isThreshold() ? RecordKind::full : RecordKind::compact;
}

void Sensor::setType(uint8_t sensorType, uint8_t readingType) {
  sensorType_ = sensorType;
  readingType_ = readingType;
}

bool Sensor::setThresholds(uint8_t mask, const std::array<uint8_t, kThresholdCount>& raw) {
  mask &= 0x3F;
  if ((mask & ~thresholds_.settable) != 0) return false;
  for (size_t i = 0; i < kThresholdCount; ++i) {
    if ((mask & (1u << i)) != 0) thresholds_.raw[i] = raw[i];
  }
  return true;
}

void Sensor::setHysteresis(uint8_t positive, uint8_t negative) {
  posHyst_ = positive;
  negHyst_ = negative;
}

void Sensor::resetThresholds() {
  if (!isThreshold()) return;
  for (size_t i = 0; i < kThresholdCount; ++i) {
    if (config_.thresholds[i]) thresholds_.raw[i] = factors_.toRaw(*config_.thresholds[i]);
  }
  posHyst_ = factors_.countsFor(config_.positiveHysteresis);
  negHyst_ = factors_.countsFor(config_.negativeHysteresis);
}

void Sensor::setEnables(const EventEnables& e) {
  enables_ = e;
  enables_.assertion &= supportedAssert_;
  enables_.deassertion &= supportedDeassert_;
}

Sensor::Reading Sensor::reading() const {
  Reading r;
  r.available = available_;
  r.raw = raw_;
  if (isThreshold()) {
    for (size_t i = 0; i < kThresholdCount; ++i) {
      if ((asserted_ & bit(kAssertOffset[i])) != 0) r.states |= bit(static_cast<unsigned>(i));
    }
  } else {
    r.states = states_;
  }
  return r;
}

std::vector<SensorEvent> Sensor::update(const Result<double>& sample) {
  if (!sample) {
    available_ = false;
    return {};
  }
  const double v = *sample;
  if (!std::isfinite(v)) {
    available_ = false;
    return {};
  }
  available_ = true;
  value_ = v;
  if (isThreshold()) {
    raw_ = factors_.toRaw(v);
  } else {
    states_ = static_cast<uint16_t>(static_cast<uint32_t>(std::llround(std::clamp(v, 0.0, 32767.0))) & readingMask_);
  }
  return evaluate();
}

std::vector<SensorEvent> Sensor::reevaluate() { return evaluate(); }

std::vector<SensorEvent> Sensor::rearm(bool all, uint16_t assertion, uint16_t deassertion) {
  if (all) {
    asserted_ = 0;
    deasserted_ = 0;
  } else {
    asserted_ &= static_cast<uint16_t>(~assertion);
    deasserted_ &= static_cast<uint16_t>(~deassertion);
  }
  return evaluate();
}

bool Sensor::enabled(uint8_t offset, bool deassertion) const {
  if (!enables_.allEvents || !enables_.scanning) return false;
  const uint16_t mask = deassertion ? (enables_.deassertion & supportedDeassert_) : (enables_.assertion & supportedAssert_);
  return (mask & bit(offset)) != 0;
}

SensorEvent Sensor::makeEvent(uint8_t offset, bool deassertion, uint8_t thresholdRaw) const {
  SensorEvent e;
  e.sensorNumber = config_.number;
  e.sensorType = sensorType_;
  e.readingType = readingType_;
  e.deassertion = deassertion;
  if (isThreshold()) {
    e.data = {static_cast<uint8_t>(0x50 | offset), raw_, thresholdRaw};  // Table 29-6: bytes 2/3 = trigger reading/threshold
  } else {
    e.data = {offset, 0xFF, 0xFF};
  }
  return e;
}

std::vector<SensorEvent> Sensor::evaluate() {
  std::vector<SensorEvent> events;
  // A sensor with scanning disabled neither updates its state nor generates events (§35.10).
  if (!available_ || !enables_.scanning) return events;

  if (isThreshold()) {
    const int x = factors_.toX(raw_);
    std::array<bool, kThresholdCount> now{};
    for (size_t i = 0; i < kThresholdCount; ++i) {
      if ((thresholds_.readable & (1u << i)) == 0) continue;
      const int t = factors_.toX(thresholds_.raw[i]);
      const bool was = (asserted_ & bit(kAssertOffset[i])) != 0;
      if (i >= kUnc) {
        now[i] = was ? x >= t - posHyst_ : x >= t;
      } else {
        now[i] = was ? x <= t + negHyst_ : x <= t;
      }
    }
    // Deassertions from the most severe threshold inwards, then assertions from the least severe
    // outwards: the order the conditions physically change in.
    for (int i : {kUnr, kUc, kUnc, kLnr, kLc, kLnc}) {
      const uint8_t off = kAssertOffset[static_cast<size_t>(i)];
      if ((asserted_ & bit(off)) != 0 && !now[static_cast<size_t>(i)]) {
        asserted_ &= static_cast<uint16_t>(~bit(off));
        deasserted_ |= bit(off);
        if (enabled(off, true)) events.push_back(makeEvent(off, true, thresholds_.raw[static_cast<size_t>(i)]));
      }
    }
    for (int i : {kLnc, kLc, kLnr, kUnc, kUc, kUnr}) {
      const uint8_t off = kAssertOffset[static_cast<size_t>(i)];
      if ((asserted_ & bit(off)) == 0 && now[static_cast<size_t>(i)]) {
        asserted_ |= bit(off);
        deasserted_ &= static_cast<uint16_t>(~bit(off));
        if (enabled(off, false)) events.push_back(makeEvent(off, false, thresholds_.raw[static_cast<size_t>(i)]));
      }
    }
    return events;
  }

  const uint16_t rising = states_ & static_cast<uint16_t>(~asserted_);
  const uint16_t falling = asserted_ & static_cast<uint16_t>(~states_);
  for (uint8_t off = 0; off < 15; ++off) {
    if ((falling & bit(off)) != 0 && enabled(off, true)) events.push_back(makeEvent(off, true, 0xFF));
  }
  for (uint8_t off = 0; off < 15; ++off) {
    if ((rising & bit(off)) != 0 && enabled(off, false)) events.push_back(makeEvent(off, false, 0xFF));
  }
  asserted_ = states_;
  // A momentary state (no deassertion event in the SDR) never reports "deasserted" (§35.13).
  deasserted_ = static_cast<uint16_t>((deasserted_ | falling) & ~rising & config_.deassertionEvents);
  return events;
}

}  // namespace simbmc::sensors
