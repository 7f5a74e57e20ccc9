#include "bmc/daemon/sensor_config.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>
#include <string_view>

#include "sensors/source.hpp"

namespace simbmc::daemon {
namespace {

using sensors::SensorConfig;
using sensors::SourceConfig;

class Ctx {
 public:
  Ctx(const toml::table& t, std::string where, std::vector<std::string>& errors)
      : t_(t), where_(std::move(where)), errors_(errors) {}

  void error(const std::string& key, const std::string& what) {
    errors_.push_back(key.empty() ? where_ + ": " + what : where_ + "." + key + ": " + what);
  }
  const std::string& where() const { return where_; }
  std::vector<std::string>& errors() { return errors_; }
  const toml::table& table() const { return t_; }
  bool has(const char* key) const { return t_.contains(key); }

  void keys(std::initializer_list<std::string_view> known) {
    for (const auto& [k, v] : t_) {
      if (std::find(known.begin(), known.end(), k.str()) == known.end()) error("", fmt::format("unknown key '{}'", k.str()));
    }
  }

  // An integer in lo..hi.
  template <typename T>
  void integer(const char* key, T& out, int64_t lo, int64_t hi) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return;
    auto v = n->value_exact<int64_t>();
    if (!v || *v < lo || *v > hi) return error(key, fmt::format("expected an integer in {}..{}", lo, hi));
    out = static_cast<T>(*v);
  }

  // A finite number (integer or float).
  bool number(const char* key, double& out) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return false;
    std::optional<double> v;
    if (auto i = n->value_exact<int64_t>()) v = static_cast<double>(*i);
    else if (auto f = n->value_exact<double>()) v = *f;
    if (!v || !std::isfinite(*v)) {
      error(key, "expected a number");
      return false;
    }
    out = *v;
    return true;
  }
  void number(const char* key, std::optional<double>& out) {
    double v = 0;
    if (number(key, v)) out = v;
  }

  void boolean(const char* key, bool& out) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return;
    auto v = n->value_exact<bool>();
    if (!v) return error(key, "expected true or false");
    out = *v;
  }

  bool string(const char* key, std::string& out) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return false;
    auto v = n->value_exact<std::string>();
    if (!v) {
      error(key, "expected a string");
      return false;
    }
    out = *v;
    return true;
  }

  // An array of offsets 0..14 -> bit mask.
  bool states(const char* key, uint16_t& out) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return false;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      error(key, "expected an array of state offsets 0..14");
      return false;
    }
    uint16_t mask = 0;
    for (const auto& e : *a) {
      auto v = e.value_exact<int64_t>();
      if (!v || *v < 0 || *v > 14) {
        error(key, "expected an array of state offsets 0..14");
        return false;
      }
      mask = static_cast<uint16_t>(mask | (1u << *v));
    }
    out = mask;
    return true;
  }

  // A number, or a name looked up with `byName`.
  template <typename F>
  void code(const char* key, uint8_t& out, F byName, const char* what) {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return;
    if (auto i = n->value_exact<int64_t>()) {
      if (*i < 0 || *i > 255) return error(key, "expected 0..255 or a name");
      out = static_cast<uint8_t>(*i);
      return;
    }
    auto s = n->value_exact<std::string>();
    std::optional<uint8_t> c = s ? byName(*s) : std::nullopt;
    if (!c) return error(key, fmt::format("unknown {} '{}'", what, s.value_or("?")));
    out = *c;
  }

 private:
  const toml::table& t_;
  std::string where_;
  std::vector<std::string>& errors_;
};

void millis(Ctx& c, const char* key, Millis& out, int64_t lo) {
  int64_t v = out.count();
  c.integer(key, v, lo, 86'400'000);
  out = Millis(v);
}

// Scenario steps: [{ at_ms = 0, value = 40 }, { at_ms = 3000, states = [0] }, { at_ms = 5000, unavailable = true }]
void parseSteps(Ctx& c, const toml::array& arr, SourceConfig& s) {
  for (size_t i = 0; i < arr.size(); ++i) {
    const toml::table* t = arr[i].as_table();
    if (t == nullptr) {
      c.error("steps", "expected tables such as { at_ms = 0, value = 40 }");
      continue;
    }
    Ctx sc(*t, fmt::format("{}.steps[{}]", c.where(), i), c.errors());
    sc.keys({"at_ms", "value", "states", "unavailable"});
    sensors::ScenarioStep step;
    if (!t->contains("at_ms")) sc.error("at_ms", "required");
    millis(sc, "at_ms", step.at, 0);
    uint16_t st = 0;
    const bool hasValue = sc.number("value", step.value);
    const bool hasStates = sc.states("states", st);
    sc.boolean("unavailable", step.unavailable);
    if (hasStates) step.value = st;
    if (static_cast<int>(hasValue) + static_cast<int>(hasStates) + static_cast<int>(step.unavailable) != 1) {
      sc.error("", "give exactly one of value, states and unavailable = true");
    }
    s.steps.push_back(step);
  }
}

void parseSource(Ctx& c, SourceConfig& s, bool discrete) {
  using K = SourceConfig::Kind;
  std::string kind;
  if (!c.string("kind", kind)) return c.error("kind", "required: static, waveform, scenario, hwmon, i2c or file");
  uint16_t st = 0;
  if (kind == "static") {
    s.kind = K::staticValue;
    c.keys({"kind", "value", "states", "unavailable"});
    c.number("value", s.value);
    if (c.states("states", st)) s.value = st;
    c.boolean("unavailable", s.unavailable);
  } else if (kind == "waveform") {
    s.kind = K::waveform;
    c.keys({"kind", "shape", "min", "max", "period_ms", "phase", "duty", "step", "seed"});
    std::string shape = "sine";
    c.string("shape", shape);
    if (shape == "sine") s.shape = SourceConfig::Shape::sine;
    else if (shape == "ramp") s.shape = SourceConfig::Shape::ramp;
    else if (shape == "square") s.shape = SourceConfig::Shape::square;
    else if (shape == "random_walk" || shape == "random-walk") s.shape = SourceConfig::Shape::randomWalk;
    else c.error("shape", "expected sine, ramp, square or random_walk");
    if (!c.has("min") || !c.has("max")) c.error("", "min and max are required");
    c.number("min", s.min);
    c.number("max", s.max);
    millis(c, "period_ms", s.period, 1);
    c.number("phase", s.phase);
    c.number("duty", s.duty);
    c.number("step", s.step);
    int64_t seed = static_cast<int64_t>(s.seed);
    c.integer("seed", seed, 0, INT64_MAX);
    s.seed = static_cast<uint64_t>(seed);
    if (discrete) c.error("kind", "waveforms are for threshold sensors");
  } else if (kind == "scenario") {
    s.kind = K::scenario;
    c.keys({"kind", "steps", "loop_ms"});
    const toml::array* steps = c.table().get_as<toml::array>("steps");
    if (steps == nullptr || steps->empty()) c.error("steps", "required: an array of { at_ms, value | states | unavailable }");
    else parseSteps(c, *steps, s);
    millis(c, "loop_ms", s.loop, 0);
  } else if (kind == "hwmon") {
    s.kind = K::hwmon;
    c.keys({"kind", "root", "chip", "device", "input", "label", "scale", "offset"});
    c.string("root", s.root);
    c.string("chip", s.chip);
    c.string("device", s.device);
    c.string("input", s.input);
    c.string("label", s.label);
    c.number("scale", s.scale);
    c.number("offset", s.offset);
  } else if (kind == "i2c") {
    s.kind = K::i2c;
    c.keys({"kind", "bus", "address", "device", "measure", "shunt_ohms", "scale", "offset"});
    c.integer("bus", s.bus, 0, 1023);
    c.integer("address", s.address, 0x03, 0x77);
    std::string device;
    if (!c.string("device", device)) c.error("device", "required: lm75, tmp102 or ina219");
    else if (device == "lm75") s.i2cDevice = SourceConfig::I2cDevice::lm75;
    else if (device == "tmp102") s.i2cDevice = SourceConfig::I2cDevice::tmp102;
    else if (device == "ina219") s.i2cDevice = SourceConfig::I2cDevice::ina219;
    else c.error("device", "expected lm75, tmp102 or ina219");
    std::string measure;
    if (c.string("measure", measure)) {
      if (measure == "bus_voltage") s.measure = SourceConfig::Ina219Measure::busVoltage;
      else if (measure == "shunt_voltage") s.measure = SourceConfig::Ina219Measure::shuntVoltage;
      else if (measure == "current") s.measure = SourceConfig::Ina219Measure::current;
      else if (measure == "power") s.measure = SourceConfig::Ina219Measure::power;
      else c.error("measure", "expected bus_voltage, shunt_voltage, current or power");
    }
    c.number("shunt_ohms", s.shuntOhms);
    c.number("scale", s.scale);
    c.number("offset", s.offset);
  } else if (kind == "file") {
    s.kind = K::file;
    c.keys({"kind", "path", "scale", "offset"});
    c.string("path", s.path);
    c.number("scale", s.scale);
    c.number("offset", s.offset);
  } else {
    c.error("kind", "expected static, waveform, scenario, hwmon, i2c or file");
  }
}

// Offsets a discrete sensor of this kind starts with when it has no source (the device is there).
uint16_t defaultStates(const sensors::SensorKind* kind) {
  if (kind == nullptr) return 0;
  const std::string_view n = kind->name;
  if (n == "power_supply" || n == "presence") return 0x0001;  // presence detected / entity present
  if (n == "processor") return 0x0080;                         // processor presence detected
  return 0;
}

void parseThresholds(Ctx& parent, const toml::table& t, SensorConfig& s) {
  Ctx c(t, parent.where() + ".thresholds", parent.errors());
  c.keys({"lnr", "lc", "lcr", "lnc", "unc", "uc", "ucr", "unr"});
  using namespace sensors;
  c.number("lnr", s.thresholds[kLnr]);
  c.number("lc", s.thresholds[kLc]);
  c.number("lcr", s.thresholds[kLc]);  // ipmitool's names
  c.number("lnc", s.thresholds[kLnc]);
  c.number("unc", s.thresholds[kUnc]);
  c.number("uc", s.thresholds[kUc]);
  c.number("ucr", s.thresholds[kUc]);
  c.number("unr", s.thresholds[kUnr]);
}

void parseSensor(Ctx& c, SensorConfig& s) {
  c.keys({"number", "name", "type", "sensor_type", "reading_type", "entity", "entity_instance", "logical_entity",
          "units", "percentage", "analog_format", "range", "nominal", "normal_min", "normal_max", "thresholds",
          "hysteresis", "thresholds_settable", "events", "reading_mask", "record", "poll_ms", "source"});
  if (!c.has("number")) c.error("number", "required (0..254)");
  c.integer("number", s.number, 0, 254);
  if (!c.string("name", s.name) || s.name.empty() || s.name.size() > 16) c.error("name", "required, 1..16 characters");

  const sensors::SensorKind* kind = nullptr;
  std::string typeName;
  if (c.string("type", typeName)) {
    kind = sensors::findKind(typeName);
    if (kind == nullptr) {
      std::string names;
      for (auto n : sensors::kindNames()) names += (names.empty() ? "" : ", ") + std::string(n);
      c.error("type", "expected one of " + names);
    } else {
      s.sensorType = kind->sensorType;
      s.readingType = kind->readingType;
      s.baseUnit = kind->baseUnit;
      s.entityId = kind->entityId;
      s.readingMask = kind->readingMask;
    }
  } else if (!c.has("sensor_type")) {
    c.error("type", "required: a kind such as \"temperature\", or sensor_type and reading_type numbers");
  }
  c.integer("sensor_type", s.sensorType, 0, 255);
  c.integer("reading_type", s.readingType, 0x01, 0x7F);
  c.code("entity", s.entityId, sensors::entityCode, "entity");
  c.integer("entity_instance", s.entityInstance, 0, 127);
  c.boolean("logical_entity", s.logicalEntity);
  c.code("units", s.baseUnit, sensors::unitCode, "unit");
  c.boolean("percentage", s.percentage);
  std::string format;
  if (c.string("analog_format", format)) {
    if (format == "unsigned") s.format = sensors::AnalogFormat::unsignedRaw;
    else if (format == "1s_complement") s.format = sensors::AnalogFormat::onesComplement;
    else if (format == "2s_complement") s.format = sensors::AnalogFormat::twosComplement;
    else c.error("analog_format", "expected unsigned, 1s_complement or 2s_complement");
  }
  if (const toml::node* r = c.table().get("range")) {
    const toml::array* a = r->as_array();
    std::optional<double> lo, hi;
    if (a != nullptr && a->size() == 2) {
      for (size_t i = 0; i < 2; ++i) {
        std::optional<double> v;
        if (auto x = (*a)[i].value_exact<int64_t>()) v = static_cast<double>(*x);
        else if (auto f = (*a)[i].value_exact<double>()) v = *f;
        (i == 0 ? lo : hi) = v;
      }
    }
    if (!lo || !hi || !(*lo < *hi)) c.error("range", "expected [min, max] with min < max");
    else {
      s.rangeMin = lo;
      s.rangeMax = hi;
    }
  }
  c.number("nominal", s.nominal);
  c.number("normal_min", s.normalMin);
  c.number("normal_max", s.normalMax);
  if (const toml::node* n = c.table().get("thresholds")) {
    if (const toml::table* t = n->as_table()) parseThresholds(c, *t, s);
    else c.error("thresholds", "expected a table such as { unc = 85, uc = 95 }");
  }
  if (const toml::node* n = c.table().get("hysteresis")) {
    if (const toml::array* a = n->as_array(); a != nullptr && a->size() == 2) {
      auto p = (*a)[0].value<double>(), q = (*a)[1].value<double>();
      if (!p || !q || *p < 0 || *q < 0) c.error("hysteresis", "expected a number or [positive, negative], not negative");
      else {
        s.positiveHysteresis = *p;
        s.negativeHysteresis = *q;
      }
    } else {
      double h = 0;
      if (c.number("hysteresis", h)) {
        if (h < 0) c.error("hysteresis", "must not be negative");
        s.positiveHysteresis = s.negativeHysteresis = h;
      }
    }
  }
  c.boolean("thresholds_settable", s.thresholdsSettable);
  c.boolean("events", s.events);
  c.integer("reading_mask", s.readingMask, 0, 0x7FFF);
  std::string record;
  if (c.string("record", record)) {
    if (record == "auto") s.record = sensors::RecordKind::automatic;
    else if (record == "full") s.record = sensors::RecordKind::full;
    else if (record == "compact") s.record = sensors::RecordKind::compact;
    else if (record == "event-only" || record == "event_only") s.record = sensors::RecordKind::eventOnly;
    else c.error("record", "expected auto, full, compact or event-only");
  }
  millis(c, "poll_ms", s.poll, 10);

  const bool discrete = s.readingType != sensors::kThresholdReadingType;
  if (discrete && kind == nullptr && s.readingMask == 0) s.readingMask = sensors::definedStates(s.sensorType, s.readingType);
  if (const toml::node* n = c.table().get("source")) {
    if (const toml::table* t = n->as_table()) {
      Ctx sc(*t, c.where() + ".source", c.errors());
      parseSource(sc, s.source, discrete);
    } else {
      c.error("source", "expected a table such as { kind = \"static\", value = 40 }");
    }
  } else {
    s.source.kind = SourceConfig::Kind::staticValue;
    s.source.value = discrete ? defaultStates(kind) : s.nominal.value_or(0);
  }
}

}  // namespace

void parseSensors(const toml::array& tables, std::vector<SensorConfig>& out, const std::string& where,
                  std::vector<std::string>& errors) {
  std::set<uint8_t> numbers;
  std::set<std::string> names;
  for (size_t i = 0; i < tables.size(); ++i) {
    const std::string w = fmt::format("{}[{}]", where, i);
    const toml::table* t = tables[i].as_table();
    if (t == nullptr) {
      errors.push_back(w + ": expected a table");
      continue;
    }
    const size_t before = errors.size();
    Ctx c(*t, w, errors);
    SensorConfig s;
    parseSensor(c, s);
    if (errors.size() != before) continue;
    if (!numbers.insert(s.number).second) {
      errors.push_back(fmt::format("{}.number: sensor number {} is used twice", w, s.number));
      continue;
    }
    if (!names.insert(s.name).second) {
      // ipmitool and FreeIPMI find sensors by name.
      errors.push_back(fmt::format("{}.name: sensor name '{}' is used twice", w, s.name));
      continue;
    }
    // Built the way the BMC will build it, so a config that parses also starts.
    auto source = sensors::makeSource(s.source);
    if (!source) {
      errors.push_back(fmt::format("{}.source: {}", w, source.error().message));
      continue;
    }
    if (auto sensor = sensors::Sensor::create(s, (*source)->range()); !sensor) {
      errors.push_back(fmt::format("{}: {}", w, sensor.error().message));
      continue;
    }
    out.push_back(std::move(s));
  }
}

}  // namespace simbmc::daemon
