// PowerUnit: the BMC's Power Unit sensor, the way a server BMC logs host power changes: sensor type
// 09h "Power Unit" with sensor-specific event/reading type 6Fh (IPMI v2.0 Table 42-3), owned by the
// BMC (owner 20h, LUN 0), described by a compact SDR (§43.2) so clients print its name.
//
// Its state follows the host (HostControl):
//   offset 00h "Power Off / Power Down"  asserted while the host is off (chassis power off, soft-off
//                                         completing, a power cycle's off phase, a watchdog power
//                                         down), deasserted when power returns;
//   offset 01h "Power Cycle"             asserted for the off phase of a power cycle (chassis control
//                                         or watchdog). Momentary: its deassertion is not an event
//                                         (the SDR's deassertion mask leaves it out).
// On a cycle the SEL therefore shows "Power off/down" and "Power cycle" asserted when power goes off
// and "Power off/down" deasserted when it returns.
//
// What the BMC did not see is not logged: the sensor starts from the host's power state as the
// previous run left it (ChassisService::previousPowerOn; on a first start, the host's state now), and
// its first reading, taken while the BMC starts and before the power restore policy has run, is that
// state too. So a restart that finds the host as it was logs nothing, a host that was on and stays
// off (restore policy "always off") logs "Power off/down" at the next poll, and a host the policy
// powers on from off logs the deassertion.
//
// The sensor itself lives in the SensorService like any configured sensor: Get Sensor Reading, Get
// Sensor Event Status, Set/Get Sensor Event Enable and Re-arm work on it, its settings persist, and
// its events reach the SEL through the same EventSink as every other sensor and the watchdog. This
// object feeds it: its source reads the host, and each host power transition makes the service
// re-read it at once, so an event carries the time of the transition, not of the next poll (the
// poll stays as a safety net for a cancelled cycle, which the host does not announce).
//
// Single-threaded (the io_context thread). `host` and `sensors` must outlive this object; the
// destructor makes its host listener inert.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bmc/host_control.hpp"
#include "bmc/sensor_event/sensor_service.hpp"
#include "common/result.hpp"
#include "sensors/sensor.hpp"

namespace simbmc::bmc {

struct PowerUnitConfig {
  bool enabled = true;
  // Unset: kDefaultNumber unless a configured sensor has it, else the highest free number.
  std::optional<uint8_t> number;
  std::string name = "Pwr Unit Status";  // the ID string ipmitool and ipmi-sel print (1..16 characters)

  static constexpr uint8_t kDefaultNumber = 0x80;
};

// Table 42-3, sensor type 09h.
inline constexpr uint8_t kSensorTypePowerUnit = 0x09;
inline constexpr uint8_t kPowerUnitPowerOff = 0x00;
inline constexpr uint8_t kPowerUnitPowerCycle = 0x01;

class PowerUnit {
 public:
  PowerUnit(HostControl& host, SensorService& sensors);
  ~PowerUnit();
  PowerUnit(const PowerUnit&) = delete;
  PowerUnit& operator=(const PowerUnit&) = delete;

  // Before SensorService::load(): adds the sensor (unless disabled) and starts following the host.
  // `configured` are the config's sensors, whose numbers it must not take; `previousPowerOn` the
  // host's state when the BMC last stopped (nullopt: unknown, start from the host's state now).
  // invalidArgument when an explicitly configured number is taken, the name is not 1..16
  // characters, or no number is free.
  Result<void> attach(const PowerUnitConfig& config, const std::vector<sensors::SensorConfig>& configured,
                      std::optional<bool> previousPowerOn = std::nullopt);

  // The sensor's number once attached.
  std::optional<uint8_t> number() const { return number_; }

  // The sensor's state for the host as it is now: bit 0 off, bit 1 in a power cycle's off phase.
  static uint16_t states(const HostControl& host);
  // The sensor's configuration (compact record, offsets 0 and 1, deassertion events for offset 0).
  static sensors::SensorConfig sensorConfig(uint8_t number, const std::string& name);

 private:
  HostControl& host_;
  SensorService& sensors_;
  std::optional<uint8_t> number_;
  // HostControl has no removeListener: the listener holds a weak reference and goes inert with us.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace simbmc::bmc
