// Sensor Data Records for sensors (IPMI v2.0 §43): full sensor record 01h (Table 43-1) for
// threshold sensors, compact sensor record 02h (Table 43-2) for discrete sensors, event-only record
// 03h (Table 43-3) where configured. Each record is complete, 5-byte header included (SDR version
// 51h, record type, length of the rest); the record ID bytes are 0 for the repository to assign.
// The thresholds and hysteresis written are the sensor's current ones.
#pragma once

#include <cstdint>
#include <vector>

#include "sensors/sensor.hpp"

namespace simbmc::sensors {

inline constexpr uint8_t kSdrVersion = 0x51;
inline constexpr uint8_t kFullSensorRecord = 0x01;
inline constexpr uint8_t kCompactSensorRecord = 0x02;
inline constexpr uint8_t kEventOnlyRecord = 0x03;

// `ownerAddress` is the owner's 7-bit-shifted IPMB slave address byte (0x20 for the BMC), `lun`
// the owner LUN and `channel` its channel (0 = primary IPMB).
std::vector<uint8_t> encodeSdr(const Sensor& sensor, uint8_t ownerAddress = 0x20, uint8_t lun = 0,
                               uint8_t channel = 0);

}  // namespace simbmc::sensors
