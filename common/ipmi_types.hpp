// Small IPMI vocabulary shared by net/ and bmc/: privilege levels, NetFn numbers, channel numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace simbmc {

// IPMI v2.0 §6.8 "Channel privilege levels", Table 22-28 encoding.
enum class Privilege : uint8_t {
  none = 0x00,  // "highest available" in requests; no access in limits
  callback = 0x01,
  user = 0x02,
  operator_ = 0x03,
  administrator = 0x04,
  oem = 0x05,
  noAccess = 0x0F,
};

constexpr bool atLeast(Privilege have, Privilege need) {
  if (have == Privilege::noAccess) return false;
  return static_cast<uint8_t>(have) >= static_cast<uint8_t>(need);
}
constexpr Privilege minPrivilege(Privilege a, Privilege b) {
  if (a == Privilege::noAccess || b == Privilege::noAccess) return Privilege::noAccess;
  return static_cast<uint8_t>(a) < static_cast<uint8_t>(b) ? a : b;
}
// Decodes a 4-bit privilege field; nullopt for reserved values.
std::optional<Privilege> privilegeFromByte(uint8_t v);
std::string_view privilegeName(Privilege p);
std::optional<Privilege> privilegeFromName(std::string_view name);

// IPMI v2.0 §5.1, Table 5-1. Request NetFns (responses are request | 1).
namespace netfn {
inline constexpr uint8_t chassis = 0x00;
inline constexpr uint8_t bridge = 0x02;
inline constexpr uint8_t sensorEvent = 0x04;
inline constexpr uint8_t app = 0x06;
inline constexpr uint8_t firmware = 0x08;
inline constexpr uint8_t storage = 0x0A;
inline constexpr uint8_t transport = 0x0C;
inline constexpr uint8_t groupExtension = 0x2C;
inline constexpr uint8_t oemGroup = 0x2E;
}  // namespace netfn

// IPMI v2.0 §6.3: channel 0x0E means "the channel this request arrived on"; 0x0F is the system interface.
inline constexpr uint8_t kCurrentChannel = 0x0E;
inline constexpr uint8_t kSystemInterfaceChannel = 0x0F;
inline constexpr uint8_t kBmcSlaveAddress = 0x20;

}  // namespace simbmc
