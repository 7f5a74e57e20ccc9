#include "bmc/storage/sel.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <utility>

#include "common/clock.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::bmc {
namespace {

using std::chrono::seconds;
using storage::SelOverflowPolicy;

constexpr uint8_t kGetInfo = 0x40;
constexpr uint8_t kGetAllocInfo = 0x41;
constexpr uint8_t kReserve = 0x42;
constexpr uint8_t kGetEntry = 0x43;
constexpr uint8_t kAdd = 0x44;
constexpr uint8_t kPartialAdd = 0x45;
constexpr uint8_t kDelete = 0x46;
constexpr uint8_t kClear = 0x47;
constexpr uint8_t kGetTime = 0x48;
constexpr uint8_t kSetTime = 0x49;
constexpr uint8_t kGetUtcOffset = 0x5C;
constexpr uint8_t kSetUtcOffset = 0x5D;

constexpr Cc kRecordType{0x80};
constexpr Cc kLengthMismatch{0x80};

// FakeClock's wall clock at its starting point.
constexpr uint32_t kNow = 1'700'000'000;

struct Resp {
  Cc cc = Cc::ok;
  Bytes data;
  bool operator==(const Resp&) const = default;
};

void PrintTo(const Resp& r, std::ostream* os) {
  *os << "cc=0x" << std::hex << static_cast<int>(r.cc) << " data=[";
  for (uint8_t b : r.data) *os << " " << static_cast<int>(b);
  *os << " ]" << std::dec;
}

Resp ok(Bytes data = {}) { return Resp{Cc::ok, std::move(data)}; }
Resp err(Cc cc) { return Resp{cc, {}}; }

Bytes le16(uint16_t v) { return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)}; }
Bytes le32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A system event record as ipmitool's `sel add` builds it (software ID 0x41), tagged in data 2/3.
Bytes record(uint8_t tag, uint8_t type = 0x02) {
  return {0xEE, 0xEE, type, 0x11, 0x22, 0x33, 0x44, 0x41, 0x00, 0x04, 0x01, 0x30, 0x01, 0x57, tag, 0x00};
}
// The same record as stored: ID filled in, timestamp filled in for timestamped types.
Bytes stored(uint16_t id, uint8_t tag, uint32_t timestamp, uint8_t type = 0x02) {
  Bytes r = record(tag, type);
  r[0] = static_cast<uint8_t>(id);
  r[1] = static_cast<uint8_t>(id >> 8);
  if (type < 0xE0) {
    Bytes t = le32(timestamp);
    std::copy(t.begin(), t.end(), r.begin() + 3);
  }
  return r;
}

Bytes getEntryReq(uint16_t id, uint16_t reservation = 0, uint8_t offset = 0, uint8_t count = 0xFF) {
  return cat({le16(reservation), le16(id), {offset, count}});
}
Bytes clearReq(uint16_t reservation, uint8_t op = 0xAA) { return cat({le16(reservation), {'C', 'L', 'R', op}}); }

class SelTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(SelConfig config = {}, const std::string& path = ":memory:") {
    registry_ = std::make_unique<CommandRegistry>();
    sel_.reset();
    sel_ = std::make_unique<SelService>(clock_, config);
    auto r = sel_->open(path);
    ASSERT_TRUE(r.hasValue()) << r.error().message;
    sel_->registerCommands(*registry_);
  }

  Resp call(uint8_t cmd, Bytes data = {}, Privilege privilege = Privilege::administrator) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = privilege;
    ctx.sessionId = 0x1234;
    ctx.userId = 2;
    net::IpmiRequest req;
    req.netfn = netfn::storage;
    req.cmd = cmd;
    req.data = data;
    auto r = registry_->dispatch(ctx, req);
    EXPECT_TRUE(r.has_value());
    if (!r) return err(Cc::unspecified);
    return Resp{r->cc, std::move(r->data)};
  }

  uint16_t reserve() {
    Resp r = call(kReserve);
    EXPECT_EQ(r.cc, Cc::ok);
    EXPECT_EQ(r.data.size(), 2u);
    return r.data.size() == 2 ? static_cast<uint16_t>(r.data[0] | (r.data[1] << 8)) : 0;
  }
  uint16_t add(uint8_t tag, uint8_t type = 0x02) {
    Resp r = call(kAdd, record(tag, type));
    EXPECT_EQ(r.cc, Cc::ok);
    return r.data.size() == 2 ? static_cast<uint16_t>(r.data[0] | (r.data[1] << 8)) : 0;
  }
  Resp info() { return call(kGetInfo); }
  // Get SEL Info bytes 6..9 and 10..13 (Table 31-2): the most recent addition and erase timestamps.
  std::pair<uint32_t, uint32_t> stamps() {
    Resp r = info();
    EXPECT_EQ(r.data.size(), 14u);
    if (r.data.size() != 14) return {0, 0};
    auto at = [&](size_t i) {
      return static_cast<uint32_t>(r.data[i] | (r.data[i + 1] << 8) | (r.data[i + 2] << 16) |
                                   (uint32_t{r.data[i + 3]} << 24));
    };
    return {at(5), at(9)};
  }
  void clearLog() {
    const uint16_t r = reserve();
    EXPECT_EQ(call(kClear, clearReq(r)), ok({0x01}));
  }
  uint16_t entries() {
    Resp r = info();
    return r.data.size() == 14 ? static_cast<uint16_t>(r.data[1] | (r.data[2] << 8)) : 0xFFFF;
  }

  FakeClock clock_;
  std::unique_ptr<CommandRegistry> registry_;
  std::unique_ptr<SelService> sel_;
};

// ---- Get SEL Info / Allocation Info (§31.2, §31.3) ------------------------------------------

TEST_F(SelTest, InfoOfAnEmptyLog) {
  // Version 51h, 0 entries, 3639 * 16 = 58224 (E370h) bytes free, no add/erase yet, no overflow,
  // delete + partial add + reserve + allocation info supported.
  EXPECT_EQ(info(), ok({0x51, 0x00, 0x00, 0x70, 0xE3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
  EXPECT_EQ(call(kGetInfo, {0x00}), err(Cc::invalidLength));
}

TEST_F(SelTest, InfoCountsEntriesAndStampsTheLastAdd) {
  add(1);
  clock_.advance(seconds(5));
  add(2);
  EXPECT_EQ(info(), ok(cat({{0x51}, le16(2), le16((3639 - 2) * 16), le32(kNow + 5), le32(0xFFFFFFFF), {0x0F}})));
}

TEST_F(SelTest, AllocationInfoCountsSixteenByteUnits) {
  add(1);
  EXPECT_EQ(call(kGetAllocInfo), ok(cat({le16(3639), le16(16), le16(3638), le16(3638), {0x01}})));
  EXPECT_EQ(call(kGetAllocInfo, {0x00}), err(Cc::invalidLength));
}

TEST_F(SelTest, FreeSpaceSaturatesAtFFFF) {
  SelConfig config;
  config.capacity = 10000;
  start(config);
  Resp r = info();
  ASSERT_EQ(r.data.size(), 14u);
  EXPECT_EQ(Bytes(r.data.begin() + 3, r.data.begin() + 5), le16(0xFFFF));
  EXPECT_EQ(call(kGetAllocInfo), ok(cat({le16(10000), le16(16), le16(10000), le16(10000), {0x01}})));
}

// ---- Add / Get SEL Entry (§31.5, §31.6) -----------------------------------------------------

TEST_F(SelTest, AddFillsIdAndTimestampOfASystemEventRecord) {
  EXPECT_EQ(call(kAdd, record(7)), ok(le16(1)));
  clock_.advance(seconds(3));
  EXPECT_EQ(call(kAdd, record(8)), ok(le16(2)));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1)), ok(cat({le16(2), stored(1, 7, kNow)})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(2)), ok(cat({le16(0xFFFF), stored(2, 8, kNow + 3)})));
}

TEST_F(SelTest, TimestampedOemRecordsAreStampedAndNonTimestampedAreNot) {
  EXPECT_EQ(call(kAdd, record(1, 0xC0)), ok(le16(1)));
  EXPECT_EQ(call(kAdd, record(2, 0xDF)), ok(le16(2)));
  EXPECT_EQ(call(kAdd, record(3, 0xE0)), ok(le16(3)));
  EXPECT_EQ(call(kAdd, record(4, 0xFF)), ok(le16(4)));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1)).data, cat({le16(2), stored(1, 1, kNow, 0xC0)}));
  EXPECT_EQ(call(kGetEntry, getEntryReq(2)).data, cat({le16(3), stored(2, 2, kNow, 0xDF)}));
  Bytes oem = record(3, 0xE0);  // bytes 3..15 exactly as given
  oem[0] = 3;
  oem[1] = 0;
  EXPECT_EQ(call(kGetEntry, getEntryReq(3)), ok(cat({le16(4), oem})));
}

TEST_F(SelTest, ReservedRecordTypesAreRefused) {
  for (uint8_t type : {0x00, 0x01, 0x03, 0x80, 0xBF}) {
    EXPECT_EQ(call(kAdd, record(1, type)), err(kRecordType)) << int(type);
  }
  EXPECT_EQ(entries(), 0);
}

TEST_F(SelTest, AddNeedsExactlySixteenBytes) {
  Bytes shortReq = record(1);
  shortReq.pop_back();
  Bytes longReq = record(1);
  longReq.push_back(0);
  EXPECT_EQ(call(kAdd, shortReq), err(Cc::invalidLength));
  EXPECT_EQ(call(kAdd, longReq), err(Cc::invalidLength));
  EXPECT_EQ(entries(), 0);
}

TEST_F(SelTest, GetEntryFirstLastAndTheNextChain) {
  for (uint8_t t = 1; t <= 3; ++t) add(t);
  EXPECT_EQ(call(kGetEntry, getEntryReq(0x0000)), ok(cat({le16(2), stored(1, 1, kNow)})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(0xFFFF)), ok(cat({le16(0xFFFF), stored(3, 3, kNow)})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(2)), ok(cat({le16(3), stored(2, 2, kNow)})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(4)), err(Cc::notPresent));
}

TEST_F(SelTest, GetEntryOfAnEmptyLogIsNotPresent) {
  EXPECT_EQ(call(kGetEntry, getEntryReq(0x0000)), err(Cc::notPresent));
  EXPECT_EQ(call(kGetEntry, getEntryReq(0xFFFF)), err(Cc::notPresent));
}

TEST_F(SelTest, GetEntryLengthIsStrict) {
  add(1);
  Bytes req = getEntryReq(1);
  EXPECT_EQ(call(kGetEntry, Bytes(req.begin(), req.end() - 1)), err(Cc::invalidLength));
  req.push_back(0x00);
  EXPECT_EQ(call(kGetEntry, req), err(Cc::invalidLength));
}

TEST_F(SelTest, PartialReadsNeedAReservationPastOffsetZero) {
  add(9);
  const Bytes full = stored(1, 9, kNow);
  // Offset 0 needs none (ipmitool and FreeIPMI read whole records this way).
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, 0, 0, 5)), ok(cat({le16(0xFFFF), Bytes(full.begin(), full.begin() + 5)})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, 0, 5, 5)), err(Cc::reservationCanceled));
  const uint16_t r = reserve();
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, r, 5, 5)), ok(cat({le16(0xFFFF), Bytes(full.begin() + 5, full.begin() + 10)})));
  // Past the end of the record: what is there; FFh: the rest.
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, r, 12, 10)), ok(cat({le16(0xFFFF), Bytes(full.begin() + 12, full.end())})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, r, 15, 0xFF)), ok(cat({le16(0xFFFF), Bytes(full.begin() + 15, full.end())})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, r, 3, 0)), ok(le16(0xFFFF)));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, r, 16, 1)), err(Cc::parameterOutOfRange));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, static_cast<uint16_t>(r + 1), 5, 5)), err(Cc::reservationCanceled));
}

// ---- Reservations (§31.4) -------------------------------------------------------------------

TEST_F(SelTest, ReserveIssuesNonZeroIdsAndANewOneCancelsTheOld) {
  add(1);
  const uint16_t r1 = reserve();
  const uint16_t r2 = reserve();
  EXPECT_NE(r1, 0);
  EXPECT_NE(r2, 0);
  EXPECT_NE(r1, r2);
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, r1, 1, 1)).cc, Cc::reservationCanceled);
  EXPECT_EQ(call(kGetEntry, getEntryReq(1, r2, 1, 1)).cc, Cc::ok);
  EXPECT_EQ(call(kReserve, {0x00}), err(Cc::invalidLength));
}

TEST_F(SelTest, ReservationIdsNeverIncludeZeroAcrossTheWrap) {
  uint16_t previous = reserve();
  for (int i = 0; i < 70000; ++i) {  // more than the 16-bit space
    const uint16_t r = reserve();
    ASSERT_NE(r, 0);
    ASSERT_NE(r, previous);
    previous = r;
  }
}

TEST_F(SelTest, AddDeleteClearAndLoggedEventsCancelTheReservation) {
  add(1);
  add(2);
  auto cancelledBy = [&](const std::function<void()>& change) {
    const uint16_t r = reserve();
    change();
    return call(kGetEntry, getEntryReq(0xFFFF, r, 1, 1)).cc == Cc::reservationCanceled;
  };
  EXPECT_TRUE(cancelledBy([&] { add(3); }));
  EXPECT_TRUE(cancelledBy([&] { EXPECT_TRUE(sel_->logEvent(SystemEvent{})); }));
  EXPECT_TRUE(cancelledBy([&] {
    const uint16_t r = reserve();
    EXPECT_EQ(call(kDelete, cat({le16(r), le16(1)})), ok(le16(1)));
  }));
  // Reads and failed writes change nothing and keep it.
  EXPECT_FALSE(cancelledBy([&] {
    info();
    call(kGetEntry, getEntryReq(0));
    call(kGetTime);
    EXPECT_EQ(call(kAdd, record(1, 0x01)).cc, kRecordType);
  }));
  EXPECT_TRUE(cancelledBy([&] {
    const uint16_t r = reserve();
    EXPECT_EQ(call(kClear, clearReq(r)), ok({0x01}));
  }));
}

// ---- Delete SEL Entry (§31.8) ---------------------------------------------------------------

TEST_F(SelTest, DeleteNeedsTheCurrentReservation) {
  add(1);
  add(2);
  add(3);
  EXPECT_EQ(call(kDelete, cat({le16(0), le16(2)})), err(Cc::reservationCanceled));
  uint16_t r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(static_cast<uint16_t>(r + 1)), le16(2)})), err(Cc::reservationCanceled));
  clock_.advance(seconds(7));
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(2)})), ok(le16(2)));
  // The reservation is gone with the delete; the next one needs a new reservation.
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(3)})), err(Cc::reservationCanceled));
  r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(2)})), err(Cc::notPresent));
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(0xFFFF)})), ok(le16(3)));  // FFFFh = the last
  r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(0x0000)})), ok(le16(1)));  // 0000h = the first
  // Three adds and three deletes within one second each: the timestamps still moved every time.
  EXPECT_EQ(info(), ok(cat({{0x51}, le16(0), le16(3639 * 16), le32(kNow + 2), le32(kNow + 9), {0x0F}})));
}

TEST_F(SelTest, DeleteLengthIsStrictAndItNeedsOperator) {
  add(1);
  const uint16_t r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(r), {0x01}})), err(Cc::invalidLength));
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(1), {0x00}})), err(Cc::invalidLength));
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(1)}), Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(1)}), Privilege::operator_), ok(le16(1)));
}

// ---- Clear SEL (§31.9) ----------------------------------------------------------------------

TEST_F(SelTest, ClearErasesAtOnceAndReportsCompletion) {
  for (uint8_t t = 1; t <= 5; ++t) add(t);
  uint16_t r = reserve();
  clock_.advance(seconds(30));
  EXPECT_EQ(call(kClear, clearReq(r)), ok({0x01}));
  EXPECT_EQ(entries(), 0);
  EXPECT_EQ(call(kGetEntry, getEntryReq(0)), err(Cc::notPresent));
  // Polling the status needs a reservation too; the clear cancelled the old one.
  EXPECT_EQ(call(kClear, clearReq(r, 0x00)), err(Cc::reservationCanceled));
  r = reserve();
  EXPECT_EQ(call(kClear, clearReq(r, 0x00)), ok({0x01}));
  EXPECT_EQ(info(), ok(cat({{0x51}, le16(0), le16(3639 * 16), le32(kNow + 4), le32(kNow + 30), {0x0F}})));
  // Record IDs go on from where they were.
  EXPECT_EQ(add(6), 6);
}

TEST_F(SelTest, ClearChecksItsFields) {
  add(1);
  const uint16_t r = reserve();
  EXPECT_EQ(call(kClear, cat({le16(r), {'C', 'L', 'X', 0xAA}})), err(Cc::invalidField));
  EXPECT_EQ(call(kClear, cat({le16(r), {'c', 'l', 'r', 0xAA}})), err(Cc::invalidField));
  EXPECT_EQ(call(kClear, clearReq(r, 0x55)), err(Cc::invalidField));
  EXPECT_EQ(call(kClear, cat({le16(r), {'C', 'L', 'R'}})), err(Cc::invalidLength));
  EXPECT_EQ(call(kClear, cat({clearReq(r), {0x00}})), err(Cc::invalidLength));
  EXPECT_EQ(call(kClear, clearReq(0)), err(Cc::reservationCanceled));
  EXPECT_EQ(call(kClear, clearReq(r), Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(entries(), 1);
  EXPECT_EQ(call(kClear, clearReq(r), Privilege::operator_), ok({0x01}));
  EXPECT_EQ(entries(), 0);
}

// ---- Capacity policies --------------------------------------------------------------------

TEST_F(SelTest, StopPolicyAnswersOutOfSpaceAndRaisesOverflow) {
  SelConfig config;
  config.capacity = 16;
  start(config);
  for (uint8_t t = 0; t < 16; ++t) add(t);
  EXPECT_EQ(call(kAdd, record(99)), err(Cc::outOfSpace));
  EXPECT_FALSE(sel_->logEvent(SystemEvent{}));
  // Sixteen adds within one second: the addition timestamp moved on each (§31.2); refused ones left it.
  EXPECT_EQ(info(), ok(cat({{0x51}, le16(16), le16(0), le32(kNow + 15), le32(0xFFFFFFFF), {0x8F}})));
  const uint16_t r = reserve();
  EXPECT_EQ(call(kClear, clearReq(r)), ok({0x01}));
  EXPECT_EQ(info().data.back(), 0x0F);
}

TEST_F(SelTest, CircularPolicyKeepsAcceptingAndKeepsTheNewest) {
  SelConfig config;
  config.capacity = 16;
  config.policy = SelOverflowPolicy::circular;
  start(config);
  for (uint8_t t = 0; t < 16; ++t) EXPECT_EQ(add(t), t + 1);
  EXPECT_EQ(info(), ok(cat({{0x51}, le16(16), le16(0), le32(kNow + 15), le32(0xFFFFFFFF), {0x0F}})));
  clock_.advance(seconds(30));
  for (uint8_t t = 16; t < 20; ++t) EXPECT_EQ(add(t), t + 1);
  // §31.2: the entries dropped to make room were erased, so the erase timestamp moves with them (four
  // overwrites within one second: +30, +31, +32, +33, as the additions).
  EXPECT_EQ(info(), ok(cat({{0x51}, le16(16), le16(0), le32(kNow + 33), le32(kNow + 33), {0x0F}})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(0)), ok(cat({le16(6), stored(5, 4, kNow)})));
}

// ---- Partial Add SEL Entry (§31.7) ----------------------------------------------------------

TEST_F(SelTest, PartialAddAssemblesARecordFromParts) {
  add(1);
  const uint16_t r = reserve();
  const Bytes rec = record(42);
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x00}, Bytes(rec.begin(), rec.begin() + 6)})),
            ok(le16(2)));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(2), {6, 0x00}, Bytes(rec.begin() + 6, rec.begin() + 11)})),
            ok(le16(2)));
  EXPECT_EQ(entries(), 1);  // nothing is stored before the last part
  clock_.advance(seconds(2));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(2), {11, 0x01}, Bytes(rec.begin() + 11, rec.end())})),
            ok(le16(2)));
  EXPECT_EQ(call(kGetEntry, getEntryReq(2)), ok(cat({le16(0xFFFF), stored(2, 42, kNow + 2)})));
  // Completing the add cancelled the reservation.
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x01}, rec})), err(Cc::reservationCanceled));
  // A whole record in one part works too.
  EXPECT_EQ(call(kPartialAdd, cat({le16(reserve()), le16(0), {0, 0x01}, rec})), ok(le16(3)));
}

TEST_F(SelTest, PartialAddRefusesBadParts) {
  const Bytes rec = record(1);
  uint16_t r = reserve();
  EXPECT_EQ(call(kPartialAdd, cat({le16(0), le16(0), {0, 0x00}, rec})), err(Cc::reservationCanceled));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x02}, rec})), err(Cc::invalidField));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {3, 0x00}, rec})), err(Cc::invalidField));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(5), {0, 0x00}, rec})), err(Cc::notPresent));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0)})), err(Cc::invalidLength));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x00}, Bytes(rec.begin(), rec.begin() + 4)})), ok(le16(1)));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(1), {6, 0x00}, {1, 2}})), err(Cc::invalidField));  // gap
  // Longer than a record: rejected, and the partial record is dropped.
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(1), {4, 0x00}, Bytes(13, 0)})), err(kLengthMismatch));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(1), {4, 0x01}, {1}})), err(Cc::notPresent));
  // A last part that leaves the record short.
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x00}, Bytes(rec.begin(), rec.begin() + 8)})), ok(le16(1)));
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(1), {8, 0x01}, {1, 2}})), err(kLengthMismatch));
  // A reserved record type is refused when complete.
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x01}, record(1, 0x01)})), err(kRecordType));
  EXPECT_EQ(entries(), 0);
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x01}, rec}), Privilege::user),
            err(Cc::insufficientPrivilege));
}

TEST_F(SelTest, AnotherAddAbortsAPartialAdd) {
  const Bytes rec = record(1);
  const uint16_t r = reserve();
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(0), {0, 0x00}, Bytes(rec.begin(), rec.begin() + 8)})), ok(le16(1)));
  EXPECT_EQ(add(2), 1);
  EXPECT_EQ(call(kPartialAdd, cat({le16(r), le16(1), {8, 0x01}, Bytes(rec.begin() + 8, rec.end())})),
            err(Cc::reservationCanceled));
  EXPECT_EQ(entries(), 1);
}

// ---- SEL time (§31.10-31.11b) ---------------------------------------------------------------

TEST_F(SelTest, SelTimeFollowsTheClockAndSetTimeShiftsIt) {
  EXPECT_EQ(call(kGetTime), ok(le32(kNow)));
  EXPECT_EQ(call(kSetTime, le32(1'600'000'000)), ok());
  EXPECT_EQ(call(kGetTime), ok(le32(1'600'000'000)));
  clock_.advance(seconds(10));
  EXPECT_EQ(call(kGetTime), ok(le32(1'600'000'010)));
  EXPECT_EQ(call(kAdd, record(1)), ok(le16(1)));
  EXPECT_EQ(call(kGetEntry, getEntryReq(1)), ok(cat({le16(0xFFFF), stored(1, 1, 1'600'000'010)})));
  EXPECT_EQ(call(kSetTime, {0x00, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetTime, {0x00, 0x00, 0x00, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetTime, le32(5), Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetTime, {0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetTime, {}, Privilege::user), ok(le32(1'600'000'010)));
}

TEST_F(SelTest, UtcOffsetIsUnspecifiedUntilSetAndRangeChecked) {
  EXPECT_EQ(call(kGetUtcOffset), ok({0xFF, 0x07}));
  EXPECT_EQ(call(kSetUtcOffset, le16(static_cast<uint16_t>(-300))), ok());
  EXPECT_EQ(call(kGetUtcOffset), ok({0xD4, 0xFE}));
  EXPECT_EQ(call(kSetUtcOffset, le16(1441)), err(Cc::parameterOutOfRange));
  EXPECT_EQ(call(kSetUtcOffset, le16(static_cast<uint16_t>(-1441))), err(Cc::parameterOutOfRange));
  EXPECT_EQ(call(kSetUtcOffset, le16(1440)), ok());
  EXPECT_EQ(call(kSetUtcOffset, le16(0x07FF)), ok());
  EXPECT_EQ(call(kGetUtcOffset), ok({0xFF, 0x07}));
  EXPECT_EQ(call(kSetUtcOffset, {0x01}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUtcOffset, {0x01, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSetUtcOffset, le16(60), Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kGetUtcOffset, {}, Privilege::user).cc, Cc::ok);
}

TEST_F(SelTest, TimeOffsetsAndRecordsSurviveARestart) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  start({}, path);
  EXPECT_EQ(call(kSetTime, le32(1'000'000'000)), ok());
  EXPECT_EQ(call(kSetUtcOffset, le16(120)), ok());
  EXPECT_EQ(add(1), 1);
  start({}, path);
  EXPECT_EQ(call(kGetTime), ok(le32(1'000'000'000)));
  EXPECT_EQ(call(kGetUtcOffset), ok(le16(120)));
  EXPECT_EQ(call(kGetEntry, getEntryReq(0)), ok(cat({le16(0xFFFF), stored(1, 1, 1'000'000'000)})));
  EXPECT_EQ(add(2), 2);
}

// ---- Most recent addition / erase timestamps (§31.2) ------------------------------------------

// A client that caches the SEL judges it by these two timestamps in whole seconds: every change must
// move one to a value it has never reported, even within one second; the records keep the SEL time.
TEST_F(SelTest, InfoTimestampsMoveOnEveryChangeWithinOneSecond) {
  EXPECT_EQ(add(1), 1);
  EXPECT_EQ(stamps(), std::make_pair(kNow, 0xFFFFFFFFu));
  EXPECT_EQ(add(2), 2);
  EXPECT_EQ(stamps().first, kNow + 1);
  EXPECT_TRUE(sel_->logEvent(SystemEvent{}));
  EXPECT_EQ(stamps().first, kNow + 2);
  EXPECT_EQ(call(kGetEntry, getEntryReq(1)), ok(cat({le16(2), stored(1, 1, kNow)})));
  EXPECT_EQ(call(kGetEntry, getEntryReq(2)), ok(cat({le16(3), stored(2, 2, kNow)})))
      << "the record's own timestamp is the SEL time, not the addition timestamp";
  clearLog();
  EXPECT_EQ(stamps(), std::make_pair(kNow + 2, kNow));
  clearLog();
  EXPECT_EQ(stamps(), std::make_pair(kNow + 2, kNow + 1));
  EXPECT_EQ(add(4), 4);
  EXPECT_EQ(stamps().first, kNow + 3);
  const uint16_t r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(4)})), ok(le16(4)));
  EXPECT_EQ(stamps(), std::make_pair(kNow + 3, kNow + 2));
  clock_.advance(seconds(10));
  EXPECT_EQ(add(5), 5);
  EXPECT_EQ(stamps(), std::make_pair(kNow + 10, kNow + 2)) << "a later second is taken as it is";
}

TEST_F(SelTest, CircularOverwritesWithinOneSecondMoveTheEraseTimestamp) {
  SelConfig config;
  config.capacity = 16;
  config.policy = SelOverflowPolicy::circular;
  start(config);
  for (uint8_t t = 0; t < 16; ++t) add(t);
  EXPECT_EQ(stamps(), std::make_pair(kNow + 15, 0xFFFFFFFFu));
  add(16);
  EXPECT_EQ(stamps(), std::make_pair(kNow + 16, kNow));
  add(17);
  EXPECT_EQ(stamps(), std::make_pair(kNow + 17, kNow + 1));
  EXPECT_EQ(call(kGetEntry, getEntryReq(0xFFFF)), ok(cat({le16(0xFFFF), stored(18, 17, kNow)})));
}

TEST_F(SelTest, InfoTimestampsKeepTheirFloorAcrossARestart) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sel.db");
  start({}, path);
  for (uint8_t t = 1; t <= 3; ++t) add(t);
  clearLog();
  clearLog();
  EXPECT_EQ(stamps(), std::make_pair(kNow + 2, kNow + 1));
  start({}, path);
  EXPECT_EQ(stamps(), std::make_pair(kNow + 2, kNow + 1));
  add(4);
  clearLog();
  EXPECT_EQ(stamps(), std::make_pair(kNow + 3, kNow + 2));
}

// Set SEL Time (§31.11) is the exception, as Set SDR Repository Time is for the SDR repository: the
// next timestamps follow the clock a client set back, then go on from there.
TEST_F(SelTest, SetSelTimeBackIsFollowedByTheNextTimestamps) {
  for (uint8_t t = 1; t <= 3; ++t) add(t);
  clearLog();
  EXPECT_EQ(stamps(), std::make_pair(kNow + 2, kNow));
  EXPECT_EQ(call(kSetTime, le32(kNow - 100)), ok());
  EXPECT_EQ(add(4), 4);
  EXPECT_EQ(stamps(), std::make_pair(kNow - 100, kNow));
  EXPECT_EQ(add(5), 5);
  EXPECT_EQ(stamps().first, kNow - 99);
  EXPECT_EQ(call(kGetEntry, getEntryReq(5)), ok(cat({le16(0xFFFF), stored(5, 5, kNow - 100)})));
  clearLog();
  EXPECT_EQ(stamps(), std::make_pair(kNow - 99, kNow - 100));
}

// A failed write (read-only storage) answers FFh and moves neither timestamp nor its floor.
TEST_F(SelTest, FailedWritesLeaveTheInfoTimestamps) {
  add(1);
  add(2);
  clearLog();
  add(3);
  ASSERT_EQ(stamps(), std::make_pair(kNow + 2, kNow));
  ASSERT_TRUE(sel_->store()->database().exec("PRAGMA query_only = 1"));
  EXPECT_EQ(call(kAdd, record(4)), err(Cc::unspecified));
  EXPECT_FALSE(sel_->logEvent(SystemEvent{}));
  uint16_t r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(3)})), err(Cc::unspecified));
  EXPECT_EQ(call(kClear, clearReq(r)), err(Cc::unspecified));
  EXPECT_EQ(call(kSetTime, le32(kNow - 100)), err(Cc::unspecified));
  EXPECT_EQ(stamps(), std::make_pair(kNow + 2, kNow));
  ASSERT_TRUE(sel_->store()->database().exec("PRAGMA query_only = 0"));
  add(4);
  r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(3)})), ok(le16(3)));
  EXPECT_EQ(stamps(), std::make_pair(kNow + 3, kNow + 1));
}

// ---- Privileges (Appendix G) ----------------------------------------------------------------

TEST_F(SelTest, ReadsNeedUserAndWritesNeedOperator) {
  add(1);
  for (uint8_t c : {kGetInfo, kGetAllocInfo, kReserve, kGetTime, kGetUtcOffset}) {
    EXPECT_EQ(call(c, {}, Privilege::user).cc, Cc::ok) << int(c);
    EXPECT_EQ(call(c, {}, Privilege::callback).cc, Cc::insufficientPrivilege) << int(c);
  }
  EXPECT_EQ(call(kGetEntry, getEntryReq(1), Privilege::user).cc, Cc::ok);
  EXPECT_EQ(call(kGetEntry, getEntryReq(1), Privilege::callback).cc, Cc::insufficientPrivilege);
  EXPECT_EQ(call(kAdd, record(2), Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kAdd, record(2), Privilege::operator_), ok(le16(2)));
}

// ---- EventSink --------------------------------------------------------------------------------

TEST_F(SelTest, LoggedEventsBecomeSystemEventRecords) {
  SystemEvent e;
  e.generatorId = 0x0020;
  e.sensorType = 0x01;
  e.sensorNumber = 0x30;
  e.eventType = 0x01;
  e.deassertion = true;
  e.data = {0x59, 0x60, 0x5F};
  clock_.advance(seconds(1));
  EXPECT_TRUE(sel_->logEvent(e));
  EXPECT_EQ(call(kGetEntry, getEntryReq(0)),
            ok(cat({le16(0xFFFF), le16(1), {0x02}, le32(kNow + 1),
                    {0x20, 0x00, 0x04, 0x01, 0x30, 0x81, 0x59, 0x60, 0x5F}})));
  EXPECT_EQ(sel_->selTime(), kNow + 1);
}

// ---- Storage failures -------------------------------------------------------------------------

TEST_F(SelTest, ReadOnlyStorageFailsWritesWithFFAndKeepsReads) {
  add(1);
  ASSERT_TRUE(sel_->store()->database().exec("PRAGMA query_only = 1"));
  EXPECT_EQ(call(kAdd, record(2)), err(Cc::unspecified));
  EXPECT_FALSE(sel_->logEvent(SystemEvent{}));
  EXPECT_EQ(call(kSetTime, le32(5)), err(Cc::unspecified));
  EXPECT_EQ(call(kGetTime), ok(le32(kNow)));  // the failed set changed nothing
  uint16_t r = reserve();
  EXPECT_EQ(call(kDelete, cat({le16(r), le16(1)})), err(Cc::unspecified));
  EXPECT_EQ(call(kClear, clearReq(r)), err(Cc::unspecified));
  EXPECT_EQ(call(kGetEntry, getEntryReq(0)), ok(cat({le16(0xFFFF), stored(1, 1, kNow)})));
  EXPECT_EQ(entries(), 1);
}

TEST_F(SelTest, FullDiskAnswersOutOfSpace) {
  SelConfig config;
  config.capacity = 5000;
  start(config);
  add(1);
  auto pages = sel_->store()->database().prepare("PRAGMA page_count");
  ASSERT_TRUE(pages.hasValue());
  ASSERT_TRUE(*pages->step());
  ASSERT_TRUE(sel_->store()->database().exec(fmt::format("PRAGMA max_page_count = {}", pages->columnInt(0))));
  Resp last;
  for (int i = 0; i < 5000; ++i) {  // bounded: a page holds far fewer records
    last = call(kAdd, record(2));
    if (last.cc != Cc::ok) break;
  }
  EXPECT_EQ(last, err(Cc::outOfSpace));
  EXPECT_EQ(info().data.back(), 0x0F);  // the disk, not the capacity: no overflow flag
  EXPECT_EQ(call(kGetEntry, getEntryReq(1)).cc, Cc::ok);
}

}  // namespace
}  // namespace simbmc::bmc
