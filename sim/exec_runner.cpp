#include "sim/exec_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/log.hpp"
#include "sim/spawn_setup.hpp"

extern char** environ;

namespace simbmc::sim {
namespace {

constexpr std::string_view kActionVar = "SIMBMC_ACTION=";
constexpr std::string_view kInstanceVar = "SIMBMC_INSTANCE=";
constexpr Millis kPollStep{10};
constexpr Millis kKillReapLimit{1000};

// The daemon's environment with our two variables replaced (a stale SIMBMC_ACTION inherited from a
// parent simbmcd must not leak through).
std::vector<std::string> childEnvironment(std::string_view action, std::string_view instance) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with(kActionVar) || entry.starts_with(kInstanceVar)) continue;
    env.emplace_back(entry);
  }
  env.push_back(std::string(kActionVar) + std::string(action));
  env.push_back(std::string(kInstanceVar) + std::string(instance));
  return env;
}

}  // namespace

ExecRunner::ExecRunner(std::string instance, Millis shutdownGrace)
    : instance_(std::move(instance)), shutdownGrace_(shutdownGrace) {}

pid_t ExecRunner::run(std::string_view action, const std::string& command) {
  if (command.empty()) return 0;

  SpawnSetup setup;
  if (int rc = setup.configure(std::nullopt)) {
    log::warn("exec setup failed instance={} action={} error={}", instance_, action, std::strerror(rc));
    return 0;
  }
  std::vector<std::string> env = childEnvironment(action, instance_);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh";
  std::string dashC = "-c";
  std::string cmd = command;
  char* argv[] = {shell.data(), dashC.data(), cmd.data(), nullptr};

  pid_t pid = 0;
  if (int rc = posix_spawn(&pid, shell.c_str(), setup.actions(), setup.attr(), argv, envp.data())) {
    log::warn("exec spawn failed instance={} action={} error={}", instance_, action, std::strerror(rc));
    return 0;
  }
  log::debug("exec started instance={} action={} pid={}", instance_, action, pid);
  children_.push_back(Child{pid, std::string(action)});
  return pid;
}

bool ExecRunner::tryReap(const Child& child, bool report) {
  int status = 0;
  pid_t rc;
  do {
    rc = waitpid(child.pid, &status, WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return false;
  if (rc < 0) {
    // ECHILD: someone else reaped it (or SIGCHLD is SIG_IGN); nothing left to track.
    log::warn("exec lost child instance={} action={} pid={} error={}", instance_, child.action,
              child.pid, std::strerror(errno));
    return true;
  }
  ExecResult result{child.pid, child.action, -1, 0};
  if (WIFEXITED(status)) result.exitCode = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (!report) return true;
  if (result.ok()) {
    log::debug("exec finished instance={} action={} pid={} status=0", instance_, child.action, child.pid);
  } else if (result.signal != 0) {
    log::warn("exec command failed instance={} action={} pid={} signal={}", instance_, child.action,
              child.pid, result.signal);
  } else {
    log::warn("exec command failed instance={} action={} pid={} status={}", instance_, child.action,
              child.pid, result.exitCode);
  }
  if (onExit_) onExit_(result);
  return true;
}

size_t ExecRunner::reap() {
  // Move out first: the exit handler may call run() and append to children_.
  std::vector<Child> pending;
  pending.swap(children_);
  size_t reaped = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (tryReap(pending[i], true)) {
      ++reaped;
    } else {
      children_.push_back(std::move(pending[i]));
    }
  }
  return reaped;
}

ExecRunner::~ExecRunner() {
  auto reapQuietly = [this] {
    std::erase_if(children_, [this](const Child& c) { return tryReap(c, false); });
  };
  reapQuietly();
  // Real sleeps are deliberate here: these are real processes, and this runs once at shutdown.
  for (Millis waited{0}; !children_.empty() && waited < shutdownGrace_; waited += kPollStep) {
    std::this_thread::sleep_for(kPollStep);
    reapQuietly();
  }
  if (children_.empty()) return;
  for (const Child& c : children_) {
    log::info("exec killing instance={} action={} pid={}", instance_, c.action, c.pid);
    // The child is unreaped, so its PID (and the group it leads) cannot have been reused.
    if (kill(-c.pid, SIGKILL) != 0) kill(c.pid, SIGKILL);
  }
  for (Millis waited{0}; !children_.empty() && waited < kKillReapLimit; waited += kPollStep) {
    reapQuietly();
    if (!children_.empty()) std::this_thread::sleep_for(kPollStep);
  }
  for (const Child& c : children_)
    log::warn("exec child not reaped instance={} action={} pid={}", instance_, c.action, c.pid);
}

}  // namespace simbmc::sim
