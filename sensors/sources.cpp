// The SensorSource implementations and their factory (see source.hpp).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include "sensors/i2c.hpp"
#include "sensors/source.hpp"

namespace simbmc::sensors {
namespace {

namespace fs = std::filesystem;
using Kind = SourceConfig::Kind;

Error ioError(std::string message) { return makeError(Error::Kind::io, std::move(message)); }
Error badConfig(std::string message) { return makeError(Error::Kind::invalidArgument, std::move(message)); }

class StaticSource final : public SensorSource {
 public:
  StaticSource(double value, bool unavailable) : value_(value), unavailable_(unavailable) {}
  bool blocking() const override { return false; }
  Result<double> read(Millis) override {
    if (unavailable_) return ioError("static source configured unavailable");
    return value_;
  }
  std::optional<std::pair<double, double>> range() const override { return std::pair{value_, value_}; }

 private:
  double value_;
  bool unavailable_;
};

// splitmix64 (Steele, Lea, Flood 2014): 8 bytes of state per sensor, specified here rather than by
// the standard library, so a seed gives the same walk everywhere.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class WaveformSource final : public SensorSource {
 public:
  explicit WaveformSource(const SourceConfig& c)
      : shape_(c.shape), min_(c.min), max_(c.max), period_(static_cast<double>(std::max<int64_t>(1, c.period.count()))),
        phase_(c.phase), duty_(c.duty), step_(c.step), walk_((c.min + c.max) / 2), rng_(c.seed) {}
  bool blocking() const override { return false; }
  Result<double> read(Millis elapsed) override {
    if (shape_ == SourceConfig::Shape::randomWalk) {
      const double u = static_cast<double>(splitmix64(rng_) >> 11) * 0x1.0p-53;  // [0, 1)
      walk_ = std::clamp(walk_ + (2 * u - 1) * step_, min_, max_);
      return walk_;
    }
    double frac = std::fmod(static_cast<double>(elapsed.count()) / period_ + phase_, 1.0);
    if (frac < 0) frac += 1.0;
    switch (shape_) {
      case SourceConfig::Shape::sine:
        return (min_ + max_) / 2 + (max_ - min_) / 2 * std::sin(2 * std::numbers::pi * frac);
      case SourceConfig::Shape::ramp:
        return min_ + (max_ - min_) * frac;
      case SourceConfig::Shape::square:
        return frac < duty_ ? max_ : min_;
      default:
        return min_;
    }
  }
  std::optional<std::pair<double, double>> range() const override { return std::pair{min_, max_}; }

 private:
  SourceConfig::Shape shape_;
  double min_, max_, period_, phase_, duty_, step_;
  double walk_;
  uint64_t rng_;
};

class ScenarioSource final : public SensorSource {
 public:
  ScenarioSource(std::vector<ScenarioStep> steps, Millis loop) : steps_(std::move(steps)), loop_(loop) {
    std::stable_sort(steps_.begin(), steps_.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  }
  bool blocking() const override { return false; }
  Result<double> read(Millis elapsed) override {
    const Millis t = loop_.count() > 0 ? Millis(elapsed.count() % loop_.count()) : elapsed;
    const ScenarioStep* current = &steps_.front();
    for (const ScenarioStep& s : steps_) {
      if (s.at > t) break;
      current = &s;
    }
    if (current->unavailable) return ioError("scenario step: unavailable");
    return current->value;
  }
  std::optional<std::pair<double, double>> range() const override { return rangeOf(steps_); }

  static std::optional<std::pair<double, double>> rangeOf(const std::vector<ScenarioStep>& steps) {
    std::optional<std::pair<double, double>> r;
    for (const ScenarioStep& s : steps) {
      if (s.unavailable) continue;
      if (!r) r = std::pair{s.value, s.value};
      r->first = std::min(r->first, s.value);
      r->second = std::max(r->second, s.value);
    }
    return r;
  }

 private:
  std::vector<ScenarioStep> steps_;
  Millis loop_;
};

// The first number in a small text file (sysfs attributes, a value a test or script writes).
Result<double> readNumber(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ioError("cannot read " + path);
  std::string text(64, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  if (end == begin || errno != 0 || !std::isfinite(v)) return ioError("no number in " + path);
  return v;
}

class FileSource final : public SensorSource {
 public:
  FileSource(std::string path, double scale, double offset) : path_(std::move(path)), scale_(scale), offset_(offset) {}
  bool blocking() const override { return true; }
  Result<double> read(Millis) override {
    auto v = readNumber(path_);
    if (!v) return v;
    return *v * scale_ + offset_;
  }

 private:
  std::string path_;
  double scale_;
  double offset_;
};

// hwmon sysfs ABI (Documentation/hwmon/sysfs-interface): temperatures in millidegrees Celsius,
// voltages in millivolts, currents in milliamps, power in microwatts, energy in microjoules,
// humidity in milli-percent, fans in RPM.
double hwmonScale(const std::string& input) {
  auto starts = [&](const char* p) { return input.rfind(p, 0) == 0; };
  if (starts("temp") || starts("in") || starts("curr") || starts("humidity")) return 1e-3;
  if (starts("power") || starts("energy")) return 1e-6;
  return 1.0;
}

std::string trimmed(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

bool safeName(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s != "." && s != "..";
}

class HwmonSource final : public SensorSource {
 public:
  explicit HwmonSource(const SourceConfig& c) : c_(c) {
    if (c_.root.empty()) c_.root = "/sys/class/hwmon";
  }
  bool blocking() const override { return true; }

  Result<double> read(Millis) override {
    auto dir = deviceDir();
    if (!dir) return dir.error();
    std::string input = c_.input;
    if (!c_.label.empty()) {
      auto found = inputByLabel(*dir);
      if (!found) return found.error();
      input = *found;
    }
    auto v = readNumber(*dir + "/" + input + "_input");
    if (!v) return v;
    return *v * c_.scale.value_or(hwmonScale(input)) + c_.offset;
  }

 private:
  // hwmonN numbers follow probe order and may change across boots: look the chip up by name on
  // every read (a directory listing; this runs on the worker).
  Result<std::string> deviceDir() const {
    if (!c_.device.empty()) return c_.root + "/" + c_.device;
    std::error_code ec;
    std::vector<std::string> dirs;
    for (fs::directory_iterator it(c_.root, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.rfind("hwmon", 0) == 0) dirs.push_back(it->path().string());
      if (dirs.size() > 4096) break;
    }
    if (ec) return ioError("cannot list " + c_.root + ": " + ec.message());
    std::sort(dirs.begin(), dirs.end());
    for (const std::string& d : dirs) {
      if (trimmed(d + "/name") == c_.chip) return d;
    }
    return ioError("no hwmon chip named '" + c_.chip + "' under " + c_.root);
  }

  Result<std::string> inputByLabel(const std::string& dir) const {
    std::error_code ec;
    size_t seen = 0;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end && seen < 4096; it.increment(ec), ++seen) {
      const std::string name = it->path().filename().string();
      const std::string suffix = "_label";
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      if (trimmed(it->path().string()) == c_.label) return name.substr(0, name.size() - suffix.size());
    }
    return ioError("no input labelled '" + c_.label + "' in " + dir);
  }

  SourceConfig c_;
};

class I2cSource final : public SensorSource {
 public:
  I2cSource(const SourceConfig& c, std::unique_ptr<I2cBus> bus) : c_(c), bus_(std::move(bus)) {}
  bool blocking() const override { return true; }

  Result<double> read(Millis) override {
    auto v = sample();
    if (!v) return v;
    return *v * c_.scale.value_or(1.0) + c_.offset;
  }

 private:
  Result<double> word(uint8_t reg, double (*decode)(uint8_t, uint8_t)) {
    auto bytes = bus_->readRegister(c_.address, reg, 2);
    if (!bytes) return bytes.error();
    if (bytes->size() != 2) return ioError("short i2c read");
    return decode((*bytes)[0], (*bytes)[1]);
  }

  Result<double> sample() {
    using D = SourceConfig::I2cDevice;
    using M = SourceConfig::Ina219Measure;
    switch (c_.i2cDevice) {
      case D::lm75: return word(0x00, lm75Celsius);
      case D::tmp102: return word(0x00, tmp102Celsius);
      case D::ina219: break;
    }
    if (c_.measure == M::busVoltage) return word(0x02, ina219BusVolts);
    auto shunt = word(0x01, ina219ShuntVolts);
    if (!shunt || c_.measure == M::shuntVoltage) return shunt;
    const double amps = *shunt / c_.shuntOhms;
    if (c_.measure == M::current) return amps;
    auto bus = word(0x02, ina219BusVolts);
    if (!bus) return bus;
    return *bus * amps;
  }

  SourceConfig c_;
  std::unique_ptr<I2cBus> bus_;
};

}  // namespace

std::optional<std::pair<double, double>> configuredRange(const SourceConfig& c) {
  switch (c.kind) {
    case Kind::staticValue: return c.unavailable ? std::nullopt : std::optional(std::pair{c.value, c.value});
    case Kind::waveform: return std::pair{c.min, c.max};
    case Kind::scenario: return ScenarioSource::rangeOf(c.steps);
    default: return std::nullopt;
  }
}

Result<std::unique_ptr<SensorSource>> makeSource(const SourceConfig& c, const SourceEnv& env) {
  switch (c.kind) {
    case Kind::staticValue:
      return std::unique_ptr<SensorSource>(std::make_unique<StaticSource>(c.value, c.unavailable));
    case Kind::waveform:
      if (!(c.min <= c.max)) return badConfig("waveform: min must not exceed max");
      if (c.period.count() <= 0) return badConfig("waveform: period_ms must be positive");
      if (c.duty < 0 || c.duty > 1 || c.phase < 0 || c.phase > 1) return badConfig("waveform: duty and phase are 0..1");
      if (c.step < 0) return badConfig("waveform: step must not be negative");
      return std::unique_ptr<SensorSource>(std::make_unique<WaveformSource>(c));
    case Kind::scenario:
      if (c.steps.empty()) return badConfig("scenario: at least one step is required");
      if (c.loop.count() < 0) return badConfig("scenario: loop_ms must not be negative");
      return std::unique_ptr<SensorSource>(std::make_unique<ScenarioSource>(c.steps, c.loop));
    case Kind::file:
      if (c.path.empty()) return badConfig("file: path is required");
      return std::unique_ptr<SensorSource>(std::make_unique<FileSource>(c.path, c.scale.value_or(1.0), c.offset));
    case Kind::hwmon:
      if (c.chip.empty() == c.device.empty()) return badConfig("hwmon: give exactly one of chip and device");
      if (!c.device.empty() && !safeName(c.device)) return badConfig("hwmon: device is a directory name such as hwmon0");
      if (c.input.empty() == c.label.empty()) return badConfig("hwmon: give exactly one of input and label");
      if (!c.input.empty() && !safeName(c.input)) return badConfig("hwmon: input is a name such as temp1");
      return std::unique_ptr<SensorSource>(std::make_unique<HwmonSource>(c));
    case Kind::i2c: {
      if (c.bus < 0 || c.bus > 1023) return badConfig("i2c: bus must be 0..1023");
      if (c.address < 0x03 || c.address > 0x77) return badConfig("i2c: address must be 0x03..0x77");
      if (c.i2cDevice == SourceConfig::I2cDevice::ina219 && !(c.shuntOhms > 0)) {
        return badConfig("i2c: shunt_ohms must be positive");
      }
      std::unique_ptr<I2cBus> bus = env.openI2c ? env.openI2c(c.bus)
                                                : std::make_unique<LinuxI2cBus>("/dev/i2c-" + std::to_string(c.bus));
      if (!bus) return badConfig("i2c: no bus " + std::to_string(c.bus));
      return std::unique_ptr<SensorSource>(std::make_unique<I2cSource>(c, std::move(bus)));
    }
  }
  return badConfig("unknown source kind");
}

}  // namespace simbmc::sensors
