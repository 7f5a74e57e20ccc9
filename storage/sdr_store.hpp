// SdrStore: the SDR repository of one BMC instance in its own SQLite file (state-dir/sdr.db).
//
// A record is a whole SDR as IPMI v2.0 §43 lays it out: the 5-byte header (record ID LS byte first,
// SDR version, record type, length of the body) and the body. The store assigns record IDs and writes
// them into bytes 0..1; the rest is the caller's. A record's length is 5 + body length (5..260).
//
// Two kinds of records share one ID space (0x0001..0xFFFE):
//   generated  records built from the config (MC and FRU locators, sensors) with IDs 1..N in config
//              order. setGenerated() installs them when the generated set differs from the one
//              installed before (a fresh file, or a changed config); otherwise the repository is
//              left exactly as clients left it (records they deleted stay deleted, a cleared
//              repository stays empty), as a real BMC's repository would.
//   user       records added over IPMI (Add SDR, Partial Add SDR). They get IDs above every
//              generated ID and above every ID in use, so a config change that grows the generated
//              set moves at most the user records whose IDs it needs (they get new IDs at the end).
// Record order for "next record" is ID order.
//
// Capacity is counted in allocation units of kUnitSize bytes (IPMI v2.0 §33.10); a record uses
// ceil(length / kUnitSize) units. An add that does not fit fails with Error::Kind::full and sets the
// persisted overflow flag (§33.9); clear() resets it.
//
// Durability: every mutating call runs in one transaction (WAL, synchronous=FULL) and returns only
// after COMMIT; on any error nothing changed, on disk or in memory. Reads keep working when writes
// fail. Memory: a sorted index of (ID, length) pairs, 4 bytes per record, and the last record read;
// record bytes live on disk. Records are validated when the file is opened (header length matches the
// stored length, the ID bytes match the row): a damaged row fails open() with Error::Kind::corrupt,
// it is never served. Single-threaded: owned by one BMC instance on the io_context thread.
//
// The file also keeps the device SDRs' change indicator (IPMI v2.0 §35.2, Get Device SDR Info bytes
// 4-7): a fingerprint of the device SDRs last noted and the time they last changed, so the indicator
// survives a restart and only moves when the records really differ.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "storage/database.hpp"
#include "storage/repository_time.hpp"

namespace simbmc::storage {

using SdrRecord = std::vector<uint8_t>;

class SdrStore {
 public:
  static constexpr size_t kHeaderSize = 5;
  static constexpr size_t kMaxRecordSize = kHeaderSize + 255;
  static constexpr uint16_t kFirstId = 0x0001;
  static constexpr uint16_t kMaxId = 0xFFFE;  // 0x0000 and 0xFFFF are "first" and "end of list"
  static constexpr uint16_t kUnitSize = 16;
  static constexpr uint16_t kDefaultUnits = 8192;  // 128 KiB: 1,000 full sensor records use 4,000
  // Timestamp of an addition or erase that never happened (as for the SEL, §31.2; clients print
  // "unspecified" rather than a time).
  static constexpr uint32_t kNoTimestamp = kNoRepositoryTimestamp;

  // Opens (creating) `path` (":memory:" for tests) with room for `units` allocation units (at least
  // kMaxRecordSize / kUnitSize + 1, at most 0xFFFE), runs the migrations and builds the index.
  // Errors: those of Database::open (corrupt names the file), corrupt for a damaged record,
  // invalidArgument for a bad capacity.
  static Result<std::unique_ptr<SdrStore>> open(const std::string& path, uint16_t units = kDefaultUnits);
  ~SdrStore();
  SdrStore(const SdrStore&) = delete;
  SdrStore& operator=(const SdrStore&) = delete;

  // Installs the generated records (each a complete SDR; their ID bytes are overwritten with 1..N)
  // if they differ from the set installed last time; `now` becomes the most recent addition (and,
  // if generated records went away, erase) timestamp. Returns whether anything changed.
  //
  // Timestamps (here and below) never repeat or go backwards: when `now` is not later than the
  // previous value (several changes in one second), the new one is the previous + 1. Clients that
  // cache SDRs (FreeIPMI) compare them for equality to notice changes. Only setTimeOffset() lets the
  // next ones go back, to follow the clock a client set (until a restart, which keeps the floor).
  // invalidArgument for a malformed record or more than kMaxId records; full if they do not fit.
  Result<bool> setGenerated(const std::vector<SdrRecord>& records, uint32_t now);

  uint16_t count() const { return static_cast<uint16_t>(index_.size()); }
  uint16_t totalUnits() const { return units_; }
  uint16_t usedUnits() const { return usedUnits_; }
  uint16_t freeUnits() const { return usedUnits_ >= units_ ? 0 : static_cast<uint16_t>(units_ - usedUnits_); }
  bool overflow() const { return overflow_; }
  uint32_t lastAddition() const { return lastAddition_; }
  uint32_t lastErase() const { return lastErase_; }
  uint16_t generatedCount() const { return generatedCount_; }
  static uint16_t unitsFor(size_t length) { return static_cast<uint16_t>((length + kUnitSize - 1) / kUnitSize); }

  // The ID of the first record, of the last one, of the one after `id` (IDs ascending); nullopt
  // when there is none. after() does not require `id` to exist.
  std::optional<uint16_t> first() const;
  std::optional<uint16_t> last() const;
  std::optional<uint16_t> after(uint16_t id) const;
  bool contains(uint16_t id) const;
  // The whole record, or nullopt if `id` is not in the repository.
  Result<std::optional<SdrRecord>> get(uint16_t id);

  // The ID add() would assign if nothing changes first (the first ID above all generated and
  // used IDs, or the lowest free ID above the generated ones once 0xFFFE is taken).
  std::optional<uint16_t> nextFreeId() const;
  // Adds a user record (bytes 0..1 become its ID); `now` becomes the most recent addition time.
  // invalidArgument for a malformed record (under 5 bytes, header length not matching); full when
  // it does not fit (overflow flag set) or no ID is free.
  Result<uint16_t> add(SdrRecord record, uint32_t now);
  // Replaces the bytes of existing records (each keeps its ID, which is written into bytes 0..1, and
  // its origin) in one transaction; the most recent addition time moves to `now` (as for add()), so
  // clients that cache SDRs see the change. An ID
  // that is not in the repository is skipped. Returns how many records were replaced.
  // invalidArgument for a malformed record; full when the records no longer fit.
  Result<size_t> replace(const std::vector<std::pair<uint16_t, SdrRecord>>& records, uint32_t now);
  // Calls `fn` with every record in ID order, read from the file (a scan for rare whole-repository
  // work, not for the request path); stops early when `fn` returns false.
  Result<void> forEach(const std::function<bool(uint16_t id, const SdrRecord& record)>& fn);
  // Deletes one record; false if it was not there. `now` becomes the most recent erase time.
  Result<bool> remove(uint16_t id, uint32_t now);
  // Deletes every record (generated ones too) and the overflow flag.
  Result<void> clear(uint32_t now);

  // The device SDRs' change indicator (§35.2): the `now` of the noteDeviceSdrs() call that last saw
  // them differ from the set noted before, kNoTimestamp before the first call.
  uint32_t deviceSdrChange() const { return deviceSdrChange_; }
  // Notes `records` (complete SDRs, ID bytes included) as the device SDRs. When they differ from the
  // set noted last (in this run or an earlier one), the change indicator becomes `now`, or the
  // previous indicator + 1 when `now` is not later than it (a clock set back, or two changes in one
  // second), so it never repeats or goes backwards; both are written in one transaction. Returns
  // whether the indicator moved.
  Result<bool> noteDeviceSdrs(const std::vector<SdrRecord>& records, uint32_t now);

  // A persisted signed offset (seconds) for the repository clock (Set SDR Repository Time). The
  // timestamps written next follow the new clock even when it was set back.
  int64_t timeOffset() const { return timeOffset_; }
  Result<void> setTimeOffset(int64_t offset);

 private:
  struct Entry {
    uint16_t id;
    uint16_t length;
    bool operator<(const Entry& o) const { return id < o.id; }
  };
  SdrStore(std::unique_ptr<Database> db, uint16_t units) : db_(std::move(db)), units_(units) {}
  Result<void> prepareStatements();
  Result<void> load();
  Result<void> putMeta(const char* key, int64_t value);
  std::vector<Entry>::const_iterator find(uint16_t id) const;
  void insertIndex(uint16_t id, uint16_t length);
  void eraseIndex(uint16_t id);
  void recount();

  std::unique_ptr<Database> db_;
  uint16_t units_;
  std::vector<Entry> index_;  // sorted by ID
  uint16_t usedUnits_ = 0;
  uint16_t generatedCount_ = 0;
  bool overflow_ = false;
  uint32_t lastAddition_ = kNoTimestamp;
  uint32_t lastErase_ = kNoTimestamp;
  uint32_t deviceSdrChange_ = kNoTimestamp;
  std::optional<int64_t> deviceSdrHash_;
  // What the next timestamps must be later than (kNoTimestamp: nothing), see setGenerated().
  struct Floors {
    uint32_t addition = kNoTimestamp;
    uint32_t erase = kNoTimestamp;
    uint32_t device = kNoTimestamp;
  };
  Floors floors_;
  int64_t timeOffset_ = 0;
  // The last record get() returned: clients read a record in several chunks.
  std::optional<std::pair<uint16_t, SdrRecord>> cache_;
  // Prepared once in open(); declared after db_ so they are finalized before it closes.
  Statement selectRecord_;
  Statement insertRecord_;
  Statement deleteRecord_;
  Statement updateRecord_;
  Statement putMeta_;
};

}  // namespace simbmc::storage
