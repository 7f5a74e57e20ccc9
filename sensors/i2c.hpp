// I2C register access for sensor chips, behind an interface tests fake.
//
// I2cBus reads `length` bytes from register `reg` of the 7-bit `address` (a write of the register
// pointer followed by a repeated-start read, as SMBus "read word/block" does). LinuxI2cBus does it
// with one I2C_RDWR ioctl on /dev/i2c-N. The decoders turn register contents into values:
//   LM75 / TMP102: temperature register 0x00, 16-bit big-endian two's complement, left-aligned
//     (LM75: 9 or 11 bits, TMP102: 12 bits, or 13 bits in extended mode flagged by bit 0).
//   INA219: shunt voltage register 0x01 (signed, 10 uV per count), bus voltage register 0x02
//     (bits 15:3, 4 mV per count); current = shunt voltage / shunt resistance (no calibration
//     register needed), power = bus voltage * current.
// Blocking: called on the hub's worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace simbmc::sensors {

class I2cBus {
 public:
  virtual ~I2cBus() = default;
  virtual Result<std::vector<uint8_t>> readRegister(uint8_t address, uint8_t reg, size_t length) = 0;
};

// /dev/i2c-<bus>; the device node is opened per read, so a bus that appears later (module loaded,
// hot-plugged mux) starts working without a restart.
class LinuxI2cBus final : public I2cBus {
 public:
  explicit LinuxI2cBus(std::string devicePath) : path_(std::move(devicePath)) {}
  Result<std::vector<uint8_t>> readRegister(uint8_t address, uint8_t reg, size_t length) override;

 private:
  std::string path_;
};

// Degrees Celsius from an LM75/TMP102 temperature register (two bytes, MSB first).
double lm75Celsius(uint8_t msb, uint8_t lsb);
double tmp102Celsius(uint8_t msb, uint8_t lsb);
// INA219 registers (two bytes, MSB first) in volts.
double ina219ShuntVolts(uint8_t msb, uint8_t lsb);
double ina219BusVolts(uint8_t msb, uint8_t lsb);

}  // namespace simbmc::sensors
