// Daemon configuration: one TOML file parsed once into plain structs with defaults, validated at
// start-up with every error reported together. Each folder receives only its slice (BmcConfig for
// bmc/, PowerConfig for sim/). The reference for every key is README.md "Configuration".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bmc/bmc.hpp"
#include "common/log.hpp"
#include "sim/console_factory.hpp"
#include "sim/host_power.hpp"

namespace simbmc::daemon {

struct UserConfig {
  std::string name;
  std::optional<std::string> password;  // absent: generated at first start and printed once
  Privilege privilege = Privilege::administrator;
  bool enabled = true;
};

struct InstanceConfig {
  std::string name = "bmc";
  std::string bind = "127.0.0.1";
  uint16_t port = 623;
  std::string stateDir;  // empty: <state root>/<name>
  bool allowInsecure = false;        // lab mode: weak suites and auth types may be enabled
  bool allowWeakPasswords = false;   // well-known passwords on a non-loopback bind
  bool guidsConfigured = false;
  bmc::BmcConfig bmc;
  sim::PowerConfig power;
  sim::ConsoleConfig console;  // [bmc.console]; relative log_file/pty path: under stateDir
  std::vector<UserConfig> users;
  bmc::LockoutPolicy lockout;
};

struct DaemonConfig {
  log::Level logLevel = log::Level::info;
  std::vector<InstanceConfig> instances;
};

// The demo server used when no --config is given: a chassis, an admin user whose password is
// generated at first start, cipher suites 17 and 3, IPMI 1.5 with MD5.
extern const char* const kDefaultConfig;

// Parses and validates; on failure the error message lists every problem, one per line.
Result<DaemonConfig> parseConfig(const std::string& text, const std::string& sourceName);
Result<DaemonConfig> loadConfigFile(const std::string& path);
// Checks the cross-field rules (insecure suites need lab mode, unique ports, well-known passwords
// on non-loopback binds). Run after command-line overrides were applied.
Result<void> validate(const DaemonConfig& config);

}  // namespace simbmc::daemon
