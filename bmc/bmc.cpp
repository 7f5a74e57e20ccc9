#include "bmc/bmc.hpp"

namespace simbmc::bmc {

Bmc::Bmc(BmcConfig config, const Clock& clock, TimerQueue& timers, HostControl& host, storage::StateStore* store)
    : config_(std::move(config)),
      clock_(clock),
      timers_(timers),
      host_(host),
      store_(store),
      users_(clock, store),
      chassis_(host, timers, store, config_.chassis) {}

Bmc::~Bmc() = default;

Result<void> Bmc::start() {
  if (auto r = users_.load(); !r) return r;
  if (auto r = chassis_.load(); !r) return r;
  registerAppCommands(*this);
  chassis_.registerCommands(registry_);
  return {};
}

}  // namespace simbmc::bmc
