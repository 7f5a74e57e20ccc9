// SdrService: the SDR repository device (IPMI v2.0 §33, Storage NetFn 0x20-0x2C) and the device SDR
// commands of the Sensor/Event NetFn (§35.2-35.4, 0x20-0x22), over a storage::SdrStore.
//
// Records: the generated ones (this controller's own: its MC device locator, one FRU device locator
// per FRU device, the sensors' records, in that order) are the device SDRs, served read-only by the
// Sensor/Event commands with IDs 1..N. They also initialize the repository (SdrStore::setGenerated:
// installed when the config changed, otherwise the repository stays as clients left it). Records added
// over IPMI persist in the repository; every write commits before its reply.
//
// Reservations (§33.11): one current reservation for the repository; Reserve SDR Repository
// replaces it, and Add, Partial Add (when a record completes), Delete and Clear cancel it. Get SDR
// checks it only for reads at a non-zero offset (0xC5). Device SDRs have their own reservation,
// cancelled by the next Reserve Device SDR Repository and when a sensor's record changes.
//
// Get Device SDR Info (§35.2) reports a dynamic sensor population: the device SDRs change at run time
// (below). Its change indicator is the repository-clock time they last changed, kept in the store
// (SdrStore::deviceSdrChange), so it never repeats or goes backwards, across restarts too (only Set
// SDR Repository Time can set it back), and a restart that serves the same records leaves it alone.
//
// Get SDR / Get Device SDR return min(count, bytes left in the record) bytes, 0xFF meaning "to the
// end"; when that exceeds maxReadCount the reply is 0xCA (cannot return the requested number of
// bytes) and clients retry with smaller chunks. Single-threaded (the io_context thread).
//
// Thresholds, hysteresis and sensor types clients set (Set Sensor Thresholds / Hysteresis / Type) are
// written into the sensors' records as they change (updateSensorRecords), and again at start-up from
// the restored values, while the generated set that identifies the config keeps the configured values:
// a restart leaves the repository (and its timestamps) as clients left it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bmc/registry.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "storage/sdr_store.hpp"

namespace simbmc::bmc {

// IPMI v2.0 §43.9, Table 43-8: Management Controller Device Locator record (type 12h).
struct McLocator {
  uint8_t slaveAddress = kBmcSlaveAddress;  // 8-bit form (bit 0 zero)
  uint8_t channel = 0;                      // 0 = primary IPMB
  bool staticController = true;             // byte 8 bit 5 (ipmitool: "Static MC")
  uint8_t capabilities = 0;                 // byte 9, device capabilities (same bits as Get Device ID byte 6)
  uint8_t entityId = 0x06;                  // Table 43-13: system management module
  uint8_t entityInstance = 0x01;
  std::string name;  // device ID string, at most 16 bytes are used
};

// IPMI v2.0 §43.7, Table 43-7: FRU Device Locator record (type 11h) for a logical FRU device behind
// this controller (read with Read FRU Data to `accessAddress`, FRU device `deviceId`).
struct FruLocator {
  uint8_t deviceId = 0;
  uint8_t accessAddress = kBmcSlaveAddress;  // 8-bit form of the controller's slave address
  uint8_t channel = 0;
  uint8_t deviceType = 0x10;          // Table 43-12: FRU inventory device behind management controller
  uint8_t deviceTypeModifier = 0x00;  // 00h: IPMI FRU inventory
  uint8_t entityId = 0x07;            // Table 43-13: system board
  uint8_t entityInstance = 0x01;
  std::string name;
};

Bytes mcLocatorRecord(const McLocator& mc);
Bytes fruLocatorRecord(const FruLocator& fru);

// Get Device ID byte 6 "additional device support" (Table 20-2), derived from what is registered so
// that Get Device ID and the MC locator always agree with the commands actually implemented:
// sensor device (Get Sensor Reading), SDR repository (Get SDR Repository Info), SEL (Get SEL Info),
// FRU inventory (Get FRU Inventory Area Info), IPMB event receiver (Platform Event Message), IPMB
// event generator (Set Event Receiver), bridge (Get Bridge State), chassis (Get Chassis Capabilities).
uint8_t additionalDeviceSupport(const CommandRegistry& registry);

struct SdrConfig {
  // Largest data count one Get SDR reply carries: the whole reply must fit one IPMI message of the
  // smallest framing in use (IPMI 1.5 LAN: 255-byte message, 8 bytes of which are not data, and the
  // 2-byte next record ID).
  static constexpr uint8_t kDefaultMaxReadCount = 245;
  std::string path = ":memory:";  // state-dir/sdr.db in the daemon
  uint16_t units = storage::SdrStore::kDefaultUnits;
  uint8_t maxReadCount = kDefaultMaxReadCount;
};

class Bmc;

class SdrService {
 public:
  SdrService(const Clock& clock, SdrConfig config);
  ~SdrService();
  SdrService(const SdrService&) = delete;
  SdrService& operator=(const SdrService&) = delete;

  // Opens the store and installs `generated` (complete records; ID bytes are assigned 1..N) as the
  // device SDRs and, when they changed since the last start, in the repository; then brings the
  // sensors' records to `current` as updateSensorRecords does (the values clients set before a
  // restart) and notes the device SDRs' change indicator. A corrupt database fails with a message
  // naming the file and what to do.
  Result<void> start(std::vector<Bytes> generated, const std::vector<Bytes>& current = {});
  void registerCommands(CommandRegistry& registry);

  // Brings the sensor records (full 01h, compact 02h, event-only 03h) of the sensors in `records`
  // (as sensors::encodeSdr builds them) to those records' sensor type and event/reading type code
  // (Tables 43-1/43-2 bytes 13-14, Table 43-3 bytes 11-12) and, for full records, thresholds and
  // hysteresis (Table 43-1 bytes 37-44): every repository record of the same type with the same key
  // (owner ID, owner LUN/channel, sensor number), generated or added by a client, and the device
  // SDRs. Only records whose bytes change are written, in one transaction that moves the
  // repository's addition timestamp (so SDR caches such as FreeIPMI's notice) and cancels the
  // reservations; a device SDR that changes moves the device SDR change indicator (§35.2) and
  // cancels the device SDR reservation. Returns how many repository records changed. After start().
  Result<size_t> updateSensorRecords(const std::vector<Bytes>& records);

  // The repository (for tests and the control plane); valid after start().
  storage::SdrStore& store();
  const std::vector<Bytes>& deviceSdrs() const;
  // Seconds on the SDR repository clock (Get/Set SDR Repository Time).
  uint32_t now() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds `bmc`'s generated records and starts its SdrService: the MC device locator (system name from
// the identity, device capabilities = the additional device support byte that Get Device ID reports),
// one FRU device locator per FRU device, then `sensorRecords` (as the config describes them); then
// the sensors' `current` records (SdrService::start). Call after every service registered its
// commands, so the capabilities are complete.
Result<void> startSdrRepository(Bmc& bmc, std::vector<Bytes> sensorRecords, const std::vector<Bytes>& current = {});

}  // namespace simbmc::bmc
