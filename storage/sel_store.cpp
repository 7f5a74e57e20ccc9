#include "storage/sel_store.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace simbmc::storage {
namespace {

constexpr uint16_t kMinId = 0x0001;
constexpr uint16_t kMaxId = 0xFFFE;

// Meta keys. Settings from the SEL device share the table under their own prefix.
const std::string kKeyNextId = "next_id";
const std::string kKeyLastAdd = "last_add";
const std::string kKeyLastErase = "last_erase";
const std::string kKeyOverflow = "overflow";
const std::string kSettingPrefix = "setting.";
// Under the settings prefix: SelService wrote it through putSetting() before the store owned it.
const std::string kKeyTimeOffset = kSettingPrefix + "time_offset";

// migrations[i] takes user_version i to i+1. Append only; never edit a shipped step.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kSteps = {
      // 1: records in insertion order (seq) with their IPMI record ID and a CRC-32 of the 16 bytes
      // (SQLite checks its pages' structure, not their contents); counters and timestamps.
      R"sql(
        CREATE TABLE sel(
          seq INTEGER PRIMARY KEY,
          record_id INTEGER NOT NULL UNIQUE CHECK(record_id BETWEEN 1 AND 65534),
          data BLOB NOT NULL CHECK(length(data) = 16),
          crc INTEGER NOT NULL
        );
        CREATE TABLE meta(
          key TEXT PRIMARY KEY,
          value INTEGER NOT NULL
        );
      )sql",
  };
  return kSteps;
}

// Keeps a long-lived database small in RAM: the log is read sequentially, a small page cache is
// enough, and a fleet has one of these per instance.
constexpr const char* kCacheSizePragma = "PRAGMA cache_size = -256";  // KiB

class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& s_;
};

Error withContext(const Error& e, std::string_view context) {
  return makeError(e.kind, fmt::format("{}: {}", context, e.message));
}

uint16_t following(uint16_t id) { return id >= kMaxId ? kMinId : static_cast<uint16_t>(id + 1); }

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of a record; bitwise, records are 16 bytes.
int64_t recordCrc(std::span<const uint8_t> data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : data) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return static_cast<int64_t>(~crc);
}

// A row as stored is intact when its blob has 16 bytes that start with its own record ID and
// match their CRC.
bool rowIntact(int64_t recordId, const std::vector<uint8_t>& data, int64_t crc) {
  return recordId >= kMinId && recordId <= kMaxId && data.size() == 16 && data[0] == (recordId & 0xFF) &&
         data[1] == (recordId >> 8) && crc == recordCrc(data);
}

}  // namespace

Result<std::unique_ptr<SelStore>> SelStore::open(const std::string& path, SelLimits limits) {
  if (limits.capacity < SelLimits::kMinCapacity || limits.capacity > SelLimits::kMaxCapacity) {
    return makeError(Error::Kind::invalidArgument,
                     fmt::format("SEL capacity {} is outside {}..{}", limits.capacity, SelLimits::kMinCapacity,
                                 SelLimits::kMaxCapacity));
  }
  auto db = Database::open(path);
  if (!db) return db.error();
  if (auto r = (*db)->migrate(migrations()); !r) return withContext(r.error(), fmt::format("SEL store {}", path));
  if (auto r = (*db)->exec(kCacheSizePragma); !r) return withContext(r.error(), fmt::format("SEL store {}", path));
  std::unique_ptr<SelStore> store(new SelStore(std::move(*db), limits));
  if (auto r = store->prepareStatements(); !r) return withContext(r.error(), fmt::format("SEL store {}", path));
  if (auto r = store->loadState(); !r) return withContext(r.error(), fmt::format("SEL store {}", path));
  return store;
}

SelStore::~SelStore() = default;

Result<void> SelStore::prepareStatements() {
  struct Item {
    Statement& target;
    std::string_view sql;
  };
  const Item items[] = {
      // A record and the ID of the one after it (NULL after the last): one statement per Get SEL Entry.
      {selectById_, "SELECT s.seq, s.record_id, s.data, s.crc, "
                    "(SELECT n.record_id FROM sel n WHERE n.seq > s.seq ORDER BY n.seq LIMIT 1) "
                    "FROM sel s WHERE s.record_id = ?1"},
      {selectFirst_, "SELECT s.seq, s.record_id, s.data, s.crc, "
                     "(SELECT n.record_id FROM sel n WHERE n.seq > s.seq ORDER BY n.seq LIMIT 1) "
                     "FROM sel s ORDER BY s.seq LIMIT 1"},
      {selectLast_, "SELECT s.seq, s.record_id, s.data, s.crc, NULL FROM sel s ORDER BY s.seq DESC LIMIT 1"},
      {idInUse_, "SELECT 1 FROM sel WHERE record_id = ?1"},
      // seq defaults to max(seq) + 1: above every live row, which is all the order needs.
      {insert_, "INSERT INTO sel(record_id, data, crc) VALUES(?1, ?2, ?3)"},
      {deleteBySeq_, "DELETE FROM sel WHERE seq = ?1"},
      {deleteOldest_, "DELETE FROM sel WHERE seq = (SELECT MIN(seq) FROM sel)"},
      {deleteAll_, "DELETE FROM sel"},
      {selectMeta_, "SELECT value FROM meta WHERE key = ?1"},
      {putMeta_, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
  };
  for (const auto& item : items) {
    auto stmt = db_->prepare(item.sql);
    if (!stmt) return stmt.error();
    item.target = std::move(*stmt);
  }
  return {};
}

Result<std::optional<int64_t>> SelStore::readMeta(Statement& select, const std::string& key) {
  ResetOnExit guard(select);
  auto row = select.bind(1, std::string_view(key)).step();
  if (!row) return row.error();
  if (!*row) return std::optional<int64_t>{};
  return std::optional<int64_t>{select.columnInt(0)};
}

Result<void> SelStore::writeMeta(const std::string& key, int64_t value) {
  return putMeta_.bind(1, std::string_view(key)).bind(2, value).run();
}

Result<void> SelStore::loadState() {
  // The one full scan, at start-up: every record is checked once, so a damaged file is refused
  // before anything is served, and the count can never drift from the rows.
  auto scan = db_->prepare("SELECT record_id, data, crc FROM sel");
  if (!scan) return scan.error();
  int64_t n = 0;
  for (;;) {
    auto row = scan->step();
    if (!row) return row.error();
    if (!*row) break;
    if (!rowIntact(scan->columnInt(0), scan->columnBlob(1), scan->columnInt(2))) {
      return makeError(Error::Kind::corrupt, fmt::format("record_id={} is damaged", scan->columnInt(0)));
    }
    if (++n > SelLimits::kMaxCapacity) {
      return makeError(Error::Kind::corrupt, fmt::format("more records than the {} IDs", SelLimits::kMaxCapacity));
    }
  }
  count_ = static_cast<uint32_t>(n);

  struct Field {
    const std::string& key;
    int64_t lo, hi;
    int64_t* out;
  };
  int64_t nextId = kMinId, lastAdd = kNoTimestamp, lastErase = kNoTimestamp, overflow = 0, timeOffset = 0;
  const Field fields[] = {
      {kKeyNextId, kMinId, kMaxId, &nextId},
      {kKeyLastAdd, 0, 0xFFFFFFFF, &lastAdd},
      {kKeyLastErase, 0, 0xFFFFFFFF, &lastErase},
      {kKeyOverflow, 0, 1, &overflow},
      // Any offset is harmless: the SEL clock saturates.
      {kKeyTimeOffset, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &timeOffset},
  };
  for (const Field& f : fields) {
    auto v = readMeta(selectMeta_, f.key);
    if (!v) return v.error();
    if (!v->has_value()) continue;
    if (**v < f.lo || **v > f.hi) {
      return makeError(Error::Kind::corrupt, fmt::format("meta {}={} is outside {}..{}", f.key, **v, f.lo, f.hi));
    }
    *f.out = **v;
  }
  nextId_ = static_cast<uint16_t>(nextId);
  lastAdd_ = static_cast<uint32_t>(lastAdd);
  lastErase_ = static_cast<uint32_t>(lastErase);
  overflow_ = overflow != 0;
  floors_ = Floors{lastAdd_, lastErase_};
  timeOffset_ = timeOffset;
  return {};
}

Result<uint16_t> SelStore::findFreeId(uint16_t candidate) {
  // Bounded by the ID space; with count < 65534 a free ID always exists.
  for (uint32_t i = 0; i < SelLimits::kMaxCapacity; ++i) {
    ResetOnExit guard(idInUse_);
    auto row = idInUse_.bind(1, int64_t{candidate}).step();
    if (!row) return row.error();
    if (!*row) return candidate;
    candidate = following(candidate);
  }
  return makeError(Error::Kind::full, "every SEL record ID is in use");
}

Result<uint16_t> SelStore::peekNextId() {
  auto id = findFreeId(nextId_);
  if (!id) return withContext(id.error(), "SEL next record ID");
  return id;
}

Result<uint16_t> SelStore::add(SelRecordData record, uint32_t now) {
  if (count_ >= limits_.capacity && limits_.policy == SelOverflowPolicy::stop) {
    // §31.2: the overflow flag says events were dropped for lack of space. Best effort: the
    // dropped event is reported as `full` whether or not the flag could be written.
    if (!overflow_) {
      auto r = db_->transaction([&] { return writeMeta(kKeyOverflow, 1); });
      (void)r;
      overflow_ = true;
    }
    return makeError(Error::Kind::full,
                     fmt::format("SEL is full ({} of {} entries, policy stop)", count_, limits_.capacity));
  }

  uint32_t evicted = 0;
  uint16_t assigned = 0;
  const uint32_t addStamp = nextRepositoryStamp(floors_.addition, now);
  const uint32_t eraseStamp = nextRepositoryStamp(floors_.erase, now);
  auto r = db_->transaction([&]() -> Result<void> {
    // Circular: drop the oldest until one slot is free (more than one when the capacity shrank).
    while (count_ - evicted >= limits_.capacity) {
      if (auto d = deleteOldest_.run(); !d) return d;
      if (sqlite3_changes(db_->handle()) != 1) return makeError(Error::Kind::internal, "circular SEL: nothing to evict");
      ++evicted;
    }
    auto id = findFreeId(nextId_);
    if (!id) return id.error();
    assigned = *id;
    record[0] = static_cast<uint8_t>(assigned & 0xFF);
    record[1] = static_cast<uint8_t>(assigned >> 8);
    if (auto i = insert_.bind(1, int64_t{assigned})
                     .bind(2, std::span<const uint8_t>(record))
                     .bind(3, recordCrc(record))
                     .run();
        !i) {
      return i;
    }
    if (auto m = writeMeta(kKeyNextId, following(assigned)); !m) return m;
    // §31.2: the erase timestamp is the last time entries were deleted from the log, and an
    // overwritten entry is deleted as much as one removed by Delete SEL Entry.
    if (evicted > 0) {
      if (auto m = writeMeta(kKeyLastErase, eraseStamp); !m) return m;
    }
    return writeMeta(kKeyLastAdd, addStamp);
  });
  if (!r) return withContext(r.error(), "add SEL entry");
  count_ = count_ - evicted + 1;
  nextId_ = following(assigned);
  lastAdd_ = floors_.addition = addStamp;
  if (evicted > 0) lastErase_ = floors_.erase = eraseStamp;
  return assigned;
}

Result<SelEntry> SelStore::get(uint16_t id) {
  Statement& select = id == kFirst ? selectFirst_ : (id == kLast ? selectLast_ : selectById_);
  ResetOnExit guard(select);
  if (&select == &selectById_) select.bind(1, int64_t{id});
  auto row = select.step();
  if (!row) return withContext(row.error(), fmt::format("get SEL entry {:#06x}", id));
  if (!*row) return makeError(Error::Kind::notFound, fmt::format("SEL entry {:#06x} not present", id));
  const int64_t seq = select.columnInt(0);
  const int64_t rid = select.columnInt(1);
  const std::vector<uint8_t> data = select.columnBlob(2);
  const int64_t next = select.columnIsNull(4) ? kLast : select.columnInt(4);
  if (!rowIntact(rid, data, select.columnInt(3)) || next < kMinId || next > kLast) {
    return makeError(Error::Kind::corrupt, fmt::format("SEL row seq={} record_id={} is damaged", seq, rid));
  }
  SelEntry entry;
  entry.id = static_cast<uint16_t>(rid);
  std::copy(data.begin(), data.end(), entry.data.begin());
  entry.nextId = static_cast<uint16_t>(next);
  return entry;
}

Result<uint16_t> SelStore::erase(uint16_t id, uint32_t now) {
  uint16_t erased = 0;
  const uint32_t stamp = nextRepositoryStamp(floors_.erase, now);
  auto r = db_->transaction([&]() -> Result<void> {
    Statement& select = id == kFirst ? selectFirst_ : (id == kLast ? selectLast_ : selectById_);
    int64_t seq = 0;
    {
      ResetOnExit guard(select);
      if (&select == &selectById_) select.bind(1, int64_t{id});
      auto row = select.step();
      if (!row) return row.error();
      if (!*row) return makeError(Error::Kind::notFound, "not present");
      seq = select.columnInt(0);
      erased = static_cast<uint16_t>(select.columnInt(1));
    }
    if (auto d = deleteBySeq_.bind(1, seq).run(); !d) return d;
    return writeMeta(kKeyLastErase, stamp);
  });
  if (!r) return withContext(r.error(), fmt::format("delete SEL entry {:#06x}", id));
  --count_;
  lastErase_ = floors_.erase = stamp;
  return erased;
}

Result<void> SelStore::clear(uint32_t now) {
  const uint32_t stamp = nextRepositoryStamp(floors_.erase, now);
  auto r = db_->transaction([&]() -> Result<void> {
    if (auto d = deleteAll_.run(); !d) return d;
    if (auto m = writeMeta(kKeyOverflow, 0); !m) return m;
    return writeMeta(kKeyLastErase, stamp);
  });
  if (!r) return withContext(r.error(), "clear SEL");
  count_ = 0;
  overflow_ = false;
  lastErase_ = floors_.erase = stamp;
  return {};
}

Result<void> SelStore::setTimeOffset(int64_t offset) {
  auto r = db_->transaction([&] { return writeMeta(kKeyTimeOffset, offset); });
  if (!r) return withContext(r.error(), "write SEL time offset");
  timeOffset_ = offset;
  floors_ = Floors{};  // the next timestamps follow the clock as set, even backwards
  return {};
}

Result<std::optional<int64_t>> SelStore::setting(const std::string& key) {
  auto v = readMeta(selectMeta_, kSettingPrefix + key);
  if (!v) return withContext(v.error(), fmt::format("read SEL setting {}", key));
  return v;
}

Result<void> SelStore::putSetting(const std::string& key, int64_t value) {
  auto r = db_->transaction([&] { return writeMeta(kSettingPrefix + key, value); });
  if (!r) return withContext(r.error(), fmt::format("write SEL setting {}", key));
  return {};
}

}  // namespace simbmc::storage
