#include "bmc/bmc.hpp"

#include "common/log.hpp"

namespace simbmc::bmc {

Bmc::Bmc(BmcConfig config, const Clock& clock, TimerQueue& timers, HostControl& host, storage::StateStore* store)
    : config_(std::move(config)),
      clock_(clock),
      timers_(timers),
      host_(host),
      store_(store),
      users_(clock, store),
      chassis_(host, timers, store, config_.chassis),
      lanConfig_(config_.lan, users_, store, config_.allowInsecure, config_.lanIdentity),
      sel_(clock, config_.sel),
      sensors_(config_.sensors, timers, store),
      powerUnit_(host, sensors_),
      fru_(config_.fru, store),
      sdr_(clock, config_.sdr),
      watchdog_(timers, host, app_.messageFlags, {}, store),
      sol_(timers, users_, store, config_.lan, [this] { return console_; }, config_.sol) {
  // SOL payloads end when the access that allowed them is revoked (bmc/transport/sol.hpp).
  users_.addObserver([this](uint8_t) { sol_.enforceAccess(); });
  lanConfig_.setAccessObserver([this] { sol_.enforceAccess(); });
}

Bmc::~Bmc() = default;

Result<void> Bmc::start() {
  // The SEL first: a corrupt sel.db refuses the start before the chassis records the host's state
  // as this run found it (the next start would take that for the previous run's).
  if (auto r = sel_.open(config_.sel.path); !r) return r;
  if (auto r = users_.load(); !r) return r;
  if (auto r = chassis_.load(); !r) return r;
  if (auto r = lanConfig_.load(); !r) return r;
  sensors_.setEventSink(&events());
  if (auto r = powerUnit_.attach(config_.powerUnit, config_.sensors, chassis_.previousPowerOn()); !r) return r;
  // A client's new thresholds, hysteresis or sensor type reach the SDR repository before the reply.
  // The repository keeps the values on disk; if that write fails the start-up pass below catches up
  // from the settings store.
  sensors_.setSdrListener([this](const Bytes& record) {
    if (auto r = sdr_.updateSensorRecords({record}); !r) {
      log::warn("sdr: sensor record not updated (repaired at the next start): {}", r.error().message);
    }
  });
  if (auto r = sensors_.load(); !r) return r;
  if (auto r = fru_.load(); !r) return r;
  if (auto r = sol_.load(); !r) return r;
  if (auto r = watchdog_.load(); !r) return r;
  if (store_ != nullptr) {
    auto saved = store_->scan("sysinfo.");
    if (!saved) return saved.error();
    for (const auto& [key, value] : *saved) {
      const int param = std::atoi(key.c_str() + 8);
      if (param >= 1 && param <= 7 && value.size() >= 2) systemInfo_[static_cast<uint8_t>(param)] = value;
    }
  }
  registerAppCommands(*this);
  registerSystemInfo(*this);
  chassis_.registerCommands(registry_);
  lanConfig_.registerCommands(registry_);
  sel_.registerCommands(registry_);
  sensors_.registerCommands(registry_);
  fru_.registerCommands(registry_);
  watchdog_.setEventSink(&events());
  watchdog_.registerCommands(registry_);
  // The watchdog's "Watchdog 2" sensor, answered in front of the SensorService's (watchdog.hpp).
  std::vector<std::pair<uint8_t, uint8_t>> served;  // (number, sensor type)
  if (const sensors::SensorHub* hub = sensors_.hub()) {
    for (const sensors::Sensor* s : hub->sensors()) served.emplace_back(s->number(), s->sensorType());
  }
  const auto watchdogSensor = chooseWatchdogSensor(served, watchdog_.sensorNumber());
  if (!watchdogSensor) return makeError(Error::Kind::invalidArgument, "no sensor number left for the watchdog");
  watchdog_.attachSensor(registry_, watchdogSensor->number);
  sol_.registerCommands(registry_);
  // The SDR repository last: its MC locator record reports what everything above registered.
  sdr_.registerCommands(registry_);
  // The generated records carry the configured thresholds and types (so a restart after a client
  // changed some is not a config change); the restored ones are then written into the sensors' records.
  std::vector<Bytes> generated = sensors_.configuredSdrs();
  if (watchdogSensor->generateRecord) generated.push_back(watchdog_.sensorRecord());
  return startSdrRepository(*this, std::move(generated), sensors_.sensorSdrs());
}

}  // namespace simbmc::bmc
