// The host console of an instance, as configured ([bmc.console] in the daemon's config): which kind,
// its options, and an optional log file. makeConsole() builds it; the composition root owns it,
// hands it to the Bmc (Bmc::setConsole) and keeps it alive longer than the Bmc.
#pragma once

#include <memory>
#include <string>

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <boost/asio/io_context.hpp>

#include "bmc/host_control.hpp"
#include "common/result.hpp"
#include "common/timer_queue.hpp"
#include "sim/console_base.hpp"
#include "sim/console_command.hpp"
#include "sim/console_log.hpp"

namespace simbmc::sim {

struct ConsoleConfig {
  enum class Kind { simulated, pty, socket, command };
  Kind kind = Kind::simulated;
  size_t historyBytes = kDefaultHistoryBytes;
  // simulated
  std::string hostname = "simhost";
  std::string loginPassword = "simbmc";  // empty: any password
  Millis bootTime{3000};
  // pty: `path` is an optional symlink to the slave; socket: `path` is a UNIX socket, or host + port
  std::string path;
  std::string host;
  uint16_t port = 0;
  bool listen = false;
  // command
  std::string command;
  RestartPolicy restart = RestartPolicy::onFailure;
  Millis restartDelay{1000};
  // every kind: append the output to this file (empty: no log)
  std::string logFile;
  size_t logMaxBytes = 1024 * 1024;
};

const char* kindName(ConsoleConfig::Kind kind);

// A console and its log, destroyed log first.
struct Console {
  std::unique_ptr<ConsoleBase> console;
  std::unique_ptr<ConsoleLog> log;
};

// Errors name the problem (bad socket path, cannot create the pty, empty command, unwritable log).
// `instance` is for log lines and the command's SIMBMC_INSTANCE.
Result<Console> makeConsole(boost::asio::io_context& io, TimerQueue& timers, bmc::HostControl& host,
                            const ConsoleConfig& config, const std::string& instance);

}  // namespace simbmc::sim
