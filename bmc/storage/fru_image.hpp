// FRU inventory images: a builder from field values and a parser/validator for raw images, per the
// IPMI Platform Management FRU Information Storage Definition v1.0 rev 1.3 ("FRU spec" below).
//
// Image layout (FRU spec §8): an 8-byte common header, then the chassis info area (§10), board info
// area (§11), product info area (§12), each a multiple of 8 bytes with a zero checksum, then the
// multirecord area (§16): records with a 5-byte header, the last one flagged end-of-list.
// Pure functions on values: no I/O, no state, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "net/wire.hpp"

namespace simbmc::bmc {

using net::ByteView;
using net::Bytes;

// FRU spec §13: a type/length byte counts at most 63 data bytes.
inline constexpr size_t kFruFieldMaxBytes = 63;
// §8: area offsets and §10-§12 area lengths are one byte in multiples of 8.
inline constexpr size_t kFruMaxAreaBytes = 255 * 8;
// §16.1: a multirecord's data length is one byte.
inline constexpr size_t kFruMaxRecordBytes = 255;

// §10, Table 10-1. `type` is the SMBIOS chassis type (0x17 = rack mount chassis).
struct FruChassisInfo {
  uint8_t type = 0x17;
  std::string partNumber;
  std::string serial;
  std::vector<std::string> custom;
  bool operator==(const FruChassisInfo&) const = default;
};

// §11, Table 11-1. Strings are UTF-8 here and Latin-1 in the image; language code 0 is English (§15).
struct FruBoardInfo {
  uint8_t language = 0;
  uint32_t mfgMinutes = 0;  // minutes since 1996-01-01 00:00 UTC, 24 bits; 0 = unspecified
  std::string manufacturer;
  std::string product;
  std::string serial;
  std::string partNumber;
  std::string fileId;
  std::vector<std::string> custom;
  bool operator==(const FruBoardInfo&) const = default;
};

// §12, Table 12-1.
struct FruProductInfo {
  uint8_t language = 0;
  std::string manufacturer;
  std::string name;
  std::string partNumber;  // "part/model number"
  std::string version;
  std::string serial;
  std::string assetTag;
  std::string fileId;
  std::vector<std::string> custom;
  bool operator==(const FruProductInfo&) const = default;
};

// One multirecord (§16.1): its type ID and data; the builder adds the header and checksums.
struct FruRecord {
  uint8_t type = 0;
  Bytes data;
  bool operator==(const FruRecord&) const = default;
};

// Multirecord type IDs, §16.1 Table 16-2.
namespace fruRecordType {
inline constexpr uint8_t powerSupply = 0x00;
inline constexpr uint8_t dcOutput = 0x01;
inline constexpr uint8_t dcLoad = 0x02;
inline constexpr uint8_t managementAccess = 0x03;
inline constexpr uint8_t firstOem = 0xC0;
}  // namespace fruRecordType

// Power Supply Information record, §18.1 Table 18-1. Voltages in 10 mV units as in the record.
struct FruPowerSupply {
  uint16_t capacityWatts = 0;       // 12 bits
  uint16_t peakVa = 0xFFFF;         // 0xFFFF = not specified
  uint8_t inrushCurrentAmps = 0xFF; // 0xFF = not specified
  uint8_t inrushIntervalMs = 0;
  uint16_t inputLow1 = 0;           // 10 mV
  uint16_t inputHigh1 = 0;
  uint16_t inputLow2 = 0;           // 0 when single range
  uint16_t inputHigh2 = 0;
  uint8_t frequencyLowHz = 0;
  uint8_t frequencyHighHz = 0;
  uint8_t dropoutToleranceMs = 0;
  bool predictiveFail = false;
  bool powerFactorCorrection = false;
  bool autoswitch = false;
  bool hotSwap = false;
  bool tachometerTwoPulses = false;  // bit 4: pulses per rotation / predictive fail polarity
  uint16_t peakCapacityWatts = 0;    // 12 bits
  uint8_t holdUpSeconds = 0;         // 4 bits
  uint8_t combinedVoltage1 = 0;      // 4 bits: 0 = 12 V, 1 = -12 V, 2 = 5 V, 3 = 3.3 V
  uint8_t combinedVoltage2 = 0;
  uint16_t combinedWatts = 0;
  uint8_t tachometerLowerRps = 0;
};
FruRecord powerSupplyRecord(const FruPowerSupply& ps);

// Management Access Record sub-record types, §18.4 Table 18-6.
namespace fruManagementAccess {
inline constexpr uint8_t systemUrl = 0x01;
inline constexpr uint8_t systemName = 0x02;
inline constexpr uint8_t systemPingAddress = 0x03;
inline constexpr uint8_t componentUrl = 0x04;
inline constexpr uint8_t componentName = 0x05;
inline constexpr uint8_t componentPingAddress = 0x06;
inline constexpr uint8_t systemUniqueId = 0x07;
}  // namespace fruManagementAccess
// §18.4: sub-record type, then the value: ASCII text (URLs 16..256 bytes, names and ping addresses
// 8..64 bytes) or the 16 GUID bytes of the system unique ID. invalidArgument for another sub-record
// type or length, or a record over 255 bytes.
Result<FruRecord> managementAccessRecord(uint8_t subType, ByteView value);
// §18.7: OEM records (type 0xC0..0xFF) start with the 3-byte IANA manufacturer ID, LS byte first.
FruRecord oemRecord(uint8_t type, uint32_t manufacturerId, ByteView data);

struct FruContents {
  std::optional<FruChassisInfo> chassis;
  std::optional<FruBoardInfo> board;
  std::optional<FruProductInfo> product;
  std::vector<FruRecord> records;
  bool operator==(const FruContents&) const = default;
};

// The type/length byte and data of one text field (§13): empty -> C0h; one character -> 6-bit ASCII
// packed (81h + 1 byte), because an 8-bit field of length 1 would be C1h, the end-of-fields marker;
// otherwise 8-bit ASCII + Latin-1 (C0h | length). Fails (invalidArgument) for more than 63 bytes,
// a code point above U+00FF, a lone character outside 6-bit ASCII (space to '_'), or invalid UTF-8.
Result<Bytes> encodeFruField(std::string_view utf8);

// The whole image: common header, then the configured areas in the order chassis, board, product,
// multirecord. Fails (invalidArgument, naming the field) when a field cannot be encoded, an area is
// longer than 2040 bytes, a record longer than 255 bytes or an area would start past offset 2040.
// An image with no area at all is just the common header.
Result<Bytes> buildFruImage(const FruContents& contents);

// Minutes since 1996-01-01 00:00 UTC (§11 "Mfg. Date/Time") for an ISO 8601 / RFC 3339 date-time:
// "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM|-HH:MM]" (space allowed for 'T'; no offset means UTC; seconds are
// dropped). nullopt for a malformed text or a time outside 1996-01-01 00:01 .. the 24-bit limit
// (2027-11-24 20:15 UTC).
std::optional<uint32_t> fruMinutesFromDateTime(std::string_view text);
// Unix seconds of a Mfg. Date/Time value.
constexpr int64_t fruMinutesToUnix(uint32_t minutes) { return 820454400 + int64_t{minutes} * 60; }

// What a parse found. Field strings are decoded to UTF-8 (binary fields as "01h 02h" hex, as
// FreeIPMI prints them). `problems` lists every violation of the FRU spec, one readable line each;
// an empty list means the image is well formed.
struct ParsedFru {
  FruContents contents;
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};
// Never fails: a damaged image yields what could be read plus the problems. Reads only `image`.
ParsedFru parseFruImage(ByteView image);

// Zero checksum (§8, §10-§12, §16): the byte that makes the sum of `data` and itself 0 mod 256.
uint8_t fruChecksum(ByteView data);

}  // namespace simbmc::bmc
