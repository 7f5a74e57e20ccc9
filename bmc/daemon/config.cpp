#include "bmc/daemon/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "bmc/daemon/sensor_config.hpp"
#include "bmc/daemon/fru_config.hpp"
#include "net/crypto.hpp"

namespace simbmc::daemon {

const char* const kDefaultConfig = R"toml(
# simbmc demo server: one BMC on loopback with a chassis and an administrator.
log_level = "info"

[[bmc]]
name = "demo"
bind = "127.0.0.1"
port = 623

[bmc.identity]
manufacturer_id = 0
product_id = 0x0001
firmware = "1.00"

[bmc.lan]
cipher_suites = [17, 3]
auth_types = ["md5"]
max_sessions = 16
session_timeout = 60

[bmc.power]
initially_on = true
restore_policy = "previous"
cycle_off_ms = 1000
# Power changes are logged to the SEL by the BMC's Power Unit sensor (number 0x80 here).
power_unit_sensor = 0x80

[[bmc.user]]
name = "admin"
privilege = "administrator"

# FRU 0, the BMC's own inventory: what `ipmitool fru print` and `ipmi-fru` show.
[[bmc.fru]]
id = 0
name = "Demo Server"

[bmc.fru.chassis]
type = "rack_mount"
part_number = "SB-CH-1000"
serial = "SBC2024000001"

[bmc.fru.board]
manufacturer = "simbmc"
product = "SB-1000 Mainboard"
serial = "SBB2024000001"
part_number = "SB-MB-1000"
mfg_date = "2024-01-15T08:00:00Z"

[bmc.fru.product]
manufacturer = "simbmc"
name = "SB-1000 Demo Server"
part_number = "SB-1000"
version = "1.0"
serial = "SBP2024000001"
asset_tag = "DEMO-0001"

[[bmc.fru.multirecord]]
type = "power_supply"
capacity = 800
peak_va = 900
inrush_current = 30
inrush_interval = 5
input_voltage_1 = [90, 264]
input_frequency = [47, 63]
dropout_tolerance = 20
power_factor_correction = true
autoswitch = true
hot_swap = true
peak_capacity = 1000
hold_up_time = 1

# Sensors: what `ipmitool sensor list`, `ipmitool sdr list` and `ipmi-sensors` show. Thresholds and
# hysteresis are in the sensor's units; readings come from simulated sources here.
[[bmc.sensor]]
number = 1
name = "CPU Temp"
type = "temperature"
entity = "processor"
thresholds = { unc = 85, uc = 95, unr = 105 }
hysteresis = 2
source = { kind = "waveform", shape = "sine", min = 38, max = 62, period_ms = 300000 }

[[bmc.sensor]]
number = 2
name = "System Temp"
type = "temperature"
thresholds = { unc = 65, uc = 75, unr = 85 }
hysteresis = 2
source = { kind = "waveform", shape = "random_walk", min = 30, max = 36, step = 0.5, seed = 2 }

[[bmc.sensor]]
number = 3
name = "Inlet Temp"
type = "temperature"
entity = "air_inlet"
thresholds = { lc = 5, lnc = 10, unc = 40, uc = 45 }
hysteresis = 1
source = { kind = "static", value = 23 }

[[bmc.sensor]]
number = 16
name = "12V"
type = "voltage"
nominal = 12
thresholds = { lc = 10.8, lnc = 11.4, unc = 12.6, uc = 13.2 }
source = { kind = "waveform", shape = "random_walk", min = 11.9, max = 12.2, step = 0.1, seed = 16 }

[[bmc.sensor]]
number = 17
name = "5V"
type = "voltage"
nominal = 5
thresholds = { lc = 4.5, lnc = 4.75, unc = 5.25, uc = 5.5 }
source = { kind = "static", value = 5.05 }

[[bmc.sensor]]
number = 18
name = "3.3V"
type = "voltage"
nominal = 3.3
thresholds = { lc = 2.98, lnc = 3.14, unc = 3.46, uc = 3.62 }
source = { kind = "static", value = 3.3 }

[[bmc.sensor]]
number = 32
name = "FAN1"
type = "fan"
thresholds = { lc = 400, lnc = 600 }
hysteresis = 100
source = { kind = "waveform", shape = "random_walk", min = 4800, max = 5400, step = 50, seed = 32 }

[[bmc.sensor]]
number = 33
name = "FAN2"
type = "fan"
thresholds = { lc = 400, lnc = 600 }
hysteresis = 100
source = { kind = "waveform", shape = "sine", min = 4000, max = 6000, period_ms = 120000 }

[[bmc.sensor]]
number = 34
name = "FAN3"
type = "fan"
thresholds = { lc = 400, lnc = 600 }
hysteresis = 100
source = { kind = "static", value = 5200 }

[[bmc.sensor]]
number = 48
name = "PSU1 Power"
type = "power"
thresholds = { unc = 700, uc = 800 }
hysteresis = 10
source = { kind = "waveform", shape = "sine", min = 180, max = 260, period_ms = 60000 }

[[bmc.sensor]]
number = 49
name = "PSU1 Status"
type = "power_supply"
source = { kind = "static", states = [0] }

[[bmc.sensor]]
number = 64
name = "Intrusion"
type = "chassis_intrusion"
source = { kind = "static", states = [] }
)toml";

namespace {

class Errors {
 public:
  void add(std::string m) { list_.push_back(std::move(m)); }
  bool empty() const { return list_.empty(); }
  std::string joined() const {
    std::string s;
    for (const auto& m : list_) s += (s.empty() ? "" : "\n") + m;
    return s;
  }

 private:
  std::vector<std::string> list_;
};

std::optional<std::array<uint8_t, 16>> parseGuid(std::string_view text) {
  std::array<uint8_t, 16> out{};
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex.push_back(c);
  }
  if (hex.size() != 32) return std::nullopt;
  // Stored in IPMI's order: the RFC 4122 text read as bytes, least significant byte first (§20.8).
  for (size_t i = 0; i < 16; ++i) out[15 - i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

bool parseFirmware(std::string_view text, uint8_t& major, uint8_t& minor) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || text.size() - dot - 1 != 2) return false;
  int mj = 0;
  for (char c : text.substr(0, dot)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    mj = mj * 10 + (c - '0');
  }
  auto mn = text.substr(dot + 1);
  if (!std::isdigit(static_cast<unsigned char>(mn[0])) || !std::isdigit(static_cast<unsigned char>(mn[1]))) return false;
  if (mj > 127) return false;
  major = static_cast<uint8_t>(mj);
  minor = static_cast<uint8_t>(((mn[0] - '0') << 4) | (mn[1] - '0'));  // BCD
  return true;
}

template <typename T>
void readInt(const toml::table& t, const char* key, T& out, int64_t lo, int64_t hi, const std::string& where,
             Errors& errors) {
  auto node = t.get(key);
  if (node == nullptr) return;
  auto v = node->value<int64_t>();
  if (!v || *v < lo || *v > hi) {
    errors.add(fmt::format("{}.{}: expected an integer in {}..{}", where, key, lo, hi));
    return;
  }
  out = static_cast<T>(*v);
}

void readBool(const toml::table& t, const char* key, bool& out, const std::string& where, Errors& errors) {
  auto node = t.get(key);
  if (node == nullptr) return;
  auto v = node->value<bool>();
  if (!v) return errors.add(fmt::format("{}.{}: expected true or false", where, key));
  out = *v;
}

void readString(const toml::table& t, const char* key, std::string& out, const std::string& where, Errors& errors) {
  auto node = t.get(key);
  if (node == nullptr) return;
  auto v = node->value<std::string>();
  if (!v) return errors.add(fmt::format("{}.{}: expected a string", where, key));
  out = *v;
}

void checkKeys(const toml::table& t, std::initializer_list<std::string_view> known, const std::string& where,
               Errors& errors) {
  for (const auto& [k, v] : t) {
    if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
      errors.add(fmt::format("{}: unknown key '{}'", where, k.str()));
    }
  }
}

void parseIdentity(const toml::table& t, InstanceConfig& ic, const std::string& where, Errors& errors) {
  checkKeys(t, {"manufacturer_id", "product_id", "device_id", "device_revision", "firmware", "aux_firmware",
                "device_guid", "system_guid", "system_name"},
            where, errors);
  bmc::Identity& id = ic.bmc.identity;
  readInt(t, "manufacturer_id", id.manufacturerId, 0, 0xFFFFF, where, errors);
  readInt(t, "product_id", id.productId, 0, 0xFFFF, where, errors);
  readInt(t, "device_id", id.deviceId, 0, 0xFF, where, errors);
  readInt(t, "device_revision", id.deviceRevision, 0, 0x0F, where, errors);
  readString(t, "system_name", id.systemName, where, errors);
  std::string fw;
  readString(t, "firmware", fw, where, errors);
  if (!fw.empty()) {
    if (!parseFirmware(fw, id.firmwareMajor, id.firmwareMinor)) {
      errors.add(where + ".firmware: expected MAJOR.MM such as \"1.05\" (major 0..127)");
    } else {
      id.firmwareVersion = fw;
    }
  }
  if (auto arr = t.get_as<toml::array>("aux_firmware")) {
    if (arr->size() != 4) errors.add(where + ".aux_firmware: expected 4 bytes");
    for (size_t i = 0; i < std::min<size_t>(4, arr->size()); ++i) {
      auto v = (*arr)[i].value<int64_t>();
      if (!v || *v < 0 || *v > 255) errors.add(where + ".aux_firmware: bytes are 0..255");
      else id.auxFirmware[i] = static_cast<uint8_t>(*v);
    }
  }
  for (auto [key, dest] : {std::pair{"device_guid", &id.deviceGuid}, std::pair{"system_guid", &id.systemGuid}}) {
    std::string s;
    readString(t, key, s, where, errors);
    if (s.empty()) continue;
    auto g = parseGuid(s);
    if (!g) errors.add(fmt::format("{}.{}: expected a UUID such as 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", where, key));
    else {
      *dest = *g;
      ic.guidsConfigured = true;
    }
  }
}

void parseLan(const toml::table& t, InstanceConfig& ic, const std::string& where, Errors& errors) {
  checkKeys(t, {"channel", "cipher_suites", "ipmi15", "auth_types", "max_sessions", "session_timeout", "kg",
                "privilege_limit"},
            where, errors);
  net::ChannelSecurity& lan = ic.bmc.lan;
  readInt(t, "channel", lan.channel, 1, 11, where, errors);
  readBool(t, "ipmi15", lan.ipmi15Enabled, where, errors);
  readInt(t, "max_sessions", lan.maxSessions, 1, 63, where, errors);
  readInt(t, "session_timeout", lan.sessionTimeoutSeconds, 5, 86400, where, errors);
  if (auto arr = t.get_as<toml::array>("cipher_suites")) {
    lan.cipherSuites.clear();
    for (const auto& n : *arr) {
      auto v = n.value<int64_t>();
      if (!v || *v < 0 || *v > 255 || !net::crypto::cipherSuite(static_cast<uint8_t>(*v))) {
        errors.add(where + ".cipher_suites: each entry must be one of 0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17");
        continue;
      }
      if (std::find(lan.cipherSuites.begin(), lan.cipherSuites.end(), *v) == lan.cipherSuites.end()) {
        lan.cipherSuites.push_back(static_cast<uint8_t>(*v));
      }
    }
  }
  if (auto arr = t.get_as<toml::array>("auth_types")) {
    lan.authTypes15 = 0;
    for (const auto& n : *arr) {
      auto v = n.value<std::string>();
      if (v && *v == "none") lan.authTypes15 |= 1u << 0;
      else if (v && *v == "md2") lan.authTypes15 |= 1u << 1;
      else if (v && *v == "md5") lan.authTypes15 |= 1u << 2;
      else if (v && *v == "password") lan.authTypes15 |= 1u << 4;
      else errors.add(where + ".auth_types: entries are \"none\", \"md2\", \"md5\" or \"password\"");
    }
  }
  std::string kg;
  readString(t, "kg", kg, where, errors);
  if (!kg.empty()) {
    if (kg.size() > 40 || kg.size() % 2 != 0 ||
        !std::all_of(kg.begin(), kg.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      errors.add(where + ".kg: expected up to 20 bytes as hex");
    } else {
      for (size_t i = 0; i < kg.size(); i += 2) lan.kg.push_back(static_cast<uint8_t>(std::stoi(kg.substr(i, 2), nullptr, 16)));
      lan.kg.resize(20, 0);
    }
  }
  std::string limit;
  readString(t, "privilege_limit", limit, where, errors);
  if (!limit.empty()) {
    auto p = privilegeFromName(limit);
    if (!p) errors.add(where + ".privilege_limit: expected user, operator, administrator or oem");
    else lan.channelPrivilegeLimit = *p;
  }
}

void parsePower(const toml::table& t, InstanceConfig& ic, const std::string& where, Errors& errors) {
  checkKeys(t, {"initially_on", "restore_policy", "on_delay_ms", "off_delay_ms", "cycle_off_ms", "reset_ms",
                "soft_shutdown_ms", "on_command", "off_command", "reset_command", "cycle_command", "soft_command",
                "diag_command", "power_unit", "power_unit_sensor", "power_unit_name"},
            where, errors);
  sim::PowerConfig& p = ic.power;
  readBool(t, "initially_on", p.initiallyOn, where, errors);
  auto ms = [&](const char* key, Millis& out) {
    int64_t v = out.count();
    readInt(t, key, v, 0, 3'600'000, where, errors);
    out = Millis(v);
  };
  ms("on_delay_ms", p.powerOnDelay);
  ms("off_delay_ms", p.powerOffDelay);
  ms("cycle_off_ms", p.cycleOffTime);
  ms("reset_ms", p.resetTime);
  ms("soft_shutdown_ms", p.softShutdownTime);
  readString(t, "on_command", p.onCommand, where, errors);
  readString(t, "off_command", p.offCommand, where, errors);
  readString(t, "reset_command", p.resetCommand, where, errors);
  readString(t, "cycle_command", p.cycleCommand, where, errors);
  readString(t, "soft_command", p.softCommand, where, errors);
  readString(t, "diag_command", p.diagCommand, where, errors);
  // The BMC's Power Unit sensor, which logs these transitions to the SEL.
  bmc::PowerUnitConfig& pu = ic.bmc.powerUnit;
  readBool(t, "power_unit", pu.enabled, where, errors);
  if (t.contains("power_unit_sensor")) {
    uint8_t number = 0;
    readInt(t, "power_unit_sensor", number, 0, 254, where, errors);
    pu.number = number;
  }
  readString(t, "power_unit_name", pu.name, where, errors);
  if (pu.name.empty() || pu.name.size() > 16) errors.add(where + ".power_unit_name: 1..16 characters");
  std::string policy;
  readString(t, "restore_policy", policy, where, errors);
  if (policy == "always-off") ic.bmc.chassis.powerRestorePolicy = 0;
  else if (policy == "previous") ic.bmc.chassis.powerRestorePolicy = 1;
  else if (policy == "always-on") ic.bmc.chassis.powerRestorePolicy = 2;
  else if (!policy.empty()) errors.add(where + ".restore_policy: expected \"always-off\", \"previous\" or \"always-on\"");
}

void parseUsers(const toml::array& arr, InstanceConfig& ic, const std::string& where, Errors& errors) {
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string w = fmt::format("{}[{}]", where, i);
    const toml::table* t = arr[i].as_table();
    if (t == nullptr) {
      errors.add(w + ": expected a table");
      continue;
    }
    checkKeys(*t, {"name", "password", "privilege", "enabled"}, w, errors);
    UserConfig u;
    readString(*t, "name", u.name, w, errors);
    if (u.name.empty() || u.name.size() > 16) errors.add(w + ".name: required, 1..16 characters");
    if (t->contains("password")) {
      std::string pw;
      readString(*t, "password", pw, w, errors);
      if (pw.size() > 20) errors.add(w + ".password: at most 20 characters");
      u.password = pw;
    }
    std::string priv;
    readString(*t, "privilege", priv, w, errors);
    if (!priv.empty()) {
      auto p = privilegeFromName(priv);
      if (!p || *p == Privilege::noAccess) errors.add(w + ".privilege: expected callback, user, operator, administrator or oem");
      else u.privilege = *p;
    }
    readBool(*t, "enabled", u.enabled, w, errors);
    ic.users.push_back(std::move(u));
  }
}

// [bmc.sol]: Serial over LAN. Parameters set over IPMI (sol set) persist and win over these defaults.
void parseSol(const toml::table& t, InstanceConfig& ic, const std::string& where, Errors& errors) {
  checkKeys(t, {"enabled", "instances", "history_bytes", "privilege", "force_encryption", "force_authentication",
                "accumulate_ms", "send_threshold", "retry_count", "retry_interval_ms"},
            where, errors);
  bmc::SolConfig& s = ic.bmc.sol;
  readBool(t, "enabled", s.enabled, where, errors);
  readInt(t, "instances", s.instances, 1, 15, where, errors);
  readInt(t, "history_bytes", s.historyReplay, 0, 1 << 20, where, errors);
  readBool(t, "force_encryption", s.forceEncryption, where, errors);
  readBool(t, "force_authentication", s.forceAuthentication, where, errors);
  std::string priv;
  readString(t, "privilege", priv, where, errors);
  if (!priv.empty()) {
    auto p = privilegeFromName(priv);
    if (!p || !atLeast(*p, Privilege::user) || *p == Privilege::noAccess) {
      errors.add(where + ".privilege: expected user, operator, administrator or oem");
    } else {
      s.privilege = *p;
    }
  }
  // Parameter 3 counts 5 ms units and parameter 4 10 ms units (IPMI v2.0 §26.2 Table 26-5).
  uint32_t accumulate = s.accumulateInterval * 5u, retryInterval = s.retryInterval * 10u;
  readInt(t, "accumulate_ms", accumulate, 5, 1275, where, errors);
  readInt(t, "retry_interval_ms", retryInterval, 0, 2550, where, errors);
  s.accumulateInterval = static_cast<uint8_t>((accumulate + 4) / 5);
  s.retryInterval = static_cast<uint8_t>((retryInterval + 9) / 10);
  readInt(t, "send_threshold", s.sendThreshold, 1, 255, where, errors);
  readInt(t, "retry_count", s.retryCount, 0, 7, where, errors);
}

// [bmc.console]: the host's serial console (what SOL shows) and its options; see sim/console_*.hpp.
void parseConsole(const toml::table& t, InstanceConfig& ic, const std::string& where, Errors& errors) {
  checkKeys(t, {"kind", "history_bytes", "login_password", "hostname", "boot_ms", "path", "host", "port", "listen",
                "command", "restart", "restart_delay_ms", "log_file", "log_max_bytes"},
            where, errors);
  sim::ConsoleConfig& c = ic.console;
  using Kind = sim::ConsoleConfig::Kind;
  std::string kind;
  readString(t, "kind", kind, where, errors);
  if (kind == "simulated" || kind.empty()) c.kind = Kind::simulated;
  else if (kind == "pty") c.kind = Kind::pty;
  else if (kind == "socket") c.kind = Kind::socket;
  else if (kind == "command") c.kind = Kind::command;
  else errors.add(where + ".kind: expected \"simulated\", \"pty\", \"socket\" or \"command\"");
  // Options that mean nothing for the chosen kind are mistakes worth reporting.
  auto onlyFor = [&](std::initializer_list<const char*> keys, std::initializer_list<Kind> kinds, const char* what) {
    if (std::find(kinds.begin(), kinds.end(), c.kind) != kinds.end()) return;
    for (const char* k : keys)
      if (t.contains(k)) errors.add(fmt::format("{}.{}: applies to kind = {} only", where, k, what));
  };
  onlyFor({"login_password", "hostname", "boot_ms"}, {Kind::simulated}, "\"simulated\"");
  onlyFor({"path"}, {Kind::pty, Kind::socket}, "\"pty\" or \"socket\"");
  onlyFor({"host", "port", "listen"}, {Kind::socket}, "\"socket\"");
  onlyFor({"command", "restart", "restart_delay_ms"}, {Kind::command}, "\"command\"");
  readInt(t, "history_bytes", c.historyBytes, 0, 16 << 20, where, errors);
  readString(t, "login_password", c.loginPassword, where, errors);
  readString(t, "hostname", c.hostname, where, errors);
  if (c.hostname.empty() || c.hostname.size() > 64) errors.add(where + ".hostname: 1..64 characters");
  int64_t bootMs = c.bootTime.count(), restartMs = c.restartDelay.count();
  readInt(t, "boot_ms", bootMs, 0, 600'000, where, errors);
  readInt(t, "restart_delay_ms", restartMs, 100, 3'600'000, where, errors);
  c.bootTime = Millis(bootMs);
  c.restartDelay = Millis(restartMs);
  readString(t, "path", c.path, where, errors);
  readString(t, "host", c.host, where, errors);
  readInt(t, "port", c.port, 0, 65535, where, errors);
  readBool(t, "listen", c.listen, where, errors);
  readString(t, "command", c.command, where, errors);
  std::string restart;
  readString(t, "restart", restart, where, errors);
  if (restart == "never") c.restart = sim::RestartPolicy::never;
  else if (restart == "on-failure") c.restart = sim::RestartPolicy::onFailure;
  else if (restart == "always") c.restart = sim::RestartPolicy::always;
  else if (!restart.empty()) errors.add(where + ".restart: expected \"never\", \"on-failure\" or \"always\"");
  readString(t, "log_file", c.logFile, where, errors);
  readInt(t, "log_max_bytes", c.logMaxBytes, 0, int64_t{1} << 30, where, errors);
  if (c.kind == Kind::socket) {
    const bool unix = !c.path.empty();
    const bool tcp = !c.host.empty() || t.contains("port");
    if (unix == tcp) errors.add(where + ": kind = \"socket\" needs either path (UNIX) or host and port (TCP)");
    if (tcp && c.port == 0 && !c.listen) errors.add(where + ".port: required to connect");
  }
  if (c.kind == Kind::command && c.command.empty()) errors.add(where + ".command: required for kind = \"command\"");
}

void parseLockout(const toml::table& t, InstanceConfig& ic, const std::string& where, Errors& errors) {
  checkKeys(t, {"threshold", "reset_interval", "lockout_interval"}, where, errors);
  readInt(t, "threshold", ic.lockout.threshold, 0, 255, where, errors);
  uint32_t reset = ic.lockout.resetInterval10s * 10u, lock = ic.lockout.lockoutInterval10s * 10u;
  readInt(t, "reset_interval", reset, 0, 655350, where, errors);
  readInt(t, "lockout_interval", lock, 0, 655350, where, errors);
  ic.lockout.resetInterval10s = static_cast<uint16_t>((reset + 9) / 10);
  ic.lockout.lockoutInterval10s = static_cast<uint16_t>((lock + 9) / 10);
}

// [bmc.sel]: the System Event Log's capacity in entries and what happens when it is full.
void parseSel(const toml::table& t, InstanceConfig& ic, const std::string& where, Errors& errors) {
  checkKeys(t, {"capacity", "policy"}, where, errors);
  readInt(t, "capacity", ic.bmc.sel.capacity, storage::SelLimits::kMinCapacity, storage::SelLimits::kMaxCapacity,
          where, errors);
  std::string policy;
  readString(t, "policy", policy, where, errors);
  if (policy == "stop") ic.bmc.sel.policy = storage::SelOverflowPolicy::stop;
  else if (policy == "circular") ic.bmc.sel.policy = storage::SelOverflowPolicy::circular;
  else if (!policy.empty()) errors.add(where + ".policy: expected \"stop\" or \"circular\"");
}

}  // namespace

Result<DaemonConfig> parseConfig(const std::string& text, const std::string& sourceName) {
  toml::table root;
  try {
    root = toml::parse(text, sourceName);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return makeError(Error::Kind::invalidArgument,
                     fmt::format("{}:{}:{}: {}", sourceName, where.line, where.column, e.description()));
  }
  Errors errors;
  DaemonConfig config;
  checkKeys(root, {"log_level", "bmc"}, sourceName, errors);
  std::string level;
  readString(root, "log_level", level, sourceName, errors);
  if (!level.empty() && !log::parseLevel(level, config.logLevel)) {
    errors.add(sourceName + ".log_level: expected debug, info, warn, error or off");
  }
  const toml::array* bmcs = root.get_as<toml::array>("bmc");
  if (bmcs == nullptr || bmcs->empty()) {
    errors.add(sourceName + ": at least one [[bmc]] table is required");
  } else {
    for (size_t i = 0; i < bmcs->size(); ++i) {
      const std::string where = fmt::format("bmc[{}]", i);
      const toml::table* t = (*bmcs)[i].as_table();
      if (t == nullptr) {
        errors.add(where + ": expected a table");
        continue;
      }
      checkKeys(*t, {"name", "bind", "port", "state_dir", "allow_insecure", "allow_weak_passwords", "identity",
                     "lan", "power", "user", "lockout", "sel", "sensor", "sol", "fru", "console"},
                where, errors);
      InstanceConfig ic;
      ic.name = fmt::format("bmc{}", i);
      readString(*t, "name", ic.name, where, errors);
      readString(*t, "bind", ic.bind, where, errors);
      readInt(*t, "port", ic.port, 0, 65535, where, errors);
      readString(*t, "state_dir", ic.stateDir, where, errors);
      readBool(*t, "allow_insecure", ic.allowInsecure, where, errors);
      readBool(*t, "allow_weak_passwords", ic.allowWeakPasswords, where, errors);
      ic.power.instance = ic.name;
      if (auto s = t->get_as<toml::table>("identity")) parseIdentity(*s, ic, where + ".identity", errors);
      if (auto s = t->get_as<toml::table>("lan")) parseLan(*s, ic, where + ".lan", errors);
      if (auto s = t->get_as<toml::table>("power")) parsePower(*s, ic, where + ".power", errors);
      if (auto s = t->get_as<toml::table>("lockout")) parseLockout(*s, ic, where + ".lockout", errors);
      if (auto s = t->get_as<toml::table>("sol")) parseSol(*s, ic, where + ".sol", errors);
      if (auto s = t->get_as<toml::table>("console")) parseConsole(*s, ic, where + ".console", errors);
      if (auto s = t->get_as<toml::table>("sel")) parseSel(*s, ic, where + ".sel", errors);
      if (auto s = t->get_as<toml::array>("sensor")) {
        std::vector<std::string> sensorErrors;
        parseSensors(*s, ic.bmc.sensors, where + ".sensor", sensorErrors);
        for (auto& e : sensorErrors) errors.add(std::move(e));
      }
      if (auto s = t->get_as<toml::array>("user")) parseUsers(*s, ic, where + ".user", errors);
      if (auto s = t->get("fru")) {
        std::vector<std::string> fruErrors;
        parseFruConfig(*s, where + ".fru", sourceName, ic.bmc.fru, fruErrors);
        for (auto& e : fruErrors) errors.add(std::move(e));
      }
      config.instances.push_back(std::move(ic));
    }
  }
  if (!errors.empty()) return makeError(Error::Kind::invalidArgument, errors.joined());
  return config;
}

Result<DaemonConfig> loadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return makeError(Error::Kind::io, "cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), path);
}

namespace {
bool isLoopback(const std::string& bind) {
  return bind.rfind("127.", 0) == 0 || bind == "::1" || bind == "localhost";
}
bool wellKnownPassword(const std::string& pw) {
  static const std::set<std::string> known = {"",       "admin",  "password", "calvin", "changeme", "ADMIN",
                                              "root",   "0penBmc", "simbmc",  "PASSW0RD", "superuser", "ipmi"};
  return known.contains(pw);
}
}  // namespace

Result<void> validate(const DaemonConfig& config) {
  Errors errors;
  std::set<std::pair<std::string, uint16_t>> endpoints;
  std::set<std::string> names;
  for (const InstanceConfig& ic : config.instances) {
    const std::string w = "bmc '" + ic.name + "'";
    if (!names.insert(ic.name).second) errors.add(w + ": duplicate instance name");
    if (ic.port != 0 && !endpoints.insert({ic.bind, ic.port}).second) {
      errors.add(fmt::format("{}: {}:{} is used by another instance", w, ic.bind, ic.port));
    }
    if (!ic.allowInsecure) {
      for (uint8_t id : ic.bmc.lan.cipherSuites) {
        auto cs = net::crypto::cipherSuite(id);
        if (cs && (cs->auth == net::crypto::AuthAlg::none || cs->integrity == net::crypto::IntegrityAlg::none)) {
          errors.add(fmt::format("{}: cipher suite {} has no {}; set allow_insecure = true to enable it (lab mode)", w,
                                 id, cs->auth == net::crypto::AuthAlg::none ? "authentication" : "integrity"));
        }
      }
      if ((ic.bmc.lan.authTypes15 & ~(1u << 2)) != 0) {
        errors.add(w + ": IPMI 1.5 auth types other than md5 need allow_insecure = true (lab mode)");
      }
    }
    if (ic.bmc.lan.cipherSuites.empty() && !ic.bmc.lan.ipmi15Enabled) {
      errors.add(w + ": no cipher suite and IPMI 1.5 disabled: nobody could log in");
    }
    if (!isLoopback(ic.bind) && !ic.allowWeakPasswords) {
      for (const UserConfig& u : ic.users) {
        if (u.password && wellKnownPassword(*u.password)) {
          errors.add(fmt::format("{}: user '{}' has a well-known password on the non-loopback address {}; choose "
                                 "another or set allow_weak_passwords = true",
                                 w, u.name, ic.bind));
        }
      }
    }
  }
  if (!errors.empty()) return makeError(Error::Kind::invalidArgument, errors.joined());
  return {};
}

}  // namespace simbmc::daemon
