// Sensor sources: where a sensor's samples come from.
//
// A source produces one number per read: a value in the sensor's units for threshold sensors, or a
// state bit mask (bit n = offset n asserted) for discrete ones. Simulated sources (static, waveform,
// scenario) are pure functions of the time since the hub started and never block; I/O sources
// (hwmon, i2c, file) may block and are read off the io thread by the hub (see hub.hpp). A read that
// fails returns an Error: the sensor reports "reading unavailable" until a later read succeeds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace simbmc::sensors {

class I2cBus;

// One step of a scenario: from `at` (since the hub started) on, the sensor reads `value`, or is
// unavailable when `unavailable` is set.
struct ScenarioStep {
  Millis at{0};
  double value = 0;
  bool unavailable = false;
};

// Parsed from a sensor's `source = { kind = ..., ... }` table; only the fields of `kind` matter.
struct SourceConfig {
  enum class Kind { staticValue, waveform, scenario, hwmon, i2c, file };
  enum class Shape { sine, ramp, square, randomWalk };
  enum class I2cDevice { lm75, tmp102, ina219 };
  enum class Ina219Measure { busVoltage, shuntVoltage, current, power };

  Kind kind = Kind::staticValue;

  // static: a constant (or, with `unavailable`, a sensor that never reads).
  double value = 0;
  bool unavailable = false;

  // waveform: between min and max with the given period. sine/ramp/square start at `phase`
  // (fraction of a period, 0..1); square is at max for `duty` of each period; the random walk moves
  // by at most `step` per read, stays within [min, max] and is reproducible for a given `seed`.
  Shape shape = Shape::sine;
  double min = 0;
  double max = 0;
  Millis period{60000};
  double phase = 0;
  double duty = 0.5;
  double step = 1;
  uint64_t seed = 1;

  // scenario: steps ordered by time; before the first step the first step's value holds. With
  // loop > 0 the scenario repeats every `loop`.
  std::vector<ScenarioStep> steps;
  Millis loop{0};

  // hwmon: <root>/<hwmonN>/<input>_input (root empty: /sys/class/hwmon) where hwmonN is found by
  // `chip` (its `name` file) or given
  // as `device` ("hwmon3"); `input` such as "temp1", "in0", "curr1", "power1", "fan2", or `label`
  // (matched against <input>_label). Scaled from sysfs units (milli-degrees, millivolts, milliamps,
  // microwatts) unless `scale` is given.
  std::string root;
  std::string chip;
  std::string device;
  std::string input;
  std::string label;

  // i2c: register reads through /dev/i2c-<bus> (LM75 and TMP102 temperature, INA219 bus or shunt
  // voltage, current from the shunt voltage and `shuntOhms`, power as their product).
  int bus = 1;
  uint8_t address = 0x48;
  I2cDevice i2cDevice = I2cDevice::lm75;
  Ina219Measure measure = Ina219Measure::busVoltage;
  double shuntOhms = 0.1;

  // file: the first number in the file at `path`.
  std::string path;

  // hwmon, i2c, file: value = raw * scale + offset (hwmon's default scale comes from the input type).
  std::optional<double> scale;
  double offset = 0;
};

class SensorSource {
 public:
  virtual ~SensorSource() = default;
  // True when read() may block on I/O: the hub then runs it on its worker, never on the io thread.
  virtual bool blocking() const = 0;
  // One sample; `elapsed` is the time since the hub started. Blocking sources are called on one
  // worker thread at a time; the others on the io thread.
  virtual Result<double> read(Millis elapsed) = 0;
  // The values the source can produce, when known (used to choose linearization factors).
  virtual std::optional<std::pair<double, double>> range() const { return std::nullopt; }
};

// A source the BMC computes from state it owns (the host's power state for its Power Unit sensor):
// read on the io thread, never blocks. `fn` returns a value or a state mask like any other source.
class CallbackSource final : public SensorSource {
 public:
  explicit CallbackSource(std::function<double()> fn) : fn_(std::move(fn)) {}
  bool blocking() const override { return false; }
  Result<double> read(Millis) override { return fn_(); }

 private:
  std::function<double()> fn_;
};

// What I/O sources need from the outside; tests inject fakes.
struct SourceEnv {
  // Opens bus N (default: /dev/i2c-N through Linux i2c-dev).
  std::function<std::unique_ptr<I2cBus>(int bus)> openI2c;
};

// Builds the source for `config`; invalid settings (no scenario steps, min > max, ...) are errors
// naming the field.
Result<std::unique_ptr<SensorSource>> makeSource(const SourceConfig& config, const SourceEnv& env = {});

// The range a simulated source's settings imply (static value, waveform min..max, scenario
// extremes), before any source exists; nullopt for I/O sources.
std::optional<std::pair<double, double>> configuredRange(const SourceConfig& config);

}  // namespace simbmc::sensors
