// ChassisService: the Chassis NetFn (IPMI v2.0 §28) over the HostControl port: capabilities,
// status, control, identify, power restore policy, restart cause, POH counter and the system boot
// options (§28.12-28.13, Table 28-14). Settings that survive restart are written through to the
// StateStore before the reply (keys: chassis.restore_policy, chassis.boot.3/.4/.5); the host's power
// state (chassis.power_on) and POH total in seconds (chassis.poh_seconds, u64 LE, for
// HostPowerSim's initialPowerOnSeconds) are written when the host reports a transition.
// Single-threaded; `host`, `timers` and `store` (may be null: nothing persists) must outlive this.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "bmc/host_control.hpp"
#include "bmc/registry.hpp"
#include "common/result.hpp"
#include "common/timer_queue.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

struct ChassisConfig {
  uint8_t powerRestorePolicy = 0x02;  // 0 always off, 1 previous state, 2 always on (§28.8)
  bool identifySupported = true;
};

class ChassisService {
 public:
  ChassisService(HostControl& host, TimerQueue& timers, storage::StateStore* store, ChassisConfig config);
  ~ChassisService();
  ChassisService(const ChassisService&) = delete;
  ChassisService& operator=(const ChassisService&) = delete;

  // Restores persisted settings (restore policy, boot options, last power state).
  Result<void> load();
  void registerCommands(CommandRegistry& registry);

  uint8_t powerRestorePolicy() const;
  // Whether the host was on when the daemon last stopped (for "previous state" restore).
  bool wasPoweredOn() const;
  // The same, nullopt when no earlier run recorded it (a first start, or no store).
  std::optional<bool> previousPowerOn() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace simbmc::bmc
