#include "bmc/daemon/fru_config.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

namespace simbmc::daemon {
namespace {

namespace fs = std::filesystem;
using bmc::Bytes;

// SMBIOS chassis types 01h..1Dh, the table the FRU spec §10 refers to (FreeIPMI's
// ipmi-fru-chassis-types-spec.h lists the same).
constexpr std::array<std::pair<std::string_view, uint8_t>, 29> kChassisTypes{{
    {"other", 0x01},           {"unknown", 0x02},        {"desktop", 0x03},         {"low_profile_desktop", 0x04},
    {"pizza_box", 0x05},       {"mini_tower", 0x06},     {"tower", 0x07},           {"portable", 0x08},
    {"laptop", 0x09},          {"notebook", 0x0A},       {"hand_held", 0x0B},       {"docking_station", 0x0C},
    {"all_in_one", 0x0D},      {"sub_notebook", 0x0E},   {"space_saving", 0x0F},    {"lunch_box", 0x10},
    {"main_server", 0x11},     {"expansion", 0x12},      {"sub_chassis", 0x13},     {"bus_expansion", 0x14},
    {"peripheral", 0x15},      {"raid", 0x16},           {"rack_mount", 0x17},      {"sealed_case_pc", 0x18},
    {"multi_system", 0x19},    {"compact_pci", 0x1A},    {"advanced_tca", 0x1B},    {"blade", 0x1C},
    {"blade_enclosure", 0x1D},
}};

// Management access sub-record types, FRU spec §18.4.
constexpr std::array<std::pair<std::string_view, uint8_t>, 7> kAccessKinds{{
    {"system_url", bmc::fruManagementAccess::systemUrl},
    {"system_name", bmc::fruManagementAccess::systemName},
    {"system_ping_address", bmc::fruManagementAccess::systemPingAddress},
    {"component_url", bmc::fruManagementAccess::componentUrl},
    {"component_name", bmc::fruManagementAccess::componentName},
    {"component_ping_address", bmc::fruManagementAccess::componentPingAddress},
    {"system_guid", bmc::fruManagementAccess::systemUniqueId},
}};

// Combined output voltage codes, FRU spec §18.1 Table 18-1 byte 20.
constexpr std::array<std::pair<std::string_view, uint8_t>, 4> kVoltages{{
    {"12V", 0}, {"-12V", 1}, {"5V", 2}, {"3.3V", 3}}};

// The FRU device ID string of an SDR FRU device locator record holds at most 16 bytes (IPMI v2.0
// §43.8, byte 17's length in bits 4:0 with 8-bit ASCII).
constexpr size_t kMaxNameBytes = 16;

// Typed reads that record a problem instead of failing, so one pass reports every mistake.
class FieldReader {
 public:
  explicit FieldReader(std::vector<std::string>& errors) : errors_(errors) {}

  void add(std::string m) { errors_.push_back(std::move(m)); }
  size_t count() const { return errors_.size(); }

  void keys(const toml::table& t, std::initializer_list<std::string_view> known, const std::string& where) {
    for (const auto& [k, v] : t) {
      if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
        add(fmt::format("{}: unknown key '{}'", where, k.str()));
      }
    }
  }

  template <typename T>
  void integer(const toml::table& t, const char* key, T& out, int64_t lo, int64_t hi, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    auto v = n->value<int64_t>();
    if (!v || n->is_floating_point() || *v < lo || *v > hi) {
      return add(fmt::format("{}.{}: expected an integer in {}..{}", where, key, lo, hi));
    }
    out = static_cast<T>(*v);
  }

  void boolean(const toml::table& t, const char* key, bool& out, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    auto v = n->value<bool>();
    if (!v) return add(fmt::format("{}.{}: expected true or false", where, key));
    out = *v;
  }

  bool string(const toml::table& t, const char* key, std::string& out, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return false;
    auto v = n->value<std::string>();
    if (!v) {
      add(fmt::format("{}.{}: expected a string", where, key));
      return false;
    }
    out = *v;
    return true;
  }

  // A text field of an info area: a string the FRU spec can encode (§13).
  void field(const toml::table& t, const char* key, std::string& out, const std::string& where) {
    if (!string(t, key, out, where)) return;
    if (auto e = bmc::encodeFruField(out); !e) add(fmt::format("{}.{}: {}", where, key, e.error().message));
  }

  void customFields(const toml::table& t, std::vector<std::string>& out, const std::string& where) {
    const toml::node* n = t.get("custom");
    if (n == nullptr) return;
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return add(where + ".custom: expected an array of strings");
    for (size_t i = 0; i < arr->size(); ++i) {
      auto v = (*arr)[i].value<std::string>();
      if (!v) {
        add(fmt::format("{}.custom[{}]: expected a string", where, i));
        continue;
      }
      if (auto e = bmc::encodeFruField(*v); !e) {
        add(fmt::format("{}.custom[{}]: {}", where, i, e.error().message));
        continue;
      }
      out.push_back(*v);
    }
  }

  // A byte array: integers 0..255.
  void bytes(const toml::table& t, const char* key, Bytes& out, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return add(fmt::format("{}.{}: expected an array of bytes (0..255)", where, key));
    for (const auto& e : *arr) {
      auto v = e.value<int64_t>();
      if (!v || e.is_floating_point() || *v < 0 || *v > 255) {
        return add(fmt::format("{}.{}: expected an array of bytes (0..255)", where, key));
      }
      out.push_back(static_cast<uint8_t>(*v));
    }
  }

  // [low, high] as two numbers in lo..hi, each multiplied by `scale` and rounded.
  template <typename T>
  void range(const toml::table& t, const char* key, T& low, T& high, double scale, double lo, double hi,
             const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const toml::array* arr = n->as_array();
    std::array<double, 2> v{};
    bool good = arr != nullptr && arr->size() == 2;
    for (size_t i = 0; good && i < 2; ++i) {
      auto d = (*arr)[i].value<double>();
      good = d.has_value() && *d >= lo && *d <= hi;
      if (good) v[i] = *d;
    }
    if (!good || v[0] > v[1]) return add(fmt::format("{}.{}: expected [low, high] within {}..{}", where, key, lo, hi));
    low = static_cast<T>(std::lround(v[0] * scale));
    high = static_cast<T>(std::lround(v[1] * scale));
  }

 private:
  std::vector<std::string>& errors_;
};

std::optional<uint8_t> lookup(std::string_view name, auto const& table) {
  for (const auto& [n, v] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string names(auto const& table) {
  std::string s;
  for (const auto& [n, v] : table) s += fmt::format("{}\"{}\"", s.empty() ? "" : ", ", n);
  return s;
}

void parseChassis(const toml::table& t, bmc::FruChassisInfo& c, const std::string& w, FieldReader& r) {
  r.keys(t, {"type", "part_number", "serial", "custom"}, w);
  if (const toml::node* n = t.get("type")) {
    if (auto s = n->value<std::string>()) {
      auto v = lookup(*s, kChassisTypes);
      if (v) c.type = *v;
      else r.add(fmt::format("{}.type: expected an SMBIOS chassis type number or one of {}", w, names(kChassisTypes)));
    } else {
      r.integer(t, "type", c.type, 0, 255, w);
    }
  }
  r.field(t, "part_number", c.partNumber, w);
  r.field(t, "serial", c.serial, w);
  r.customFields(t, c.custom, w);
}

void parseMfgDate(const toml::node& n, uint32_t& minutes, const std::string& w, FieldReader& r) {
  std::string text;
  if (auto s = n.value<std::string>()) {
    text = *s;
  } else if (auto dt = n.value<toml::date_time>()) {
    text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", dt->date.year, dt->date.month, dt->date.day,
                       dt->time.hour, dt->time.minute, dt->time.second);
    if (dt->offset) {
      const int m = dt->offset->minutes;
      text += fmt::format("{}{:02}:{:02}", m < 0 ? '-' : '+', std::abs(m) / 60, std::abs(m) % 60);
    }
  }
  auto v = bmc::fruMinutesFromDateTime(text);
  if (!v) {
    return r.add(w + ".mfg_date: expected a date-time such as \"2024-01-15T08:00:00Z\" between 1996-01-01T00:01Z "
                     "and 2027-11-24T20:15Z (a 24-bit count of minutes since 1996)");
  }
  minutes = *v;
}

void parseBoard(const toml::table& t, bmc::FruBoardInfo& b, const std::string& w, FieldReader& r) {
  r.keys(t, {"language", "mfg_date", "manufacturer", "product", "serial", "part_number", "file_id", "custom"}, w);
  r.integer(t, "language", b.language, 0, 255, w);
  if (const toml::node* n = t.get("mfg_date")) parseMfgDate(*n, b.mfgMinutes, w, r);
  r.field(t, "manufacturer", b.manufacturer, w);
  r.field(t, "product", b.product, w);
  r.field(t, "serial", b.serial, w);
  r.field(t, "part_number", b.partNumber, w);
  r.field(t, "file_id", b.fileId, w);
  r.customFields(t, b.custom, w);
}

void parseProduct(const toml::table& t, bmc::FruProductInfo& p, const std::string& w, FieldReader& r) {
  r.keys(t, {"language", "manufacturer", "name", "part_number", "version", "serial", "asset_tag", "file_id",
             "custom"},
         w);
  r.integer(t, "language", p.language, 0, 255, w);
  r.field(t, "manufacturer", p.manufacturer, w);
  r.field(t, "name", p.name, w);
  r.field(t, "part_number", p.partNumber, w);
  r.field(t, "version", p.version, w);
  r.field(t, "serial", p.serial, w);
  r.field(t, "asset_tag", p.assetTag, w);
  r.field(t, "file_id", p.fileId, w);
  r.customFields(t, p.custom, w);
}

std::optional<bmc::FruRecord> parsePowerSupply(const toml::table& t, const std::string& w, FieldReader& r) {
  r.keys(t, {"type", "capacity", "peak_va", "inrush_current", "inrush_interval", "input_voltage_1", "input_voltage_2",
             "input_frequency", "dropout_tolerance", "predictive_fail", "power_factor_correction", "autoswitch",
             "hot_swap", "tach_two_pulses", "peak_capacity", "hold_up_time", "combined_voltages", "combined_capacity",
             "tach_lower_threshold"},
         w);
  bmc::FruPowerSupply ps;
  r.integer(t, "capacity", ps.capacityWatts, 0, 4095, w);
  r.integer(t, "peak_va", ps.peakVa, 0, 0xFFFF, w);
  r.integer(t, "inrush_current", ps.inrushCurrentAmps, 0, 255, w);
  r.integer(t, "inrush_interval", ps.inrushIntervalMs, 0, 255, w);
  r.range(t, "input_voltage_1", ps.inputLow1, ps.inputHigh1, 100.0, 0.0, 655.35, w);  // volts -> 10 mV
  r.range(t, "input_voltage_2", ps.inputLow2, ps.inputHigh2, 100.0, 0.0, 655.35, w);
  r.range(t, "input_frequency", ps.frequencyLowHz, ps.frequencyHighHz, 1.0, 0.0, 255.0, w);
  r.integer(t, "dropout_tolerance", ps.dropoutToleranceMs, 0, 255, w);
  r.boolean(t, "predictive_fail", ps.predictiveFail, w);
  r.boolean(t, "power_factor_correction", ps.powerFactorCorrection, w);
  r.boolean(t, "autoswitch", ps.autoswitch, w);
  r.boolean(t, "hot_swap", ps.hotSwap, w);
  r.boolean(t, "tach_two_pulses", ps.tachometerTwoPulses, w);
  r.integer(t, "peak_capacity", ps.peakCapacityWatts, 0, 4095, w);
  r.integer(t, "hold_up_time", ps.holdUpSeconds, 0, 15, w);
  r.integer(t, "combined_capacity", ps.combinedWatts, 0, 0xFFFF, w);
  r.integer(t, "tach_lower_threshold", ps.tachometerLowerRps, 0, 255, w);
  if (const toml::node* n = t.get("combined_voltages")) {
    const toml::array* arr = n->as_array();
    std::optional<uint8_t> v1, v2;
    if (arr != nullptr && arr->size() == 2) {
      if (auto s = (*arr)[0].value<std::string>()) v1 = lookup(*s, kVoltages);
      if (auto s = (*arr)[1].value<std::string>()) v2 = lookup(*s, kVoltages);
    }
    if (!v1 || !v2) {
      r.add(fmt::format("{}.combined_voltages: expected two of {}", w, names(kVoltages)));
    } else {
      ps.combinedVoltage1 = *v1;
      ps.combinedVoltage2 = *v2;
    }
  }
  return bmc::powerSupplyRecord(ps);
}

std::optional<std::array<uint8_t, 16>> parseUuid(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex.push_back(c);
  }
  if (hex.size() != 32) return std::nullopt;
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

std::optional<bmc::FruRecord> parseManagementAccess(const toml::table& t, const std::string& w, FieldReader& r) {
  r.keys(t, {"type", "kind", "value"}, w);
  std::string kind, value;
  r.string(t, "kind", kind, w);
  auto sub = lookup(kind, kAccessKinds);
  if (!sub) {
    r.add(fmt::format("{}.kind: expected one of {}", w, names(kAccessKinds)));
    return std::nullopt;
  }
  if (!r.string(t, "value", value, w)) {
    r.add(w + ".value: required");
    return std::nullopt;
  }
  Bytes data(value.begin(), value.end());
  if (*sub == bmc::fruManagementAccess::systemUniqueId) {
    auto g = parseUuid(value);
    if (!g) {
      r.add(w + ".value: expected a GUID such as 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
      return std::nullopt;
    }
    data.assign(g->begin(), g->end());
  }
  auto rec = bmc::managementAccessRecord(*sub, data);
  if (!rec) {
    r.add(fmt::format("{}.value: {}", w, rec.error().message));
    return std::nullopt;
  }
  return *rec;
}

std::optional<bmc::FruRecord> parseOem(const toml::table& t, const std::string& w, FieldReader& r, bool raw) {
  if (raw) r.keys(t, {"type", "record_type", "data"}, w);
  else r.keys(t, {"type", "record_type", "manufacturer_id", "data"}, w);
  uint8_t recordType = raw ? 0x00 : bmc::fruRecordType::firstOem;
  uint32_t manufacturer = 0;
  Bytes data;
  if (raw && !t.contains("record_type")) r.add(w + ".record_type: required for a raw record");
  r.integer(t, "record_type", recordType, raw ? 0x00 : 0xC0, 0xFF, w);
  if (!raw) r.integer(t, "manufacturer_id", manufacturer, 0, 0xFFFFFF, w);
  r.bytes(t, "data", data, w);
  if (raw) return bmc::FruRecord{recordType, std::move(data)};
  return bmc::oemRecord(recordType, manufacturer, data);
}

void parseRecords(const toml::node& node, std::vector<bmc::FruRecord>& out, const std::string& where, FieldReader& r) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr) return r.add(where + ": expected [[...multirecord]] tables");
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string w = fmt::format("{}[{}]", where, i);
    const toml::table* t = (*arr)[i].as_table();
    if (t == nullptr) {
      r.add(w + ": expected a table");
      continue;
    }
    std::string type;
    r.string(*t, "type", type, w);
    std::optional<bmc::FruRecord> rec;
    if (type == "power_supply") rec = parsePowerSupply(*t, w, r);
    else if (type == "management_access") rec = parseManagementAccess(*t, w, r);
    else if (type == "oem") rec = parseOem(*t, w, r, false);
    else if (type == "raw") rec = parseOem(*t, w, r, true);
    else r.add(w + ".type: expected \"power_supply\", \"management_access\", \"oem\" or \"raw\"");
    if (!rec) continue;
    if (rec->data.size() > bmc::kFruMaxRecordBytes) {
      r.add(fmt::format("{}: {} data bytes, a record holds at most {}", w, rec->data.size(), bmc::kFruMaxRecordBytes));
      continue;
    }
    out.push_back(std::move(*rec));
  }
}

void parseDevice(const toml::table& t, const std::string& w, const fs::path& baseDir, std::set<uint8_t>& ids,
                 std::vector<bmc::FruConfig>& out, FieldReader& r) {
  r.keys(t, {"id", "name", "image", "size", "chassis", "board", "product", "multirecord"}, w);
  bmc::FruConfig c;
  if (!t.contains("id")) r.add(w + ".id: required (0..254; 0 is the BMC's own FRU)");
  r.integer(t, "id", c.id, 0, 254, w);
  if (t.contains("id") && !ids.insert(c.id).second) r.add(fmt::format("{}.id: FRU device {} is configured twice", w, c.id));
  c.name = fmt::format("FRU {}", c.id);
  r.string(t, "name", c.name, w);
  if (c.name.size() > kMaxNameBytes) {
    r.add(fmt::format("{}.name: at most {} bytes (the SDR FRU device locator's ID string)", w, kMaxNameBytes));
  }
  int64_t size = 0;
  r.integer(t, "size", size, 1, 0xFFFF, w);
  c.size = static_cast<size_t>(size);

  const bool areas = t.contains("chassis") || t.contains("board") || t.contains("product") || t.contains("multirecord");
  size_t imageSize = 0;
  std::string image;
  const size_t errorsBefore = r.count();
  if (r.string(t, "image", image, w)) {
    if (areas) r.add(w + ": 'image' serves a raw file; it cannot be combined with chassis, board, product or multirecord");
    fs::path p(image);
    if (p.is_relative()) p = baseDir / p;
    c.imagePath = p.lexically_normal().string();
    std::error_code ec;
    const bool regular = fs::is_regular_file(p, ec);
    const auto fileSize = regular ? fs::file_size(p, ec) : 0;
    if (!regular || ec) {
      r.add(fmt::format("{}.image: {} is not a readable file", w, c.imagePath));
    } else if (fileSize == 0 || fileSize > 0xFFFF) {
      r.add(fmt::format("{}.image: {} has {} bytes; a FRU image has 1..65535", w, c.imagePath, fileSize));
    } else {
      imageSize = static_cast<size_t>(fileSize);
    }
  } else {
    auto table = [&](const char* key) -> const toml::table* {
      const toml::node* n = t.get(key);
      if (n == nullptr) return nullptr;
      if (n->as_table() == nullptr) r.add(fmt::format("{}.{}: expected a table", w, key));
      return n->as_table();
    };
    if (auto s = table("chassis")) parseChassis(*s, c.contents.chassis.emplace(), w + ".chassis", r);
    if (auto s = table("board")) parseBoard(*s, c.contents.board.emplace(), w + ".board", r);
    if (auto s = table("product")) parseProduct(*s, c.contents.product.emplace(), w + ".product", r);
    if (const toml::node* n = t.get("multirecord")) parseRecords(*n, c.contents.records, w + ".multirecord", r);
    if (r.count() == errorsBefore) {  // fields are fine one by one; do the areas fit their length bytes?
      auto built = bmc::buildFruImage(c.contents);
      if (built) imageSize = built->size();
      else r.add(fmt::format("{}.{}", w, built.error().message));
    }
  }
  if (c.size != 0 && imageSize != 0 && c.size < imageSize) {
    r.add(fmt::format("{}.size: {} is smaller than the {}-byte image", w, c.size, imageSize));
  }
  out.push_back(std::move(c));
}

}  // namespace

void parseFruConfig(const toml::node& node, const std::string& where, const std::string& sourceName,
                    std::vector<bmc::FruConfig>& out, std::vector<std::string>& errors) {
  FieldReader r(errors);
  const toml::array* arr = node.as_array();
  if (arr == nullptr) return r.add(where + ": expected [[bmc.fru]] tables");
  const fs::path baseDir = fs::path(sourceName).parent_path();
  std::set<uint8_t> ids;
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string w = fmt::format("{}[{}]", where, i);
    const toml::table* t = (*arr)[i].as_table();
    if (t == nullptr) {
      r.add(w + ": expected a table");
      continue;
    }
    parseDevice(*t, w, baseDir, ids, out, r);
  }
}

}  // namespace simbmc::daemon
