#include "bmc/storage/sdr.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "bmc/bmc.hpp"
#include "common/log.hpp"

namespace simbmc::bmc {
namespace {

using P = Privilege;
using storage::SdrStore;

// IPMI v2.0 Appendix G: Storage NetFn SDR repository commands (§33) and Sensor/Event NetFn device SDR
// commands (§35). Reads need User, writes Operator (Table G-1).
namespace cmd {
constexpr uint8_t getSdrRepositoryInfo = 0x20;
constexpr uint8_t getSdrRepositoryAllocationInfo = 0x21;
constexpr uint8_t reserveSdrRepository = 0x22;
constexpr uint8_t getSdr = 0x23;
constexpr uint8_t addSdr = 0x24;
constexpr uint8_t partialAddSdr = 0x25;
constexpr uint8_t deleteSdr = 0x26;
constexpr uint8_t clearSdrRepository = 0x27;
constexpr uint8_t getSdrRepositoryTime = 0x28;
constexpr uint8_t setSdrRepositoryTime = 0x29;
constexpr uint8_t enterSdrRepositoryUpdateMode = 0x2A;
constexpr uint8_t exitSdrRepositoryUpdateMode = 0x2B;
constexpr uint8_t runInitializationAgent = 0x2C;
// Sensor/Event NetFn
constexpr uint8_t getDeviceSdrInfo = 0x20;
constexpr uint8_t getDeviceSdr = 0x21;
constexpr uint8_t reserveDeviceSdrRepository = 0x22;
}  // namespace cmd

// §33.13 Add SDR / §33.14 Partial Add SDR: the record's length does not match its header.
constexpr Cc kLengthMismatch{0x80};

constexpr uint8_t kSdrVersion = 0x51;  // §33.9: SDR version 1.5 format (IPMI v1.5 and v2.0)
constexpr uint16_t kFirstRecord = 0x0000;
constexpr uint16_t kLastRecord = 0xFFFF;  // also "no next record" in replies
constexpr uint8_t kReadToEnd = 0xFF;
constexpr uint8_t kRecordTypeFull = 0x01;
constexpr uint8_t kRecordTypeCompact = 0x02;
constexpr uint8_t kRecordTypeEventOnly = 0x03;
constexpr uint8_t kRecordTypeFruLocator = 0x11;
constexpr uint8_t kRecordTypeMcLocator = 0x12;

// §35.2 Get Device SDR Info, flags byte bit 7: dynamic sensor population.
constexpr uint8_t kDynamicPopulation = 0x80;

// §33.9 operation support byte.
constexpr uint8_t kOpOverflow = 0x80;
constexpr uint8_t kOpModalAndNonModal = 0x60;  // bits 6:5 = 11b
constexpr uint8_t kOpDelete = 0x08;
constexpr uint8_t kOpPartialAdd = 0x04;
constexpr uint8_t kOpReserve = 0x02;
constexpr uint8_t kOpAllocationInfo = 0x01;

// §33.14 Partial Add SDR, byte 6 bits 3:0.
constexpr uint8_t kPartialInProgress = 0x00;
constexpr uint8_t kPartialLast = 0x01;
// §33.16 Clear SDR Repository.
constexpr uint8_t kClearInitiate = 0xAA;
constexpr uint8_t kClearGetStatus = 0x00;
constexpr uint8_t kEraseCompleted = 0x01;

// §43.15: type/length byte of an ID string, 8-bit ASCII + Latin 1, at most 16 characters here.
constexpr uint8_t kStringTypeLatin1 = 0xC0;
constexpr size_t kMaxIdString = 16;

Writer& idString(Writer& w, const std::string& s) {
  const size_t n = std::min(s.size(), kMaxIdString);
  w.u8(static_cast<uint8_t>(kStringTypeLatin1 | n));
  return w.bytes(ByteView(reinterpret_cast<const uint8_t*>(s.data()), n));
}

// Byte 5 (record length) counts the bytes after the 5-byte header.
Bytes finish(Bytes body, uint8_t type) {
  Bytes out;
  Writer w(out);
  w.u16le(0).u8(kSdrVersion).u8(type).u8(static_cast<uint8_t>(body.size())).bytes(body);
  return out;
}

// ---- Requests -------------------------------------------------------------------------------------

struct GetSdrRequest {  // §33.12 Get SDR / §35.3 Get Device SDR
  uint16_t reservation, recordId;
  uint8_t offset, count;
  static std::optional<GetSdrRequest> decode(Reader& r) {
    GetSdrRequest q{};
    q.reservation = r.u16le();
    q.recordId = r.u16le();
    q.offset = r.u8();
    q.count = r.u8();
    return q;
  }
};

struct AddSdrRequest {  // §33.13: the whole record, header included
  Bytes record;
  static std::optional<AddSdrRequest> decode(Reader& r) {
    AddSdrRequest q;
    ByteView header = r.bytes(SdrStore::kHeaderSize);
    ByteView body = r.rest();
    q.record.assign(header.begin(), header.end());
    q.record.insert(q.record.end(), body.begin(), body.end());
    return q;
  }
};

struct PartialAddRequest {  // §33.14
  uint16_t reservation, recordId;
  uint8_t offset, progress;
  Bytes data;
  static std::optional<PartialAddRequest> decode(Reader& r) {
    PartialAddRequest q{};
    q.reservation = r.u16le();
    q.recordId = r.u16le();
    q.offset = r.u8();
    q.progress = r.u8();
    ByteView d = r.rest();
    q.data.assign(d.begin(), d.end());
    if ((q.progress & 0xF0) != 0 || (q.progress & 0x0F) > kPartialLast) return std::nullopt;
    return q;
  }
};

struct DeleteSdrRequest {  // §33.15
  uint16_t reservation, recordId;
  static std::optional<DeleteSdrRequest> decode(Reader& r) {
    DeleteSdrRequest q{};
    q.reservation = r.u16le();
    q.recordId = r.u16le();
    return q;
  }
};

struct ClearSdrRequest {  // §33.16: reservation, 'C' 'L' 'R', 0xAA initiate / 0x00 get status
  uint16_t reservation;
  uint8_t operation;
  static std::optional<ClearSdrRequest> decode(Reader& r) {
    ClearSdrRequest q{};
    q.reservation = r.u16le();
    const uint8_t c = r.u8(), l = r.u8(), rr = r.u8();
    q.operation = r.u8();
    if (c != 'C' || l != 'L' || rr != 'R') return std::nullopt;
    if (q.operation != kClearInitiate && q.operation != kClearGetStatus) return std::nullopt;
    return q;
  }
};

struct TimeRequest {  // §33.18 Set SDR Repository Time
  uint32_t seconds;
  static std::optional<TimeRequest> decode(Reader& r) { return TimeRequest{r.u32le()}; }
};

struct RunInitAgentRequest {  // §33.21: 0 = get status, 1 = run
  uint8_t run;
  static std::optional<RunInitAgentRequest> decode(Reader& r) {
    const uint8_t b = r.u8();
    if (b > 1) return std::nullopt;
    return RunInitAgentRequest{b};
  }
};

struct DeviceSdrInfoRequest {  // §35.2: optional operation byte, bit 0: 1 = SDR count, 0 = sensor count
  bool sdrCount = false;
  static std::optional<DeviceSdrInfoRequest> decode(Reader& r) {
    DeviceSdrInfoRequest q;
    if (r.remaining() == 0) return q;
    const uint8_t b = r.u8();
    if ((b & 0xFE) != 0) return std::nullopt;
    q.sdrCount = (b & 0x01) != 0;
    return q;
  }
};

// Sensors a record describes: one per full record, the share count for compact and event-only ones
// (§43.2 byte 24, §43.3 byte 13, bits 3:0; 0 means one).
unsigned sensorsIn(const Bytes& r) {
  if (r.size() < SdrStore::kHeaderSize) return 0;
  size_t shareAt = 0;
  switch (r[3]) {
    case kRecordTypeFull:
      return (r.size() > 6 && (r[6] & 0x03) == 0) ? 1 : 0;
    case kRecordTypeCompact:
      shareAt = 23;
      break;
    case kRecordTypeEventOnly:
      shareAt = 12;
      break;
    default:
      return 0;
  }
  if (r.size() <= shareAt || (r[6] & 0x03) != 0) return 0;  // only LUN 0 sensors are counted
  const unsigned share = r[shareAt] & 0x0F;
  return share == 0 ? 1 : share;
}

}  // namespace

// ---- Record encoders ------------------------------------------------------------------------------

Bytes mcLocatorRecord(const McLocator& mc) {
  Bytes body;
  Writer w(body);
  w.u8(static_cast<uint8_t>(mc.slaveAddress & 0xFE));  // byte 6: [7:1] slave address
  w.u8(mc.channel & 0x0F);                             // byte 7: [3:0] channel
  // byte 8: [7] ACPI system / [6] ACPI device power state notification not required, [5] static
  // controller, [3] logs initialization agent errors = no, [2] log init agent errors accessing this
  // controller = no, [1:0] 00b: enable event message generation from the controller.
  w.u8(mc.staticController ? 0x20 : 0x00);
  w.u8(mc.capabilities);                    // byte 9: device capabilities
  w.zeros(3);                               // bytes 10-12 reserved
  w.u8(mc.entityId).u8(mc.entityInstance);  // bytes 13-14
  w.u8(0x00);                               // byte 15 OEM
  idString(w, mc.name);                     // bytes 16-32
  return finish(std::move(body), kRecordTypeMcLocator);
}

Bytes fruLocatorRecord(const FruLocator& fru) {
  Bytes body;
  Writer w(body);
  w.u8(static_cast<uint8_t>(fru.accessAddress & 0xFE));  // byte 6: [7:1] controller's slave address
  w.u8(fru.deviceId);                                    // byte 7: logical FRU device ID
  // byte 8: [7] 1 = logical FRU device (FRU commands to the controller), [4:3] LUN 0, [2:0] bus 0
  w.u8(0x80);
  w.u8(static_cast<uint8_t>((fru.channel & 0x0F) << 4));  // byte 9: [7:4] channel
  w.u8(0x00);                                             // byte 10 reserved
  w.u8(fru.deviceType).u8(fru.deviceTypeModifier);        // bytes 11-12
  w.u8(fru.entityId).u8(fru.entityInstance);              // bytes 13-14
  w.u8(0x00);                                             // byte 15 OEM
  idString(w, fru.name);                                  // bytes 16-32
  return finish(std::move(body), kRecordTypeFruLocator);
}

uint8_t additionalDeviceSupport(const CommandRegistry& reg) {
  uint8_t bits = 0;
  if (reg.contains(netfn::sensorEvent, 0x2D)) bits |= 0x01;  // Get Sensor Reading
  if (reg.contains(netfn::storage, 0x20)) bits |= 0x02;      // Get SDR Repository Info
  if (reg.contains(netfn::storage, 0x40)) bits |= 0x04;      // Get SEL Info
  if (reg.contains(netfn::storage, 0x10)) bits |= 0x08;      // Get FRU Inventory Area Info
  if (reg.contains(netfn::sensorEvent, 0x02)) bits |= 0x10;  // Platform Event Message
  if (reg.contains(netfn::sensorEvent, 0x00)) bits |= 0x20;  // Set Event Receiver
  if (reg.contains(netfn::bridge, 0x00)) bits |= 0x40;       // Get Bridge State
  if (reg.contains(netfn::chassis, 0x00)) bits |= 0x80;      // Get Chassis Capabilities
  return bits;
}

// ---- Service --------------------------------------------------------------------------------------

struct SdrService::Impl {
  Impl(const Clock& c, SdrConfig cfg) : clock(c), config(std::move(cfg)) {}

  const Clock& clock;
  SdrConfig config;
  std::unique_ptr<SdrStore> store;
  std::vector<Bytes> device;  // generated records with IDs 1..N

  uint16_t lastReservation = 0;
  uint16_t reservation = 0;       // 0: none valid
  uint16_t clearReservation = 0;  // the reservation that initiated the last clear (status polls)
  uint16_t lastDeviceReservation = 0;
  uint16_t deviceReservation = 0;
  bool updateMode = false;
  log::RateLimit storageErrors{5, std::chrono::seconds(60)};

  struct PendingAdd {
    uint16_t id = 0;
    Bytes data;
  };
  std::optional<PendingAdd> pending;
  // The device SDRs changed since the change indicator was last noted (a note that failed is retried
  // with the next change, and at the latest by the next start).
  bool deviceChanged = false;

  // updateSensorRecords without noting the device SDRs' change indicator.
  Result<size_t> applySensorRecords(const std::vector<Bytes>& records);

  uint32_t now() const {
    const int64_t t = clock.unixSeconds() + (store ? store->timeOffset() : 0);
    return static_cast<uint32_t>(std::clamp<int64_t>(t, 0, 0xFFFFFFFFll));
  }

  static uint16_t next(uint16_t& counter) {
    if (++counter == 0) ++counter;
    return counter;
  }

  // Any change to the repository cancels the reservation and an unfinished Partial Add.
  void cancelReservation() {
    reservation = 0;
    pending.reset();
  }
  bool reservationValid(uint16_t r) const { return r != 0 && r == reservation; }

  Cc storageFailure(const Error& e, const char* what) {
    if (storageErrors.allow()) log::error("sdr: {} failed: {}", what, e.message);
    return storeErrorCc(e);
  }

  // The reply of Get SDR / Get Device SDR for one record: next record ID, then the requested bytes.
  Reply chunk(const Bytes& record, uint16_t nextId, uint8_t offset, uint8_t count) const {
    if (offset >= record.size()) return Cc::parameterOutOfRange;
    const size_t left = record.size() - offset;
    const size_t n = count == kReadToEnd ? left : std::min<size_t>(count, left);
    if (n > config.maxReadCount) return Cc::cannotReturnRequestedBytes;
    Bytes out;
    Writer w(out);
    w.u16le(nextId).bytes(ByteView(record).subspan(offset, n));
    return Reply::ok(std::move(out));
  }

  // ---- Storage NetFn ----

  Reply getInfo() const {
    Bytes out;
    Writer w(out);
    const uint32_t freeBytes = uint32_t{store->freeUnits()} * SdrStore::kUnitSize;
    // §33.9: free space in bytes; FFFEh means 64 KiB - 2 or more, FFFFh unspecified.
    w.u8(kSdrVersion).u16le(store->count()).u16le(static_cast<uint16_t>(std::min<uint32_t>(freeBytes, 0xFFFE)));
    w.u32le(store->lastAddition()).u32le(store->lastErase());
    w.u8(static_cast<uint8_t>((store->overflow() ? kOpOverflow : 0) | kOpModalAndNonModal | kOpDelete | kOpPartialAdd |
                              kOpReserve | kOpAllocationInfo));
    return Reply::ok(std::move(out));
  }

  Reply getAllocationInfo() const {
    // §33.10: no fragmentation in this store, so the largest free block is all the free units.
    Bytes out;
    Writer w(out);
    w.u16le(store->totalUnits()).u16le(SdrStore::kUnitSize).u16le(store->freeUnits()).u16le(store->freeUnits());
    w.u8(static_cast<uint8_t>(SdrStore::unitsFor(SdrStore::kMaxRecordSize)));
    return Reply::ok(std::move(out));
  }

  Reply reserve() {
    pending.reset();
    reservation = next(lastReservation);
    Bytes out;
    Writer(out).u16le(reservation);
    return Reply::ok(std::move(out));
  }

  Reply getSdr(const GetSdrRequest& q) {
    // §33.12: the reservation only matters for a read that continues a record.
    if (q.offset != 0 && !reservationValid(q.reservation)) return Cc::reservationCanceled;
    std::optional<uint16_t> id;
    if (q.recordId == kFirstRecord) {
      id = store->first();
    } else if (q.recordId == kLastRecord) {
      id = store->last();
    } else if (store->contains(q.recordId)) {
      id = q.recordId;
    }
    if (!id) return Cc::notPresent;
    auto record = store->get(*id);
    if (!record) return storageFailure(record.error(), "read record");
    if (!*record) return Cc::notPresent;
    return chunk(**record, store->after(*id).value_or(kLastRecord), q.offset, q.count);
  }

  Reply addSdr(const AddSdrRequest& q) {
    if (q.record.size() != SdrStore::kHeaderSize + q.record[4]) return kLengthMismatch;
    auto id = store->add(q.record, now());
    if (!id) return storageFailure(id.error(), "add record");
    cancelReservation();
    Bytes out;
    Writer(out).u16le(*id);
    return Reply::ok(std::move(out));
  }

  Reply partialAdd(const PartialAddRequest& q) {
    if (!reservationValid(q.reservation)) return Cc::reservationCanceled;
    if (q.recordId == 0) {
      // A new record: its first fragment starts at offset 0; an unfinished one is abandoned.
      pending.reset();
      if (q.offset != 0) return Cc::invalidField;
      auto id = store->nextFreeId();
      if (!id) return Cc::outOfSpace;
      pending = PendingAdd{*id, {}};
    } else {
      if (!pending || pending->id != q.recordId) return Cc::notPresent;
      if (q.offset != pending->data.size()) {
        pending.reset();
        return Cc::invalidField;
      }
    }
    PendingAdd& p = *pending;
    p.data.insert(p.data.end(), q.data.begin(), q.data.end());
    const bool haveHeader = p.data.size() >= SdrStore::kHeaderSize;
    const size_t expected = haveHeader ? SdrStore::kHeaderSize + p.data[4] : SdrStore::kMaxRecordSize;
    if (p.data.size() > expected) {
      pending.reset();
      return kLengthMismatch;
    }
    const uint16_t id = p.id;
    if ((q.progress & 0x0F) == kPartialLast) {
      if (!haveHeader || p.data.size() != expected) {
        pending.reset();
        return kLengthMismatch;
      }
      auto added = store->add(std::move(p.data), now());
      pending.reset();
      if (!added) return storageFailure(added.error(), "add record");
      cancelReservation();
      Bytes out;
      Writer(out).u16le(*added);
      return Reply::ok(std::move(out));
    }
    Bytes out;
    Writer(out).u16le(id);
    return Reply::ok(std::move(out));
  }

  Reply deleteSdr(const DeleteSdrRequest& q) {
    if (!reservationValid(q.reservation)) return Cc::reservationCanceled;
    std::optional<uint16_t> id;
    if (q.recordId == kFirstRecord) {
      id = store->first();
    } else if (q.recordId == kLastRecord) {
      id = store->last();
    } else if (store->contains(q.recordId)) {
      id = q.recordId;
    }
    if (!id) return Cc::notPresent;
    auto removed = store->remove(*id, now());
    if (!removed) return storageFailure(removed.error(), "delete record");
    if (!*removed) return Cc::notPresent;
    cancelReservation();
    Bytes out;
    Writer(out).u16le(*id);
    return Reply::ok(std::move(out));
  }

  Reply clear(const ClearSdrRequest& q) {
    if (q.operation == kClearGetStatus) {
      // The erase completes before its reply, so a status poll always says "completed"; the
      // poller may still hold the reservation the erase itself cancelled.
      if (!reservationValid(q.reservation) && (q.reservation == 0 || q.reservation != clearReservation)) {
        return Cc::reservationCanceled;
      }
    } else {
      if (!reservationValid(q.reservation)) return Cc::reservationCanceled;
      if (auto r = store->clear(now()); !r) return storageFailure(r.error(), "clear repository");
      clearReservation = q.reservation;
      cancelReservation();
    }
    return Reply::ok(Bytes{kEraseCompleted});
  }

  Reply getTime() const {
    Bytes out;
    Writer(out).u32le(now());
    return Reply::ok(std::move(out));
  }

  Reply setTime(const TimeRequest& q) {
    if (auto r = store->setTimeOffset(int64_t{q.seconds} - clock.unixSeconds()); !r) {
      return storageFailure(r.error(), "set repository time");
    }
    return Reply::ok();
  }

  // ---- Sensor/Event NetFn: device SDRs ----

  // §35.2 Get Device SDR Info. The population is reported dynamic (byte 3 bit 7): the device SDRs
  // change while the BMC runs (Set Sensor Thresholds / Hysteresis / Type rewrite a sensor's record),
  // and a client that caches device SDRs only fetches them again when a dynamic population's change
  // indicator moves (OpenIPMI's sdr.c never re-reads a static one). Bytes 4-7 are that indicator: the
  // repository-clock time the device SDRs last changed, persisted (SdrStore::deviceSdrChange) so it
  // never repeats or goes backwards, across restarts too (only Set SDR Repository Time can set it back).
  Reply getDeviceSdrInfo(const DeviceSdrInfoRequest& q) const {
    unsigned sensors = 0;
    for (const Bytes& r : device) sensors += sensorsIn(r);
    const size_t number = q.sdrCount ? device.size() : sensors;
    Bytes out;
    Writer w(out);
    // The count is one byte; flags: [7] dynamic population, [3:0] LUNs with sensors (only LUN 0).
    w.u8(static_cast<uint8_t>(std::min<size_t>(number, 0xFF)));
    w.u8(static_cast<uint8_t>(kDynamicPopulation | (sensors > 0 ? 0x01 : 0x00)));
    w.u32le(store ? store->deviceSdrChange() : SdrStore::kNoTimestamp);
    return Reply::ok(std::move(out));
  }

  Reply reserveDevice() {
    deviceReservation = next(lastDeviceReservation);
    Bytes out;
    Writer(out).u16le(deviceReservation);
    return Reply::ok(std::move(out));
  }

  Reply getDeviceSdr(const GetSdrRequest& q) const {
    if (q.offset != 0 && (q.reservation == 0 || q.reservation != deviceReservation)) return Cc::reservationCanceled;
    if (device.empty()) return Cc::notPresent;
    size_t index = 0;
    if (q.recordId == kFirstRecord) {
      index = 0;
    } else if (q.recordId == kLastRecord) {
      index = device.size() - 1;
    } else if (q.recordId <= device.size()) {
      index = q.recordId - 1u;
    } else {
      return Cc::notPresent;
    }
    const uint16_t nextId = index + 1 < device.size() ? static_cast<uint16_t>(index + 2) : kLastRecord;
    return chunk(device[index], nextId, q.offset, q.count);
  }
};

SdrService::SdrService(const Clock& clock, SdrConfig config)
    : impl_(std::make_unique<Impl>(clock, std::move(config))) {}

SdrService::~SdrService() = default;

Result<void> SdrService::start(std::vector<Bytes> generated, const std::vector<Bytes>& current) {
  Impl& s = *impl_;
  if (!s.store) {
    auto store = SdrStore::open(s.config.path, s.config.units);
    if (!store) {
      if (store.error().kind == Error::Kind::corrupt) {
        return makeError(Error::Kind::corrupt, store.error().message + "; move " + s.config.path +
                                                   " aside to start with the SDR repository rebuilt from the config");
      }
      return store.error();
    }
    s.store = std::move(*store);
  }
  for (size_t i = 0; i < generated.size(); ++i) {
    Bytes& r = generated[i];
    if (r.size() < SdrStore::kHeaderSize || r.size() != SdrStore::kHeaderSize + r[4]) {
      return makeError(Error::Kind::invalidArgument, "generated SDR #" + std::to_string(i + 1) + " is malformed");
    }
    r[0] = static_cast<uint8_t>(i + 1);
    r[1] = static_cast<uint8_t>((i + 1) >> 8);
  }
  auto changed = s.store->setGenerated(generated, s.now());
  if (!changed) return changed.error();
  if (*changed) {
    log::info("sdr: installed {} generated records (repository now holds {})", generated.size(), s.store->count());
  }
  s.device = std::move(generated);
  if (auto r = s.applySensorRecords(current); !r) return r.error();
  // Once per start, after the current values are in: the indicator moves only when the device SDRs
  // differ from what the last run served (a config change, or a lost update repaired just now).
  if (auto r = s.store->noteDeviceSdrs(s.device, s.now()); !r) return r.error();
  s.deviceChanged = false;
  return {};
}

namespace {

// Tables 43-1, 43-2, 43-3: bytes 6-8 are the record key (owner ID, owner LUN and channel, sensor
// number). Clients change the sensor type and event/reading type code (bytes 13-14 of full and compact
// records, 11-12 of event-only ones) and, in a full record, the thresholds (bytes 37-42) and
// hysteresis (43-44).
constexpr size_t kKeyAt = 5;
constexpr size_t kKeySize = 3;
constexpr size_t kTypeSize = 2;
constexpr size_t kThresholdsAt = 36;
constexpr size_t kThresholdsSize = 8;

// Where a sensor record of `recordType` keeps its sensor type; 0 for other records.
size_t typeAt(uint8_t recordType) {
  switch (recordType) {
    case kRecordTypeFull:
    case kRecordTypeCompact:
      return 12;
    case kRecordTypeEventOnly:
      return 10;
    default:
      return 0;
  }
}

// Two sensor records of the same type describing the same sensor.
bool sameSensor(const Bytes& a, const Bytes& b) {
  const size_t t = a.size() >= SdrStore::kHeaderSize ? typeAt(a[3]) : 0;
  return t != 0 && a.size() >= t + kTypeSize && b.size() >= t + kTypeSize && a[3] == b[3] &&
         std::equal(a.begin() + kKeyAt, a.begin() + kKeyAt + kKeySize, b.begin() + kKeyAt);
}

// `record` with the sensor type, reading type, thresholds and hysteresis of `from` (the same kind of
// record for the same sensor, see sameSensor); nullopt when nothing changes.
std::optional<Bytes> withSettingsOf(const Bytes& record, const Bytes& from) {
  Bytes out = record;
  const auto type = static_cast<std::ptrdiff_t>(typeAt(record[3]));
  std::copy(from.begin() + type, from.begin() + type + kTypeSize, out.begin() + type);
  constexpr size_t end = kThresholdsAt + kThresholdsSize;
  if (record[3] == kRecordTypeFull && record.size() >= end && from.size() >= end) {
    std::copy(from.begin() + kThresholdsAt, from.begin() + end, out.begin() + kThresholdsAt);
  }
  if (out == record) return std::nullopt;
  return out;
}

}  // namespace

Result<size_t> SdrService::Impl::applySensorRecords(const std::vector<Bytes>& records) {
  std::vector<const Bytes*> sensors;
  for (const Bytes& r : records) {
    if (r.size() >= SdrStore::kHeaderSize && typeAt(r[3]) != 0) sensors.push_back(&r);
  }
  if (sensors.empty() || !store) return size_t{0};

  for (Bytes& d : device) {
    for (const Bytes* r : sensors) {
      if (!sameSensor(d, *r)) continue;
      if (auto patched = withSettingsOf(d, *r)) {
        d = std::move(*patched);
        deviceChanged = true;
        deviceReservation = 0;  // §35.4: a read in progress cannot continue on changed bytes
      }
    }
  }

  std::vector<std::pair<uint16_t, Bytes>> changes;
  auto scan = store->forEach([&](uint16_t id, const Bytes& record) {
    for (const Bytes* r : sensors) {
      if (!sameSensor(record, *r)) continue;
      if (auto patched = withSettingsOf(record, *r)) changes.emplace_back(id, std::move(*patched));
      break;
    }
    return true;
  });
  if (!scan) return scan.error();
  size_t replaced = 0;
  if (!changes.empty()) {
    auto n = store->replace(changes, now());
    if (!n) return n.error();
    replaced = *n;
    cancelReservation();
    log::info("sdr: sensor settings written into {} sensor record(s)", replaced);
  }
  return replaced;
}

Result<size_t> SdrService::updateSensorRecords(const std::vector<Bytes>& records) {
  Impl& s = *impl_;
  auto n = s.applySensorRecords(records);
  // The device SDRs changed in memory even when the repository write failed: clients are told.
  if (s.deviceChanged && s.store) {
    if (auto r = s.store->noteDeviceSdrs(s.device, s.now()); !r) return r.error();
    s.deviceChanged = false;
  }
  return n;
}

storage::SdrStore& SdrService::store() { return *impl_->store; }
const std::vector<Bytes>& SdrService::deviceSdrs() const { return impl_->device; }
uint32_t SdrService::now() const { return impl_->now(); }

void SdrService::registerCommands(CommandRegistry& reg) {
  Impl* s = impl_.get();
  const uint8_t st = netfn::storage;
  const uint8_t se = netfn::sensorEvent;
  reg.add<NoData>(st, cmd::getSdrRepositoryInfo, P::user,
                  [s](const RequestContext&, const NoData&) { return s->getInfo(); });
  reg.add<NoData>(st, cmd::getSdrRepositoryAllocationInfo, P::user,
                  [s](const RequestContext&, const NoData&) { return s->getAllocationInfo(); });
  reg.add<NoData>(st, cmd::reserveSdrRepository, P::user,
                  [s](const RequestContext&, const NoData&) { return s->reserve(); });
  reg.add<GetSdrRequest>(st, cmd::getSdr, P::user,
                         [s](const RequestContext&, const GetSdrRequest& q) { return s->getSdr(q); });
  reg.add<AddSdrRequest>(st, cmd::addSdr, P::operator_,
                         [s](const RequestContext&, const AddSdrRequest& q) { return s->addSdr(q); });
  reg.add<PartialAddRequest>(st, cmd::partialAddSdr, P::operator_,
                             [s](const RequestContext&, const PartialAddRequest& q) { return s->partialAdd(q); });
  reg.add<DeleteSdrRequest>(st, cmd::deleteSdr, P::operator_,
                            [s](const RequestContext&, const DeleteSdrRequest& q) { return s->deleteSdr(q); });
  reg.add<ClearSdrRequest>(st, cmd::clearSdrRepository, P::operator_,
                           [s](const RequestContext&, const ClearSdrRequest& q) { return s->clear(q); });
  reg.add<NoData>(st, cmd::getSdrRepositoryTime, P::user,
                  [s](const RequestContext&, const NoData&) { return s->getTime(); });
  reg.add<TimeRequest>(st, cmd::setSdrRepositoryTime, P::operator_,
                       [s](const RequestContext&, const TimeRequest& q) { return s->setTime(q); });
  // §33.19/§33.20: the repository accepts writes in and out of update mode (modal and non-modal), so
  // the mode only needs to be tracked.
  reg.add<NoData>(st, cmd::enterSdrRepositoryUpdateMode, P::operator_, [s](const RequestContext&, const NoData&) {
    s->updateMode = true;
    return Reply::ok();
  });
  reg.add<NoData>(st, cmd::exitSdrRepositoryUpdateMode, P::operator_, [s](const RequestContext&, const NoData&) {
    s->updateMode = false;
    return Reply::ok();
  });
  // §33.21: sensors are initialized from their records when the daemon starts; running the agent
  // again has nothing left to do, so it is always complete.
  reg.add<RunInitAgentRequest>(
      st, cmd::runInitializationAgent, P::operator_,
      [](const RequestContext&, const RunInitAgentRequest&) { return Reply::ok(Bytes{0x01}); });

  reg.add<DeviceSdrInfoRequest>(
      se, cmd::getDeviceSdrInfo, P::user,
      [s](const RequestContext&, const DeviceSdrInfoRequest& q) { return s->getDeviceSdrInfo(q); });
  reg.add<GetSdrRequest>(se, cmd::getDeviceSdr, P::user,
                         [s](const RequestContext&, const GetSdrRequest& q) { return s->getDeviceSdr(q); });
  reg.add<NoData>(se, cmd::reserveDeviceSdrRepository, P::user,
                  [s](const RequestContext&, const NoData&) { return s->reserveDevice(); });
}

// ---- Wiring ---------------------------------------------------------------------------------------

Result<void> startSdrRepository(Bmc& bmc, std::vector<Bytes> sensorRecords, const std::vector<Bytes>& current) {
  // The capabilities are whatever Get Device ID says, asked the way a client asks, so the two can
  // never disagree (Table 43-8 byte 9 and Table 20-2 byte 6 have the same layout).
  RequestContext ctx;
  ctx.channel = bmc.lan().channel;
  ctx.privilege = Privilege::administrator;
  ctx.sessionId = 1;
  ctx.userId = 1;
  auto id = bmc.registry().dispatch(ctx, net::IpmiRequest{netfn::app, 0, 0x01, {}});
  McLocator mc;
  mc.capabilities = (id && id->cc == Cc::ok && id->data.size() > 5) ? id->data[5] : 0;
  mc.name = bmc.identity().systemName;

  std::vector<Bytes> records;
  records.push_back(mcLocatorRecord(mc));
  for (const FruDevice& d : bmc.fru().devices()) {
    FruLocator f;
    f.deviceId = d.id;
    f.name = d.name;
    f.entityInstance = static_cast<uint8_t>(1 + d.id % 0x5F);  // system-relative instances 01h-5Fh
    records.push_back(fruLocatorRecord(f));
  }
  for (Bytes& r : sensorRecords) records.push_back(std::move(r));
  return bmc.sdr().start(std::move(records), current);
}

}  // namespace simbmc::bmc
