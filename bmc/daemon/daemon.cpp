#include "bmc/daemon/daemon.hpp"

#include <cstdlib>

#include "common/log.hpp"

namespace simbmc::daemon {

Daemon::Daemon() {
  timers_.setOnChange([this] { armTimer(); });
}

Daemon::~Daemon() = default;

std::string defaultStateRoot() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/simbmc";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.local/state/simbmc";
  return "/var/lib/simbmc";
}

Result<void> Daemon::start(const DaemonConfig& config, const std::vector<UserOverride>& overrides) {
  for (const InstanceConfig& ic : config.instances) {
    auto instance = Instance::create(io_, timers_, clock_, ic, instances_.empty() ? overrides : std::vector<UserOverride>{});
    if (!instance) return instance.error();
    instances_.push_back(std::move(*instance));
  }
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("stopping signal={}", sig);
    for (auto& i : instances_) i->shutdown();
    io_.stop();
  });
  tick();
  armTimer();
  return {};
}

void Daemon::armTimer() {
  auto next = timers_.nextDeadline();
  if (!next || (armedFor_ && *armedFor_ <= *next)) return;
  armedFor_ = *next;
  timer_.expires_at(*next);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    armedFor_.reset();
    timers_.runDue();
    armTimer();
  });
}

void Daemon::tick() {
  for (auto& i : instances_) i->housekeeping();
  housekeeping_.expires_after(std::chrono::seconds(1));
  housekeeping_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

int Daemon::run() {
  io_.run();
  return 0;
}

}  // namespace simbmc::daemon
