// SdrStore: the SDR repository on SQLite (storage/sdr_store.hpp). IPMI v2.0 §33 (repository),
// §43.1 (record header).
#include "storage/sdr_store.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <vector>

#include "unit/storage/test_files.hpp"

namespace simbmc::storage {
namespace {

using testing::TempDir;

// A record of `type` with `body` bytes of `fill` (ID bytes left 0 for the store to assign).
SdrRecord record(uint8_t type, size_t body, uint8_t fill = 0xA5) {
  SdrRecord r{0x00, 0x00, 0x51, type, static_cast<uint8_t>(body)};
  r.insert(r.end(), body, fill);
  return r;
}

SdrRecord withId(SdrRecord r, uint16_t id) {
  r[0] = static_cast<uint8_t>(id);
  r[1] = static_cast<uint8_t>(id >> 8);
  return r;
}

std::unique_ptr<SdrStore> openStore(const std::string& path = ":memory:", uint16_t units = SdrStore::kDefaultUnits) {
  auto s = SdrStore::open(path, units);
  EXPECT_TRUE(s.hasValue()) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

// Every ID from first() along after(), bounded by the record count.
std::vector<uint16_t> chain(const SdrStore& s) {
  std::vector<uint16_t> ids;
  auto id = s.first();
  for (size_t i = 0; id && i <= s.count(); ++i) {
    ids.push_back(*id);
    id = s.after(*id);
  }
  return ids;
}

SdrRecord mustGet(SdrStore& s, uint16_t id) {
  auto r = s.get(id);
  EXPECT_TRUE(r.hasValue()) << (r ? "" : r.error().message);
  if (!r || !*r) return {};
  return **r;
}

// Runs one SQL statement on the file behind the store's back (the store must be closed).
void rawExec(const std::string& path, const std::string& sql) {
  auto db = Database::open(path);
  ASSERT_TRUE(db.hasValue()) << db.error().message;
  auto r = (*db)->exec(sql);
  ASSERT_TRUE(r.hasValue()) << r.error().message;
}

TEST(SdrStoreTest, EmptyRepository) {
  auto s = openStore();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count(), 0);
  EXPECT_FALSE(s->first());
  EXPECT_FALSE(s->last());
  EXPECT_FALSE(s->after(0));
  EXPECT_EQ(s->usedUnits(), 0);
  EXPECT_EQ(s->freeUnits(), SdrStore::kDefaultUnits);
  EXPECT_FALSE(s->overflow());
  EXPECT_EQ(s->lastAddition(), SdrStore::kNoTimestamp);
  EXPECT_EQ(s->lastErase(), SdrStore::kNoTimestamp);
  EXPECT_EQ(s->nextFreeId(), 1);
  auto r = s->get(1);
  ASSERT_TRUE(r.hasValue());
  EXPECT_FALSE(r->has_value());
}

TEST(SdrStoreTest, GeneratedRecordsGetIdsOneToNInOrder) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto changed = s->setGenerated({record(0x12, 16, 1), record(0x11, 20, 2), record(0x01, 43, 3)}, 1000);
  ASSERT_TRUE(changed.hasValue()) << changed.error().message;
  EXPECT_TRUE(*changed);
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 2, 3}));
  EXPECT_EQ(mustGet(*s, 1), withId(record(0x12, 16, 1), 1));
  EXPECT_EQ(mustGet(*s, 2), withId(record(0x11, 20, 2), 2));
  EXPECT_EQ(mustGet(*s, 3), withId(record(0x01, 43, 3), 3));
  EXPECT_EQ(s->generatedCount(), 3);
  EXPECT_EQ(s->lastAddition(), 1000u);
  EXPECT_EQ(s->lastErase(), SdrStore::kNoTimestamp) << "nothing was erased";
  // 21, 25 and 48 bytes: 2 + 2 + 3 units of 16 bytes.
  EXPECT_EQ(s->usedUnits(), 7);
}

TEST(SdrStoreTest, SameGeneratedSetLeavesTheRepositoryAlone) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  const std::vector<SdrRecord> gen = {record(0x12, 16), record(0x11, 20)};
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(*s->setGenerated(gen, 1000));
    ASSERT_TRUE(s->remove(2, 1100).hasValue());  // a client deletes a generated record
    ASSERT_TRUE(s->add(record(0xC0, 10), 1200).hasValue());
  }
  auto s = openStore(path);
  ASSERT_TRUE(s);
  auto changed = s->setGenerated(gen, 5000);
  ASSERT_TRUE(changed.hasValue());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 3})) << "the deleted record stays deleted";
  EXPECT_EQ(s->lastAddition(), 1200u) << "timestamps only move when the repository changes";
  EXPECT_EQ(s->lastErase(), 1100u);
  EXPECT_EQ(s->nextFreeId(), 4);
}

TEST(SdrStoreTest, ChangedGeneratedSetReplacesGeneratedRecordsAndKeepsUserRecords) {
  auto s = openStore();
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s->setGenerated({record(0x12, 16), record(0x11, 20)}, 1000));
  auto user = s->add(record(0xC0, 8, 0x77), 1100);
  ASSERT_TRUE(user.hasValue());
  EXPECT_EQ(*user, 3);
  // The new config has four generated records: the user record's ID 3 is needed and it moves to 5.
  auto changed = s->setGenerated({record(0x12, 16, 1), record(0x11, 20, 2), record(0x11, 20, 3), record(0x01, 43, 4)}, 2000);
  ASSERT_TRUE(changed.hasValue()) << changed.error().message;
  EXPECT_TRUE(*changed);
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(mustGet(*s, 3), withId(record(0x11, 20, 3), 3));
  EXPECT_EQ(mustGet(*s, 5), withId(record(0xC0, 8, 0x77), 5)) << "moved, with its ID bytes rewritten";
  EXPECT_EQ(s->lastAddition(), 2000u);
  EXPECT_EQ(s->lastErase(), 2000u) << "the previous generated records were erased";

  // A smaller set frees IDs 2..4; the user record keeps ID 5.
  ASSERT_TRUE(*s->setGenerated({record(0x12, 16, 9)}, 3000));
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 5}));
  EXPECT_EQ(s->nextFreeId(), 6);
}

TEST(SdrStoreTest, ReplaceRewritesRecordsInPlaceAndMovesTheAdditionTime) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  const std::vector<SdrRecord> gen = {record(0x12, 16), record(0x01, 43, 1)};
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(*s->setGenerated(gen, 1000));
    ASSERT_TRUE(s->add(record(0x01, 43, 2), 1100).hasValue());  // ID 3, a client's record
    // ID bytes are the store's; an unknown ID is skipped.
    auto n = s->replace({{2, record(0x01, 43, 7)}, {3, withId(record(0x01, 43, 8), 0x4444)}, {9, record(0x01, 43)}},
                        1200);
    ASSERT_TRUE(n.hasValue()) << n.error().message;
    EXPECT_EQ(*n, 2u);
    EXPECT_EQ(mustGet(*s, 2), withId(record(0x01, 43, 7), 2));
    EXPECT_EQ(mustGet(*s, 3), withId(record(0x01, 43, 8), 3));
    EXPECT_EQ(s->lastAddition(), 1200u);
    EXPECT_EQ(s->lastErase(), SdrStore::kNoTimestamp);
    EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 2, 3}));
    // Within the same second the time still moves, so a cache keyed on it notices.
    ASSERT_EQ(*s->replace({{2, record(0x01, 43, 9)}}, 1200), 1u);
    EXPECT_EQ(s->lastAddition(), 1201u);
    // A longer record is accounted in units.
    const uint16_t used = s->usedUnits();
    ASSERT_EQ(*s->replace({{3, record(0x01, 60, 8)}}, 1300), 1u);
    EXPECT_EQ(s->usedUnits(), used - SdrStore::unitsFor(48) + SdrStore::unitsFor(65));
    EXPECT_EQ(*s->replace({}, 1400), 0u);
    EXPECT_EQ(s->lastAddition(), 1300u) << "nothing replaced, nothing moves";
  }
  auto s = openStore(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(mustGet(*s, 2), withId(record(0x01, 43, 9), 2));
  EXPECT_EQ(mustGet(*s, 3), withId(record(0x01, 60, 8), 3));
  EXPECT_EQ(s->lastAddition(), 1300u);
  EXPECT_FALSE(*s->setGenerated(gen, 5000)) << "a replaced generated record is not a config change";
  EXPECT_EQ(mustGet(*s, 2), withId(record(0x01, 43, 9), 2));
}

TEST(SdrStoreTest, ReplaceRefusesMalformedRecordsAndWhatDoesNotFit) {
  auto s = openStore(":memory:", 20);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->add(record(0xC0, 100), 1).hasValue());  // 7 units
  SdrRecord bad = record(0x01, 10);
  bad[4] = 11;
  auto r = s->replace({{1, bad}}, 2);
  ASSERT_FALSE(r.hasValue());
  EXPECT_EQ(r.error().kind, Error::Kind::invalidArgument);
  ASSERT_TRUE(s->add(record(0xC0, 150), 3).hasValue());  // 10 more units: 17 of 20
  auto full = s->replace({{1, record(0xC0, 250)}}, 4);    // 16 units instead of 7
  ASSERT_FALSE(full.hasValue());
  EXPECT_EQ(full.error().kind, Error::Kind::full);
  EXPECT_EQ(mustGet(*s, 1), withId(record(0xC0, 100), 1));
  EXPECT_EQ(s->lastAddition(), 3u);
}

TEST(SdrStoreTest, ForEachVisitsEveryRecordInIdOrder) {
  auto s = openStore();
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s->setGenerated({record(0x12, 16, 1), record(0x01, 43, 2)}, 1000));
  ASSERT_TRUE(s->add(record(0xC0, 8, 3), 1100).hasValue());
  ASSERT_TRUE(s->remove(2, 1200).hasValue());
  std::vector<std::pair<uint16_t, uint8_t>> seen;
  ASSERT_TRUE(s->forEach([&](uint16_t id, const SdrRecord& r) {
    seen.emplace_back(id, r.back());
    EXPECT_EQ(r, mustGet(*s, id));
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::pair<uint16_t, uint8_t>>{{1, 1}, {3, 3}}));
  int calls = 0;
  ASSERT_TRUE(s->forEach([&](uint16_t, const SdrRecord&) { return ++calls < 1; }));
  EXPECT_EQ(calls, 1) << "stops when told to";
}

// §33.9: FreeIPMI's SDR cache is in date while both timestamps equal the ones it saw; three changes
// within one second stamped now, now + 1, now brought an earlier value back.
TEST(SdrStoreTest, TimestampsNeverRepeatOrGoBackwards) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(*s->setGenerated({record(0x01, 43, 1)}, 1000));
    EXPECT_EQ(s->lastAddition(), 1000u);
    ASSERT_EQ(*s->replace({{1, record(0x01, 43, 2)}}, 1000), 1u);
    EXPECT_EQ(s->lastAddition(), 1001u);
    ASSERT_EQ(*s->replace({{1, record(0x01, 43, 3)}}, 1000), 1u);
    EXPECT_EQ(s->lastAddition(), 1002u) << "not 1000 again";
    ASSERT_EQ(*s->add(record(0xC0, 8), 1001), 2);
    EXPECT_EQ(s->lastAddition(), 1003u);
    ASSERT_EQ(*s->add(record(0xC0, 8), 1010), 3);
    EXPECT_EQ(s->lastAddition(), 1010u) << "a later second is taken as it is";
    ASSERT_TRUE(*s->remove(2, 1020));
    ASSERT_TRUE(*s->remove(3, 1020));
    EXPECT_EQ(s->lastErase(), 1021u);
    ASSERT_TRUE(s->clear(900));
    EXPECT_EQ(s->lastErase(), 1022u) << "a clock set back";
  }
  auto s = openStore(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->lastAddition(), 1010u);
  EXPECT_EQ(s->lastErase(), 1022u);
  ASSERT_TRUE(*s->setGenerated({record(0x01, 43, 4)}, 500));
  EXPECT_EQ(s->lastAddition(), 1011u) << "the floor survives a restart";
  ASSERT_TRUE(*s->noteDeviceSdrs({withId(record(0x01, 43, 4), 1)}, 500));
  EXPECT_EQ(s->deviceSdrChange(), 500u) << "the first indicator";
  ASSERT_TRUE(*s->noteDeviceSdrs({withId(record(0x01, 43, 5), 1)}, 500));
  EXPECT_EQ(s->deviceSdrChange(), 501u);
  // Set SDR Repository Time (§33.18): the next timestamps follow the clock a client set, then go on
  // from there.
  ASSERT_TRUE(s->setTimeOffset(-1000));
  ASSERT_EQ(*s->add(record(0xC0, 8), 400), 2);
  EXPECT_EQ(s->lastAddition(), 400u);
  ASSERT_EQ(*s->add(record(0xC0, 8), 400), 3);
  EXPECT_EQ(s->lastAddition(), 401u);
  ASSERT_TRUE(*s->remove(3, 300));
  EXPECT_EQ(s->lastErase(), 300u);
  ASSERT_TRUE(*s->noteDeviceSdrs({withId(record(0x01, 43, 6), 1)}, 200));
  EXPECT_EQ(s->deviceSdrChange(), 200u);
}

// IPMI v2.0 §35.2 Get Device SDR Info bytes 4-7: the device SDRs' change indicator.
TEST(SdrStoreTest, DeviceSdrChangeIndicatorMovesOnlyWhenTheRecordsDiffer) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  const std::vector<SdrRecord> device = {withId(record(0x12, 16, 1), 1), withId(record(0x01, 43, 2), 2)};
  std::vector<SdrRecord> changed = device;
  changed[1][12] = 0x07;  // another sensor type
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->deviceSdrChange(), SdrStore::kNoTimestamp) << "never noted";
    EXPECT_TRUE(*s->noteDeviceSdrs(device, 1000));
    EXPECT_EQ(s->deviceSdrChange(), 1000u);
    EXPECT_FALSE(*s->noteDeviceSdrs(device, 2000)) << "the same records";
    EXPECT_EQ(s->deviceSdrChange(), 1000u);
    EXPECT_TRUE(*s->noteDeviceSdrs(changed, 3000));
    EXPECT_EQ(s->deviceSdrChange(), 3000u);
    // Two changes within one second, and a clock set back: the indicator still moves forward.
    EXPECT_TRUE(*s->noteDeviceSdrs(device, 3000));
    EXPECT_EQ(s->deviceSdrChange(), 3001u);
    EXPECT_TRUE(*s->noteDeviceSdrs(changed, 500));
    EXPECT_EQ(s->deviceSdrChange(), 3002u);
    // The repository's own timestamps and records are another matter.
    EXPECT_EQ(s->lastAddition(), SdrStore::kNoTimestamp);
    EXPECT_EQ(s->count(), 0);
  }
  // Both the indicator and the fingerprint survive a restart: the same records later change nothing,
  // other ones move it on from where it was.
  auto s = openStore(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->deviceSdrChange(), 3002u);
  EXPECT_FALSE(*s->noteDeviceSdrs(changed, 9000));
  EXPECT_EQ(s->deviceSdrChange(), 3002u);
  EXPECT_TRUE(*s->noteDeviceSdrs(device, 100));
  EXPECT_EQ(s->deviceSdrChange(), 3003u);
  // clear() empties the repository, not the device SDRs.
  ASSERT_TRUE(s->clear(9500));
  EXPECT_EQ(s->deviceSdrChange(), 3003u);
  EXPECT_FALSE(*s->noteDeviceSdrs(device, 9600));
}

TEST(SdrStoreTest, DeviceSdrChangeIndicatorWriteFailureChangesNothing) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  const std::vector<SdrRecord> device = {withId(record(0x01, 43, 2), 1)};
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(*s->noteDeviceSdrs(device, 1000));
  }
  std::vector<SdrRecord> changed = device;
  changed[0][13] = 0x6F;
  rawExec(path, "CREATE TRIGGER no_meta BEFORE INSERT ON sdr_meta BEGIN SELECT RAISE(ABORT, 'read-only'); END");
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->noteDeviceSdrs(changed, 2000).hasValue());
    EXPECT_EQ(s->deviceSdrChange(), 1000u);
  }
  rawExec(path, "DROP TRIGGER no_meta");
  auto s = openStore(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->deviceSdrChange(), 1000u);
  EXPECT_TRUE(*s->noteDeviceSdrs(changed, 2000)) << "still differs from what was noted";
  EXPECT_EQ(s->deviceSdrChange(), 2000u);
}

TEST(SdrStoreTest, AddAssignsIdsAboveGeneratedAndUsedOnes) {
  auto s = openStore();
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s->setGenerated({record(0x12, 16), record(0x11, 20)}, 1000));
  SdrRecord r = withId(record(0x01, 30, 0x42), 0xBEEF);  // the caller's ID bytes are ignored
  auto id = s->add(r, 1234);
  ASSERT_TRUE(id.hasValue()) << id.error().message;
  EXPECT_EQ(*id, 3);
  EXPECT_EQ(mustGet(*s, 3), withId(record(0x01, 30, 0x42), 3));
  EXPECT_EQ(s->lastAddition(), 1234u);
  EXPECT_EQ(s->count(), 3);
  EXPECT_EQ(*s->add(record(0x02, 5), 1300), 4);

  // A cleared repository hands out IDs after the generated range, so the next config change does
  // not have to move them.
  ASSERT_TRUE(s->clear(1400).hasValue());
  EXPECT_EQ(s->count(), 0);
  EXPECT_EQ(*s->add(record(0x02, 5), 1500), 3);
}

TEST(SdrStoreTest, MalformedRecordsAreRefused) {
  auto s = openStore();
  ASSERT_TRUE(s);
  SdrRecord shortHeader{0, 0, 0x51, 0x01};
  SdrRecord lengthMismatch = record(0x01, 10);
  lengthMismatch.push_back(0);
  for (const SdrRecord& bad : {shortHeader, lengthMismatch, SdrRecord{}}) {
    auto id = s->add(bad, 1);
    ASSERT_FALSE(id.hasValue());
    EXPECT_EQ(id.error().kind, Error::Kind::invalidArgument);
  }
  EXPECT_EQ(s->count(), 0);
  EXPECT_EQ(s->lastAddition(), SdrStore::kNoTimestamp);
  auto gen = s->setGenerated({record(0x12, 16), shortHeader}, 1);
  ASSERT_FALSE(gen.hasValue());
  EXPECT_EQ(gen.error().kind, Error::Kind::invalidArgument);
  EXPECT_EQ(s->count(), 0);
  // The largest record: 5 + 255 bytes.
  auto big = s->add(record(0xC0, 255), 2);
  ASSERT_TRUE(big.hasValue());
  EXPECT_EQ(mustGet(*s, *big).size(), 260u);
}

TEST(SdrStoreTest, RemoveAndChainNavigation) {
  auto s = openStore();
  ASSERT_TRUE(s);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->add(record(0x01, 10, static_cast<uint8_t>(i)), 10).hasValue());
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 2, 3, 4, 5}));
  auto removed = s->remove(3, 77);
  ASSERT_TRUE(removed.hasValue());
  EXPECT_TRUE(*removed);
  EXPECT_EQ(s->lastErase(), 77u);
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 2, 4, 5}));
  EXPECT_EQ(s->after(2), 4) << "after() skips the hole";
  EXPECT_EQ(s->after(3), 4) << "after() of a missing ID is the next one present";
  EXPECT_FALSE(s->after(5));
  EXPECT_EQ(s->first(), 1);
  EXPECT_EQ(s->last(), 5);
  auto again = s->remove(3, 88);
  ASSERT_TRUE(again.hasValue());
  EXPECT_FALSE(*again);
  EXPECT_EQ(s->lastErase(), 77u) << "removing nothing is not an erase";
  auto gone = s->get(3);
  ASSERT_TRUE(gone.hasValue());
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(s->nextFreeId(), 6) << "IDs are not reused while higher ones exist";
}

TEST(SdrStoreTest, RecordsTimestampsAndFlagsSurviveReopen) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(*s->setGenerated({record(0x12, 16, 1)}, 100));
    ASSERT_EQ(*s->add(record(0x01, 43, 2), 200), 2);
    ASSERT_EQ(*s->add(record(0x02, 30, 3), 300), 3);
    ASSERT_TRUE(*s->remove(2, 400));
    ASSERT_TRUE(s->setTimeOffset(-86400).hasValue());
  }
  EXPECT_EQ(testing::fileMode(path), 0600);
  auto s = openStore(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 3}));
  EXPECT_EQ(mustGet(*s, 1), withId(record(0x12, 16, 1), 1));
  EXPECT_EQ(mustGet(*s, 3), withId(record(0x02, 30, 3), 3));
  EXPECT_EQ(s->lastAddition(), 300u);
  EXPECT_EQ(s->lastErase(), 400u);
  EXPECT_EQ(s->generatedCount(), 1);
  EXPECT_EQ(s->timeOffset(), -86400);
  EXPECT_EQ(s->nextFreeId(), 4);
}

TEST(SdrStoreTest, FullRepositorySetsTheOverflowFlagUntilCleared) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  constexpr uint16_t kUnits = 20;  // the minimum: one record of 260 bytes needs 17 units
  {
    auto s = openStore(path, kUnits);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(record(0xC0, 235), 1).hasValue());  // 240 bytes: 15 units
    EXPECT_EQ(s->freeUnits(), 5);
    auto full = s->add(record(0xC0, 91), 2);  // 96 bytes: 6 units
    ASSERT_FALSE(full.hasValue());
    EXPECT_EQ(full.error().kind, Error::Kind::full);
    EXPECT_TRUE(s->overflow());
    EXPECT_EQ(s->count(), 1);
    EXPECT_EQ(s->lastAddition(), 1u);
    ASSERT_TRUE(s->add(record(0xC0, 75), 3).hasValue()) << "80 bytes: exactly the 5 units left";
    EXPECT_EQ(s->freeUnits(), 0);
  }
  auto s = openStore(path, kUnits);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->overflow()) << "the flag is persisted";
  ASSERT_TRUE(s->clear(10).hasValue());
  EXPECT_FALSE(s->overflow());
  EXPECT_EQ(s->freeUnits(), kUnits);
  EXPECT_EQ(s->lastErase(), 10u);
  auto tooSmall = SdrStore::open(":memory:", 16);
  ASSERT_FALSE(tooSmall.hasValue());
  EXPECT_EQ(tooSmall.error().kind, Error::Kind::invalidArgument);
}

TEST(SdrStoreTest, GeneratedRecordsThatDoNotFitChangeNothing) {
  auto s = openStore(":memory:", 20);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->add(record(0xC0, 100), 1).hasValue());
  auto gen = s->setGenerated({record(0x01, 250)}, 2);  // 16 units + the 7 in use > 20
  ASSERT_FALSE(gen.hasValue());
  EXPECT_EQ(gen.error().kind, Error::Kind::full);
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1}));
  EXPECT_EQ(mustGet(*s, 1), withId(record(0xC0, 100), 1)) << "rolled back";
}

TEST(SdrStoreTest, LowestFreeIdOnceTheTopIdIsTaken) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(*s->setGenerated({record(0x12, 16)}, 1));
    ASSERT_EQ(*s->add(record(0x01, 10), 1), 2);
  }
  // A record at 0xFFFE (as a long-lived repository ends up with).
  SdrRecord top = withId(record(0x01, 10), 0xFFFE);
  std::string hex;
  for (uint8_t b : top) hex += fmt::format("{:02X}", b);
  rawExec(path, "INSERT INTO sdr(id, origin, data) VALUES(65534, 1, x'" + hex + "')");
  auto s = openStore(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->nextFreeId(), 3);
  ASSERT_EQ(*s->add(record(0x01, 10), 2), 3);
  EXPECT_EQ(*s->add(record(0x01, 10), 2), 4);
  EXPECT_EQ(chain(*s), (std::vector<uint16_t>{1, 2, 3, 4, 0xFFFE}));
}

TEST(SdrStoreTest, DamagedRecordsAreNeverServed) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  {
    auto s = openStore(path);
    ASSERT_TRUE(s);
    ASSERT_EQ(*s->add(record(0x01, 10), 1), 1);
    ASSERT_EQ(*s->add(record(0x01, 10), 1), 2);
  }
  // The header says 10 body bytes, the row holds 9.
  rawExec(path, "UPDATE sdr SET data = substr(data, 1, 14) WHERE id = 2");
  auto bad = SdrStore::open(path);
  ASSERT_FALSE(bad.hasValue());
  EXPECT_EQ(bad.error().kind, Error::Kind::corrupt);
  EXPECT_NE(bad.error().message.find("record 0x0002"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find(path), std::string::npos) << bad.error().message;

  // The record's own ID bytes disagree with the row.
  rawExec(path, "DELETE FROM sdr WHERE id = 2");
  rawExec(path, "UPDATE sdr SET id = 7 WHERE id = 1");
  auto moved = SdrStore::open(path);
  ASSERT_FALSE(moved.hasValue());
  EXPECT_EQ(moved.error().kind, Error::Kind::corrupt);
  EXPECT_NE(moved.error().message.find("0x0007"), std::string::npos) << moved.error().message;
}

TEST(SdrStoreTest, AFileThatIsNotADatabaseIsRefused) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  testing::writeFile(path, std::vector<uint8_t>(4096, 0x5A));
  auto s = SdrStore::open(path);
  ASSERT_FALSE(s.hasValue());
  EXPECT_EQ(s.error().kind, Error::Kind::corrupt);
}

TEST(SdrStoreTest, ThousandRecordsChainInOrder) {
  auto s = openStore();
  ASSERT_TRUE(s);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(s->add(record(0x01, 43, static_cast<uint8_t>(i)), 5).hasValue()) << i;
  }
  EXPECT_EQ(s->count(), 1000);
  auto ids = chain(*s);
  ASSERT_EQ(ids.size(), 1000u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i + 1);
  EXPECT_EQ(mustGet(*s, 777), withId(record(0x01, 43, static_cast<uint8_t>(776)), 777));
  EXPECT_EQ(s->usedUnits(), 3000) << "48-byte records use 3 units each";
}

}  // namespace
}  // namespace simbmc::storage
