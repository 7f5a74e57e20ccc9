// simbmcd: the composition root. Parses the command line and the config, builds the instances and
// runs the io_context until SIGINT/SIGTERM. Start-up errors print one clear message and exit 1.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "bmc/daemon/config.hpp"
#include "bmc/daemon/daemon.hpp"
#include "common/log.hpp"

using namespace simbmc;

int main(int argc, char** argv) {
  CLI::App app{"simbmcd: a simulated IPMI BMC (RMCP/RMCP+ over UDP)"};
  std::string configPath, bind, stateDir, logLevel;
  std::optional<uint16_t> port;
  std::vector<std::string> users;
  bool printDefault = false;
  app.add_option("--config", configPath, "TOML config file (default: the embedded demo server)");
  app.add_option("--bind", bind, "address to listen on, IPv4 or IPv6 (first instance)");
  app.add_option("--port", port, "UDP port (first instance; default 623)");
  app.add_option("--state-dir", stateDir, "directory for persistent state (first instance)");
  app.add_option("--user", users, "NAME:PASSWORD[:PRIVILEGE], creates or overrides a user (repeatable)");
  app.add_option("--log-level", logLevel, "debug, info, warn, error or off");
  app.add_flag("--print-default-config", printDefault, "print the embedded default config and exit");
  CLI11_PARSE(app, argc, argv);
  // A console peer or hook that went away must cost an EPIPE on its descriptor, not the process.
  std::signal(SIGPIPE, SIG_IGN);

  if (printDefault) {
    std::fputs(daemon::kDefaultConfig, stdout);
    return 0;
  }
  auto config = configPath.empty() ? daemon::parseConfig(daemon::kDefaultConfig, "<default config>")
                                   : daemon::loadConfigFile(configPath);
  if (!config) {
    fmt::print(stderr, "simbmcd: invalid configuration:\n{}\n", config.error().message);
    return 1;
  }
  if (!logLevel.empty() && !log::parseLevel(logLevel, config->logLevel)) {
    fmt::print(stderr, "simbmcd: --log-level: expected debug, info, warn, error or off\n");
    return 1;
  }
  log::setLevel(config->logLevel);

  std::vector<daemon::UserOverride> overrides;
  for (const auto& u : users) {
    auto o = daemon::parseUserOverride(u);
    if (!o) {
      fmt::print(stderr, "simbmcd: {}\n", o.error().message);
      return 1;
    }
    overrides.push_back(*o);
  }
  auto& first = config->instances.front();
  if (!bind.empty()) first.bind = bind;
  if (port) first.port = *port;
  if (!stateDir.empty()) first.stateDir = stateDir;
  for (auto& ic : config->instances) {
    if (ic.stateDir.empty()) ic.stateDir = daemon::defaultStateRoot() + "/" + ic.name;
    for (const auto& o : overrides) {
      if (&ic != &first) break;
      daemon::UserConfig u{o.name, o.password, o.privilege, true};
      ic.users.push_back(u);  // so the weak-password rule sees command-line passwords too
    }
  }
  if (auto v = daemon::validate(*config); !v) {
    fmt::print(stderr, "simbmcd: invalid configuration:\n{}\n", v.error().message);
    return 1;
  }
  daemon::Daemon d;
  if (auto r = d.start(*config, overrides); !r) {
    fmt::print(stderr, "simbmcd: {}\n", r.error().message);
    return 1;
  }
  return d.run();
}
