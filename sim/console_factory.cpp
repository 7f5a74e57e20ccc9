#include "sim/console_factory.hpp"

#include "sim/console_pty.hpp"
#include "sim/console_sim.hpp"
#include "sim/console_socket.hpp"

namespace simbmc::sim {

const char* kindName(ConsoleConfig::Kind kind) {
  switch (kind) {
    case ConsoleConfig::Kind::simulated: return "simulated";
    case ConsoleConfig::Kind::pty: return "pty";
    case ConsoleConfig::Kind::socket: return "socket";
    case ConsoleConfig::Kind::command: return "command";
  }
  return "?";
}

Result<Console> makeConsole(boost::asio::io_context& io, TimerQueue& timers, bmc::HostControl& host,
                            const ConsoleConfig& c, const std::string& instance) {
  Console out;
  switch (c.kind) {
    case ConsoleConfig::Kind::simulated: {
      SimulatedConsoleConfig s;
      s.hostname = c.hostname;
      s.loginPassword = c.loginPassword;
      s.bootTime = c.bootTime;
      s.historyBytes = c.historyBytes;
      out.console = std::make_unique<SimulatedConsole>(timers, host, std::move(s));
      break;
    }
    case ConsoleConfig::Kind::pty: {
      auto pty = PtyConsole::open(io, PtyConsoleConfig{c.path, c.historyBytes});
      if (!pty) return pty.error();
      out.console = std::move(*pty);
      break;
    }
    case ConsoleConfig::Kind::socket: {
      SocketConsoleConfig s;
      s.path = c.path;
      s.host = c.host;
      s.port = c.port;
      s.listen = c.listen;
      s.historyBytes = c.historyBytes;
      auto sock = SocketConsole::create(io, timers, std::move(s));
      if (!sock) return sock.error();
      out.console = std::move(*sock);
      break;
    }
    case ConsoleConfig::Kind::command: {
      CommandConsoleConfig s;
      s.command = c.command;
      s.restart = c.restart;
      s.restartDelay = c.restartDelay;
      s.instance = instance;
      s.historyBytes = c.historyBytes;
      auto cmd = CommandConsole::start(io, timers, std::move(s));
      if (!cmd) return cmd.error();
      out.console = std::move(*cmd);
      break;
    }
  }
  if (!c.logFile.empty()) {
    auto log = ConsoleLog::open(*out.console, c.logFile, c.logMaxBytes);
    if (!log) return log.error();
    out.log = std::move(*log);
  }
  log::info("console bmc={} kind={} endpoint={}", instance, kindName(c.kind), out.console->endpoint());
  return out;
}

}  // namespace simbmc::sim
