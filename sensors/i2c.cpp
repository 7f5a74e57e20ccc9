#include "sensors/i2c.hpp"

#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace simbmc::sensors {

Result<std::vector<uint8_t>> LinuxI2cBus::readRegister(uint8_t address, uint8_t reg, size_t length) {
  if (length == 0 || length > 32 || address > 0x7F) {
    return makeError(Error::Kind::invalidArgument, "i2c read of an invalid address or length");
  }
  const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return makeError(Error::Kind::io, "cannot open " + path_ + ": " + std::strerror(errno));
  std::vector<uint8_t> data(length);
  uint8_t pointer = reg;
  i2c_msg msgs[2] = {};
  msgs[0].addr = address;
  msgs[0].flags = 0;
  msgs[0].len = 1;
  msgs[0].buf = &pointer;
  msgs[1].addr = address;
  msgs[1].flags = I2C_M_RD;
  msgs[1].len = static_cast<uint16_t>(length);
  msgs[1].buf = data.data();
  i2c_rdwr_ioctl_data xfer{msgs, 2};
  const int rc = ::ioctl(fd, I2C_RDWR, &xfer);
  const int err = errno;
  ::close(fd);
  if (rc < 0) {
    return makeError(Error::Kind::io, "i2c read " + path_ + " addr " + std::to_string(address) + ": " +
                                          std::strerror(err));
  }
  return data;
}

double lm75Celsius(uint8_t msb, uint8_t lsb) {
  const auto raw = static_cast<int16_t>((msb << 8) | lsb);
  // Left-aligned: 1/256 °C per unit of the 16-bit word whatever the resolution (unused bits are 0).
  return raw / 256.0;
}

double tmp102Celsius(uint8_t msb, uint8_t lsb) {
  const auto raw = static_cast<int16_t>((msb << 8) | lsb);
  // Extended mode (bit 0 set): 13 bits left-aligned in bits 15:3, so 1/128 °C per unit.
  return (lsb & 0x01) != 0 ? static_cast<int16_t>(raw & ~0x0007) / 128.0 : static_cast<int16_t>(raw & ~0x000F) / 256.0;
}

double ina219ShuntVolts(uint8_t msb, uint8_t lsb) {
  return static_cast<int16_t>((msb << 8) | lsb) * 10e-6;
}

double ina219BusVolts(uint8_t msb, uint8_t lsb) {
  const uint16_t raw = static_cast<uint16_t>((msb << 8) | lsb);
  return (raw >> 3) * 4e-3;
}

}  // namespace simbmc::sensors
