#include "common/ipmi_types.hpp"

namespace simbmc {

std::optional<Privilege> privilegeFromByte(uint8_t v) {
  switch (v) {
    case 0x00: return Privilege::none;
    case 0x01: return Privilege::callback;
    case 0x02: return Privilege::user;
    case 0x03: return Privilege::operator_;
    case 0x04: return Privilege::administrator;
    case 0x05: return Privilege::oem;
    case 0x0F: return Privilege::noAccess;
    default: return std::nullopt;
  }
}

std::string_view privilegeName(Privilege p) {
  switch (p) {
    case Privilege::none: return "none";
    case Privilege::callback: return "callback";
    case Privilege::user: return "user";
    case Privilege::operator_: return "operator";
    case Privilege::administrator: return "administrator";
    case Privilege::oem: return "oem";
    case Privilege::noAccess: return "no_access";
  }
  return "?";
}

std::optional<Privilege> privilegeFromName(std::string_view name) {
  if (name == "callback") return Privilege::callback;
  if (name == "user") return Privilege::user;
  if (name == "operator") return Privilege::operator_;
  if (name == "administrator" || name == "admin") return Privilege::administrator;
  if (name == "oem") return Privilege::oem;
  if (name == "no_access" || name == "noaccess") return Privilege::noAccess;
  return std::nullopt;
}

}  // namespace simbmc
