#include "storage/sdr_store.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>

namespace simbmc::storage {
namespace {

enum Origin : int64_t { kGenerated = 0, kUser = 1 };

// migrations[i] takes user_version i to i+1. Append only; never edit a shipped step.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kSteps = {
      // 1: records with their IDs and origin, and a few integers (timestamps, flags, hash).
      R"sql(
        CREATE TABLE sdr(
          id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 65534),
          origin INTEGER NOT NULL CHECK (origin IN (0, 1)),
          data BLOB NOT NULL
        );
        CREATE TABLE sdr_meta(
          key TEXT PRIMARY KEY,
          value INTEGER NOT NULL
        );
      )sql",
  };
  return kSteps;
}

constexpr const char* kMetaLastAddition = "last_addition";
constexpr const char* kMetaLastErase = "last_erase";
constexpr const char* kMetaOverflow = "overflow";
constexpr const char* kMetaGeneratedHash = "generated_hash";
constexpr const char* kMetaGeneratedCount = "generated_count";
constexpr const char* kMetaTimeOffset = "time_offset";
constexpr const char* kMetaDeviceHash = "device_hash";
constexpr const char* kMetaDeviceChange = "device_change";

class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& s_;
};

// A record is its 5-byte header plus the body length the header announces (IPMI v2.0 §43.1).
bool wellFormed(const SdrRecord& r) {
  return r.size() >= SdrStore::kHeaderSize && r.size() <= SdrStore::kMaxRecordSize &&
         r.size() == SdrStore::kHeaderSize + r[4];
}

void setId(SdrRecord& r, uint16_t id) {
  r[0] = static_cast<uint8_t>(id);
  r[1] = static_cast<uint8_t>(id >> 8);
}

// FNV-1a over the generated set (ID bytes included: they are 1..N by construction), so a restart
// with the same config leaves the repository and its timestamps untouched.
int64_t hashOf(const std::vector<SdrRecord>& records) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&](uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  for (const auto& r : records) {
    mix(static_cast<uint8_t>(r.size()));
    for (uint8_t b : r) mix(b);
  }
  return static_cast<int64_t>(h);
}

Error withContext(const Error& e, std::string_view context) {
  return makeError(e.kind, fmt::format("{}: {}", context, e.message));
}

}  // namespace

Result<std::unique_ptr<SdrStore>> SdrStore::open(const std::string& path, uint16_t units) {
  if (units < unitsFor(kMaxRecordSize) || units > 0xFFFE) {
    return makeError(Error::Kind::invalidArgument,
                     fmt::format("SDR repository capacity {} units is out of range", units));
  }
  auto db = Database::open(path);
  if (!db) return db.error();
  std::unique_ptr<SdrStore> store(new SdrStore(std::move(*db), units));
  if (auto r = store->db_->migrate(migrations()); !r) return withContext(r.error(), "SDR repository " + path);
  if (auto r = store->prepareStatements(); !r) return r.error();
  if (auto r = store->load(); !r) {
    if (r.error().kind == Error::Kind::corrupt) {
      return makeError(Error::Kind::corrupt, fmt::format("SDR repository {}: {}", path, r.error().message));
    }
    return r.error();
  }
  return store;
}

SdrStore::~SdrStore() = default;

Result<void> SdrStore::prepareStatements() {
  struct {
    Statement* stmt;
    const char* sql;
  } const all[] = {
      {&selectRecord_, "SELECT data FROM sdr WHERE id = ?"},
      {&insertRecord_, "INSERT INTO sdr(id, origin, data) VALUES(?, ?, ?)"},
      {&deleteRecord_, "DELETE FROM sdr WHERE id = ?"},
      {&updateRecord_, "UPDATE sdr SET data = ? WHERE id = ?"},
      {&putMeta_, "INSERT OR REPLACE INTO sdr_meta(key, value) VALUES(?, ?)"},
  };
  for (const auto& s : all) {
    auto p = db_->prepare(s.sql);
    if (!p) return p.error();
    *s.stmt = std::move(*p);
  }
  return {};
}

// Builds the index from the file and checks every record; runs at open and after setGenerated().
Result<void> SdrStore::load() {
  std::vector<Entry> index;
  auto rows = db_->prepare("SELECT id, data FROM sdr ORDER BY id");
  if (!rows) return rows.error();
  for (;;) {
    auto row = rows->step();
    if (!row) return row.error();
    if (!*row) break;
    const int64_t id = rows->columnInt(0);
    const SdrRecord data = rows->columnBlob(1);
    if (id < kFirstId || id > kMaxId) {
      return makeError(Error::Kind::corrupt, fmt::format("record id {} out of range", id));
    }
    if (!wellFormed(data)) {
      return makeError(Error::Kind::corrupt,
                       fmt::format("record 0x{:04x} is damaged ({} bytes, header says {})", id, data.size(),
                                   data.size() >= kHeaderSize ? kHeaderSize + data[4] : 0));
    }
    if ((data[0] | (data[1] << 8)) != id) {
      return makeError(Error::Kind::corrupt,
                       fmt::format("record 0x{:04x} carries id 0x{:02x}{:02x}", id, data[1], data[0]));
    }
    index.push_back(Entry{static_cast<uint16_t>(id), static_cast<uint16_t>(data.size())});
  }

  std::map<std::string, int64_t> meta;
  auto m = db_->prepare("SELECT key, value FROM sdr_meta");
  if (!m) return m.error();
  for (;;) {
    auto row = m->step();
    if (!row) return row.error();
    if (!*row) break;
    meta[m->columnText(0)] = m->columnInt(1);
  }
  auto u32 = [&](const char* key, uint32_t absent = 0) -> Result<uint32_t> {
    auto it = meta.find(key);
    if (it == meta.end()) return absent;
    if (it->second < 0 || it->second > 0xFFFFFFFFll) {
      return makeError(Error::Kind::corrupt, fmt::format("stored {} {} out of range", key, it->second));
    }
    return static_cast<uint32_t>(it->second);
  };
  auto addition = u32(kMetaLastAddition, kNoTimestamp);
  if (!addition) return addition.error();
  auto erase = u32(kMetaLastErase, kNoTimestamp);
  if (!erase) return erase.error();
  auto overflow = u32(kMetaOverflow);
  if (!overflow) return overflow.error();
  auto generated = u32(kMetaGeneratedCount);
  if (!generated) return generated.error();
  auto deviceChange = u32(kMetaDeviceChange, kNoTimestamp);
  if (!deviceChange) return deviceChange.error();
  if (*generated > kMaxId) return makeError(Error::Kind::corrupt, "stored generated record count out of range");

  index_ = std::move(index);
  lastAddition_ = *addition;
  lastErase_ = *erase;
  overflow_ = *overflow != 0;
  generatedCount_ = static_cast<uint16_t>(*generated);
  deviceSdrChange_ = *deviceChange;
  floors_ = Floors{lastAddition_, lastErase_, deviceSdrChange_};
  auto deviceHash = meta.find(kMetaDeviceHash);
  deviceSdrHash_ = deviceHash == meta.end() ? std::nullopt : std::optional<int64_t>(deviceHash->second);
  auto offset = meta.find(kMetaTimeOffset);
  timeOffset_ = offset == meta.end() ? 0 : offset->second;
  cache_.reset();
  recount();
  return {};
}

void SdrStore::recount() {
  uint32_t used = 0;
  for (const Entry& e : index_) used += unitsFor(e.length);
  usedUnits_ = static_cast<uint16_t>(std::min<uint32_t>(used, 0xFFFF));
}

Result<void> SdrStore::putMeta(const char* key, int64_t value) {
  ResetOnExit reset(putMeta_);
  return putMeta_.bind(1, std::string_view(key)).bind(2, value).run();
}

Result<bool> SdrStore::setGenerated(const std::vector<SdrRecord>& input, uint32_t now) {
  if (input.size() > kMaxId) return makeError(Error::Kind::invalidArgument, "too many generated SDRs");
  std::vector<SdrRecord> records = input;
  uint32_t units = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!wellFormed(records[i])) {
      return makeError(Error::Kind::invalidArgument,
                       fmt::format("generated SDR #{} is malformed ({} bytes)", i + 1, records[i].size()));
    }
    setId(records[i], static_cast<uint16_t>(i + 1));
    units += unitsFor(records[i].size());
  }
  const int64_t hash = hashOf(records);
  const uint16_t n = static_cast<uint16_t>(records.size());

  auto stored = db_->prepare("SELECT value FROM sdr_meta WHERE key = ?");
  if (!stored) return stored.error();
  stored->bind(1, std::string_view(kMetaGeneratedHash));
  auto row = stored->step();
  if (!row) return row.error();
  if (*row && stored->columnInt(0) == hash) return false;
  stored->reset();

  auto r = db_->transaction([&]() -> Result<void> {
    // The generated records of the previous config go; user records keep their IDs unless a
    // generated one needs it.
    auto oldGenerated = db_->prepare("SELECT count(*) FROM sdr WHERE origin = 0");
    if (!oldGenerated) return oldGenerated.error();
    auto c = oldGenerated->step();
    if (!c) return c.error();
    const bool erased = *c && oldGenerated->columnInt(0) > 0;
    oldGenerated->reset();
    if (auto e = db_->exec("DELETE FROM sdr WHERE origin = 0"); !e) return e;

    std::vector<std::pair<uint16_t, SdrRecord>> users;  // every user record, ascending IDs
    auto sel = db_->prepare("SELECT id, data FROM sdr ORDER BY id");
    if (!sel) return sel.error();
    for (;;) {
      auto s = sel->step();
      if (!s) return s.error();
      if (!*s) break;
      users.emplace_back(static_cast<uint16_t>(sel->columnInt(0)), sel->columnBlob(1));
    }
    for (const auto& u : users) units += unitsFor(u.second.size());
    if (units > units_) return makeError(Error::Kind::full, "generated SDRs do not fit in the SDR repository");

    // IDs of user records that stay, then new IDs for the ones in 1..n, above everything.
    std::vector<bool> used(size_t{kMaxId} + 1, false);
    uint32_t top = n;
    for (const auto& u : users) {
      if (u.first > n) {
        used[u.first] = true;
        top = std::max<uint32_t>(top, u.first);
      }
    }
    auto moveTo = db_->prepare("UPDATE sdr SET id = ?, data = ? WHERE id = ?");
    if (!moveTo) return moveTo.error();
    for (auto& u : users) {
      if (u.first > n) continue;
      uint32_t id = top + 1;
      if (id > kMaxId) {
        id = uint32_t{n} + 1;
        while (id <= kMaxId && used[id]) ++id;
      }
      if (id > kMaxId) return makeError(Error::Kind::full, "no free SDR record IDs");
      used[id] = true;
      top = std::max(top, id);
      setId(u.second, static_cast<uint16_t>(id));
      if (auto e = moveTo->bind(1, int64_t{id}).bind(2, u.second).bind(3, int64_t{u.first}).run(); !e) return e;
    }
    for (uint16_t i = 0; i < n; ++i) {
      ResetOnExit reset(insertRecord_);
      if (auto e = insertRecord_.bind(1, int64_t{i} + 1).bind(2, int64_t{kGenerated}).bind(3, records[i]).run(); !e) {
        return e;
      }
    }
    if (auto e = putMeta(kMetaGeneratedHash, hash); !e) return e;
    if (auto e = putMeta(kMetaGeneratedCount, n); !e) return e;
    if (auto e = putMeta(kMetaLastAddition, nextRepositoryStamp(floors_.addition, now)); !e) return e;
    if (erased) {
      if (auto e = putMeta(kMetaLastErase, nextRepositoryStamp(floors_.erase, now)); !e) return e;
    }
    return {};
  });
  if (!r) return r.error();
  if (auto l = load(); !l) return l.error();
  return true;
}

std::vector<SdrStore::Entry>::const_iterator SdrStore::find(uint16_t id) const {
  auto it = std::lower_bound(index_.begin(), index_.end(), Entry{id, 0});
  return (it != index_.end() && it->id == id) ? it : index_.end();
}

bool SdrStore::contains(uint16_t id) const { return find(id) != index_.end(); }

std::optional<uint16_t> SdrStore::first() const {
  if (index_.empty()) return std::nullopt;
  return index_.front().id;
}

std::optional<uint16_t> SdrStore::last() const {
  if (index_.empty()) return std::nullopt;
  return index_.back().id;
}

std::optional<uint16_t> SdrStore::after(uint16_t id) const {
  auto it = std::upper_bound(index_.begin(), index_.end(), Entry{id, 0});
  if (it == index_.end()) return std::nullopt;
  return it->id;
}

Result<std::optional<SdrRecord>> SdrStore::get(uint16_t id) {
  if (!contains(id)) return std::optional<SdrRecord>{};
  if (cache_ && cache_->first == id) return std::optional<SdrRecord>{cache_->second};
  ResetOnExit reset(selectRecord_);
  selectRecord_.bind(1, int64_t{id});
  auto row = selectRecord_.step();
  if (!row) return row.error();
  if (!*row) return makeError(Error::Kind::internal, fmt::format("SDR record 0x{:04x} is indexed but not stored", id));
  SdrRecord data = selectRecord_.columnBlob(0);
  // Checked at open; re-checked here because a damaged record must never reach a client.
  if (!wellFormed(data) || (data[0] | (data[1] << 8)) != id) {
    return makeError(Error::Kind::corrupt, fmt::format("SDR record 0x{:04x} is damaged", id));
  }
  cache_.emplace(id, data);
  return std::optional<SdrRecord>{std::move(data)};
}

std::optional<uint16_t> SdrStore::nextFreeId() const {
  uint32_t candidate = uint32_t{generatedCount_} + 1;
  if (!index_.empty()) candidate = std::max<uint32_t>(candidate, uint32_t{index_.back().id} + 1);
  if (candidate <= kMaxId) return static_cast<uint16_t>(candidate);
  // IDs are exhausted at the top: the lowest gap above the generated range.
  uint32_t id = uint32_t{generatedCount_} + 1;
  for (auto it = std::lower_bound(index_.begin(), index_.end(),
                                  Entry{static_cast<uint16_t>(std::min<uint32_t>(id, kMaxId)), 0});
       it != index_.end() && id <= kMaxId; ++it) {
    if (it->id > id) return static_cast<uint16_t>(id);
    id = uint32_t{it->id} + 1;
  }
  if (id <= kMaxId) return static_cast<uint16_t>(id);
  return std::nullopt;
}

void SdrStore::insertIndex(uint16_t id, uint16_t length) {
  auto it = std::lower_bound(index_.begin(), index_.end(), Entry{id, 0});
  index_.insert(it, Entry{id, length});
  recount();
}

void SdrStore::eraseIndex(uint16_t id) {
  auto it = find(id);
  if (it != index_.end()) index_.erase(it);
  recount();
}

Result<uint16_t> SdrStore::add(SdrRecord record, uint32_t now) {
  if (!wellFormed(record)) {
    return makeError(Error::Kind::invalidArgument, fmt::format("malformed SDR ({} bytes)", record.size()));
  }
  auto id = nextFreeId();
  const bool fits = uint32_t{usedUnits_} + unitsFor(record.size()) <= units_;
  if (!fits || !id) {
    if (!overflow_) {
      if (auto r = putMeta(kMetaOverflow, 1); !r) return r.error();
      overflow_ = true;
    }
    return makeError(Error::Kind::full, fits ? "no free SDR record IDs" : "SDR repository is full");
  }
  setId(record, *id);
  const uint32_t stamp = nextRepositoryStamp(floors_.addition, now);
  auto r = db_->transaction([&]() -> Result<void> {
    ResetOnExit reset(insertRecord_);
    if (auto e = insertRecord_.bind(1, int64_t{*id}).bind(2, int64_t{kUser}).bind(3, record).run(); !e) return e;
    return putMeta(kMetaLastAddition, stamp);
  });
  if (!r) return r.error();
  cache_.reset();
  insertIndex(*id, static_cast<uint16_t>(record.size()));
  lastAddition_ = stamp;
  floors_.addition = stamp;
  return *id;
}

Result<size_t> SdrStore::replace(const std::vector<std::pair<uint16_t, SdrRecord>>& input, uint32_t now) {
  std::vector<std::pair<uint16_t, SdrRecord>> records;
  int64_t units = usedUnits_;
  for (const auto& [id, record] : input) {
    if (!wellFormed(record)) {
      return makeError(Error::Kind::invalidArgument, fmt::format("malformed SDR ({} bytes)", record.size()));
    }
    auto it = find(id);
    if (it == index_.end()) continue;
    units += int64_t{unitsFor(record.size())} - unitsFor(it->length);
    records.emplace_back(id, record);
    setId(records.back().second, id);
  }
  if (records.empty()) return size_t{0};
  if (units > units_) return makeError(Error::Kind::full, "SDR repository is full");
  const uint32_t stamp = nextRepositoryStamp(floors_.addition, now);
  auto r = db_->transaction([&]() -> Result<void> {
    for (const auto& [id, record] : records) {
      ResetOnExit reset(updateRecord_);
      if (auto e = updateRecord_.bind(1, record).bind(2, int64_t{id}).run(); !e) return e;
    }
    return putMeta(kMetaLastAddition, stamp);
  });
  if (!r) return r.error();
  cache_.reset();
  for (const auto& [id, record] : records) {
    auto it = std::lower_bound(index_.begin(), index_.end(), Entry{id, 0});
    it->length = static_cast<uint16_t>(record.size());
  }
  recount();
  lastAddition_ = stamp;
  floors_.addition = stamp;
  return records.size();
}

Result<void> SdrStore::forEach(const std::function<bool(uint16_t id, const SdrRecord& record)>& fn) {
  auto rows = db_->prepare("SELECT id, data FROM sdr ORDER BY id");
  if (!rows) return rows.error();
  for (;;) {
    auto row = rows->step();
    if (!row) return row.error();
    if (!*row) return {};
    const auto id = static_cast<uint16_t>(rows->columnInt(0));
    const SdrRecord data = rows->columnBlob(1);
    // Checked at open; a damaged record is never handed out.
    if (!wellFormed(data) || (data[0] | (data[1] << 8)) != id) {
      return makeError(Error::Kind::corrupt, fmt::format("SDR record 0x{:04x} is damaged", id));
    }
    if (!fn(id, data)) return {};
  }
}

Result<bool> SdrStore::remove(uint16_t id, uint32_t now) {
  if (!contains(id)) return false;
  const uint32_t stamp = nextRepositoryStamp(floors_.erase, now);
  auto r = db_->transaction([&]() -> Result<void> {
    ResetOnExit reset(deleteRecord_);
    if (auto e = deleteRecord_.bind(1, int64_t{id}).run(); !e) return e;
    return putMeta(kMetaLastErase, stamp);
  });
  if (!r) return r.error();
  cache_.reset();
  eraseIndex(id);
  lastErase_ = stamp;
  floors_.erase = stamp;
  return true;
}

Result<void> SdrStore::clear(uint32_t now) {
  const uint32_t stamp = nextRepositoryStamp(floors_.erase, now);
  auto r = db_->transaction([&]() -> Result<void> {
    if (auto e = db_->exec("DELETE FROM sdr"); !e) return e;
    if (auto e = putMeta(kMetaOverflow, 0); !e) return e;
    return putMeta(kMetaLastErase, stamp);
  });
  if (!r) return r;
  cache_.reset();
  index_.clear();
  recount();
  overflow_ = false;
  lastErase_ = stamp;
  floors_.erase = stamp;
  return {};
}

Result<bool> SdrStore::noteDeviceSdrs(const std::vector<SdrRecord>& records, uint32_t now) {
  const int64_t hash = hashOf(records);
  if (deviceSdrHash_ == hash) return false;
  const uint32_t stamp = nextRepositoryStamp(floors_.device, now);
  auto r = db_->transaction([&]() -> Result<void> {
    if (auto e = putMeta(kMetaDeviceHash, hash); !e) return e;
    return putMeta(kMetaDeviceChange, stamp);
  });
  if (!r) return r.error();
  deviceSdrHash_ = hash;
  deviceSdrChange_ = stamp;
  floors_.device = stamp;
  return true;
}

Result<void> SdrStore::setTimeOffset(int64_t offset) {
  if (auto r = putMeta(kMetaTimeOffset, offset); !r) return r;
  timeOffset_ = offset;
  floors_ = Floors{};  // the next timestamps follow the clock as set, even backwards
  return {};
}

}  // namespace simbmc::storage
