// FruService through the CommandRegistry, as a client sees it: exact reply layouts of Get FRU
// Inventory Area Info / Read FRU Data / Write FRU Data (IPMI v2.0 §34), completion codes (C7h, C8h,
// C9h, CAh, CBh, CCh, D4h), persistence of writes through a StateStore reopened from its file, and raw
// image files.
#include "bmc/storage/fru.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
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

using storage::testing::TempDir;
using storage::testing::readFile;
using storage::testing::writeFile;

constexpr uint8_t kStorage = 0x0A;
constexpr uint8_t kGetInfo = 0x10;
constexpr uint8_t kRead = 0x11;
constexpr uint8_t kWrite = 0x12;

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

Resp ok(Bytes data) { return Resp{Cc::ok, std::move(data)}; }
Resp err(Cc cc) { return Resp{cc, {}}; }

std::array<uint8_t, 32> testKey() {
  std::array<uint8_t, 32> k{};
  k.fill(0x5A);
  return k;
}

std::unique_ptr<storage::StateStore> openStore(const std::string& path) {
  auto store = storage::StateStore::open(path, storage::SecretBox(testKey()));
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

FruConfig boardFru(uint8_t id, std::string serial) {
  FruConfig c;
  c.id = id;
  c.name = "Board " + std::to_string(id);
  FruBoardInfo b;
  b.manufacturer = "simbmc";
  b.product = "Test Board";
  b.serial = std::move(serial);
  c.contents.board = b;
  return c;
}

class FruServiceTest : public ::testing::Test {
 protected:
  void start(std::vector<FruConfig> config, storage::StateStore* store = nullptr) {
    registry = std::make_unique<CommandRegistry>();
    fru = std::make_unique<FruService>(std::move(config), store);
    auto loaded = fru->load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    fru->registerCommands(*registry);
  }

  Resp call(uint8_t cmd, Bytes data, Privilege privilege = Privilege::user) {
    net::RequestContext ctx;
    ctx.channel = 1;
    ctx.privilege = privilege;
    ctx.sessionId = 0x1234;
    ctx.userId = 2;
    ctx.ipmi20 = true;
    auto r = registry->dispatch(ctx, net::IpmiRequest{kStorage, 0, cmd, data});
    EXPECT_TRUE(r.has_value()) << "dropped";
    if (!r) return err(Cc::unspecified);
    if (r->cc != Cc::ok) {
      EXPECT_TRUE(r->data.empty()) << "an error reply carries data";
    }
    return Resp{r->cc, r->data};
  }

  const Bytes& image(uint8_t id) {
    const Bytes* img = fru->image(id);
    EXPECT_NE(img, nullptr);
    static const Bytes kNone;
    return img != nullptr ? *img : kNone;
  }

  // Reads the whole device the way ipmitool does (chunks, looping on the count returned).
  Bytes readAll(uint8_t id, uint8_t chunk) {
    const Resp info = call(kGetInfo, {id});
    EXPECT_EQ(info.cc, Cc::ok);
    const size_t size = info.data.at(0) | (info.data.at(1) << 8);
    Bytes out;
    for (size_t i = 0; out.size() < size && i < 70000; ++i) {
      const size_t off = out.size();
      const Resp r = call(kRead, {id, static_cast<uint8_t>(off), static_cast<uint8_t>(off >> 8), chunk});
      EXPECT_EQ(r.cc, Cc::ok) << "offset " << off;
      if (r.cc != Cc::ok || r.data.at(0) == 0) break;
      out.insert(out.end(), r.data.begin() + 1, r.data.end());
    }
    return out;
  }

  std::unique_ptr<CommandRegistry> registry;
  std::unique_ptr<FruService> fru;
};

// ---- Get FRU Inventory Area Info (§34.1) --------------------------------------------------------------

TEST_F(FruServiceTest, AreaInfoIsSizeLsFirstAndByteAccess) {
  start({boardFru(0, "SN0")});
  const size_t size = image(0).size();
  ASSERT_EQ(size % 8, 0u);
  EXPECT_EQ(call(kGetInfo, {0x00}), ok({static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8), 0x00}));
}

TEST_F(FruServiceTest, AreaInfoReportsTheConfiguredSize) {
  FruConfig c = boardFru(3, "SN3");
  c.size = 0x0201;
  start({c});
  EXPECT_EQ(call(kGetInfo, {0x03}), ok({0x01, 0x02, 0x00}));
  const Bytes built = *buildFruImage(c.contents);
  const Bytes& img = image(3);
  ASSERT_EQ(img.size(), 0x201u);
  EXPECT_TRUE(std::equal(built.begin(), built.end(), img.begin()));
  EXPECT_TRUE(std::all_of(img.begin() + built.size(), img.end(), [](uint8_t b) { return b == 0; })) << "00h pad";
}

TEST_F(FruServiceTest, UnknownDeviceIsNotPresent) {
  start({boardFru(0, "SN0")});
  EXPECT_EQ(call(kGetInfo, {0x01}), err(Cc::notPresent));
  EXPECT_EQ(call(kGetInfo, {0xFF}), err(Cc::notPresent));
  EXPECT_EQ(call(kRead, {0x01, 0x00, 0x00, 0x08}), err(Cc::notPresent));
  EXPECT_EQ(call(kWrite, {0x01, 0x00, 0x00, 0x01}, Privilege::operator_), err(Cc::notPresent));
}

TEST_F(FruServiceTest, NoDevicesAtAll) {
  start({});
  EXPECT_EQ(call(kGetInfo, {0x00}), err(Cc::notPresent));
  EXPECT_TRUE(fru->devices().empty());
}

TEST_F(FruServiceTest, StrictRequestLengths) {
  start({boardFru(0, "SN0")});
  EXPECT_EQ(call(kGetInfo, {}), err(Cc::invalidLength));
  EXPECT_EQ(call(kGetInfo, {0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00, 0x08, 0x00}), err(Cc::invalidLength));
  EXPECT_EQ(call(kWrite, {0x00, 0x00, 0x00}, Privilege::operator_), err(Cc::invalidLength)) << "no data byte";
  EXPECT_EQ(call(kWrite, {0x00, 0x00}, Privilege::operator_), err(Cc::invalidLength));
}

TEST_F(FruServiceTest, PrivilegesFromAppendixG) {
  start({boardFru(0, "SN0")});
  EXPECT_EQ(call(kGetInfo, {0x00}, Privilege::callback).cc, Cc::insufficientPrivilege);
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00, 0x01}, Privilege::callback).cc, Cc::insufficientPrivilege);
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00, 0x01}, Privilege::user).cc, Cc::ok);
  EXPECT_EQ(call(kWrite, {0x00, 0x00, 0x00, 0x01}, Privilege::user).cc, Cc::insufficientPrivilege);
  EXPECT_EQ(call(kWrite, {0x00, 0x00, 0x00, 0x01}, Privilege::operator_).cc, Cc::ok);
  EXPECT_EQ(registry->privilegeOf(kStorage, kGetInfo), Privilege::user);
  EXPECT_EQ(registry->privilegeOf(kStorage, kRead), Privilege::user);
  EXPECT_EQ(registry->privilegeOf(kStorage, kWrite), Privilege::operator_);
}

// ---- Read FRU Data (§34.2) --------------------------------------------------------------------------

TEST_F(FruServiceTest, ReadReturnsCountThenData) {
  start({boardFru(0, "SN0")});
  const Bytes& img = image(0);
  Bytes header{0x08};
  header.insert(header.end(), img.begin(), img.begin() + 8);
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00, 0x08}), ok(header));
  EXPECT_EQ(header[1], 0x01) << "common header format version";
  EXPECT_EQ(call(kRead, {0x00, 0x09, 0x00, 0x02}), ok({0x02, img[9], img[10]})) << "offset LS byte first";
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00, 0x00}), ok({0x00})) << "a zero count reads nothing";
}

TEST_F(FruServiceTest, ReadCrossingTheEndReturnsWhatIsThere) {
  start({boardFru(0, "SN0")});
  const Bytes& img = image(0);
  const size_t size = img.size();
  const uint16_t off = static_cast<uint16_t>(size - 3);
  EXPECT_EQ(call(kRead, {0x00, static_cast<uint8_t>(off), static_cast<uint8_t>(off >> 8), 0x10}),
            ok({0x03, img[size - 3], img[size - 2], img[size - 1]}));
}

TEST_F(FruServiceTest, ReadAtOrPastTheEndIsOutOfRange) {
  start({boardFru(0, "SN0")});
  const size_t size = image(0).size();
  EXPECT_EQ(call(kRead, {0x00, static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8), 0x01}),
            err(Cc::parameterOutOfRange));
  EXPECT_EQ(call(kRead, {0x00, 0xFF, 0xFF, 0x01}), err(Cc::parameterOutOfRange));
}

TEST_F(FruServiceTest, ReadLargerThanAReplyHoldsIsCannotReturn) {
  FruConfig c = boardFru(0, "SN0");
  c.size = 1024;
  start({c});
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00, 0xFF}), err(Cc::cannotReturnRequestedBytes));
  EXPECT_EQ(call(kRead, {0x00, 0x00, 0x00, 247}), err(Cc::cannotReturnRequestedBytes));
  const Resp r = call(kRead, {0x00, 0x00, 0x00, 246});
  ASSERT_EQ(r.cc, Cc::ok);
  EXPECT_EQ(r.data.size(), 247u);
  // Near the end only what exists counts: 10 bytes left, 255 asked.
  EXPECT_EQ(call(kRead, {0x00, 0xF6, 0x03, 0xFF}).data.at(0), 10);
}

TEST_F(FruServiceTest, ChunkedReadsReassembleTheImage) {
  FruConfig c = boardFru(0, "SN0");
  c.size = 700;
  start({c});
  for (uint8_t chunk : {1, 16, 32, 246}) EXPECT_EQ(readAll(0, chunk), image(0)) << "chunk " << int{chunk};
}

// ---- Write FRU Data (§34.3) -------------------------------------------------------------------------

TEST_F(FruServiceTest, WriteReturnsCountAndChangesTheImage) {
  start({boardFru(0, "SN0")});
  Bytes before = image(0);
  EXPECT_EQ(call(kWrite, {0x00, 0x10, 0x00, 0xAA, 0xBB, 0xCC}, Privilege::operator_), ok({0x03}));
  before[0x10] = 0xAA;
  before[0x11] = 0xBB;
  before[0x12] = 0xCC;
  EXPECT_EQ(image(0), before);
  EXPECT_EQ(call(kRead, {0x00, 0x10, 0x00, 0x03}), ok({0x03, 0xAA, 0xBB, 0xCC}));
}

TEST_F(FruServiceTest, WriteUpToTheLastByte) {
  start({boardFru(0, "SN0")});
  const size_t last = image(0).size() - 1;
  EXPECT_EQ(call(kWrite, {0x00, static_cast<uint8_t>(last), static_cast<uint8_t>(last >> 8), 0x42},
                 Privilege::operator_),
            ok({0x01}));
  EXPECT_EQ(image(0).back(), 0x42);
}

TEST_F(FruServiceTest, WritePastTheEndIsOutOfRangeAndChangesNothing) {
  start({boardFru(0, "SN0")});
  const Bytes before = image(0);
  const size_t size = before.size();
  const uint16_t off = static_cast<uint16_t>(size - 1);
  EXPECT_EQ(call(kWrite, {0x00, static_cast<uint8_t>(off), static_cast<uint8_t>(off >> 8), 0x01, 0x02},
                 Privilege::operator_),
            err(Cc::parameterOutOfRange));
  EXPECT_EQ(call(kWrite, {0x00, static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8), 0x01},
                 Privilege::operator_),
            err(Cc::parameterOutOfRange));
  EXPECT_EQ(image(0), before);
}

TEST_F(FruServiceTest, WriteOfMoreThanTheCountCanAcknowledgeIsLengthExceeded) {
  FruConfig c = boardFru(0, "SN0");
  c.size = 1024;
  start({c});
  Bytes req{0x00, 0x00, 0x01};
  req.resize(3 + 256, 0x11);
  EXPECT_EQ(call(kWrite, req, Privilege::operator_), err(Cc::lengthExceeded));
  req.resize(3 + 255);
  EXPECT_EQ(call(kWrite, req, Privilege::operator_), ok({0xFF}));
}

TEST_F(FruServiceTest, WritesPersistAcrossARestart) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string db = dir.file("state.db");
  Bytes expected;
  {
    auto store = openStore(db);
    start({boardFru(0, "SN0"), boardFru(7, "SN7")}, store.get());
    ASSERT_EQ(call(kWrite, {0x07, 0x00, 0x00, 0xEE}, Privilege::operator_), ok({0x01}));
    expected = image(7);
    fru.reset();
  }
  auto store = openStore(db);
  start({boardFru(0, "SN0"), boardFru(7, "SN7")}, store.get());
  EXPECT_EQ(image(7), expected);
  EXPECT_EQ(image(7)[0], 0xEE);
  EXPECT_EQ(image(0), *buildFruImage(boardFru(0, "SN0").contents)) << "device 0 was not written";
  auto saved = store->get("fru.7");
  ASSERT_TRUE(saved);
  ASSERT_TRUE(saved->has_value());
  EXPECT_EQ(**saved, expected) << "the store holds the full current image";
}

TEST_F(FruServiceTest, AChangedConfigurationWinsOverEarlierWrites) {
  TempDir dir;
  const std::string db = dir.file("state.db");
  {
    auto store = openStore(db);
    start({boardFru(0, "SN0")}, store.get());
    ASSERT_EQ(call(kWrite, {0x00, 0x08, 0x00, 0x00}, Privilege::operator_).cc, Cc::ok);
    fru.reset();
  }
  auto store = openStore(db);
  start({boardFru(0, "SN-NEW")}, store.get());
  EXPECT_EQ(image(0), *buildFruImage(boardFru(0, "SN-NEW").contents));
  // A write now applies to the new configuration and persists again.
  ASSERT_EQ(call(kWrite, {0x00, 0x08, 0x00, 0x00}, Privilege::operator_).cc, Cc::ok);
  const Bytes written = image(0);
  fru.reset();
  start({boardFru(0, "SN-NEW")}, store.get());
  EXPECT_EQ(image(0), written);
}

// ---- Raw image files ---------------------------------------------------------------------------------

TEST_F(FruServiceTest, RawImageIsServedByteForByteEvenWithBadChecksums) {
  TempDir dir;
  const std::string path = dir.file("broken.bin");
  Bytes raw = *buildFruImage(boardFru(0, "RAW").contents);
  raw[7] ^= 0x01;    // common header checksum
  raw[12] ^= 0x40;   // board area byte
  writeFile(path, raw);
  FruConfig c;
  c.id = 2;
  c.name = "Raw";
  c.imagePath = path;
  start({c});
  EXPECT_EQ(image(2), raw);
  EXPECT_EQ(readAll(2, 32), raw);
  EXPECT_EQ(readFile(path), raw);
}

TEST_F(FruServiceTest, RawImageWritesNeverTouchTheFile) {
  TempDir dir;
  const std::string path = dir.file("fru.bin");
  const Bytes raw = *buildFruImage(boardFru(0, "RAW").contents);
  writeFile(path, raw);
  auto store = openStore(dir.file("state.db"));
  FruConfig c;
  c.id = 0;
  c.imagePath = path;
  c.size = 256;
  start({c}, store.get());
  ASSERT_EQ(image(0).size(), 256u);
  ASSERT_EQ(call(kWrite, {0x00, 0xFF, 0x00, 0x77}, Privilege::operator_), ok({0x01}));
  EXPECT_EQ(image(0)[255], 0x77);
  EXPECT_EQ(readFile(path), raw);
}

TEST_F(FruServiceTest, LoadErrorsNameTheDevice) {
  TempDir dir;
  auto fail = [](std::vector<FruConfig> config) {
    FruService s(std::move(config), nullptr);
    auto r = s.load();
    return r ? std::string() : r.error().message;
  };
  FruConfig missing;
  missing.id = 4;
  missing.imagePath = dir.file("absent.bin");
  EXPECT_NE(fail({missing}).find("FRU device 4: cannot read FRU image file"), std::string::npos) << fail({missing});

  writeFile(dir.file("empty.bin"), {});
  FruConfig empty;
  empty.id = 5;
  empty.imagePath = dir.file("empty.bin");
  EXPECT_NE(fail({empty}).find("is empty"), std::string::npos);

  writeFile(dir.file("huge.bin"), Bytes(70000, 0x00));
  FruConfig huge;
  huge.id = 6;
  huge.imagePath = dir.file("huge.bin");
  EXPECT_NE(fail({huge}).find("larger than 65535"), std::string::npos);

  EXPECT_NE(fail({boardFru(1, "A1"), boardFru(1, "A2")}).find("FRU device 1: configured twice"), std::string::npos);

  FruConfig small = boardFru(2, "S2");
  small.size = 16;
  EXPECT_NE(fail({small}).find("smaller than its"), std::string::npos);

  FruConfig bad = boardFru(3, std::string(64, 'x'));
  EXPECT_NE(fail({bad}).find("board.serial"), std::string::npos);
}

TEST_F(FruServiceTest, DevicesAreListedInIdOrderWithNamesAndSizes) {
  FruConfig b = boardFru(9, "SN9");
  b.size = 512;
  start({b, boardFru(0, "SN0")});
  const auto devices = fru->devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].id, 0);
  EXPECT_EQ(devices[0].name, "Board 0");
  EXPECT_EQ(devices[0].size, image(0).size());
  EXPECT_EQ(devices[1].id, 9);
  EXPECT_EQ(devices[1].name, "Board 9");
  EXPECT_EQ(devices[1].size, 512u);
}

// ---- Wiring in the Bmc ----------------------------------------------------------------------------------

class IdleHost final : public HostControl {
 public:
  bool powerOn() const override { return false; }
  Cc request(ChassisAction, RestartCause) override { return Cc::ok; }
  RestartCause lastRestartCause() const override { return RestartCause::unknown; }
  bool lastPowerOnViaIpmi() const override { return false; }
  uint64_t powerOnSeconds() const override { return 0; }
  void addListener(Listener) override {}
};

// Get Device ID byte 6 "additional device support" (IPMI v2.0 §20.1, Table 20-2): bit 3 = FRU
// inventory device, set when the BMC has FRU devices; the FRU commands answer through the Bmc.
TEST(FruBmcTest, DeviceIdAdvertisesFruInventoryOnlyWithDevices) {
  FakeClock clock;
  TimerQueue timers{clock};
  IdleHost host;
  auto deviceSupport = [&](Bmc& bmc) {
    net::RequestContext ctx;
    ctx.privilege = Privilege::user;
    auto r = bmc.registry().dispatch(ctx, net::IpmiRequest{0x06, 0, 0x01, {}});
    return r && r->data.size() > 5 ? r->data[5] : uint8_t{0};
  };
  BmcConfig withFru;
  withFru.fru.push_back(boardFru(0, "SN0"));
  Bmc a(withFru, clock, timers, host, nullptr);
  ASSERT_TRUE(a.start());
  EXPECT_EQ(deviceSupport(a) & 0x08, 0x08);
  EXPECT_EQ(deviceSupport(a) & 0x80, 0x80) << "still a chassis device";
  net::RequestContext ctx;
  ctx.privilege = Privilege::user;
  auto info = a.registry().dispatch(ctx, net::IpmiRequest{kStorage, 0, kGetInfo, Bytes{0x00}});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->cc, Cc::ok);
  EXPECT_EQ(a.fru().devices().size(), 1u);

  Bmc b(BmcConfig{}, clock, timers, host, nullptr);
  ASSERT_TRUE(b.start());
  EXPECT_EQ(deviceSupport(b) & 0x08, 0x00);
}

}  // namespace
}  // namespace simbmc::bmc
