// CommandConsole: the host console is a command the daemon runs (`/bin/sh -c <command>`): its stdout
// and stderr are console output, SOL input goes to its stdin. For a QEMU guest on `-serial stdio`, a
// script that replays a captured boot log, `cat` in tests.
//
// - The child's stdin, stdout and stderr are one end of an AF_UNIX stream socketpair (a socket, not a
//   pipe: a write after the child exits fails with EPIPE instead of raising SIGPIPE in the daemon).
//   Like ExecRunner's hooks it gets default signal dispositions, an empty signal mask, its own
//   process group, no other inherited descriptors (glibc >= 2.34) and SIMBMC_INSTANCE=<instance>.
// - The child is reaped with waitpid(pid, WNOHANG) from a TimerQueue poll (never waitpid(-1)). When
//   it has exited and its output is drained (EOF, or a short grace period when a grandchild keeps the
//   socket open), the restart policy decides: never, on-failure (exit status != 0 or a signal) or
//   always, after restartDelay. The command text is never logged (it may hold credentials).
// - The destructor closes the child's stdin (most commands end on EOF), then SIGTERMs and finally
//   SIGKILLs the child's process group, waiting a bounded real time (shutdownGrace, then about one
//   second) to reap it, as ExecRunner does.
//
// Single-threaded. The io_context and the TimerQueue must outlive this object.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <boost/asio/generic/stream_protocol.hpp>

#include "common/result.hpp"
#include "common/timer_queue.hpp"
#include "sim/console_stream.hpp"

namespace simbmc::sim {

enum class RestartPolicy { never, onFailure, always };

struct CommandConsoleConfig {
  std::string command;
  RestartPolicy restart = RestartPolicy::onFailure;
  Millis restartDelay{1000};
  Millis reapInterval{200};
  Millis drainGrace{500};
  Millis shutdownGrace{500};  // real time, in the destructor
  std::string instance;
  size_t historyBytes = kDefaultHistoryBytes;
};

class CommandConsole final : public StreamConsole<boost::asio::generic::stream_protocol::socket> {
 public:
  // Starts the command. Errors: an empty command, socketpair/posix_spawn failures.
  static Result<std::unique_ptr<CommandConsole>> start(boost::asio::io_context& io, TimerQueue& timers,
                                                       CommandConsoleConfig config);
  ~CommandConsole() override;

  std::string endpoint() const override { return "command"; }
  // The running child's PID, 0 between runs.
  pid_t pid() const { return pid_; }
  // How many times the command was started.
  uint64_t starts() const { return starts_; }
  // The last run's wait status (as from waitpid), once one ended.
  std::optional<int> lastStatus() const { return lastStatus_; }

 private:
  CommandConsole(boost::asio::io_context& io, TimerQueue& timers, CommandConsoleConfig config);
  Result<void> spawn();
  void schedulePoll();
  void poll();
  void maybeFinished();
  void scheduleRestart();
  void onClosed(const boost::system::error_code& ec) override;
  void cancel(TimerQueue::Id& id);

  TimerQueue& timers_;
  CommandConsoleConfig config_;
  pid_t pid_ = 0;
  bool exited_ = true;
  bool drained_ = true;
  uint64_t starts_ = 0;
  std::optional<int> lastStatus_;
  TimerQueue::Id pollTimer_ = 0;
  TimerQueue::Id drainTimer_ = 0;
  TimerQueue::Id restartTimer_ = 0;
};

}  // namespace simbmc::sim
