// ExecRunner: runs the user's hook commands for host power actions (for example `virsh start vm1`
// when a client sends Chassis Control "power up"), so a simulated BMC can drive a real VM or a lab
// power switch.
//
// Contract:
// - run() starts `/bin/sh -c <command>` with posix_spawn and returns at once; it never waits for the
//   child. The child gets stdin from /dev/null, the daemon's stdout/stderr, no other inherited file
//   descriptors (glibc >= 2.34), default signal dispositions, an empty signal mask, its own process
//   group, and the environment of the daemon plus SIMBMC_ACTION=<action> and
//   SIMBMC_INSTANCE=<instance>.
// - reap() collects finished children with waitpid(pid, WNOHANG) on the PIDs this runner started
//   (never waitpid(-1), so several runners and other code in the process do not steal each other's
//   children). The owner calls it periodically (the daemon from its timer). A failed command is
//   logged as a warning with its exit status; the command text is never logged (it may hold
//   credentials).
// - The destructor reaps what has finished, gives the rest a bounded grace period (real time: these
//   are real processes), then SIGKILLs the process group of each child still running and reaps it.
//   It never waits longer than shutdownGrace + about one second in total; a child that still cannot be
//   reaped then (uninterruptible sleep) is logged and left to init.
// Single-threaded (the io_context thread). Not copyable or movable: it owns the children.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"

namespace simbmc::sim {

// How a child ended: exitCode is set when it exited (signal == 0), signal when a signal killed it
// (exitCode == -1).
struct ExecResult {
  pid_t pid = 0;
  std::string action;
  int exitCode = -1;
  int signal = 0;
  bool ok() const { return signal == 0 && exitCode == 0; }
};

class ExecRunner {
 public:
  explicit ExecRunner(std::string instance, Millis shutdownGrace = Millis{500});
  ~ExecRunner();
  ExecRunner(const ExecRunner&) = delete;
  ExecRunner& operator=(const ExecRunner&) = delete;

  // Starts `command` for `action` (a short word: on, off, cycle, reset, soft, diag). Returns the
  // child's PID, or 0 when `command` is empty (nothing to do) or the spawn failed (logged).
  pid_t run(std::string_view action, const std::string& command);

  // Reaps finished children without blocking. Returns how many were reaped.
  size_t reap();

  // Children started and not yet reaped.
  size_t running() const { return children_.size(); }
  const std::string& instance() const { return instance_; }

  // Called from reap() for each finished child (not from the destructor).
  using ExitHandler = std::function<void(const ExecResult&)>;
  void setExitHandler(ExitHandler handler) { onExit_ = std::move(handler); }

 private:
  struct Child {
    pid_t pid;
    std::string action;
  };
  // Returns true when the child is gone (reaped, or unknown to the kernel as our child).
  bool tryReap(const Child& child, bool report);

  std::string instance_;
  Millis shutdownGrace_;
  std::vector<Child> children_;
  ExitHandler onExit_;
};

}  // namespace simbmc::sim
