// The sensor model: what a configured sensor is (SensorConfig), the catalog of names the config
// uses for sensor kinds, units and entities, and Sensor, one sensor's live state: linearization
// factors, thresholds and hysteresis in raw counts, event enables, the cached reading, and the
// threshold / discrete-state machine that turns readings into assertion and deassertion events.
//
// Threshold sensors (event/reading type 01h, IPMI v2.0 §36): each threshold asserts "going high"
// (upper) or "going low" (lower) when the reading reaches it, and deasserts when the reading moves
// back past the re-arm point, the threshold minus the positive-going hysteresis (upper) or plus the
// negative-going hysteresis (lower) (Table 43-1 bytes 43-44). Events are offsets of Table 42-2
// (lnc going low 0, lc 2, lnr 4, unc going high 7, uc 9, unr 11) with event data per Table 29-6:
// data 1 = 0x50 | offset (trigger reading in byte 2, trigger threshold in byte 3).
// Discrete sensors (generic 02h-0Ch, sensor-specific 6Fh): the reading is a state bit mask; a bit
// that sets is an assertion, a bit that clears a deassertion, data 1 = offset, bytes 2-3 0xFF.
// Events are returned only when enabled (all-events and scanning on, the offset's enable bit set);
// the state machine runs regardless, so status and reading always agree.
// Value type; single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "sensors/linear.hpp"
#include "sensors/source.hpp"

namespace simbmc::sensors {

inline constexpr uint8_t kThresholdReadingType = 0x01;      // Table 42-1
inline constexpr uint8_t kSensorSpecificReadingType = 0x6F;

// Threshold positions in the order of the Get/Set Sensor Thresholds masks (§35.8, Table 35-8):
// bit 0 lnc, 1 lc, 2 lnr, 3 unc, 4 uc, 5 unr.
enum ThresholdIndex : uint8_t { kLnc = 0, kLc = 1, kLnr = 2, kUnc = 3, kUc = 4, kUnr = 5 };
inline constexpr size_t kThresholdCount = 6;

// Which SDR type describes the sensor (§43): automatic = full 01h for threshold sensors, compact
// 02h for discrete ones.
enum class RecordKind : uint8_t { automatic, full, compact, eventOnly };

struct SensorConfig {
  uint8_t number = 0;             // 0..0xFE, unique per BMC
  std::string name;               // ID string, 1..16 characters
  uint8_t entityId = 0x07;        // Table 43-13 (system board)
  uint8_t entityInstance = 1;     // 0..0x7F
  bool logicalEntity = false;     // entity instance bit 7
  uint8_t sensorType = 0x01;      // Table 42-3
  uint8_t readingType = kThresholdReadingType;  // Table 42-1/42-2
  // Units (Table 43-1 bytes 21-23, codes of Table 43-15).
  uint8_t baseUnit = 0;
  uint8_t modifierUnit = 0;
  uint8_t modifierUse = 0;        // 0 none, 1 base/modifier, 2 base*modifier
  uint8_t rateUnit = 0;           // 0 none, 1 per us ... 6 per day
  bool percentage = false;
  AnalogFormat format = AnalogFormat::unsignedRaw;
  // Threshold sensors: the reading range (derived from thresholds and the source when absent),
  // nominal and normal range, thresholds and hysteresis in the sensor's units.
  std::optional<double> rangeMin, rangeMax;
  std::optional<double> nominal, normalMin, normalMax;
  std::array<std::optional<double>, kThresholdCount> thresholds{};
  double positiveHysteresis = 0;
  double negativeHysteresis = 0;
  bool thresholdsSettable = true;
  // Discrete sensors: the states the sensor can report (bit n = offset n); 0 = the reading type's
  // (or sensor type's) full set.
  uint16_t readingMask = 0;
  // Discrete sensors: the states whose deassertion is an event (SDR deassertion event mask); states
  // that are momentary (a power cycle) assert only. Default: every state the sensor can report.
  uint16_t deassertionEvents = 0x7FFF;
  bool events = true;             // may the sensor generate event messages at all
  RecordKind record = RecordKind::automatic;
  SourceConfig source;
  Millis poll{1000};
};

// ---- Catalog: names used in the config --------------------------------------------------------

// A sensor kind: `type = "temperature"` selects sensor type, reading type, unit and default entity.
struct SensorKind {
  std::string_view name;
  uint8_t sensorType;
  uint8_t readingType;
  uint8_t baseUnit;
  uint8_t entityId;
  uint16_t readingMask;  // discrete kinds: the defined offsets
};
const SensorKind* findKind(std::string_view name);
std::vector<std::string_view> kindNames();
// Table 43-15 unit codes by name ("degrees C", "volts", "rpm", ... and the code's plain names).
std::optional<uint8_t> unitCode(std::string_view name);
// Table 43-13 entity ids by name ("system_board", "processor", "power_supply", "fan", ...).
std::optional<uint8_t> entityCode(std::string_view name);
// The offsets defined for a discrete reading type (02h-0Ch) or, for 6Fh, for the sensor type
// (Tables 42-2, 42-3); 0x7FFF when unknown.
uint16_t definedStates(uint8_t sensorType, uint8_t readingType);

// ---- Sensor -----------------------------------------------------------------------------------

// One event to log (§29.7): the hub's owner turns it into a SEL record.
struct SensorEvent {
  uint8_t sensorNumber = 0;
  uint8_t sensorType = 0;
  uint8_t readingType = 0;
  bool deassertion = false;
  std::array<uint8_t, 3> data{0xFF, 0xFF, 0xFF};
  bool operator==(const SensorEvent&) const = default;
};

struct Thresholds {
  std::array<uint8_t, kThresholdCount> raw{};
  uint8_t readable = 0;  // bit per ThresholdIndex
  uint8_t settable = 0;
};

struct EventEnables {
  bool allEvents = true;
  bool scanning = true;
  uint16_t assertion = 0;    // bit per event offset
  uint16_t deassertion = 0;
};

class Sensor {
 public:
  // Validates the config (name length, number, threshold order, a representable range) and
  // derives factors, raw thresholds and masks. `sourceRange` is what the source can produce.
  static Result<Sensor> create(SensorConfig config, std::optional<std::pair<double, double>> sourceRange = {});

  // The configuration it was created from, without `source` (the source object holds that).
  const SensorConfig& config() const { return config_; }
  uint8_t number() const { return config_.number; }
  const std::string& name() const { return config_.name; }
  bool isThreshold() const { return config_.readingType == kThresholdReadingType; }
  RecordKind recordKind() const;
  const Factors& factors() const { return factors_; }

  // Sensor type / event reading type as reported (Set Sensor Type changes them).
  uint8_t sensorType() const { return sensorType_; }
  uint8_t readingType() const { return readingType_; }
  void setType(uint8_t sensorType, uint8_t readingType);

  const Thresholds& thresholds() const { return thresholds_; }
  // Sets the thresholds selected by `mask` (bit per ThresholdIndex) to the raw values at the same
  // positions; false (nothing changed) when a selected threshold is not settable.
  bool setThresholds(uint8_t mask, const std::array<uint8_t, kThresholdCount>& raw);
  uint8_t positiveHysteresis() const { return posHyst_; }
  uint8_t negativeHysteresis() const { return negHyst_; }
  void setHysteresis(uint8_t positive, uint8_t negative);
  // Thresholds and hysteresis back to the config's values (in raw counts of this sensor's factors);
  // for the record a configuration describes, whatever clients set since. No-op for discrete sensors.
  void resetThresholds();

  const EventEnables& enables() const { return enables_; }
  void setEnables(const EventEnables& e);
  // Events the sensor can generate (the SDR's assertion/deassertion masks) and, for discrete
  // sensors, the states it can report.
  uint16_t supportedAssertions() const { return supportedAssert_; }
  uint16_t supportedDeassertions() const { return supportedDeassert_; }
  uint16_t readingMask() const { return readingMask_; }

  struct Reading {
    uint8_t raw = 0;          // threshold sensors: the raw reading
    bool available = false;   // false until the first good sample and after a failed one
    uint16_t states = 0;      // threshold: comparison bits [5:0] lnc..unr; discrete: state bits
  };
  Reading reading() const;
  // The last good sample in units (threshold sensors), for logs and the control plane.
  std::optional<double> value() const { return available_ ? std::optional(value_) : std::nullopt; }

  // Applies a sample (value for threshold sensors, state mask for discrete) or a failure and
  // returns the enabled events it causes.
  std::vector<SensorEvent> update(const Result<double>& sample);
  // Takes `sample` as the state the sensor starts from, without events: for a state the BMC did
  // not see change (what an earlier run left). Then update() reports changes from it.
  void prime(double sample) { (void)update(sample); }
  // Re-runs the state machine on the cached reading (after a threshold, hysteresis or enable
  // change) and returns the enabled events.
  std::vector<SensorEvent> reevaluate();
  // Get Sensor Event Status (§35.13): offsets currently asserted, and offsets whose last
  // transition was a deassertion (cleared by re-arm or the next assertion).
  uint16_t assertedEvents() const { return asserted_; }
  uint16_t deassertedEvents() const { return deasserted_; }
  // Re-arm Sensor Events (§35.12): forgets the selected event states (all when `all`), so
  // conditions still present assert again; returns the resulting enabled events.
  std::vector<SensorEvent> rearm(bool all, uint16_t assertion, uint16_t deassertion);

 private:
  explicit Sensor(SensorConfig config) : config_(std::move(config)) {}
  std::vector<SensorEvent> evaluate();
  SensorEvent makeEvent(uint8_t offset, bool deassertion, uint8_t thresholdRaw) const;
  bool enabled(uint8_t offset, bool deassertion) const;

  SensorConfig config_;
  Factors factors_;
  uint8_t sensorType_ = 0;
  uint8_t readingType_ = 0;
  Thresholds thresholds_;
  uint8_t posHyst_ = 0;
  uint8_t negHyst_ = 0;
  EventEnables enables_;
  uint16_t supportedAssert_ = 0;
  uint16_t supportedDeassert_ = 0;
  uint16_t readingMask_ = 0;

  bool available_ = false;
  double value_ = 0;
  uint8_t raw_ = 0;
  uint16_t states_ = 0;      // discrete: current state bits
  uint16_t asserted_ = 0;    // by event offset
  uint16_t deasserted_ = 0;
};

}  // namespace simbmc::sensors
