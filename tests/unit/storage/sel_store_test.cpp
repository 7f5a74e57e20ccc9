#include "storage/sel_store.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "unit/storage/test_files.hpp"

namespace simbmc::storage {
namespace {

using testing::TempDir;

constexpr uint32_t kT0 = 1'700'000'000;

SelLimits limits(uint32_t capacity, SelOverflowPolicy policy = SelOverflowPolicy::stop) {
  SelLimits l;
  l.capacity = capacity;
  l.policy = policy;
  return l;
}

std::unique_ptr<SelStore> openSel(const std::string& path = ":memory:", SelLimits l = {}) {
  auto store = SelStore::open(path, l);
  EXPECT_TRUE(store.hasValue()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

// A system event record whose event data carries `tag` (so records are told apart).
SelRecordData record(uint16_t tag, uint8_t type = 0x02) {
  SelRecordData r{};
  r[0] = 0xEE;  // the store overwrites the record ID
  r[1] = 0xEE;
  r[2] = type;
  r[7] = 0x41;
  r[9] = 0x04;
  r[10] = 0x01;
  r[11] = 0x30;
  r[12] = 0x01;
  r[13] = 0x57;
  r[14] = static_cast<uint8_t>(tag & 0xFF);
  r[15] = static_cast<uint8_t>(tag >> 8);
  return r;
}

uint16_t tagOf(const SelRecordData& r) { return static_cast<uint16_t>(r[14] | (r[15] << 8)); }

uint16_t mustAdd(SelStore& s, uint16_t tag, uint32_t now = kT0) {
  auto id = s.add(record(tag), now);
  EXPECT_TRUE(id.hasValue()) << (id ? "" : id.error().message);
  return id ? *id : 0;
}

// Walks the chain from the first record as a client would: (id, tag) pairs.
std::vector<std::pair<uint16_t, uint16_t>> walk(SelStore& s) {
  std::vector<std::pair<uint16_t, uint16_t>> out;
  uint16_t id = SelStore::kFirst;
  for (uint32_t i = 0; i <= SelLimits::kMaxCapacity; ++i) {
    auto e = s.get(id);
    if (!e) break;
    out.emplace_back(e->id, tagOf(e->data));
    if (e->nextId == SelStore::kLast) break;
    id = e->nextId;
  }
  return out;
}

// Sets the persisted next-ID counter in a closed store file (to reach the wrap quickly).
void seedNextId(const std::string& path, int64_t next) {
  auto db = Database::open(path);
  ASSERT_TRUE(db.hasValue()) << db.error().message;
  ASSERT_TRUE((*db)->exec(fmt::format("INSERT INTO meta(key, value) VALUES('next_id', {}) "
                                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                      next)));
}

TEST(SelStore, EmptyLogHasNoEntriesAndNoTimestamps) {
  auto s = openSel();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count(), 0u);
  EXPECT_EQ(s->freeEntries(), SelLimits::kDefaultCapacity);
  EXPECT_FALSE(s->overflow());
  EXPECT_EQ(s->lastAddTime(), SelStore::kNoTimestamp);
  EXPECT_EQ(s->lastEraseTime(), SelStore::kNoTimestamp);
  for (uint16_t id : {SelStore::kFirst, SelStore::kLast, uint16_t{1}}) {
    auto e = s->get(id);
    ASSERT_FALSE(e.hasValue());
    EXPECT_EQ(e.error().kind, Error::Kind::notFound);
  }
  auto d = s->erase(SelStore::kFirst, kT0);
  ASSERT_FALSE(d.hasValue());
  EXPECT_EQ(d.error().kind, Error::Kind::notFound);
}

TEST(SelStore, AddAssignsIdsAndKeepsTheRestOfTheRecord) {
  auto s = openSel();
  ASSERT_TRUE(s);
  EXPECT_EQ(mustAdd(*s, 100, kT0 + 1), 1);
  EXPECT_EQ(mustAdd(*s, 101, kT0 + 2), 2);
  EXPECT_EQ(mustAdd(*s, 102, kT0 + 3), 3);
  EXPECT_EQ(s->count(), 3u);
  EXPECT_EQ(s->lastAddTime(), kT0 + 3);

  auto e = s->get(2);
  ASSERT_TRUE(e.hasValue());
  SelRecordData want = record(101);
  want[0] = 0x02;
  want[1] = 0x00;
  EXPECT_EQ(e->data, want);
  EXPECT_EQ(e->id, 2);
  EXPECT_EQ(e->nextId, 3);

  auto first = s->get(SelStore::kFirst);
  ASSERT_TRUE(first.hasValue());
  EXPECT_EQ(first->id, 1);
  EXPECT_EQ(first->nextId, 2);
  auto last = s->get(SelStore::kLast);
  ASSERT_TRUE(last.hasValue());
  EXPECT_EQ(last->id, 3);
  EXPECT_EQ(last->nextId, SelStore::kLast);
  EXPECT_EQ(walk(*s), (std::vector<std::pair<uint16_t, uint16_t>>{{1, 100}, {2, 101}, {3, 102}}));
}

TEST(SelStore, EraseUnlinksTheRecordAndStampsTheEraseTime) {
  auto s = openSel();
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 5; ++t) mustAdd(*s, t);
  auto d = s->erase(3, kT0 + 10);
  ASSERT_TRUE(d.hasValue());
  EXPECT_EQ(*d, 3);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 10);
  EXPECT_EQ(s->get(2)->nextId, 4);
  auto missing = s->get(3);
  ASSERT_FALSE(missing.hasValue());
  EXPECT_EQ(missing.error().kind, Error::Kind::notFound);
  auto again = s->erase(3, kT0 + 11);
  ASSERT_FALSE(again.hasValue());
  EXPECT_EQ(again.error().kind, Error::Kind::notFound);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 10);  // a failed delete changes nothing

  EXPECT_EQ(*s->erase(SelStore::kFirst, kT0), 1);
  EXPECT_EQ(*s->erase(SelStore::kLast, kT0), 5);
  EXPECT_EQ(walk(*s), (std::vector<std::pair<uint16_t, uint16_t>>{{2, 1}, {4, 3}}));
  EXPECT_EQ(s->count(), 2u);
  // Deleted IDs are not handed out again: the counter moves on.
  EXPECT_EQ(mustAdd(*s, 9), 6);
}

TEST(SelStore, ClearEmptiesTheLogButIdsKeepIncreasing) {
  auto s = openSel(":memory:", limits(16));
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 16; ++t) mustAdd(*s, t);
  ASSERT_FALSE(s->add(record(99), kT0).hasValue());
  EXPECT_TRUE(s->overflow());
  ASSERT_TRUE(s->clear(kT0 + 20));
  EXPECT_EQ(s->count(), 0u);
  EXPECT_FALSE(s->overflow());
  EXPECT_EQ(s->lastEraseTime(), kT0 + 20);
  EXPECT_FALSE(s->get(SelStore::kFirst).hasValue());
  EXPECT_EQ(mustAdd(*s, 7), 17);
  EXPECT_EQ(walk(*s), (std::vector<std::pair<uint16_t, uint16_t>>{{17, 7}}));
}

TEST(SelStore, StopPolicyRefusesWhenFullAndSetsThePersistedOverflowFlag) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path, limits(16));
    ASSERT_TRUE(s);
    for (uint16_t t = 0; t < 16; ++t) mustAdd(*s, t, kT0 + t);
    EXPECT_EQ(s->freeEntries(), 0u);
    EXPECT_FALSE(s->overflow());
    auto r = s->add(record(16), kT0 + 100);
    ASSERT_FALSE(r.hasValue());
    EXPECT_EQ(r.error().kind, Error::Kind::full);
    EXPECT_TRUE(s->overflow());
    EXPECT_EQ(s->count(), 16u);
    EXPECT_EQ(s->lastAddTime(), kT0 + 15);  // nothing was added
    EXPECT_EQ(walk(*s).front(), (std::pair<uint16_t, uint16_t>{1, 0}));
  }
  auto s = openSel(path, limits(16));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->overflow());
  EXPECT_EQ(s->count(), 16u);
  ASSERT_TRUE(s->erase(SelStore::kFirst, kT0));
  EXPECT_EQ(mustAdd(*s, 16), 17);  // room again; the flag stays until the log is cleared
  EXPECT_TRUE(s->overflow());
}

TEST(SelStore, CircularPolicyDropsTheOldest) {
  auto s = openSel(":memory:", limits(16, SelOverflowPolicy::circular));
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 16; ++t) mustAdd(*s, t, kT0 + t);
  EXPECT_EQ(s->lastEraseTime(), SelStore::kNoTimestamp);  // filling up deletes nothing
  for (uint16_t t = 16; t < 20; ++t) mustAdd(*s, t, kT0 + t);
  EXPECT_EQ(s->count(), 16u);
  EXPECT_FALSE(s->overflow());
  auto all = walk(*s);
  ASSERT_EQ(all.size(), 16u);
  EXPECT_EQ(all.front(), (std::pair<uint16_t, uint16_t>{5, 4}));
  EXPECT_EQ(all.back(), (std::pair<uint16_t, uint16_t>{20, 19}));
  // §31.2: dropping the oldest entry is a deletion; the erase time is that of the add that did it.
  EXPECT_EQ(s->lastAddTime(), kT0 + 19);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 19);
}

TEST(SelStore, CircularOverwriteEraseTimeSurvivesReopen) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path, limits(16, SelOverflowPolicy::circular));
    ASSERT_TRUE(s);
    for (uint16_t t = 0; t < 17; ++t) mustAdd(*s, t, kT0 + t);
    EXPECT_EQ(s->lastEraseTime(), kT0 + 16);
  }
  auto s = openSel(path, limits(16, SelOverflowPolicy::circular));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 16);
  EXPECT_EQ(s->lastAddTime(), kT0 + 16);
}

TEST(SelStore, FailedCircularAddLeavesTheEraseTime) {
  auto s = openSel(":memory:", limits(16, SelOverflowPolicy::circular));
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 16; ++t) mustAdd(*s, t, kT0);
  ASSERT_TRUE(s->database().exec("PRAGMA query_only = 1"));
  EXPECT_FALSE(s->add(record(99), kT0 + 100).hasValue());
  EXPECT_EQ(s->lastEraseTime(), SelStore::kNoTimestamp);
  EXPECT_EQ(s->count(), 16u);
  ASSERT_TRUE(s->database().exec("PRAGMA query_only = 0"));
  mustAdd(*s, 100, kT0 + 200);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 200);
}

// §31.2: a client that caches the SEL (as FreeIPMI does the SDRs) judges it by the most recent
// addition and erase timestamps, in whole seconds; two changes within one second stamped the same
// value, and a clock that moved back an earlier one.
TEST(SelStore, TimestampsNeverRepeatOrGoBackwards) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path);
    ASSERT_TRUE(s);
    mustAdd(*s, 1, kT0);
    EXPECT_EQ(s->lastAddTime(), kT0);
    mustAdd(*s, 2, kT0);
    EXPECT_EQ(s->lastAddTime(), kT0 + 1);
    mustAdd(*s, 3, kT0);
    EXPECT_EQ(s->lastAddTime(), kT0 + 2) << "not kT0 + 1 again";
    mustAdd(*s, 4, kT0 + 1);
    EXPECT_EQ(s->lastAddTime(), kT0 + 3);
    mustAdd(*s, 5, kT0 + 10);
    EXPECT_EQ(s->lastAddTime(), kT0 + 10) << "a later second is taken as it is";
    mustAdd(*s, 6, kT0 + 5);
    EXPECT_EQ(s->lastAddTime(), kT0 + 11) << "a clock that moved back";
    EXPECT_EQ(s->lastEraseTime(), SelStore::kNoTimestamp) << "adds delete nothing";

    ASSERT_TRUE(s->erase(SelStore::kFirst, kT0 + 20));
    EXPECT_EQ(s->lastEraseTime(), kT0 + 20);
    ASSERT_TRUE(s->erase(SelStore::kFirst, kT0 + 20));
    EXPECT_EQ(s->lastEraseTime(), kT0 + 21);
    ASSERT_TRUE(s->clear(kT0 + 20));
    EXPECT_EQ(s->lastEraseTime(), kT0 + 22);
    ASSERT_TRUE(s->clear(kT0 + 20));
    EXPECT_EQ(s->lastEraseTime(), kT0 + 23) << "clearing an empty log is an erase too";
    ASSERT_TRUE(s->clear(900));
    EXPECT_EQ(s->lastEraseTime(), kT0 + 24);
    EXPECT_EQ(s->lastAddTime(), kT0 + 11) << "erases leave the addition time";
  }
  auto s = openSel(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->lastAddTime(), kT0 + 11);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 24);
  mustAdd(*s, 7, kT0);
  EXPECT_EQ(s->lastAddTime(), kT0 + 12) << "the floor survives a restart";
  ASSERT_TRUE(s->erase(SelStore::kLast, kT0));
  EXPECT_EQ(s->lastEraseTime(), kT0 + 25);
}

// Set SEL Time (§31.11) is the one way back: the next timestamps follow the clock a client set, then
// go on from there (as Set SDR Repository Time does for the SDR repository).
TEST(SelStore, SetTimeOffsetLetsTheNextTimestampsFollowTheClockBack) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->timeOffset(), 0);
    mustAdd(*s, 1, kT0);
    mustAdd(*s, 2, kT0);
    ASSERT_TRUE(s->clear(kT0));
    ASSERT_TRUE(s->setTimeOffset(-1000));
    EXPECT_EQ(s->timeOffset(), -1000);
    mustAdd(*s, 3, kT0 - 1000);
    EXPECT_EQ(s->lastAddTime(), kT0 - 1000);
    mustAdd(*s, 4, kT0 - 1000);
    EXPECT_EQ(s->lastAddTime(), kT0 - 999);
    ASSERT_TRUE(s->erase(SelStore::kFirst, kT0 - 1000));
    EXPECT_EQ(s->lastEraseTime(), kT0 - 1000);
    ASSERT_TRUE(s->clear(kT0 - 1000));
    EXPECT_EQ(s->lastEraseTime(), kT0 - 999);
  }
  auto s = openSel(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->timeOffset(), -1000);
  EXPECT_EQ(*s->setting("time_offset"), std::optional<int64_t>(-1000)) << "the key older files have";
  mustAdd(*s, 5, kT0 - 1000);
  EXPECT_EQ(s->lastAddTime(), kT0 - 998);
}

// A circular overwrite stamps the erase time by the same rule.
TEST(SelStore, CircularOverwritesWithinOneSecondStampIncreasingEraseTimes) {
  auto s = openSel(":memory:", limits(16, SelOverflowPolicy::circular));
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 16; ++t) mustAdd(*s, t, kT0);
  EXPECT_EQ(s->lastAddTime(), kT0 + 15);
  EXPECT_EQ(s->lastEraseTime(), SelStore::kNoTimestamp);
  mustAdd(*s, 16, kT0);
  EXPECT_EQ(s->lastAddTime(), kT0 + 16);
  EXPECT_EQ(s->lastEraseTime(), kT0);
  mustAdd(*s, 17, kT0);
  EXPECT_EQ(s->lastAddTime(), kT0 + 17);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 1);
  ASSERT_TRUE(s->clear(kT0));
  EXPECT_EQ(s->lastEraseTime(), kT0 + 2);
}

// A write that fails takes no timestamp: the next one is the floor + 1, not + 2, and a failed Set SEL
// Time does not lift the floor.
TEST(SelStore, FailedWritesLeaveTheTimestampsAndTheirFloor) {
  auto s = openSel(":memory:", limits(16, SelOverflowPolicy::circular));
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 16; ++t) mustAdd(*s, t, kT0);
  ASSERT_TRUE(s->erase(SelStore::kFirst, kT0));
  ASSERT_TRUE(s->erase(SelStore::kFirst, kT0));
  ASSERT_EQ(s->lastAddTime(), kT0 + 15);
  ASSERT_EQ(s->lastEraseTime(), kT0 + 1);
  ASSERT_TRUE(s->database().exec("PRAGMA query_only = 1"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(s->add(record(99), kT0).hasValue());
    EXPECT_FALSE(s->erase(SelStore::kFirst, kT0).hasValue());
    EXPECT_FALSE(s->clear(kT0).hasValue());
    EXPECT_FALSE(s->setTimeOffset(-1000).hasValue());
  }
  EXPECT_EQ(s->lastAddTime(), kT0 + 15);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 1);
  EXPECT_EQ(s->timeOffset(), 0);
  EXPECT_EQ(s->count(), 14u);
  ASSERT_TRUE(s->database().exec("PRAGMA query_only = 0"));
  // A delete of an absent record fails without stamping either.
  auto missing = s->erase(0x1234, kT0);
  ASSERT_FALSE(missing.hasValue());
  EXPECT_EQ(missing.error().kind, Error::Kind::notFound);
  mustAdd(*s, 100, kT0 - 50);
  EXPECT_EQ(s->lastAddTime(), kT0 + 16);
  ASSERT_TRUE(s->erase(SelStore::kFirst, kT0 - 50));
  EXPECT_EQ(s->lastEraseTime(), kT0 + 2);
}

TEST(SelStore, IdsWrapFromFFFEToOneSkippingLiveIds) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path);
    ASSERT_TRUE(s);
    EXPECT_EQ(mustAdd(*s, 1), 1);  // ID 1 stays live across the wrap
  }
  seedNextId(path, 0xFFFD);
  auto s = openSel(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->peekNextId(), 0xFFFD);
  EXPECT_EQ(mustAdd(*s, 2), 0xFFFD);
  EXPECT_EQ(mustAdd(*s, 3), 0xFFFE);
  EXPECT_EQ(*s->peekNextId(), 2);  // never 0xFFFF, 0x0000 or the live 0x0001
  EXPECT_EQ(mustAdd(*s, 4), 2);
  // Insertion order, not ID order.
  EXPECT_EQ(walk(*s),
            (std::vector<std::pair<uint16_t, uint16_t>>{{1, 1}, {0xFFFD, 2}, {0xFFFE, 3}, {2, 4}}));
  EXPECT_EQ(s->get(SelStore::kLast)->id, 2);
}

TEST(SelStore, CircularLogKeepsIdsUniqueThroughManyWraps) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path, limits(16, SelOverflowPolicy::circular));
    ASSERT_TRUE(s);
    for (uint16_t t = 0; t < 16; ++t) mustAdd(*s, t);  // IDs 1..16
  }
  seedNextId(path, 0xFFF8);
  auto s = openSel(path, limits(16, SelOverflowPolicy::circular));
  ASSERT_TRUE(s);
  std::vector<uint16_t> ids;
  for (uint16_t t = 100; t < 140; ++t) ids.push_back(mustAdd(*s, t));
  // 0xFFF8..0xFFFE (evicting 1..7), then the counter wraps to 1, free again by then.
  EXPECT_EQ(ids[0], 0xFFF8);
  EXPECT_EQ(ids[6], 0xFFFE);
  EXPECT_EQ(ids[7], 1);
  auto all = walk(*s);
  ASSERT_EQ(all.size(), 16u);
  std::set<uint16_t> unique;
  for (auto [id, tag] : all) {
    EXPECT_NE(id, 0x0000);
    EXPECT_NE(id, 0xFFFF);
    unique.insert(id);
  }
  EXPECT_EQ(unique.size(), 16u);
  EXPECT_EQ(all.back().second, 139);
  EXPECT_EQ(all.front().second, 124);
}

TEST(SelStore, StateSurvivesReopen) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path);
    ASSERT_TRUE(s);
    for (uint16_t t = 0; t < 4; ++t) mustAdd(*s, t, kT0 + t);
    ASSERT_TRUE(s->erase(4, kT0 + 50));
    ASSERT_TRUE(s->putSetting("time_offset", -12345));
  }
  auto s = openSel(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count(), 3u);
  EXPECT_EQ(s->lastAddTime(), kT0 + 3);
  EXPECT_EQ(s->lastEraseTime(), kT0 + 50);
  EXPECT_EQ(*s->setting("time_offset"), std::optional<int64_t>(-12345));
  EXPECT_EQ(s->timeOffset(), -12345) << "the SEL time offset as SelService stored it before the store owned it";
  EXPECT_EQ(*s->setting("utc_offset"), std::optional<int64_t>());
  EXPECT_EQ(mustAdd(*s, 9), 5);  // 4 was deleted, but never reused
}

TEST(SelStore, CapacityOutsideTheRangeIsRefused) {
  for (uint32_t c : {0u, 15u, 65535u}) {
    auto s = SelStore::open(":memory:", limits(c));
    ASSERT_FALSE(s.hasValue()) << c;
    EXPECT_EQ(s.error().kind, Error::Kind::invalidArgument);
  }
  EXPECT_TRUE(SelStore::open(":memory:", limits(16)).hasValue());
  EXPECT_TRUE(SelStore::open(":memory:", limits(65534)).hasValue());
}

TEST(SelStore, ShrunkCapacityEvictsDownToTheNewSizeInCircularMode) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path, limits(32));
    ASSERT_TRUE(s);
    for (uint16_t t = 0; t < 20; ++t) mustAdd(*s, t);
  }
  {
    auto s = openSel(path, limits(16));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->count(), 20u);
    EXPECT_EQ(s->freeEntries(), 0u);
    EXPECT_EQ(s->add(record(1), kT0).error().kind, Error::Kind::full);
  }
  auto s = openSel(path, limits(16, SelOverflowPolicy::circular));
  ASSERT_TRUE(s);
  mustAdd(*s, 500);
  EXPECT_EQ(s->count(), 16u);
  EXPECT_EQ(walk(*s).front().second, 5);
}

TEST(SelStore, DamagedRowIsReportedNotServed) {
  auto s = openSel();
  ASSERT_TRUE(s);
  mustAdd(*s, 1);
  mustAdd(*s, 2);
  // Valid for the schema, but the record ID inside the data no longer matches the row.
  ASSERT_TRUE(s->database().exec("UPDATE sel SET data = zeroblob(16) WHERE record_id = 2"));
  auto e = s->get(2);
  ASSERT_FALSE(e.hasValue());
  EXPECT_EQ(e.error().kind, Error::Kind::corrupt);
  EXPECT_TRUE(s->get(1).hasValue());
}

TEST(SelStore, ChangedRecordBytesFailTheirCrc) {
  auto s = openSel();
  ASSERT_TRUE(s);
  mustAdd(*s, 0x1234);
  // The record ID still matches; one bit of event data does not.
  ASSERT_TRUE(s->database().exec("UPDATE sel SET data = X'01000200000000410004013001573512' WHERE record_id = 1"));
  auto e = s->get(1);
  ASSERT_FALSE(e.hasValue());
  EXPECT_EQ(e.error().kind, Error::Kind::corrupt);
}

TEST(SelStore, OneFlippedByteOnDiskIsRefusedAtOpen) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path);
    ASSERT_TRUE(s);
    for (uint16_t t = 0; t < 300; ++t) mustAdd(*s, static_cast<uint16_t>(0xA000 + t));
  }  // the last connection checkpoints the WAL into the file
  std::vector<uint8_t> file = testing::readFile(path);
  // Record tag 0xA07B, LS byte first in bytes 14..15: find it and flip one bit of the tag.
  const SelRecordData needle = record(0xA07B);
  auto at = std::search(file.begin(), file.end(), needle.begin() + 9, needle.end());
  ASSERT_NE(at, file.end());
  at[5] ^= 0x01;
  testing::writeFile(path, file);
  auto s = SelStore::open(path, {});
  ASSERT_FALSE(s.hasValue());
  EXPECT_EQ(s.error().kind, Error::Kind::corrupt);
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("record_id=124"), std::string::npos) << s.error().message;
}

TEST(SelStore, CorruptFileIsRefusedWithItsName) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  {
    auto s = openSel(path);
    ASSERT_TRUE(s);
    for (uint16_t t = 0; t < 50; ++t) mustAdd(*s, t);
  }
  std::vector<uint8_t> garbage(8192);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 131 + 7);
  testing::writeFile(path, garbage);
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  auto s = SelStore::open(path, {});
  ASSERT_FALSE(s.hasValue());
  EXPECT_EQ(s.error().kind, Error::Kind::corrupt);
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
}

TEST(SelStore, DiskFullFailsWritesKeepsReadsAndChangesNothing) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto s = openSel(dir.file("sel.db"), limits(4000));
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 10; ++t) mustAdd(*s, t, kT0);
  // No more pages: the next page the table needs cannot be allocated (SQLITE_FULL).
  auto pages = s->database().prepare("PRAGMA page_count");
  ASSERT_TRUE(pages.hasValue());
  ASSERT_TRUE(*pages->step());
  const int64_t n = pages->columnInt(0);
  ASSERT_TRUE(s->database().exec(fmt::format("PRAGMA max_page_count = {}", n)));
  Result<uint16_t> r = uint16_t{0};
  uint16_t added = 0;
  for (uint16_t t = 10; t < 4000; ++t) {  // bounded: a page holds well under 4000 records
    r = s->add(record(t), kT0 + 1);
    if (!r) break;
    ++added;
  }
  ASSERT_FALSE(r.hasValue());
  EXPECT_EQ(r.error().kind, Error::Kind::full) << r.error().message;
  EXPECT_EQ(s->count(), 10u + added);
  EXPECT_EQ(walk(*s).size(), 10u + added);
  EXPECT_FALSE(s->overflow());  // the disk, not the policy: events were refused, not dropped silently
  // The failed add did not consume an ID.
  ASSERT_TRUE(s->database().exec(fmt::format("PRAGMA max_page_count = {}", n + 100)));
  EXPECT_EQ(mustAdd(*s, 9999), 11 + added);
}

TEST(SelStore, ReadOnlyDatabaseFailsWritesAndKeepsReads) {
  auto s = openSel();
  ASSERT_TRUE(s);
  mustAdd(*s, 1, kT0);
  ASSERT_TRUE(s->database().exec("PRAGMA query_only = 1"));
  auto a = s->add(record(2), kT0 + 5);
  ASSERT_FALSE(a.hasValue());
  EXPECT_NE(a.error().kind, Error::Kind::notFound);
  EXPECT_FALSE(s->clear(kT0 + 5).hasValue());
  EXPECT_FALSE(s->erase(1, kT0 + 5).hasValue());
  EXPECT_FALSE(s->putSetting("time_offset", 1).hasValue());
  EXPECT_EQ(s->count(), 1u);
  EXPECT_EQ(s->lastAddTime(), kT0);
  EXPECT_EQ(s->lastEraseTime(), SelStore::kNoTimestamp);
  EXPECT_EQ(walk(*s), (std::vector<std::pair<uint16_t, uint16_t>>{{1, 1}}));
  ASSERT_TRUE(s->database().exec("PRAGMA query_only = 0"));
  EXPECT_EQ(mustAdd(*s, 3), 2);
}

TEST(SelStore, TenThousandEntriesWalkInOrder) {
  auto s = openSel(":memory:", limits(10000));
  ASSERT_TRUE(s);
  for (uint16_t t = 0; t < 10000; ++t) ASSERT_EQ(s->add(record(t), kT0).valueOr(0), t + 1);
  auto all = walk(*s);
  ASSERT_EQ(all.size(), 10000u);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].second, i);
  EXPECT_EQ(s->add(record(1), kT0).error().kind, Error::Kind::full);
}

}  // namespace
}  // namespace simbmc::storage
