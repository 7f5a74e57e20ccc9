// SelStore: the System Event Log of one BMC instance in its own SQLite file (state-dir/sel.db).
//
// A record is the 16 bytes of IPMI v2.0 §32 (Table 32-1 system event record, Tables 32-2/32-3 OEM
// records): bytes 0..1 are the record ID (LS byte first), byte 2 the record type. The store assigns
// record IDs and writes them into the record; everything else is the caller's.
//
// Record IDs: 0x0001..0xFFFE (0x0000 and 0xFFFF mean "first" and "last" in the commands, §31.5),
// unique among live records, handed out in increasing order from a persisted counter that is never
// reset (not by Clear SEL, not by a restart) and wraps from 0xFFFE to 0x0001 skipping IDs still in
// use. Order ("first", "next", "last") is insertion order, not ID order, so it survives the wrap.
//
// Capacity (entries, 16..65534) and the overflow policy come from the config: `stop` refuses an add
// when full (Error::Kind::full) and raises the persisted overflow flag (§31.2); `circular` deletes
// the oldest record(s) to make room, which stamps the erase time like any other deletion.
//
// Timestamps: the most recent addition and erase timestamps (§31.2) never repeat or go backwards,
// across restarts too: a change takes `now`, or the previous value + 1 when `now` is not later
// (several changes in one second, or a clock that moved back). Clients that cache the SEL compare
// them for equality, in whole seconds, to notice changes. Only setTimeOffset() (Set SEL Time) lets
// the next ones go back, to follow the clock a client set (until a restart, which keeps the floor).
// The timestamps inside the records are the caller's (the SEL time of the event, §32.1).
//
// Integrity: each row carries a CRC-32 of its 16 bytes, checked for every record at open and on
// every read, so a damaged record is refused (Error::Kind::corrupt), never served.
//
// Durability: every mutating call runs in one transaction (WAL, synchronous=FULL) and returns only
// after COMMIT, so a caller that reports success has the change on disk. On any error nothing
// changed, on disk or in memory. Reads keep working when writes fail (disk full, read-only, I/O).
//
// Cost: statements are prepared once; count and timestamps live in memory (read once at open);
// a lookup is an indexed query. Records are never held in memory, so RSS does not grow with the log.
// Single-threaded: owned by one BMC instance on the io_context thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "storage/database.hpp"
#include "storage/repository_time.hpp"

namespace simbmc::storage {

enum class SelOverflowPolicy : uint8_t { stop, circular };

struct SelLimits {
  static constexpr uint32_t kMinCapacity = 16;
  static constexpr uint32_t kMaxCapacity = 65534;  // every ID 0x0001..0xFFFE in use
  static constexpr uint32_t kDefaultCapacity = 3639;
  uint32_t capacity = kDefaultCapacity;
  SelOverflowPolicy policy = SelOverflowPolicy::stop;
};

using SelRecordData = std::array<uint8_t, 16>;

struct SelEntry {
  uint16_t id = 0;
  SelRecordData data{};
  uint16_t nextId = 0xFFFF;  // the following record's ID in insertion order; 0xFFFF after the last
};

class SelStore {
 public:
  static constexpr uint16_t kFirst = 0x0000;
  static constexpr uint16_t kLast = 0xFFFF;
  static constexpr uint32_t kNoTimestamp = kNoRepositoryTimestamp;  // §31.2: "no entries ever added/erased"

  // Opens (creating) `path` (":memory:" for tests), runs the migrations, checks every record
  // against its CRC-32 and loads count, counters and timestamps. Errors: those of Database::open
  // (corrupt names the file), invalidArgument for limits out of range, corrupt (naming the file) for
  // a damaged record or stored values out of range.
  static Result<std::unique_ptr<SelStore>> open(const std::string& path, SelLimits limits);
  ~SelStore();
  SelStore(const SelStore&) = delete;
  SelStore& operator=(const SelStore&) = delete;

  uint32_t count() const { return count_; }
  const SelLimits& limits() const { return limits_; }
  uint32_t freeEntries() const { return count_ >= limits_.capacity ? 0 : limits_.capacity - count_; }
  bool overflow() const { return overflow_; }
  uint32_t lastAddTime() const { return lastAdd_; }
  uint32_t lastEraseTime() const { return lastErase_; }

  // Adds `record` (bytes 0..1 are overwritten with the assigned ID) and moves the last add time to
  // `now` (and the last erase time, when the circular policy dropped entries to make room), or to
  // the previous value + 1 when `now` is not later (see Timestamps above). Returns the assigned ID. Errors: full (stop policy at capacity: overflow flag set;
  // or the disk is full), io, busy, internal.
  Result<uint16_t> add(SelRecordData record, uint32_t now);
  // The ID the next add() would assign if nothing else changes first (Partial Add SEL Entry).
  Result<uint16_t> peekNextId();
  // Record `id` (kFirst/kLast allowed) with the next ID in the chain. notFound when absent or the
  // log is empty; corrupt when the stored row is damaged (never served).
  Result<SelEntry> get(uint16_t id);
  // Deletes record `id` (kFirst/kLast allowed), moves the last erase time to `now` (as for add()),
  // returns the deleted ID. notFound when absent.
  Result<uint16_t> erase(uint16_t id, uint32_t now);
  // Deletes every record, clears the overflow flag and moves the last erase time to `now` (as for
  // add()); IDs keep counting from where they were.
  Result<void> clear(uint32_t now);

  // A persisted signed offset (seconds) for the SEL clock (Set SEL Time, §31.11). The timestamps
  // written next follow the new clock even when it was set back.
  int64_t timeOffset() const { return timeOffset_; }
  Result<void> setTimeOffset(int64_t offset);

  // Small persisted integers for the SEL device (the UTC offset), in this file so they live and die
  // with the log they describe. "time_offset" is setTimeOffset()'s: read it, do not write it here.
  Result<std::optional<int64_t>> setting(const std::string& key);
  Result<void> putSetting(const std::string& key, int64_t value);

  // For tests that simulate a full or read-only disk (PRAGMA max_page_count / query_only).
  Database& database() { return *db_; }

 private:
  SelStore(std::unique_ptr<Database> db, SelLimits limits) : db_(std::move(db)), limits_(limits) {}
  Result<void> prepareStatements();
  Result<void> loadState();
  Result<std::optional<int64_t>> readMeta(Statement& select, const std::string& key);
  Result<void> writeMeta(const std::string& key, int64_t value);
  // Finds the row of `id` (kFirst/kLast resolved): its seq, or nullopt.
  Result<std::optional<int64_t>> locate(uint16_t id, uint16_t* resolvedId);
  Result<uint16_t> findFreeId(uint16_t candidate);

  std::unique_ptr<Database> db_;
  SelLimits limits_;
  uint32_t count_ = 0;
  uint16_t nextId_ = 1;
  bool overflow_ = false;
  uint32_t lastAdd_ = kNoTimestamp;
  uint32_t lastErase_ = kNoTimestamp;
  // What the next timestamps must be later than (kNoTimestamp: nothing), see Timestamps above.
  struct Floors {
    uint32_t addition = kNoTimestamp;
    uint32_t erase = kNoTimestamp;
  };
  Floors floors_;
  int64_t timeOffset_ = 0;

  // Prepared once in open(); declared after db_ so they are finalized before it closes.
  Statement selectById_;
  Statement selectFirst_;
  Statement selectLast_;
  Statement idInUse_;
  Statement insert_;
  Statement deleteBySeq_;
  Statement deleteOldest_;
  Statement deleteAll_;
  Statement selectMeta_;
  Statement putMeta_;
};

}  // namespace simbmc::storage
