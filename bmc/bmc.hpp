// Bmc: one BMC instance's service side: identity, users, LAN channel settings, chassis, and the
// command registry all handlers are registered in. Built by the daemon with its ports (HostControl)
// and store; owns no sockets. One per simulated server; nothing here is global.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "bmc/app/watchdog.hpp"
#include "bmc/chassis/chassis.hpp"
#include "bmc/chassis/power_unit.hpp"
#include "bmc/host_console.hpp"
#include "bmc/host_control.hpp"
#include "bmc/lan_config.hpp"
#include "bmc/registry.hpp"
#include "bmc/sensor_event/sensor_service.hpp"
#include "bmc/storage/fru.hpp"
#include "bmc/storage/sdr.hpp"
#include "bmc/storage/sel.hpp"
#include "bmc/transport/sol.hpp"
#include "bmc/users.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "net/channel_security.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

// Get Device ID fields, IPMI v2.0 §20.1 Table 20-2.
struct Identity {
  uint8_t deviceId = 0x20;
  uint8_t deviceRevision = 0x01;
  uint8_t firmwareMajor = 1;       // 7 bits
  uint8_t firmwareMinor = 0x00;    // BCD
  uint32_t manufacturerId = 0;     // 20-bit IANA enterprise number
  uint16_t productId = 0;
  std::array<uint8_t, 4> auxFirmware{};
  std::array<uint8_t, 16> deviceGuid{};
  std::array<uint8_t, 16> systemGuid{};
  std::string systemName = "simbmc";
  std::string firmwareVersion = "1.00";
};

struct BmcConfig {
  Identity identity;
  net::ChannelSecurity lan;   // the LAN channel (channel 1)
  LanIdentity lanIdentity;    // what LAN configuration parameters 3, 5, 6 report
  bool allowInsecure = false; // lab mode: weak auth types may be enabled over IPMI too
  ChassisConfig chassis;
  PowerUnitConfig powerUnit;   // the BMC's Power Unit sensor ([bmc.power] power_unit*)
  std::vector<sensors::SensorConfig> sensors;  // [[bmc.sensor]]
  SelConfig sel;               // System Event Log ([bmc.sel]; the daemon sets its path)
  SdrConfig sdr;               // SDR repository (the daemon sets its path)
  std::vector<FruConfig> fru;  // FRU inventory devices ([[bmc.fru]])
  SolConfig sol;               // Serial over LAN ([bmc.sol])
};

class Bmc {
 public:
  Bmc(BmcConfig config, const Clock& clock, TimerQueue& timers, HostControl& host, storage::StateStore* store);
  ~Bmc();

  // Loads persisted state (users, settings) and registers every handler.
  Result<void> start();

  CommandRegistry& registry() { return registry_; }
  UserDb& users() { return users_; }
  net::ChannelSecurity& lan() { return config_.lan; }
  const Identity& identity() const { return config_.identity; }
  ChassisService& chassis() { return chassis_; }
  LanConfig& lanConfig() { return lanConfig_; }
  SelService& sel() { return sel_; }
  // Where platform events go (sensors, watchdog, chassis, Platform Event Message): the SEL.
  EventSink& events() { return sel_; }
  // Sensors and the Sensor/Event NetFn (IPMI v2.0 §29-30, §35).
  SensorService& sensors() { return sensors_; }
  FruService& fru() { return fru_; }
  // The SDR repository and the device SDRs (IPMI v2.0 §33, §35.2-35.4).
  SdrService& sdr() { return sdr_; }
  // The Power Unit sensor that logs host power changes (its number once started).
  const PowerUnit& powerUnit() const { return powerUnit_; }
  // Serial over LAN: SOL parameters, payload commands; the LAN channel's payload handler.
  SolService& sol() { return sol_; }
  // System info parameters 1..7 as block images (encoding, length, characters).
  std::map<uint8_t, Bytes>& systemInfo() { return systemInfo_; }
  const Clock& clock() const { return clock_; }
  TimerQueue& timers() { return timers_; }
  HostControl& host() { return host_; }
  storage::StateStore* store() { return store_; }

  // Mutable App-level state.
  struct AppState {
    uint8_t globalEnables = 0x0C;    // event message buffer + SEL logging enabled (§22.2)
    uint8_t messageFlags = 0x00;
    uint8_t acpiSystem = 0x00;       // S0/G0
    uint8_t acpiDevice = 0x00;       // D0
    uint8_t sysInfoSetInProgress = 0x00;
  };
  AppState& app() { return app_; }

  // The BMC watchdog timer (IPMI v2.0 §27; volatile state).
  Watchdog& watchdog() { return watchdog_; }
  // The host's serial console (SOL attaches here); null when the instance has none. Owned by the
  // composition root, which sets it before start() and keeps it alive longer than this Bmc.
  HostConsole* console() { return console_; }
  void setConsole(HostConsole* console) { console_ = console; }

 private:
  BmcConfig config_;
  const Clock& clock_;
  TimerQueue& timers_;
  HostControl& host_;
  storage::StateStore* store_;
  CommandRegistry registry_;
  UserDb users_;
  ChassisService chassis_;
  LanConfig lanConfig_;
  SelService sel_;
  SensorService sensors_;  // after sel_: its events go there
  PowerUnit powerUnit_;    // after sensors_: feeds its Power Unit sensor
  FruService fru_;
  SdrService sdr_;
  std::map<uint8_t, Bytes> systemInfo_;
  AppState app_;
  Watchdog watchdog_;  // after app_: it keeps a reference to app_.messageFlags
  HostConsole* console_ = nullptr;
  SolService sol_;  // reads console_ at each activation
};

// Registration functions, one per NetFn folder.
void registerAppCommands(Bmc& bmc);
void registerSystemInfo(Bmc& bmc);

}  // namespace simbmc::bmc
