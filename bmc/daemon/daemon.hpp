// Daemon: the composition root's runtime: one io_context thread, one TimerQueue driven by one
// steady_timer, every configured Instance, a once-a-second housekeeping tick, SIGINT/SIGTERM.
#pragma once

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "bmc/daemon/config.hpp"
#include "bmc/daemon/instance.hpp"
#include "common/timer_queue.hpp"

namespace simbmc::daemon {

class Daemon {
 public:
  Daemon();
  ~Daemon();
  // Creates every instance; stops at the first that fails (the message names it).
  Result<void> start(const DaemonConfig& config, const std::vector<UserOverride>& overrides);
  // Runs until SIGINT/SIGTERM, then shuts every instance down. Returns the exit code.
  int run();

 private:
  void armTimer();
  void tick();

  boost::asio::io_context io_;
  SystemClock clock_;
  TimerQueue timers_{clock_};
  boost::asio::steady_timer timer_{io_};
  boost::asio::steady_timer housekeeping_{io_};
  boost::asio::signal_set signals_{io_, SIGINT, SIGTERM};
  std::optional<SteadyTime> armedFor_;
  std::vector<std::unique_ptr<Instance>> instances_;
};

// <XDG_STATE_HOME or ~/.local/state>/simbmc, or /var/lib/simbmc without a home directory.
std::string defaultStateRoot();

}  // namespace simbmc::daemon
