// SdrService (bmc/storage/sdr.hpp) through the CommandRegistry, as the LAN channel calls it:
// IPMI v2.0 §33 (SDR repository commands), §35.2-35.4 (device SDR commands), §43.7/§43.9 (FRU and MC
// device locator records), Appendix G (privileges).
#include "bmc/storage/sdr.hpp"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "bmc/bmc.hpp"
#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::bmc {
namespace {

constexpr uint8_t kStorage = netfn::storage;
constexpr uint8_t kSensor = netfn::sensorEvent;
constexpr uint8_t kGetInfo = 0x20;
constexpr uint8_t kGetAllocationInfo = 0x21;
constexpr uint8_t kReserve = 0x22;
constexpr uint8_t kGetSdr = 0x23;
constexpr uint8_t kAddSdr = 0x24;
constexpr uint8_t kPartialAdd = 0x25;
constexpr uint8_t kDeleteSdr = 0x26;
constexpr uint8_t kClear = 0x27;
constexpr uint8_t kGetTime = 0x28;
constexpr uint8_t kSetTime = 0x29;
constexpr uint8_t kEnterUpdate = 0x2A;
constexpr uint8_t kExitUpdate = 0x2B;
constexpr uint8_t kRunInitAgent = 0x2C;
constexpr uint8_t kGetDeviceSdrInfo = 0x20;
constexpr uint8_t kGetDeviceSdr = 0x21;
constexpr uint8_t kReserveDevice = 0x22;
constexpr Cc kLengthMismatch{0x80};

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

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes le16(uint16_t v) { return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)}; }
Bytes le32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

Bytes withId(Bytes r, uint16_t id) {
  r[0] = static_cast<uint8_t>(id);
  r[1] = static_cast<uint8_t>(id >> 8);
  return r;
}

// An OEM-type (C0h) record with `body` bytes counting up from `seed`.
Bytes oemRecord(size_t body, uint8_t seed = 0) {
  Bytes r{0x00, 0x00, 0x51, 0xC0, static_cast<uint8_t>(body)};
  for (size_t i = 0; i < body; ++i) r.push_back(static_cast<uint8_t>(seed + i));
  return r;
}

// A minimal full sensor record (§43.1): only the fields the device SDR count looks at matter.
Bytes fullSensorRecord(uint8_t number) {
  Bytes r{0x00, 0x00, 0x51, 0x01, 43, 0x20, 0x00, number};
  r.resize(48, 0x00);
  return r;
}

// A compact sensor record (§43.2) describing `share` sensors (byte 24 bits 3:0).
Bytes compactSensorRecord(uint8_t number, uint8_t share) {
  Bytes r{0x00, 0x00, 0x51, 0x02, 27, 0x20, 0x00, number};
  r.resize(32, 0x00);
  r[23] = share;
  return r;
}

McLocator testMc() {
  McLocator mc;
  mc.capabilities = 0x8F;
  mc.name = "simbmc";
  return mc;
}

FruLocator testFru(uint8_t id, std::string name) {
  FruLocator f;
  f.deviceId = id;
  f.name = std::move(name);
  return f;
}

std::vector<Bytes> generated() {
  return {mcLocatorRecord(testMc()), fruLocatorRecord(testFru(0, "Builtin FRU")), fruLocatorRecord(testFru(3, "PSU 1"))};
}

class SdrTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(SdrConfig config = {}, std::vector<Bytes> records = generated(), const std::vector<Bytes>& current = {}) {
    reg = std::make_unique<CommandRegistry>();
    sdr = std::make_unique<SdrService>(clock, std::move(config));
    auto started = sdr->start(std::move(records), current);
    ASSERT_TRUE(started.hasValue()) << started.error().message;
    sdr->registerCommands(*reg);
  }

  Resp call(uint8_t netfn, uint8_t cmd, Bytes data = {}, Privilege privilege = Privilege::administrator) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = privilege;
    ctx.sessionId = 0x0A0B0C0D;
    ctx.userId = 2;
    ctx.ipmi20 = true;
    auto r = reg->dispatch(ctx, net::IpmiRequest{netfn, 0, cmd, data});
    EXPECT_TRUE(r.has_value()) << "dropped";
    if (!r) return err(Cc::unspecified);
    if (r->cc != Cc::ok) {
      EXPECT_TRUE(r->data.empty()) << "an error reply carries data";
    }
    return Resp{r->cc, r->data};
  }
  Resp storage(uint8_t cmd, Bytes data = {}) { return call(kStorage, cmd, std::move(data)); }

  // Get Device SDR Info (§35.2) bytes 4-7: the sensor population change indicator.
  uint32_t changeIndicator() {
    const Resp r = call(kSensor, kGetDeviceSdrInfo);
    EXPECT_EQ(r.data.size(), 6u);
    if (r.data.size() != 6) return 0;
    return static_cast<uint32_t>(r.data[2] | (r.data[3] << 8) | (r.data[4] << 16) | (uint32_t{r.data[5]} << 24));
  }
  uint32_t now() const { return static_cast<uint32_t>(clock.unixSeconds()); }

  uint16_t reserve(uint8_t netfn = kStorage) {
    Resp r = call(netfn, kReserve);
    EXPECT_EQ(r.cc, Cc::ok);
    EXPECT_EQ(r.data.size(), 2u);
    return r.data.size() == 2 ? static_cast<uint16_t>(r.data[0] | (r.data[1] << 8)) : 0;
  }

  Resp getSdr(uint16_t reservation, uint16_t id, uint8_t offset, uint8_t count, uint8_t netfn = kStorage) {
    const uint8_t cmd = netfn == kStorage ? kGetSdr : kGetDeviceSdr;
    return call(netfn, cmd, cat({le16(reservation), le16(id), {offset, count}}));
  }

  // Walks the chain from record 0 with whole-record reads: (id, record) pairs, at most `limit`.
  std::vector<std::pair<uint16_t, Bytes>> walk(uint8_t netfn = kStorage, size_t limit = 2000) {
    std::vector<std::pair<uint16_t, Bytes>> out;
    uint16_t id = 0;
    for (size_t i = 0; i < limit; ++i) {
      Resp r = getSdr(0, id, 0, 0xFF, netfn);
      EXPECT_EQ(r.cc, Cc::ok) << "record " << id;
      if (r.cc != Cc::ok || r.data.size() < 7) break;
      const uint16_t self = static_cast<uint16_t>(r.data[2] | (r.data[3] << 8));
      out.emplace_back(self, Bytes(r.data.begin() + 2, r.data.end()));
      id = static_cast<uint16_t>(r.data[0] | (r.data[1] << 8));
      if (id == 0xFFFF) break;
    }
    return out;
  }

  FakeClock clock;
  std::unique_ptr<CommandRegistry> reg;
  std::unique_ptr<SdrService> sdr;
};

// ---- Record layouts ----------------------------------------------------------------------------

TEST(SdrRecordTest, McLocatorIsTable43_8ByteForByte) {
  McLocator mc;
  mc.slaveAddress = 0x20;
  mc.channel = 0;
  mc.staticController = true;
  mc.capabilities = 0xAF;  // chassis, event generator, FRU, SEL, SDR repository, sensor device
  mc.entityId = 0x06;
  mc.entityInstance = 0x01;
  mc.name = "simbmc";
  EXPECT_EQ(mcLocatorRecord(mc), (Bytes{
                                     0x00, 0x00,  // record ID (assigned by the repository)
                                     0x51,        // SDR version
                                     0x12,        // record type: MC device locator
                                     0x11,        // 11 body bytes + 6 string bytes
                                     0x20,        // byte 6: device slave address
                                     0x00,        // byte 7: channel 0
                                     0x20,        // byte 8: static controller, event generation enabled
                                     0xAF,        // byte 9: device capabilities
                                     0x00, 0x00, 0x00,  // bytes 10-12 reserved
                                     0x06, 0x01,  // entity: system management module, instance 1
                                     0x00,        // OEM
                                     0xC6,        // ID string: 8-bit ASCII + Latin 1, 6 bytes
                                     's', 'i', 'm', 'b', 'm', 'c',
                                 }));
  mc.slaveAddress = 0x83;  // bit 0 is reserved
  mc.channel = 0x17;       // bits 7:4 are reserved
  mc.staticController = false;
  mc.name = "a-name-longer-than-sixteen-bytes";
  Bytes r = mcLocatorRecord(mc);
  ASSERT_EQ(r.size(), 32u) << "the ID string is cut at 16 bytes";
  EXPECT_EQ(r[4], 27);
  EXPECT_EQ(r[5], 0x82);
  EXPECT_EQ(r[6], 0x07);
  EXPECT_EQ(r[7], 0x00);
  EXPECT_EQ(r[15], 0xD0);
  EXPECT_EQ(std::string(r.begin() + 16, r.end()), "a-name-longer-th");
}

TEST(SdrRecordTest, FruLocatorIsTable43_7ByteForByte) {
  FruLocator f;
  f.deviceId = 3;
  f.name = "PSU 1";
  f.entityId = 0x0A;
  f.entityInstance = 0x02;
  EXPECT_EQ(fruLocatorRecord(f), (Bytes{
                                     0x00, 0x00, 0x51,
                                     0x11,        // record type: FRU device locator
                                     0x10,        // 11 body bytes + 5 string bytes
                                     0x20,        // byte 6: device access address (the BMC)
                                     0x03,        // byte 7: FRU device ID
                                     0x80,        // byte 8: logical FRU device, LUN 0, bus 0
                                     0x00,        // byte 9: channel 0 (bits 7:4)
                                     0x00,        // byte 10 reserved
                                     0x10, 0x00,  // device type/modifier: FRU inventory behind the MC
                                     0x0A, 0x02,  // entity: power supply, instance 2
                                     0x00,        // OEM
                                     0xC5, 'P', 'S', 'U', ' ', '1',
                                 }));
  f.channel = 0x05;
  f.name.clear();
  Bytes r = fruLocatorRecord(f);
  ASSERT_EQ(r.size(), 16u);
  EXPECT_EQ(r[4], 11);
  EXPECT_EQ(r[8], 0x50) << "channel in bits 7:4";
  EXPECT_EQ(r[15], 0xC0) << "an empty ID string";
}

TEST(SdrRecordTest, AdditionalDeviceSupportFollowsTheRegistry) {
  CommandRegistry reg;
  EXPECT_EQ(additionalDeviceSupport(reg), 0x00);
  auto dummy = [](const RequestContext&, const NoData&) { return Reply::ok(); };
  const std::vector<std::tuple<uint8_t, uint8_t, uint8_t>> bits = {
      {netfn::sensorEvent, 0x2D, 0x01}, {netfn::storage, 0x20, 0x02}, {netfn::storage, 0x40, 0x04},
      {netfn::storage, 0x10, 0x08},     {netfn::sensorEvent, 0x02, 0x10}, {netfn::sensorEvent, 0x00, 0x20},
      {netfn::bridge, 0x00, 0x40},      {netfn::chassis, 0x00, 0x80},
  };
  uint8_t expected = 0;
  for (auto [fn, cmd, bit] : bits) {
    reg.add<NoData>(fn, cmd, Privilege::user, dummy);
    expected |= bit;
    EXPECT_EQ(additionalDeviceSupport(reg), expected) << "after netfn " << int(fn) << " cmd " << int(cmd);
  }
}

// ---- Repository info, allocation, reservations -------------------------------------------------

TEST_F(SdrTest, RepositoryInfoReportsCountSpaceTimestampsAndOperations) {
  const uint32_t started = static_cast<uint32_t>(clock.unixSeconds());
  // Records of 22, 27 and 21 bytes: 2 + 2 + 2 units of 16 bytes; (8192 - 6) * 16 > FFFEh.
  EXPECT_EQ(storage(kGetInfo), ok(cat({{0x51}, le16(3), le16(0xFFFE), le32(started), le32(0xFFFFFFFF), {0x6F}})));
  EXPECT_EQ(storage(kGetAllocationInfo), ok(cat({le16(8192), le16(16), le16(8186), le16(8186), {17}})));
}

TEST_F(SdrTest, FreeSpaceIsExactBelow64KiB) {
  SdrConfig c;
  c.units = 100;
  start(c);
  EXPECT_EQ(storage(kGetInfo).data[3] | (storage(kGetInfo).data[4] << 8), (100 - 6) * 16);
}

TEST_F(SdrTest, ReservationIdsAreNonZeroAndIncrease) {
  const uint16_t a = reserve();
  const uint16_t b = reserve();
  EXPECT_NE(a, 0);
  EXPECT_EQ(b, static_cast<uint16_t>(a + 1));
  // 65535 more reservations wrap around without ever handing out 0.
  uint16_t last = b;
  for (int i = 0; i < 65535; ++i) {
    last = reserve();
    ASSERT_NE(last, 0) << i;
  }
  EXPECT_EQ(last, b) << "the counter skips 0 on its way round";
}

// ---- Get SDR ---------------------------------------------------------------------------------------

TEST_F(SdrTest, ChainFromRecordZeroToFFFF) {
  const auto records = generated();
  auto chain = walk();
  ASSERT_EQ(chain.size(), 3u);
  for (size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ(chain[i].first, i + 1);
    EXPECT_EQ(chain[i].second, withId(records[i], static_cast<uint16_t>(i + 1)));
  }
  // Explicit IDs: next record IDs 2, 3, then FFFFh after the last; FFFFh reads the last record.
  EXPECT_EQ(getSdr(0, 1, 0, 5), ok(cat({le16(2), {0x01, 0x00, 0x51, 0x12, 0x11}})));
  EXPECT_EQ(getSdr(0, 2, 0, 5).data[0], 3);
  EXPECT_EQ(getSdr(0, 3, 0, 5).data, cat({le16(0xFFFF), {0x03, 0x00, 0x51, 0x11, 0x10}}));
  EXPECT_EQ(getSdr(0, 0xFFFF, 0, 5), getSdr(0, 3, 0, 5));
}

TEST_F(SdrTest, PartialReadsAtEveryOffsetAndCount) {
  const auto records = generated();
  const uint16_t res = reserve();
  for (size_t i = 0; i < records.size(); ++i) {
    const Bytes record = withId(records[i], static_cast<uint16_t>(i + 1));
    const uint16_t next = i + 1 < records.size() ? static_cast<uint16_t>(i + 2) : 0xFFFF;
    for (size_t offset = 0; offset < record.size(); ++offset) {
      for (size_t count = 1; count <= record.size() - offset; ++count) {
        Bytes expected = le16(next);
        expected.insert(expected.end(), record.begin() + offset, record.begin() + offset + count);
        ASSERT_EQ(getSdr(res, static_cast<uint16_t>(i + 1), static_cast<uint8_t>(offset), static_cast<uint8_t>(count)),
                  ok(expected))
            << "record " << i + 1 << " offset " << offset << " count " << count;
      }
      // FFh and any count past the end read to the end.
      Bytes rest = le16(next);
      rest.insert(rest.end(), record.begin() + offset, record.end());
      ASSERT_EQ(getSdr(res, static_cast<uint16_t>(i + 1), static_cast<uint8_t>(offset), 0xFF), ok(rest));
      ASSERT_EQ(getSdr(res, static_cast<uint16_t>(i + 1), static_cast<uint8_t>(offset), 0xFE), ok(rest));
    }
    EXPECT_EQ(getSdr(res, static_cast<uint16_t>(i + 1), static_cast<uint8_t>(record.size()), 1),
              err(Cc::parameterOutOfRange));
  }
}

TEST_F(SdrTest, CountsThatDoNotFitAReplyGetCA) {
  SdrConfig c;
  c.maxReadCount = 16;
  start(c);
  const uint16_t res = reserve();
  EXPECT_EQ(getSdr(res, 1, 0, 17), err(Cc::cannotReturnRequestedBytes));
  EXPECT_EQ(getSdr(res, 1, 0, 0xFF), err(Cc::cannotReturnRequestedBytes)) << "22 bytes left";
  EXPECT_EQ(getSdr(res, 1, 0, 16).data.size(), 18u);
  EXPECT_EQ(getSdr(res, 1, 16, 0xFF).data.size(), 2u + 6u) << "the rest fits";
  EXPECT_EQ(getSdr(res, 1, 6, 0xFF).data.size(), 2u + 16u);
  EXPECT_EQ(getSdr(res, 1, 5, 0xFF), err(Cc::cannotReturnRequestedBytes));

  // The default limit: a reply fits an IPMI 1.5 LAN message; a 260-byte record needs two reads.
  start();
  const uint16_t r2 = reserve();
  ASSERT_EQ(storage(kAddSdr, oemRecord(255)).cc, Cc::ok);
  EXPECT_EQ(getSdr(r2 + 1, 4, 0, 0xFF), err(Cc::cannotReturnRequestedBytes));
  const uint16_t r3 = reserve();
  Resp head = getSdr(r3, 4, 0, 245);
  ASSERT_EQ(head.cc, Cc::ok);
  EXPECT_EQ(head.data.size(), 247u);
  Resp tail = getSdr(r3, 4, 245, 0xFF);
  ASSERT_EQ(tail.cc, Cc::ok);
  Bytes whole(head.data.begin() + 2, head.data.end());
  whole.insert(whole.end(), tail.data.begin() + 2, tail.data.end());
  EXPECT_EQ(whole, withId(oemRecord(255), 4));
}

TEST_F(SdrTest, ContinuingReadsNeedTheCurrentReservation) {
  const uint16_t res = reserve();
  EXPECT_EQ(getSdr(res, 1, 5, 4).cc, Cc::ok);
  EXPECT_EQ(getSdr(0, 1, 5, 4), err(Cc::reservationCanceled)) << "0000h is no reservation";
  EXPECT_EQ(getSdr(static_cast<uint16_t>(res + 7), 1, 5, 4), err(Cc::reservationCanceled));
  const uint16_t newer = reserve();
  EXPECT_EQ(getSdr(res, 1, 5, 4), err(Cc::reservationCanceled)) << "a new reservation cancels the old one";
  EXPECT_EQ(getSdr(newer, 1, 5, 4).cc, Cc::ok);
  // Offset 0 reads need no reservation at all (§33.12).
  EXPECT_EQ(getSdr(res, 1, 0, 5).cc, Cc::ok);
  EXPECT_EQ(getSdr(0xBEEF, 1, 0, 0xFF).cc, Cc::ok);
}

TEST_F(SdrTest, MissingRecordsAreCB) {
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), err(Cc::notPresent));
  EXPECT_EQ(getSdr(0, 0xFFFE, 0, 0xFF), err(Cc::notPresent));
  start({}, {});
  EXPECT_EQ(getSdr(0, 0, 0, 0xFF), err(Cc::notPresent)) << "an empty repository has no first record";
  EXPECT_EQ(getSdr(0, 0xFFFF, 0, 0xFF), err(Cc::notPresent));
}

TEST_F(SdrTest, StrictRequestLengthsAndFields) {
  const uint16_t res = reserve();
  // One byte short and one byte long: C7h.
  EXPECT_EQ(storage(kGetSdr, cat({le16(res), le16(1), {0}})), err(Cc::invalidLength));
  EXPECT_EQ(storage(kGetSdr, cat({le16(res), le16(1), {0, 5, 0}})), err(Cc::invalidLength));
  EXPECT_EQ(storage(kGetInfo, {0}), err(Cc::invalidLength));
  EXPECT_EQ(storage(kGetAllocationInfo, {0}), err(Cc::invalidLength));
  EXPECT_EQ(storage(kReserve, {0}), err(Cc::invalidLength));
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(res), {1}})), err(Cc::invalidLength));
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(res), le16(1), {0}})), err(Cc::invalidLength));
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'R'}})), err(Cc::invalidLength));
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'R', 0xAA, 0}})), err(Cc::invalidLength));
  EXPECT_EQ(storage(kAddSdr, {0, 0, 0x51, 0xC0}), err(Cc::invalidLength)) << "shorter than a header";
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(0), {0}})), err(Cc::invalidLength));
  EXPECT_EQ(storage(kGetTime, {0}), err(Cc::invalidLength));
  EXPECT_EQ(storage(kSetTime, {1, 2, 3}), err(Cc::invalidLength));
  EXPECT_EQ(storage(kSetTime, {1, 2, 3, 4, 5}), err(Cc::invalidLength));
  EXPECT_EQ(storage(kEnterUpdate, {0}), err(Cc::invalidLength));
  EXPECT_EQ(storage(kRunInitAgent, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo, {1, 0}), err(Cc::invalidLength));
  EXPECT_EQ(call(kSensor, kGetDeviceSdr, cat({le16(0), le16(1), {0}})), err(Cc::invalidLength));
  EXPECT_EQ(call(kSensor, kReserveDevice, {0}), err(Cc::invalidLength));
  // Invalid field values: CCh.
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'X', 0xAA}})), err(Cc::invalidField));
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'R', 0x55}})), err(Cc::invalidField));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(0), {0, 0x02}, oemRecord(2)})), err(Cc::invalidField));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(0), {0, 0x10}, oemRecord(2)})), err(Cc::invalidField));
  EXPECT_EQ(storage(kRunInitAgent, {0x02}), err(Cc::invalidField));
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo, {0x02}), err(Cc::invalidField));
  EXPECT_EQ(storage(kGetInfo).data[1], 3) << "nothing changed";
}

// ---- Writes ----------------------------------------------------------------------------------------

TEST_F(SdrTest, AddSdrStoresTheRecordCancelsTheReservationAndStampsTheTime) {
  const uint16_t res = reserve();
  clock.advance(std::chrono::seconds(100));
  const uint32_t now = static_cast<uint32_t>(clock.unixSeconds());
  EXPECT_EQ(storage(kAddSdr, withId(oemRecord(20, 7), 0x1234)), ok(le16(4)));
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), ok(cat({le16(0xFFFF), withId(oemRecord(20, 7), 4)})));
  EXPECT_EQ(getSdr(0, 3, 0, 2), ok(cat({le16(4), {0x03, 0x00}}))) << "the new record joins the chain";
  EXPECT_EQ(getSdr(res, 1, 5, 1), err(Cc::reservationCanceled));
  Resp info = storage(kGetInfo);
  EXPECT_EQ(Bytes(info.data.begin() + 1, info.data.begin() + 3), le16(4));
  EXPECT_EQ(Bytes(info.data.begin() + 5, info.data.begin() + 9), le32(now));
  EXPECT_EQ(storage(kAddSdr, cat({oemRecord(20), {0xEE}})), err(kLengthMismatch));
  const Bytes full = oemRecord(20);
  EXPECT_EQ(storage(kAddSdr, Bytes(full.begin(), full.end() - 1)), err(kLengthMismatch));
  EXPECT_EQ(walk().size(), 4u);
}

TEST_F(SdrTest, PartialAddCompletesWithTheLastFragment) {
  const Bytes record = oemRecord(40, 0x30);
  uint16_t res = reserve();
  // Header first, as ipmitool does: the reply names the record being built.
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(0), {0, 0}, Bytes(record.begin(), record.begin() + 5)})),
            ok(le16(4)));
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), err(Cc::notPresent)) << "not visible before it is complete";
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(4), {5, 0}, Bytes(record.begin() + 5, record.begin() + 24)})),
            ok(le16(4)));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(4), {24, 1}, Bytes(record.begin() + 24, record.end())})),
            ok(le16(4)));
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), ok(cat({le16(0xFFFF), withId(record, 4)})));
  EXPECT_EQ(getSdr(res, 4, 1, 1), err(Cc::reservationCanceled)) << "the completed add changed the repository";

  // One fragment carrying the whole record.
  res = reserve();
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(0), {0, 1}, oemRecord(3)})), ok(le16(5)));
  EXPECT_EQ(getSdr(0, 5, 0, 0xFF).data, cat({le16(0xFFFF), withId(oemRecord(3), 5)}));
}

TEST_F(SdrTest, PartialAddRejectsGapsStaleReservationsAndLengthMismatches) {
  const Bytes record = oemRecord(10);
  uint16_t res = reserve();
  auto first = [&](uint16_t r) {
    return storage(kPartialAdd, cat({le16(r), le16(0), {0, 0}, Bytes(record.begin(), record.begin() + 5)}));
  };
  EXPECT_EQ(first(static_cast<uint16_t>(res + 1)), err(Cc::reservationCanceled));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(0), {3, 0}, {1, 2}})), err(Cc::invalidField))
      << "a new record starts at offset 0";
  ASSERT_EQ(first(res), ok(le16(4)));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(9), {5, 1}, Bytes(record.begin() + 5, record.end())})),
            err(Cc::notPresent))
      << "no partial add in progress for that record";
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(4), {6, 1}, Bytes(record.begin() + 6, record.end())})),
            err(Cc::invalidField))
      << "a gap";
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(4), {5, 1}, Bytes(record.begin() + 5, record.end())})),
            err(Cc::notPresent))
      << "the gap abandoned the record";

  // More bytes than the header announced, or fewer at the end: 80h.
  ASSERT_EQ(first(res), ok(le16(4)));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(4), {5, 0}, Bytes(11, 0)})), err(kLengthMismatch));
  ASSERT_EQ(first(res), ok(le16(4)));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(4), {5, 1}, Bytes(9, 0)})), err(kLengthMismatch));
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(0), {0, 1}, {0, 0, 0x51}})), err(kLengthMismatch))
      << "ends before the header is complete";

  // A new reservation abandons a record in progress.
  ASSERT_EQ(first(res), ok(le16(4)));
  res = reserve();
  EXPECT_EQ(storage(kPartialAdd, cat({le16(res), le16(4), {5, 1}, Bytes(record.begin() + 5, record.end())})),
            err(Cc::notPresent));
  EXPECT_EQ(walk().size(), 3u) << "nothing was added";
}

TEST_F(SdrTest, DeleteNeedsAReservationAndStampsTheEraseTime) {
  uint16_t res = reserve();
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(static_cast<uint16_t>(res + 1)), le16(2)})), err(Cc::reservationCanceled));
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(res), le16(9)})), err(Cc::notPresent));
  clock.advance(std::chrono::seconds(50));
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(res), le16(2)})), ok(le16(2)));
  EXPECT_EQ(getSdr(0, 1, 0, 2).data, cat({le16(3), {0x01, 0x00}})) << "the chain skips the deleted record";
  EXPECT_EQ(getSdr(0, 2, 0, 0xFF), err(Cc::notPresent));
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(res), le16(1)})), err(Cc::reservationCanceled))
      << "the delete cancelled the reservation";
  Resp info = storage(kGetInfo);
  EXPECT_EQ(Bytes(info.data.begin() + 9, info.data.begin() + 13), le32(static_cast<uint32_t>(clock.unixSeconds())));
  res = reserve();
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(res), le16(0xFFFF)})), ok(le16(3))) << "FFFFh: the last record";
  res = reserve();
  EXPECT_EQ(storage(kDeleteSdr, cat({le16(res), le16(0)})), ok(le16(1))) << "0000h: the first record";
  EXPECT_EQ(storage(kGetInfo).data[1], 0);
}

TEST_F(SdrTest, ClearEmptiesTheRepositoryAndReportsCompletion) {
  const uint16_t res = reserve();
  EXPECT_EQ(storage(kClear, cat({le16(static_cast<uint16_t>(res + 1)), {'C', 'L', 'R', 0xAA}})),
            err(Cc::reservationCanceled));
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'R', 0xAA}})), ok({0x01}));
  EXPECT_EQ(storage(kGetInfo).data[1], 0);
  EXPECT_EQ(getSdr(0, 0, 0, 0xFF), err(Cc::notPresent));
  // ipmitool polls the erase status with the reservation it cleared with.
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'R', 0x00}})), ok({0x01}));
  EXPECT_EQ(storage(kClear, cat({le16(0x4242), {'C', 'L', 'R', 0x00}})), err(Cc::reservationCanceled));
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'R', 0xAA}})), err(Cc::reservationCanceled))
      << "the erase cancelled the reservation";
  // The device SDRs are the controller's own: a cleared repository can be rebuilt from them.
  EXPECT_EQ(walk(kSensor).size(), 3u);
  // New records get IDs after the generated range.
  EXPECT_EQ(storage(kAddSdr, oemRecord(4)), ok(le16(4)));
}

TEST_F(SdrTest, FullRepositoryIsC4WithTheOverflowFlag) {
  SdrConfig c;
  c.units = 20;  // the generated records use 6
  start(c);
  EXPECT_EQ(storage(kAddSdr, oemRecord(250)), err(Cc::outOfSpace)) << "255 bytes: 16 units";
  EXPECT_EQ(storage(kGetInfo).data[13], 0xEF) << "overflow flag, bit 7";
  EXPECT_EQ(storage(kAddSdr, oemRecord(100)), ok(le16(4))) << "105 bytes: 7 units fit";
  const uint16_t res = reserve();
  EXPECT_EQ(storage(kClear, cat({le16(res), {'C', 'L', 'R', 0xAA}})), ok({0x01}));
  EXPECT_EQ(storage(kGetInfo).data[13], 0x6F);
}

TEST_F(SdrTest, RecordsAddedOverIpmiSurviveARestart) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  SdrConfig c;
  c.path = dir.file("sdr.db");
  start(c);
  ASSERT_EQ(storage(kAddSdr, oemRecord(30, 1)), ok(le16(4)));
  const uint16_t res = reserve();
  ASSERT_EQ(storage(kDeleteSdr, cat({le16(res), le16(2)})), ok(le16(2)));
  const Resp infoBefore = storage(kGetInfo);
  clock.advance(std::chrono::hours(1));
  start(c);  // same generated records: the repository is as the client left it
  auto chain = walk();
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].first, 1);
  EXPECT_EQ(chain[1].first, 3);
  EXPECT_EQ(chain[2], std::make_pair(uint16_t{4}, withId(oemRecord(30, 1), 4)));
  EXPECT_EQ(storage(kGetInfo), infoBefore) << "same count, space and timestamps: FreeIPMI's SDR cache stays valid";

  // A config with another FRU device: generated records are replaced, the user record stays.
  auto more = generated();
  more.push_back(fruLocatorRecord(testFru(4, "PSU 2")));
  start(c, more);
  chain = walk();
  ASSERT_EQ(chain.size(), 5u);
  EXPECT_EQ(chain[3].second, withId(more[3], 4));
  EXPECT_EQ(chain[4], std::make_pair(uint16_t{5}, withId(oemRecord(30, 1), 5))) << "moved out of the generated range";
}

TEST_F(SdrTest, RepositoryTime) {
  EXPECT_EQ(storage(kGetTime), ok(le32(static_cast<uint32_t>(clock.unixSeconds()))));
  EXPECT_EQ(storage(kSetTime, le32(0x12345678)), ok());
  EXPECT_EQ(storage(kGetTime), ok(le32(0x12345678)));
  clock.advance(std::chrono::seconds(10));
  EXPECT_EQ(storage(kGetTime), ok(le32(0x12345682)));
  EXPECT_EQ(sdr->now(), 0x12345682u);
  // Timestamps use the repository clock.
  ASSERT_EQ(storage(kAddSdr, oemRecord(1)).cc, Cc::ok);
  const Bytes info = storage(kGetInfo).data;
  EXPECT_EQ(Bytes(info.begin() + 5, info.begin() + 9), le32(0x12345682));
}

TEST_F(SdrTest, UpdateModeAndInitializationAgent) {
  EXPECT_EQ(storage(kEnterUpdate), ok());
  EXPECT_EQ(storage(kAddSdr, oemRecord(2)), ok(le16(4))) << "writes work in update mode";
  EXPECT_EQ(storage(kExitUpdate), ok());
  EXPECT_EQ(storage(kRunInitAgent, {0x01}), ok({0x01}));
  EXPECT_EQ(storage(kRunInitAgent, {0x00}), ok({0x01}));
}

TEST_F(SdrTest, PrivilegesFollowAppendixG) {
  const std::vector<std::tuple<uint8_t, uint8_t, Privilege>> table = {
      {kStorage, kGetInfo, Privilege::user},          {kStorage, kGetAllocationInfo, Privilege::user},
      {kStorage, kReserve, Privilege::user},          {kStorage, kGetSdr, Privilege::user},
      {kStorage, kAddSdr, Privilege::operator_},      {kStorage, kPartialAdd, Privilege::operator_},
      {kStorage, kDeleteSdr, Privilege::operator_},   {kStorage, kClear, Privilege::operator_},
      {kStorage, kGetTime, Privilege::user},          {kStorage, kSetTime, Privilege::operator_},
      {kStorage, kEnterUpdate, Privilege::operator_}, {kStorage, kExitUpdate, Privilege::operator_},
      {kStorage, kRunInitAgent, Privilege::operator_}, {kSensor, kGetDeviceSdrInfo, Privilege::user},
      {kSensor, kGetDeviceSdr, Privilege::user},      {kSensor, kReserveDevice, Privilege::user},
  };
  for (auto [fn, cmd, p] : table) {
    EXPECT_EQ(reg->privilegeOf(fn, cmd), p) << "netfn " << int(fn) << " cmd " << int(cmd);
  }
  EXPECT_EQ(call(kStorage, kAddSdr, oemRecord(2), Privilege::user), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kStorage, kGetInfo, {}, Privilege::callback), err(Cc::insufficientPrivilege));
  EXPECT_EQ(call(kStorage, kGetInfo, {}, Privilege::user).cc, Cc::ok);
}

// ---- Device SDRs -------------------------------------------------------------------------------

TEST_F(SdrTest, DeviceSdrsAreTheGeneratedRecords) {
  auto records = generated();
  records.push_back(fullSensorRecord(1));
  records.push_back(compactSensorRecord(2, 3));
  start({}, records);
  // Sensor count: 1 full + a compact record shared by 3 sensors; SDR count: 5 records. Flags: dynamic
  // population (the records change at run time), sensors on LUN 0; then the change indicator, the
  // time the device SDRs were first served.
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo), ok(cat({{4, 0x81}, le32(now())})));
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo, {0x00}), ok(cat({{4, 0x81}, le32(now())})));
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo, {0x01}), ok(cat({{5, 0x81}, le32(now())})));
  auto chain = walk(kSensor);
  ASSERT_EQ(chain.size(), 5u);
  for (size_t i = 0; i < chain.size(); ++i) EXPECT_EQ(chain[i].second, withId(records[i], static_cast<uint16_t>(i + 1)));
  EXPECT_EQ(walk(kStorage), chain) << "an unmodified repository serves the same records";

  const uint16_t res = reserve(kSensor);
  EXPECT_EQ(getSdr(res, 4, 5, 3, kSensor), ok(cat({le16(5), {0x20, 0x00, 0x01}})));
  EXPECT_EQ(getSdr(static_cast<uint16_t>(res + 1), 4, 5, 3, kSensor), err(Cc::reservationCanceled));
  EXPECT_EQ(getSdr(0, 6, 0, 0xFF, kSensor), err(Cc::notPresent));
  EXPECT_EQ(getSdr(0, 0xFFFF, 0, 2, kSensor), ok(cat({le16(0xFFFF), {0x05, 0x00}})));
  // The repository's reservation is a different one.
  const uint16_t repo = reserve();
  EXPECT_EQ(getSdr(res, 4, 5, 3, kSensor).cc, Cc::ok);
  EXPECT_EQ(getSdr(repo, 4, 5, 3).cc, Cc::ok);
}

// ---- Thresholds set by clients (updateSensorRecords) ---------------------------------------------

// fullSensorRecord(number) with thresholds unr..lnc in bytes 37-42 and hysteresis in 43-44.
Bytes withThresholds(Bytes r, std::array<uint8_t, 8> values) {
  std::copy(values.begin(), values.end(), r.begin() + 36);
  return r;
}

TEST_F(SdrTest, NewThresholdsAreWrittenIntoEveryRecordOfThatSensor) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  SdrConfig c;
  c.path = dir.file("sdr.db");
  auto records = generated();
  const Bytes cpu = withThresholds(fullSensorRecord(1), {105, 95, 85, 0, 0, 0, 2, 2});
  records.push_back(cpu);                                            // ID 4
  records.push_back(withThresholds(fullSensorRecord(2), {9, 9, 9, 9, 9, 9, 9, 9}));  // ID 5
  start(c, records);
  // A client's own copy of sensor 1's record (as ipmitool's rebuild adds them), and a record of
  // another owner with the same number: only the first is the same sensor.
  ASSERT_EQ(storage(kAddSdr, cpu), ok(le16(6)));
  Bytes otherOwner = cpu;
  otherOwner[5] = 0x2C;
  ASSERT_EQ(storage(kAddSdr, otherOwner), ok(le16(7)));
  const uint16_t res = reserve();
  const uint16_t deviceRes = reserve(kSensor);
  const Resp before = storage(kGetInfo);
  clock.advance(std::chrono::seconds(30));

  const Bytes changed = withThresholds(fullSensorRecord(1), {105, 97, 85, 0, 0, 0, 3, 1});
  auto n = sdr->updateSensorRecords({changed, compactSensorRecord(1, 1)});
  ASSERT_TRUE(n.hasValue()) << n.error().message;
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), ok(cat({le16(5), withId(changed, 4)})));
  EXPECT_EQ(getSdr(0, 6, 0, 0xFF), ok(cat({le16(7), withId(changed, 6)})));
  EXPECT_EQ(getSdr(0, 7, 0, 0xFF), ok(cat({le16(0xFFFF), withId(otherOwner, 7)}))) << "another owner's sensor";
  EXPECT_EQ(getSdr(0, 5, 0, 0xFF), ok(cat({le16(6), withId(records[4], 5)})));
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF, kSensor), ok(cat({le16(5), withId(changed, 4)}))) << "the device SDRs too";
  // §33.9: the addition timestamp moves (SDR caches compare it), the erase timestamp does not.
  const Resp after = storage(kGetInfo);
  ASSERT_EQ(after.data.size(), 14u);
  EXPECT_EQ(Bytes(after.data.begin() + 5, after.data.begin() + 9),
            le32(static_cast<uint32_t>(clock.unixSeconds())));
  EXPECT_EQ(Bytes(after.data.begin() + 9, after.data.end()), Bytes(before.data.begin() + 9, before.data.end()));
  EXPECT_EQ(Bytes(after.data.begin(), after.data.begin() + 5), Bytes(before.data.begin(), before.data.begin() + 5));
  // A read in progress cannot continue on changed bytes.
  EXPECT_EQ(getSdr(res, 4, 5, 3), err(Cc::reservationCanceled));
  EXPECT_EQ(getSdr(deviceRes, 4, 5, 3, kSensor), err(Cc::reservationCanceled));

  // The same values again change nothing, not even the timestamp.
  clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(*sdr->updateSensorRecords({changed}), 0u);
  EXPECT_EQ(storage(kGetInfo), after);
  // A record a client deleted stays deleted.
  const uint16_t r2 = reserve();
  ASSERT_EQ(storage(kDeleteSdr, cat({le16(r2), le16(6)})), ok(le16(6)));
  EXPECT_EQ(*sdr->updateSensorRecords({cpu}), 1u);
  EXPECT_EQ(getSdr(0, 6, 0, 0xFF), err(Cc::notPresent));

  // After a restart with the same generated set, the repository is as it was left.
  start(c, records);
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), ok(cat({le16(5), withId(cpu, 4)})));
}

TEST_F(SdrTest, ThresholdUpdateOfAnUnknownSensorChangesNothing) {
  const Resp before = storage(kGetInfo);
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(*sdr->updateSensorRecords({fullSensorRecord(9)}), 0u);
  EXPECT_EQ(*sdr->updateSensorRecords({}), 0u);
  EXPECT_EQ(*sdr->updateSensorRecords({Bytes{0x00, 0x00, 0x51, 0x01}}), 0u) << "a truncated record is ignored";
  EXPECT_EQ(storage(kGetInfo), before);
}

TEST_F(SdrTest, DeviceSdrInfoWithoutSensors) {
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo), ok(cat({{0, 0x80}, le32(now())})));
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo, {0x01}), ok(cat({{3, 0x80}, le32(now())})));
}

// ---- Sensor types set by clients (updateSensorRecords) -------------------------------------------

// A sensor record with `type` and `reading` as its sensor type and event/reading type code: bytes
// 13-14 of a full or compact record (Tables 43-1, 43-2), 11-12 of an event-only one (Table 43-3).
Bytes withType(Bytes r, uint8_t type, uint8_t reading) {
  const size_t at = r[3] == 0x03 ? 10 : 12;
  r[at] = type;
  r[at + 1] = reading;
  return r;
}

// A minimal event-only record (§43.3).
Bytes eventOnlyRecord(uint8_t number) {
  Bytes r{0x00, 0x00, 0x51, 0x03, 17, 0x20, 0x00, number};
  r.resize(22, 0x00);
  return r;
}

TEST_F(SdrTest, NewSensorTypesAreWrittenIntoEveryRecordOfThatSensor) {
  auto records = generated();
  const Bytes cpu = withType(withThresholds(fullSensorRecord(1), {105, 95, 85, 0, 0, 0, 2, 2}), 0x01, 0x01);
  const Bytes presence = withType(compactSensorRecord(2, 1), 0x25, 0x08);
  const Bytes boot = withType(eventOnlyRecord(3), 0x1F, 0x6F);
  records.push_back(cpu);       // ID 4
  records.push_back(presence);  // ID 5
  records.push_back(boot);      // ID 6
  start({}, records);
  // A client's copy of the compact record, and a compact record with sensor 1's key: the same sensor
  // in another kind of record is not the record the sensor's change describes.
  ASSERT_EQ(storage(kAddSdr, presence), ok(le16(7)));
  const Bytes otherKind = withType(compactSensorRecord(1, 1), 0x01, 0x01);
  ASSERT_EQ(storage(kAddSdr, otherKind), ok(le16(8)));
  const uint32_t started = changeIndicator();
  EXPECT_EQ(started, now());
  const uint16_t res = reserve();
  const uint16_t deviceRes = reserve(kSensor);
  clock.advance(std::chrono::seconds(30));

  // Set Sensor Type (§35.15) on each: temperature -> voltage, presence -> a generic 08h, boot ->
  // system event 12h.
  const Bytes cpu2 = withType(cpu, 0x02, 0x01);
  const Bytes presence2 = withType(presence, 0x21, 0x03);
  const Bytes boot2 = withType(boot, 0x12, 0x6F);
  auto n = sdr->updateSensorRecords({cpu2, presence2, boot2});
  ASSERT_TRUE(n.hasValue()) << n.error().message;
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), ok(cat({le16(5), withId(cpu2, 4)}))) << "thresholds stay as they were";
  EXPECT_EQ(getSdr(0, 5, 0, 0xFF), ok(cat({le16(6), withId(presence2, 5)})));
  EXPECT_EQ(getSdr(0, 6, 0, 0xFF), ok(cat({le16(7), withId(boot2, 6)})));
  EXPECT_EQ(getSdr(0, 7, 0, 0xFF), ok(cat({le16(8), withId(presence2, 7)}))) << "the client's copy";
  EXPECT_EQ(getSdr(0, 8, 0, 0xFF), ok(cat({le16(0xFFFF), withId(otherKind, 8)}))) << "another kind of record";
  const auto device = walk(kSensor), repo = walk(kStorage);
  ASSERT_EQ(device.size(), 6u);
  ASSERT_EQ(repo.size(), 8u);
  EXPECT_EQ(device, decltype(repo)(repo.begin(), repo.begin() + 6))
      << "the device SDRs are the generated records, changed the same way";
  // §33.9: the addition timestamp moves; §35.2: so does the device SDRs' change indicator; the
  // reservations of both are cancelled (§33.11, §35.4).
  const Resp info = storage(kGetInfo);
  ASSERT_EQ(info.data.size(), 14u);
  EXPECT_EQ(Bytes(info.data.begin() + 5, info.data.begin() + 9), le32(now()));
  EXPECT_EQ(changeIndicator(), now());
  EXPECT_EQ(getSdr(res, 4, 5, 3), err(Cc::reservationCanceled));
  EXPECT_EQ(getSdr(deviceRes, 4, 5, 3, kSensor), err(Cc::reservationCanceled));

  // The same types again change nothing, not even a timestamp.
  const uint32_t changed = now();
  clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(*sdr->updateSensorRecords({cpu2, presence2, boot2}), 0u);
  EXPECT_EQ(storage(kGetInfo), info);
  EXPECT_EQ(changeIndicator(), changed);
  // Back to the old type: the records follow again.
  EXPECT_EQ(*sdr->updateSensorRecords({cpu}), 1u);
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF), ok(cat({le16(5), withId(cpu, 4)})));
  EXPECT_EQ(changeIndicator(), now());
}

TEST_F(SdrTest, DeviceSdrChangeIndicatorFollowsTheDeviceSdrsNotTheRepository) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  SdrConfig c;
  c.path = dir.file("sdr.db");
  auto records = generated();
  const Bytes cpu = withThresholds(fullSensorRecord(1), {105, 95, 85, 0, 0, 0, 2, 2});
  records.push_back(cpu);  // ID 4
  start(c, records);
  const uint32_t first = now();
  EXPECT_EQ(changeIndicator(), first);

  // Records added to or deleted from the repository are not the device's.
  clock.advance(std::chrono::seconds(10));
  ASSERT_EQ(storage(kAddSdr, oemRecord(4)), ok(le16(5)));
  const uint16_t res = reserve();
  ASSERT_EQ(storage(kDeleteSdr, cat({le16(res), le16(4)})), ok(le16(4)));
  EXPECT_EQ(changeIndicator(), first);

  // The sensor's record is gone from the repository, but its device SDR still changes: the indicator
  // moves although no repository record did.
  clock.advance(std::chrono::seconds(10));
  const Bytes cpu2 = withThresholds(cpu, {105, 92, 85, 0, 0, 0, 2, 2});
  EXPECT_EQ(*sdr->updateSensorRecords({cpu2}), 0u);
  const uint32_t second = now();
  EXPECT_EQ(changeIndicator(), second);
  EXPECT_EQ(getSdr(0, 4, 0, 0xFF, kSensor), ok(cat({le16(0xFFFF), withId(cpu2, 4)})));

  // A restart that serves the same device SDRs (the config's records, then the values clients set)
  // leaves the indicator alone, whatever the clock says.
  clock.advance(std::chrono::seconds(10));
  start(c, records, {cpu2});
  EXPECT_EQ(changeIndicator(), second);
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo, {0x01}), ok(cat({{4, 0x81}, le32(second)})));
  // One that serves other records (the client's values lost, a changed config) moves it, and never
  // backwards, even with the repository clock set back.
  clock.advance(std::chrono::seconds(10));
  start(c, records);
  const uint32_t third = now();
  EXPECT_EQ(changeIndicator(), third);
  const Resp back = storage(kSetTime, le32(third - 3600));
  ASSERT_EQ(back.cc, Cc::ok);
  auto more = records;
  more.push_back(fullSensorRecord(2));
  start(c, more);
  EXPECT_EQ(changeIndicator(), third + 1);
  EXPECT_EQ(call(kSensor, kGetDeviceSdrInfo), ok(cat({{2, 0x81}, le32(third + 1)})));
}

TEST_F(SdrTest, ThousandRecordsWalkInOrder) {
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(storage(kAddSdr, oemRecord(43, static_cast<uint8_t>(i))).cc, Cc::ok) << i;
  auto chain = walk();
  ASSERT_EQ(chain.size(), 1003u);
  for (size_t i = 0; i < chain.size(); ++i) ASSERT_EQ(chain[i].first, i + 1);
  EXPECT_EQ(chain[500].second, withId(oemRecord(43, static_cast<uint8_t>(497)), 501));
  Resp info = storage(kGetInfo);
  EXPECT_EQ(Bytes(info.data.begin() + 1, info.data.begin() + 3), le16(1003));
  // 3 generated records of 2 units and 1000 of 3: (8192 - 3006) * 16 = 82976 > FFFEh.
  EXPECT_EQ(Bytes(info.data.begin() + 3, info.data.begin() + 5), le16(0xFFFE));
  EXPECT_EQ(storage(kGetAllocationInfo).data, cat({le16(8192), le16(16), le16(8192 - 3006), le16(8192 - 3006), {17}}));
}

TEST_F(SdrTest, MalformedGeneratedRecordsFailStart) {
  SdrService other(clock, {});
  auto r = other.start({Bytes{0, 0, 0x51, 0x01, 10, 1, 2}});
  ASSERT_FALSE(r.hasValue());
  EXPECT_NE(r.error().message.find("generated SDR #1"), std::string::npos) << r.error().message;
}

TEST_F(SdrTest, CorruptDatabaseFailsStartWithAClearMessage) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("sdr.db");
  storage::testing::writeFile(path, Bytes(8192, 0x33));
  SdrConfig c;
  c.path = path;
  SdrService other(clock, c);
  auto r = other.start(generated());
  ASSERT_FALSE(r.hasValue());
  EXPECT_EQ(r.error().kind, Error::Kind::corrupt);
  EXPECT_NE(r.error().message.find("move " + path + " aside"), std::string::npos) << r.error().message;
}

// ---- In a whole Bmc --------------------------------------------------------------------------------

class IdleHost final : public HostControl {
 public:
  bool powerOn() const override { return true; }
  Cc request(ChassisAction, RestartCause) override { return Cc::ok; }
  RestartCause lastRestartCause() const override { return RestartCause::unknown; }
  bool lastPowerOnViaIpmi() const override { return false; }
  uint64_t powerOnSeconds() const override { return 0; }
  void addListener(Listener) override {}
};

// A threshold sensor, number 5, "CPU Temp", degrees C over 0..127, reading a static 40.
sensors::SensorConfig cpuTempSensor() {
  sensors::SensorConfig temp;
  temp.number = 5;
  temp.name = "CPU Temp";
  temp.baseUnit = 1;
  temp.rangeMin = 0;
  temp.rangeMax = 127;
  temp.source.kind = sensors::SourceConfig::Kind::staticValue;
  temp.source.value = 40;
  return temp;
}

TEST(SdrInBmcTest, GeneratedRecordsDescribeThisController) {
  FakeClock clock;
  TimerQueue timers{clock};
  IdleHost host;
  BmcConfig c;
  c.identity.systemName = "rack1-node07";
  FruConfig fru0;
  fru0.id = 0;
  fru0.name = "Builtin FRU";
  fru0.contents.board = FruBoardInfo{};
  FruConfig fru2 = fru0;
  fru2.id = 2;
  fru2.name = "PSU 1";
  c.fru = {fru2, fru0};
  c.sensors = {cpuTempSensor()};
  Bmc bmc(c, clock, timers, host, nullptr);
  auto started = bmc.start();
  ASSERT_TRUE(started.hasValue()) << started.error().message;

  net::RequestContext ctx;
  ctx.privilege = Privilege::user;
  ctx.sessionId = 7;
  auto id = bmc.registry().dispatch(ctx, net::IpmiRequest{netfn::app, 0, 0x01, {}});
  ASSERT_TRUE(id && id->cc == Cc::ok && id->data.size() == 15);
  EXPECT_EQ(id->data[1] & 0x80, 0x80) << "Get Device ID: provides device SDRs";
  EXPECT_EQ(id->data[5] & 0x02, 0x02) << "Get Device ID: SDR repository device";
  EXPECT_EQ(id->data[5] & 0x08, 0x08) << "Get Device ID: FRU inventory device";

  const auto& device = bmc.sdr().deviceSdrs();
  ASSERT_EQ(device.size(), 6u) << "MC locator, two FRU locators, one sensor, the Power Unit, the watchdog";
  McLocator mc;
  mc.capabilities = id->data[5];
  mc.name = "rack1-node07";
  EXPECT_EQ(device[0], withId(mcLocatorRecord(mc), 1)) << "capabilities are exactly Get Device ID byte 6";
  FruLocator f0 = testFru(0, "Builtin FRU");
  FruLocator f2 = testFru(2, "PSU 1");
  f2.entityInstance = 3;
  EXPECT_EQ(device[1], withId(fruLocatorRecord(f0), 2)) << "FRU devices in ID order";
  EXPECT_EQ(device[2], withId(fruLocatorRecord(f2), 3));
  ASSERT_GE(device[3].size(), 8u);
  EXPECT_EQ(device[3][3], 0x01) << "a full sensor record";
  EXPECT_EQ(device[3][7], 5) << "sensor number";
  EXPECT_EQ(device[3][0], 4);
  EXPECT_EQ(device[4][3], 0x02) << "the BMC's Power Unit: a compact sensor record";
  EXPECT_EQ(device[4][7], PowerUnitConfig::kDefaultNumber);
  EXPECT_EQ(device[4][12], 0x09);
  EXPECT_EQ(device[5][3], 0x02) << "the BMC's watchdog: a compact sensor record";
  EXPECT_EQ(device[5][7], 0x81);
  EXPECT_EQ(device[5][12], 0x23);
  // The repository starts as the device SDRs.
  EXPECT_EQ(bmc.sdr().store().count(), 6);
  for (uint16_t i = 1; i <= 6; ++i) {
    auto r = bmc.sdr().store().get(i);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(**r, device[i - 1u]);
  }
}

// Set Sensor Type (§35.15) through a whole Bmc: the sensor's record in the repository and the device
// SDRs change before the reply, the repository's addition timestamp and the device SDRs' change
// indicator move, and a restart keeps all of it (no reinstall of the configured records).
TEST(SdrInBmcTest, SetSensorTypeReachesTheRecordsAtOnceAndSurvivesARestart) {
  storage::testing::TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::array<uint8_t, 32> key{};
  key.fill(0x3C);
  auto store = storage::StateStore::open(dir.file("state.db"), storage::SecretBox(key));
  ASSERT_TRUE(store.hasValue()) << store.error().message;
  FakeClock clock;
  TimerQueue timers{clock};
  IdleHost host;
  BmcConfig c;
  c.sdr.path = dir.file("sdr.db");
  c.sensors = {cpuTempSensor()};

  auto call = [](Bmc& bmc, uint8_t netfn, uint8_t cmd, Bytes data) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = Privilege::operator_;
    ctx.sessionId = 7;
    ctx.userId = 2;
    auto r = bmc.registry().dispatch(ctx, net::IpmiRequest{netfn, 0, cmd, std::move(data)});
    EXPECT_TRUE(r.has_value());
    return r ? Resp{r->cc, r->data} : err(Cc::unspecified);
  };
  // The sensor's full record in the repository, and its place among the device SDRs.
  auto record = [](Bmc& bmc) {
    Bytes out;
    EXPECT_TRUE(bmc.sdr().store().forEach([&](uint16_t, const Bytes& r) {
      if (r[3] == 0x01 && r[7] == 5) out = r;
      return out.empty();
    }));
    return out;
  };
  auto device = [](Bmc& bmc) {
    for (const Bytes& r : bmc.sdr().deviceSdrs()) {
      if (r[3] == 0x01 && r[7] == 5) return r;
    }
    return Bytes{};
  };
  // Get Device SDR Info without the sensor count: the flags and the change indicator.
  auto indicator = [&](Bmc& bmc) {
    const Resp r = call(bmc, kSensor, kGetDeviceSdrInfo, {});
    EXPECT_EQ(r.data.size(), 6u);
    return r.data.size() == 6 ? Bytes(r.data.begin() + 1, r.data.end()) : Bytes{};
  };

  Bytes before, after;
  uint32_t addition = 0;
  uint16_t remaining = 0;
  Bytes info;
  {
    Bmc bmc(c, clock, timers, host, store->get());
    ASSERT_TRUE(bmc.start().hasValue());
    before = record(bmc);
    ASSERT_GE(before.size(), 14u);
    ASSERT_EQ(before[7], 5);
    EXPECT_EQ((Bytes{before[12], before[13]}), (Bytes{0x01, 0x01}));
    EXPECT_EQ(indicator(bmc), cat({{0x81}, le32(static_cast<uint32_t>(clock.unixSeconds()))}));
    const uint16_t count = bmc.sdr().store().count();
    // A record the client deletes stays deleted: a reinstall of the generated set would bring it back.
    const Resp res = call(bmc, kStorage, kReserve, {});
    ASSERT_EQ(call(bmc, kStorage, kDeleteSdr, cat({res.data, le16(1)})), ok(le16(1)));

    clock.advance(std::chrono::seconds(20));
    EXPECT_EQ(call(bmc, kSensor, 0x2E, {5, 0x02, 0x01}), ok());
    EXPECT_EQ(call(bmc, kSensor, 0x2F, {5}), ok({0x02, 0x01}));
    after = record(bmc);
    Bytes expected = before;
    expected[12] = 0x02;
    EXPECT_EQ(after, expected);
    EXPECT_EQ(device(bmc), after) << "the device SDR too";
    addition = bmc.sdr().store().lastAddition();
    EXPECT_EQ(addition, static_cast<uint32_t>(clock.unixSeconds()));
    info = indicator(bmc);
    EXPECT_EQ(info, cat({{0x81}, le32(addition)}));
    EXPECT_EQ(bmc.sdr().store().count(), count - 1);
    remaining = count - 1;
  }
  clock.advance(std::chrono::seconds(20));
  {
    Bmc bmc(c, clock, timers, host, store->get());
    ASSERT_TRUE(bmc.start().hasValue());
    EXPECT_EQ(call(bmc, kSensor, 0x2F, {5}), ok({0x02, 0x01}));
    EXPECT_EQ(record(bmc), after);
    EXPECT_EQ(device(bmc), after);
    EXPECT_EQ(bmc.sdr().store().count(), remaining) << "the deleted record stays deleted";
    EXPECT_EQ(bmc.sdr().store().lastAddition(), addition);
    EXPECT_EQ(indicator(bmc), info);
    // Back to the configured type: the record follows again.
    EXPECT_EQ(call(bmc, kSensor, 0x2E, {5, 0x01, 0x01}), ok());
    EXPECT_EQ(record(bmc), before);
    EXPECT_EQ(indicator(bmc), cat({{0x81}, le32(static_cast<uint32_t>(clock.unixSeconds()))}));
  }
}

}  // namespace
}  // namespace simbmc::bmc
