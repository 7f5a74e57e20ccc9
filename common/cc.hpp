// IPMI completion codes. IPMI v2.0 §5.2, Table 5-2 (generic codes).
// Command-specific codes (0x80..0xBE) are declared next to their command as `constexpr Cc{0x80}`.
#pragma once

#include <cstdint>

namespace simbmc {

enum class Cc : uint8_t {
  ok = 0x00,
  nodeBusy = 0xC0,
  invalidCommand = 0xC1,
  invalidForLun = 0xC2,
  timeout = 0xC3,
  outOfSpace = 0xC4,
  reservationCanceled = 0xC5,
  requestTruncated = 0xC6,
  invalidLength = 0xC7,
  lengthExceeded = 0xC8,
  parameterOutOfRange = 0xC9,
  cannotReturnRequestedBytes = 0xCA,
  notPresent = 0xCB,
  invalidField = 0xCC,
  illegalForSensorOrRecord = 0xCD,
  cannotRespond = 0xCE,
  duplicateRequest = 0xCF,
  sdrUpdateMode = 0xD0,
  firmwareUpdateMode = 0xD1,
  initInProgress = 0xD2,
  destinationUnavailable = 0xD3,
  insufficientPrivilege = 0xD4,
  notSupportedInState = 0xD5,
  subfunctionDisabled = 0xD6,
  unspecified = 0xFF,
};

constexpr uint8_t toByte(Cc cc) { return static_cast<uint8_t>(cc); }

}  // namespace simbmc
