#include "bmc/storage/sel.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>
#include <variant>

#include "common/log.hpp"

namespace simbmc::bmc {
namespace {

using storage::SelRecordData;
using storage::SelStore;

// IPMI v2.0 Appendix G, Storage NetFn, SEL device commands.
namespace cmd {
constexpr uint8_t getSelInfo = 0x40;
constexpr uint8_t getSelAllocationInfo = 0x41;
constexpr uint8_t reserveSel = 0x42;
constexpr uint8_t getSelEntry = 0x43;
constexpr uint8_t addSelEntry = 0x44;
constexpr uint8_t partialAddSelEntry = 0x45;
constexpr uint8_t deleteSelEntry = 0x46;
constexpr uint8_t clearSel = 0x47;
constexpr uint8_t getSelTime = 0x48;
constexpr uint8_t setSelTime = 0x49;
constexpr uint8_t getSelTimeUtcOffset = 0x5C;
constexpr uint8_t setSelTimeUtcOffset = 0x5D;
}  // namespace cmd

// §31.6 Add SEL Entry / §31.7 Partial Add / §31.8 Delete: 80h "operation not supported for this
// record type" (Add), "record rejected: length mismatch" (Partial Add).
constexpr Cc kRecordTypeNotSupported{0x80};
constexpr Cc kPartialAddLengthMismatch{0x80};

constexpr uint8_t kSelVersion = 0x51;  // §31.2: v1.5/v2.0 SEL (BCD 1.5, LS nibble first)
constexpr size_t kRecordSize = 16;     // §32: every SEL record is 16 bytes
// §31.2 Get SEL Info operation support: [7] overflow, [3] Delete SEL, [2] Partial Add SEL Entry,
// [1] Reserve SEL, [0] Get SEL Allocation Info.
constexpr uint8_t kOverflowFlag = 0x80;
constexpr uint8_t kSupportedOperations = 0x0F;
// §31.9 Clear SEL.
constexpr uint8_t kClearInitiate = 0xAA;
constexpr uint8_t kClearGetStatus = 0x00;
constexpr uint8_t kEraseCompleted = 0x01;
// §31.5 Get SEL Entry: bytes to read FFh = the entire record.
constexpr uint8_t kReadEntireRecord = 0xFF;
// §31.7 Partial Add SEL Entry, byte 6 [3:0].
constexpr uint8_t kPartialInProgress = 0x00;
constexpr uint8_t kPartialLast = 0x01;
// §31.11a: UTC offset in minutes, -1440..1440, or 07FFh "unspecified".
constexpr int16_t kUtcOffsetUnspecified = 0x07FF;
constexpr int16_t kUtcOffsetLimit = 1440;
// Table 32-1: record types.
constexpr uint8_t kSystemEventRecord = 0x02;
constexpr uint8_t kOemTimestampedFirst = 0xC0;
constexpr uint8_t kOemTimestampedLast = 0xDF;
constexpr uint8_t kOemNonTimestampedFirst = 0xE0;

// Persisted settings (SelStore::setting keys).
const std::string kSettingUtcOffset = "utc_offset";    // minutes, or 0x07FF

bool timestampedType(uint8_t type) {
  return type == kSystemEventRecord || (type >= kOemTimestampedFirst && type <= kOemTimestampedLast);
}
bool supportedType(uint8_t type) { return type == kSystemEventRecord || type >= kOemTimestampedFirst; }

// The SEL also names a locked store (0xC0) and a vanished record (0xCB).
Cc selErrorCc(const Error& e) {
  switch (e.kind) {
    case Error::Kind::full: return Cc::outOfSpace;
    case Error::Kind::busy: return Cc::nodeBusy;
    case Error::Kind::notFound: return Cc::notPresent;
    default: return Cc::unspecified;
  }
}

void putTimestamp(SelRecordData& r, uint32_t t) {
  // Table 32-1 bytes 4..7 (0-based 3..6), LS byte first.
  for (int i = 0; i < 4; ++i) r[3 + static_cast<size_t>(i)] = static_cast<uint8_t>(t >> (8 * i));
}

// ---- Requests ----------------------------------------------------------------------------------

// §31.5 Get SEL Entry: reservation ID, record ID, offset into record, bytes to read.
struct GetEntryRequest {
  uint16_t reservation = 0;
  uint16_t recordId = 0;
  uint8_t offset = 0;
  uint8_t count = 0;
  static std::optional<GetEntryRequest> decode(Reader& r) {
    GetEntryRequest q;
    q.reservation = r.u16le();
    q.recordId = r.u16le();
    q.offset = r.u8();
    q.count = r.u8();
    return q;
  }
};

// §31.6 Add SEL Entry: the 16 record bytes.
struct AddEntryRequest {
  SelRecordData record{};
  static std::optional<AddEntryRequest> decode(Reader& r) {
    AddEntryRequest q;
    const ByteView b = r.bytes(kRecordSize);
    if (b.size() == kRecordSize) std::copy(b.begin(), b.end(), q.record.begin());
    return q;
  }
};

// §31.7 Partial Add SEL Entry: reservation ID, record ID (0000h for the first part), offset,
// progress ([7:4] reserved, [3:0] 0h in progress / 1h last part), then record bytes.
struct PartialAddRequest {
  uint16_t reservation = 0;
  uint16_t recordId = 0;
  uint8_t offset = 0;
  uint8_t progress = 0;
  Bytes data;
  static std::optional<PartialAddRequest> decode(Reader& r) {
    PartialAddRequest q;
    q.reservation = r.u16le();
    q.recordId = r.u16le();
    q.offset = r.u8();
    q.progress = r.u8() & 0x0F;
    const ByteView rest = r.rest();
    q.data.assign(rest.begin(), rest.end());
    if (q.progress != kPartialInProgress && q.progress != kPartialLast) return std::nullopt;
    return q;
  }
};

// §31.8 Delete SEL Entry: reservation ID, record ID.
struct DeleteRequest {
  uint16_t reservation = 0;
  uint16_t recordId = 0;
  static std::optional<DeleteRequest> decode(Reader& r) {
    DeleteRequest q;
    q.reservation = r.u16le();
    q.recordId = r.u16le();
    return q;
  }
};

// §31.9 Clear SEL: reservation ID, 'C', 'L', 'R', AAh initiate erase / 00h get erasure status.
struct ClearRequest {
  uint16_t reservation = 0;
  uint8_t operation = 0;
  static std::optional<ClearRequest> decode(Reader& r) {
    ClearRequest q;
    q.reservation = r.u16le();
    const uint8_t c = r.u8(), l = r.u8(), rr = r.u8();
    q.operation = r.u8();
    if (c != 'C' || l != 'L' || rr != 'R') return std::nullopt;
    if (q.operation != kClearInitiate && q.operation != kClearGetStatus) return std::nullopt;
    return q;
  }
};

// §31.11 Set SEL Time: seconds, LS byte first.
struct SetTimeRequest {
  uint32_t time = 0;
  static std::optional<SetTimeRequest> decode(Reader& r) { return SetTimeRequest{r.u32le()}; }
};

// §31.11b Set SEL Time UTC Offset: signed minutes, LS byte first.
struct SetUtcOffsetRequest {
  int16_t minutes = 0;
  static std::optional<SetUtcOffsetRequest> decode(Reader& r) {
    return SetUtcOffsetRequest{static_cast<int16_t>(r.u16le())};
  }
};

}  // namespace

struct SelService::Impl {
  Impl(const Clock& c, SelConfig cfg) : clock(c), config(cfg) {
    // Reservation IDs of an earlier run must not match by accident: start somewhere else each run.
    lastReservation = static_cast<uint16_t>(clock.unixSeconds());
  }

  const Clock& clock;
  SelConfig config;
  std::unique_ptr<SelStore> store;
  int16_t utcOffset = kUtcOffsetUnspecified;
  // §31.4: one reservation at a time; 0 = none (cancelled).
  uint16_t reservation = 0;
  uint16_t lastReservation = 0;
  struct PendingAdd {
    bool active = false;
    uint16_t id = 0;
    SelRecordData data{};
    size_t received = 0;
  } pending;
  log::RateLimit errorLog{5, std::chrono::seconds(60)};

  uint32_t now() const {
    // Any stored 64-bit offset is harmless: clamped so the sum cannot overflow, and it saturates.
    const int64_t offset = store ? store->timeOffset() : 0;
    const int64_t t = clock.unixSeconds() + std::clamp<int64_t>(offset, -(int64_t{1} << 40), int64_t{1} << 40);
    // FFFFFFFFh means "unspecified" (§37), so the clock saturates one below.
    return static_cast<uint32_t>(std::clamp<int64_t>(t, 0, 0xFFFFFFFE));
  }

  bool reservationValid(uint16_t id) const { return id != 0 && id == reservation; }
  void cancelReservation() {
    reservation = 0;
    pending.active = false;
  }

  Cc fail(const Error& e, std::string_view what) {
    const Cc cc = selErrorCc(e);
    if (e.kind != Error::Kind::notFound && errorLog.allow()) {
      log::warn("sel: {} failed: {}", what, e.message);
    }
    return cc;
  }

  // Add SEL Entry's semantics for a complete record: type check, timestamp, commit. The record's
  // timestamp is the SEL time (§31.6, §32.1 "time when event was logged"); only the log's most
  // recent addition time may run ahead of it, by the store's rule (several adds in one second).
  std::variant<uint16_t, Cc> addRecord(SelRecordData record) {
    const uint8_t type = record[2];
    if (!supportedType(type)) return kRecordTypeNotSupported;
    const uint32_t t = now();
    if (timestampedType(type)) putTimestamp(record, t);
    auto id = store->add(record, t);
    if (!id) return fail(id.error(), "add entry");
    cancelReservation();  // §31.4: an added entry cancels the reservation
    return *id;
  }

  // ---- Handlers -------------------------------------------------------------------------------

  // §31.2 Get SEL Info, Table 31-2 (response).
  Reply getInfo() {
    Bytes out;
    Writer w(out);
    const uint32_t freeBytes = store->freeEntries() * static_cast<uint32_t>(kRecordSize);
    w.u8(kSelVersion);
    w.u16le(static_cast<uint16_t>(std::min<uint32_t>(store->count(), 0xFFFF)));
    w.u16le(static_cast<uint16_t>(std::min<uint32_t>(freeBytes, 0xFFFF)));  // FFFFh = 65535 or more
    w.u32le(store->lastAddTime()).u32le(store->lastEraseTime());
    w.u8(static_cast<uint8_t>((store->overflow() ? kOverflowFlag : 0) | kSupportedOperations));
    return Reply::ok(std::move(out));
  }

  // §31.3 Get SEL Allocation Info: one allocation unit per 16-byte record.
  Reply getAllocationInfo() {
    Bytes out;
    Writer w(out);
    const uint16_t freeUnits = static_cast<uint16_t>(std::min<uint32_t>(store->freeEntries(), 0xFFFF));
    w.u16le(static_cast<uint16_t>(store->limits().capacity));  // number of possible allocation units
    w.u16le(kRecordSize);                                        // allocation unit size in bytes
    w.u16le(freeUnits);                                          // number of free units
    w.u16le(freeUnits);                                          // largest free block, in units
    w.u8(1);                                                     // maximum record size, in units
    return Reply::ok(std::move(out));
  }

  // §31.4 Reserve SEL.
  Reply reserve() {
    lastReservation = lastReservation == 0xFFFF ? 1 : static_cast<uint16_t>(lastReservation + 1);
    reservation = lastReservation;
    pending.active = false;
    Bytes out;
    Writer(out).u16le(reservation);
    return Reply::ok(std::move(out));
  }

  // §31.5 Get SEL Entry.
  Reply getEntry(const GetEntryRequest& q) {
    if (q.offset != 0 && !reservationValid(q.reservation)) return Cc::reservationCanceled;
    if (q.offset >= kRecordSize) return Cc::parameterOutOfRange;
    auto entry = store->get(q.recordId);
    if (!entry) return fail(entry.error(), "get entry");
    // A count past the end of the record (or FFh) returns what is there.
    const size_t available = kRecordSize - q.offset;
    const size_t n = q.count == kReadEntireRecord ? available : std::min<size_t>(q.count, available);
    Bytes out;
    Writer w(out);
    w.u16le(entry->nextId);
    w.bytes(ByteView(entry->data).subspan(q.offset, n));
    return Reply::ok(std::move(out));
  }

  // §31.6 Add SEL Entry.
  Reply add(const AddEntryRequest& q) {
    auto r = addRecord(q.record);
    if (auto* cc = std::get_if<Cc>(&r)) return *cc;
    Bytes out;
    Writer(out).u16le(std::get<uint16_t>(r));
    return Reply::ok(std::move(out));
  }

  // §31.7 Partial Add SEL Entry. The record ID returned for the parts before the last is the one
  // the completed record gets: any other add in between cancels the reservation, and with it this
  // partial add.
  Reply partialAdd(const PartialAddRequest& q) {
    if (!reservationValid(q.reservation)) return Cc::reservationCanceled;
    if (q.recordId == SelStore::kFirst) {
      if (q.offset != 0) return Cc::invalidField;
      auto id = store->peekNextId();
      if (!id) return fail(id.error(), "partial add");
      pending = PendingAdd{true, *id, {}, 0};
    } else if (!pending.active || pending.id != q.recordId) {
      return Cc::notPresent;
    } else if (q.offset > pending.received) {
      return Cc::invalidField;  // parts must not leave a gap
    }
    if (q.offset + q.data.size() > kRecordSize) {
      pending.active = false;
      return kPartialAddLengthMismatch;
    }
    std::copy(q.data.begin(), q.data.end(), pending.data.begin() + q.offset);
    pending.received = std::max(pending.received, q.offset + q.data.size());
    uint16_t id = pending.id;
    if (q.progress == kPartialLast) {
      pending.active = false;
      if (pending.received != kRecordSize) return kPartialAddLengthMismatch;
      auto r = addRecord(pending.data);
      if (auto* cc = std::get_if<Cc>(&r)) return *cc;
      id = std::get<uint16_t>(r);
    }
    Bytes out;
    Writer(out).u16le(id);
    return Reply::ok(std::move(out));
  }

  // §31.8 Delete SEL Entry.
  Reply erase(const DeleteRequest& q) {
    if (!reservationValid(q.reservation)) return Cc::reservationCanceled;
    auto id = store->erase(q.recordId, now());
    if (!id) return fail(id.error(), "delete entry");
    cancelReservation();
    Bytes out;
    Writer(out).u16le(*id);
    return Reply::ok(std::move(out));
  }

  // §31.9 Clear SEL: the erase is complete when the reply is sent.
  Reply clear(const ClearRequest& q) {
    if (!reservationValid(q.reservation)) return Cc::reservationCanceled;
    if (q.operation == kClearInitiate) {
      if (auto r = store->clear(now()); !r) return fail(r.error(), "clear");
      cancelReservation();
      log::info("sel: cleared");
    }
    return Reply::ok({kEraseCompleted});
  }

  // §31.10 Get SEL Time.
  Reply getTime() {
    Bytes out;
    Writer(out).u32le(now());
    return Reply::ok(std::move(out));
  }

  // §31.11 Set SEL Time: kept as an offset from the Clock, so SEL time keeps running. The next
  // addition and erase timestamps follow the time set, even when it was set back.
  Reply setTime(const SetTimeRequest& q) {
    const int64_t offset = static_cast<int64_t>(q.time) - clock.unixSeconds();
    if (auto r = store->setTimeOffset(offset); !r) return fail(r.error(), "set time");
    return Reply::ok();
  }

  // §31.11a Get SEL Time UTC Offset.
  Reply getUtcOffset() {
    Bytes out;
    Writer(out).u16le(static_cast<uint16_t>(utcOffset));
    return Reply::ok(std::move(out));
  }

  // §31.11b Set SEL Time UTC Offset.
  Reply setUtcOffset(const SetUtcOffsetRequest& q) {
    if (q.minutes != kUtcOffsetUnspecified && (q.minutes < -kUtcOffsetLimit || q.minutes > kUtcOffsetLimit)) {
      return Cc::parameterOutOfRange;
    }
    if (auto r = store->putSetting(kSettingUtcOffset, q.minutes); !r) return fail(r.error(), "set UTC offset");
    utcOffset = q.minutes;
    return Reply::ok();
  }
};

SelService::SelService(const Clock& clock, SelConfig config) : impl_(std::make_unique<Impl>(clock, config)) {}

SelService::~SelService() = default;

Result<void> SelService::open(const std::string& dbPath) {
  storage::SelLimits limits;
  limits.capacity = impl_->config.capacity;
  limits.policy = impl_->config.policy;
  auto store = SelStore::open(dbPath, limits);
  if (!store) {
    if (store.error().kind != Error::Kind::corrupt) return store.error();
    return makeError(Error::Kind::corrupt, store.error().message + "; move it aside to start with an empty SEL");
  }
  auto utc = (*store)->setting(kSettingUtcOffset);
  if (!utc) return utc.error();
  if (utc->has_value()) {
    const int64_t v = **utc;
    if (v != kUtcOffsetUnspecified && (v < -kUtcOffsetLimit || v > kUtcOffsetLimit)) {
      return makeError(Error::Kind::corrupt, fmt::format("SEL store {}: stored UTC offset {} is out of range", dbPath, v));
    }
    impl_->utcOffset = static_cast<int16_t>(v);
  }
  impl_->store = std::move(*store);
  const auto& s = *impl_->store;
  log::info("sel: path={} entries={} capacity={} policy={}{}", dbPath, s.count(), s.limits().capacity,
            s.limits().policy == storage::SelOverflowPolicy::circular ? "circular" : "stop",
            s.overflow() ? " overflow=1" : "");
  return {};
}

void SelService::registerCommands(CommandRegistry& registry) {
  Impl* s = impl_.get();
  const uint8_t nf = netfn::storage;
  // A request before open() (never in the daemon) must not touch a null store.
  auto guard = [s](auto fn) {
    return [s, fn = std::move(fn)](const RequestContext&, const auto& q) -> Reply {
      if (!s->store) return Cc::unspecified;
      return fn(q);
    };
  };
  // Privileges: IPMI v2.0 Appendix G (Storage NetFn, SEL device commands).
  registry.add<NoData>(nf, cmd::getSelInfo, Privilege::user, guard([s](const NoData&) { return s->getInfo(); }));
  registry.add<NoData>(nf, cmd::getSelAllocationInfo, Privilege::user,
                       guard([s](const NoData&) { return s->getAllocationInfo(); }));
  registry.add<NoData>(nf, cmd::reserveSel, Privilege::user, guard([s](const NoData&) { return s->reserve(); }));
  registry.add<GetEntryRequest>(nf, cmd::getSelEntry, Privilege::user,
                                guard([s](const GetEntryRequest& q) { return s->getEntry(q); }));
  registry.add<AddEntryRequest>(nf, cmd::addSelEntry, Privilege::operator_,
                                guard([s](const AddEntryRequest& q) { return s->add(q); }));
  registry.add<PartialAddRequest>(nf, cmd::partialAddSelEntry, Privilege::operator_,
                                  guard([s](const PartialAddRequest& q) { return s->partialAdd(q); }));
  registry.add<DeleteRequest>(nf, cmd::deleteSelEntry, Privilege::operator_,
                              guard([s](const DeleteRequest& q) { return s->erase(q); }));
  registry.add<ClearRequest>(nf, cmd::clearSel, Privilege::operator_,
                             guard([s](const ClearRequest& q) { return s->clear(q); }));
  registry.add<NoData>(nf, cmd::getSelTime, Privilege::user, guard([s](const NoData&) { return s->getTime(); }));
  registry.add<SetTimeRequest>(nf, cmd::setSelTime, Privilege::operator_,
                               guard([s](const SetTimeRequest& q) { return s->setTime(q); }));
  registry.add<NoData>(nf, cmd::getSelTimeUtcOffset, Privilege::user,
                       guard([s](const NoData&) { return s->getUtcOffset(); }));
  registry.add<SetUtcOffsetRequest>(nf, cmd::setSelTimeUtcOffset, Privilege::operator_,
                                    guard([s](const SetUtcOffsetRequest& q) { return s->setUtcOffset(q); }));
}

bool SelService::logEvent(const SystemEvent& e) {
  if (!impl_->store) return false;
  // Table 32-1, system event record: ID (filled by the store), type, timestamp, generator ID,
  // EvM revision, sensor type, sensor number, event dir | event type, event data 1..3.
  SelRecordData r{};
  r[2] = kSystemEventRecord;
  r[7] = static_cast<uint8_t>(e.generatorId & 0xFF);
  r[8] = static_cast<uint8_t>(e.generatorId >> 8);
  r[9] = e.evmRev;
  r[10] = e.sensorType;
  r[11] = e.sensorNumber;
  r[12] = static_cast<uint8_t>((e.deassertion ? 0x80 : 0x00) | (e.eventType & 0x7F));
  std::copy(e.data.begin(), e.data.end(), r.begin() + 13);
  auto result = impl_->addRecord(r);
  if (auto* id = std::get_if<uint16_t>(&result)) {
    log::debug("sel: logged id={:#06x} sensor_type={:#04x} sensor={:#04x} type={:#04x}{}", *id, e.sensorType,
               e.sensorNumber, e.eventType, e.deassertion ? " deassertion" : "");
    return true;
  }
  return false;
}

uint32_t SelService::selTime() const { return impl_->now(); }

storage::SelStore* SelService::store() { return impl_->store.get(); }

}  // namespace simbmc::bmc
