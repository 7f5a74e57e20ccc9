#include "sim/console_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "sim/spawn_setup.hpp"

extern char** environ;

namespace simbmc::sim {
namespace {

using Generic = boost::asio::generic::stream_protocol;
constexpr Millis kPollStep{10};
constexpr Millis kKillReapLimit{1000};
constexpr std::string_view kInstanceVar = "SIMBMC_INSTANCE=";

std::string describe(int status) {
  if (WIFEXITED(status)) return "status=" + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal=" + std::to_string(WTERMSIG(status));
  return "status=?";
}

bool failed(int status) { return !WIFEXITED(status) || WEXITSTATUS(status) != 0; }

}  // namespace

CommandConsole::CommandConsole(boost::asio::io_context& io, TimerQueue& timers, CommandConsoleConfig config)
    : StreamConsole(io, config.historyBytes), timers_(timers), config_(std::move(config)) {}

Result<std::unique_ptr<CommandConsole>> CommandConsole::start(boost::asio::io_context& io, TimerQueue& timers,
                                                              CommandConsoleConfig config) {
  if (config.command.empty()) return makeError(Error::Kind::invalidArgument, "console command is empty");
  std::unique_ptr<CommandConsole> self(new CommandConsole(io, timers, std::move(config)));
  if (auto r = self->spawn(); !r) return r.error();
  return self;
}

CommandConsole::~CommandConsole() {
  cancel(pollTimer_);
  cancel(drainTimer_);
  cancel(restartTimer_);
  closeIo();  // the child's stdin sees EOF
  if (pid_ == 0 || exited_) return;
  auto reaped = [this] {
    int status = 0;
    pid_t rc;
    do {
      rc = ::waitpid(pid_, &status, WNOHANG);
    } while (rc < 0 && errno == EINTR);
    return rc != 0;  // exited, or not ours any more (ECHILD)
  };
  // Real sleeps are deliberate: a real process, once, at shutdown.
  auto waitFor = [&](Millis limit) {
    for (Millis waited{0}; waited < limit; waited += kPollStep) {
      if (reaped()) return true;
      std::this_thread::sleep_for(kPollStep);
    }
    return reaped();
  };
  if (waitFor(config_.shutdownGrace / 2)) return;
  // The child is unreaped, so its PID and the group it leads cannot have been reused.
  if (::kill(-pid_, SIGTERM) != 0) ::kill(pid_, SIGTERM);
  if (waitFor(config_.shutdownGrace / 2)) return;
  log::info("console command still running at shutdown instance={} pid={}: killing it", config_.instance, pid_);
  if (::kill(-pid_, SIGKILL) != 0) ::kill(pid_, SIGKILL);
  if (!waitFor(kKillReapLimit))
    log::warn("console command not reaped instance={} pid={}", config_.instance, pid_);
}

Result<void> CommandConsole::spawn() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return makeError(Error::Kind::io, std::string("console command: socketpair: ") + std::strerror(errno));
  SpawnSetup setup;
  if (int rc = setup.configure(sv[1])) {
    ::close(sv[0]);
    ::close(sv[1]);
    return makeError(Error::Kind::io, std::string("console command: spawn setup: ") + std::strerror(rc));
  }
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with(kInstanceVar)) env.emplace_back(*e);
  }
  env.push_back(std::string(kInstanceVar) + config_.instance);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", dashC = "-c", cmd = config_.command;
  char* argv[] = {shell.data(), dashC.data(), cmd.data(), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, shell.c_str(), setup.actions(), setup.attr(), argv, envp.data());
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    return makeError(Error::Kind::io, std::string("console command: spawn failed: ") + std::strerror(rc));
  }
  boost::system::error_code ec;
  stream().assign(Generic(AF_UNIX, 0), sv[0], ec);
  if (ec) ::close(sv[0]);
  else stream().non_blocking(true, ec);
  if (ec) {
    closeIo();
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return makeError(Error::Kind::io, "console command: " + ec.message());
  }
  pid_ = pid;
  exited_ = false;
  drained_ = false;
  ++starts_;
  log::info("console command started instance={} pid={}", config_.instance, pid_);
  startIo();
  schedulePoll();
  return {};
}

void CommandConsole::schedulePoll() {
  if (pollTimer_ != 0) return;
  pollTimer_ = timers_.scheduleAfter(config_.reapInterval, [this] {
    pollTimer_ = 0;
    poll();
  });
}

void CommandConsole::poll() {
  if (exited_) return;
  int status = 0;
  pid_t rc;
  do {
    rc = ::waitpid(pid_, &status, WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return schedulePoll();
  if (rc < 0) {
    log::warn("console command lost instance={} pid={}: {}", config_.instance, pid_, std::strerror(errno));
    status = 0xFF00;  // "exit status 255": unknown, treated as a failure
  }
  exited_ = true;
  lastStatus_ = status;
  if (failed(status)) log::warn("console command ended instance={} pid={} {}", config_.instance, pid_, describe(status));
  else log::info("console command ended instance={} pid={} {}", config_.instance, pid_, describe(status));
  if (!drained_) {
    // Output still buffered in the socket is read first; a grandchild holding the socket open
    // does not keep us waiting past the grace period.
    drainTimer_ = timers_.scheduleAfter(config_.drainGrace, [this] {
      drainTimer_ = 0;
      closeIo();
      drained_ = true;
      maybeFinished();
    });
    return;
  }
  maybeFinished();
}

void CommandConsole::onClosed(const boost::system::error_code&) {
  drained_ = true;
  maybeFinished();
  // Not exited yet (closed its output early): the poll keeps running and finishes the job.
}

void CommandConsole::maybeFinished() {
  if (!exited_ || !drained_ || pid_ == 0) return;
  cancel(drainTimer_);
  closeIo();
  const int status = lastStatus_.value_or(0);
  pid_ = 0;
  const bool restart = config_.restart == RestartPolicy::always ||
                       (config_.restart == RestartPolicy::onFailure && failed(status));
  if (restart) scheduleRestart();
}

void CommandConsole::scheduleRestart() {
  if (restartTimer_ != 0) return;
  restartTimer_ = timers_.scheduleAfter(config_.restartDelay, [this] {
    restartTimer_ = 0;
    if (auto r = spawn(); !r) {
      log::warn("console command restart failed instance={}: {}", config_.instance, r.error().message);
      scheduleRestart();
    }
  });
}

void CommandConsole::cancel(TimerQueue::Id& id) {
  if (id != 0) timers_.cancel(id);
  id = 0;
}

}  // namespace simbmc::sim
