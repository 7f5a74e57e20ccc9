// [[bmc.sensor]] tables -> sensors::SensorConfig (the reference is README.md "Sensors").
// Every problem is reported, each naming the table (bmc[0].sensor[2].thresholds.uc: ...); a sensor
// is also checked the way the BMC will build it (range, thresholds, source settings), so a config
// that parses starts.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "sensors/sensor.hpp"

namespace simbmc::daemon {

void parseSensors(const toml::array& tables, std::vector<sensors::SensorConfig>& out, const std::string& where,
                  std::vector<std::string>& errors);

}  // namespace simbmc::daemon
