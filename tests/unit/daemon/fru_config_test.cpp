// [[bmc.fru]] config tables: values parsed into FruConfig, every mistake reported together with its
// location, image paths resolved against the config file's directory, and the embedded demo config's
// FRU 0 building a clean image.
#include "bmc/daemon/fru_config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bmc/daemon/config.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::daemon {
namespace {

using storage::testing::TempDir;
using storage::testing::writeFile;

std::string instance(const std::string& fru) {
  return "[[bmc]]\nname = \"t\"\nport = 6230\n\n" + fru;
}

Result<DaemonConfig> parse(const std::string& fru, const std::string& source = "/etc/simbmc/test.toml") {
  return parseConfig(instance(fru), source);
}

bool mentions(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

TEST(FruConfigTest, UnknownKeysAndUnencodableCustomFields) {
  auto c = parse(R"(
[[bmc.fru]]
id = 0
name = "Main Board"
size = 1024

[bmc.fru.chassis]
type = "rack_mount"
part_number = "CH-1"
serial = "CS-1"
custom = ["rev A", "x"]

[bmc.fru.board]
manufacturer = "simbmc"
product = "Board"
serial = "BS-1"
part_number = "BP-1"
mfg_date = "2024-01-15T08:00:00Z"
file_id = "board.fru"
custom = ["CX"]

[bmc.fru.product]
manufacturer = "simbmc"
name = "Server"
part_number = "PP-1"
version = "A"
serial = "PS-1"
asset_tag = "asset-7"
file_id = "prod.fru"
custom = ["PC1", "PC2"]

[[bmc.fru.multirecord]]
type = "management_access"
kind = "system_name"
value = "server-0001"

[[bmc.fru.multirecord]]
type = "oem"
manufacturer_id = 12345
data = [1, 2, 3]

[[bmc.fru.multirecord]]
type = "raw"
record_type = 0x01
data = [0x01, 0xB0, 0x04]

[[bmc.fru]]
id = 7
mfg_date_is_not_here = 1
)");
  ASSERT_FALSE(c);
  EXPECT_TRUE(mentions(c.error().message, "bmc[0].fru[1]: unknown key 'mfg_date_is_not_here'")) << c.error().message;

  c = parse(R"(
[[bmc.fru]]
id = 0
name = "Main Board"
size = 1024

[bmc.fru.chassis]
type = "rack_mount"
part_number = "CH-1"
serial = "CS-1"
custom = ["rev A", "x"]

[bmc.fru.board]
manufacturer = "simbmc"
mfg_date = 2024-01-15T09:00:00+01:00
custom = ["CX"]

[bmc.fru.product]
name = "Server"
version = "A"

[[bmc.fru.multirecord]]
type = "management_access"
kind = "system_name"
value = "server-0001"

[[bmc.fru.multirecord]]
type = "oem"
manufacturer_id = 12345
data = [1, 2, 3]
)");
  ASSERT_FALSE(c) << "a lower-case one-character custom field cannot be encoded";
  EXPECT_TRUE(mentions(c.error().message, "bmc[0].fru[0].chassis.custom[1]: a one-character value")) << c.error().message;
}

TEST(FruConfigTest, ValuesLandInTheFruConfig) {
  auto c = parse(R"(
[[bmc.fru]]
id = 3
name = "PSU 1"
size = 512

[bmc.fru.chassis]
type = 0x11
serial = "CS-1"

[bmc.fru.board]
manufacturer = "simbmc"
mfg_date = 2024-01-15T09:00:00+01:00
custom = ["CX", "CY"]

[bmc.fru.product]
name = "Server"
version = "A"
asset_tag = "asset-7"

[[bmc.fru.multirecord]]
type = "power_supply"
capacity = 800
input_voltage_1 = [90, 264.5]
input_frequency = [47, 63]
hot_swap = true
combined_voltages = ["12V", "5V"]

[[bmc.fru.multirecord]]
type = "oem"
record_type = 0xC2
manufacturer_id = 0x123456
data = [1, 2, 3]
)");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->instances.size(), 1u);
  const auto& frus = c->instances[0].bmc.fru;
  ASSERT_EQ(frus.size(), 1u);
  const bmc::FruConfig& f = frus[0];
  EXPECT_EQ(f.id, 3);
  EXPECT_EQ(f.name, "PSU 1");
  EXPECT_EQ(f.size, 512u);
  EXPECT_TRUE(f.imagePath.empty());
  ASSERT_TRUE(f.contents.chassis);
  EXPECT_EQ(f.contents.chassis->type, 0x11);
  EXPECT_EQ(f.contents.chassis->serial, "CS-1");
  ASSERT_TRUE(f.contents.board);
  EXPECT_EQ(f.contents.board->mfgMinutes, 14'747'520u) << "the TOML offset date-time is 08:00 UTC";
  EXPECT_EQ(f.contents.board->custom, (std::vector<std::string>{"CX", "CY"}));
  ASSERT_TRUE(f.contents.product);
  EXPECT_EQ(f.contents.product->version, "A");
  EXPECT_EQ(f.contents.product->assetTag, "asset-7");
  ASSERT_EQ(f.contents.records.size(), 2u);
  const bmc::Bytes& ps = f.contents.records[0].data;
  EXPECT_EQ(f.contents.records[0].type, 0x00);
  ASSERT_EQ(ps.size(), 24u);
  EXPECT_EQ(ps[0] | (ps[1] << 8), 800);
  EXPECT_EQ(ps[6] | (ps[7] << 8), 9000) << "90 V in 10 mV units";
  EXPECT_EQ(ps[8] | (ps[9] << 8), 26450);
  EXPECT_EQ(ps[2] | (ps[3] << 8), 0xFFFF) << "peak VA not specified by default";
  EXPECT_EQ(ps[17], 0x08) << "hot swap";
  EXPECT_EQ(ps[20], 0x02) << "12 V (0) and 5 V (2)";
  EXPECT_EQ(f.contents.records[1], (bmc::FruRecord{0xC2, {0x56, 0x34, 0x12, 1, 2, 3}}));
  EXPECT_TRUE(bmc::buildFruImage(f.contents));
}

TEST(FruConfigTest, EveryMistakeIsReportedWithItsLocation) {
  TempDir dir;
  auto c = parse(R"(
[[bmc.fru]]
id = 300

[[bmc.fru]]
id = 1
name = "a name longer than sixteen bytes"
image = "missing.bin"
[bmc.fru.board]
serial = "x"

[[bmc.fru]]
id = 1
size = 0
[bmc.fru.chassis]
type = "spaceship"
[bmc.fru.board]
mfg_date = "1995-01-01T00:00:00Z"
product = "this product name is far too long for a type/length byte: 63 max"
[bmc.fru.product]
name = "€uro"
[[bmc.fru.multirecord]]
type = "dc_output"
[[bmc.fru.multirecord]]
type = "power_supply"
hold_up_time = 16
input_voltage_1 = [264, 90]
[[bmc.fru.multirecord]]
type = "management_access"
kind = "system_url"
value = "http://short"

[[bmc.fru]]
name = "no id"
)");
  ASSERT_FALSE(c);
  const std::string& m = c.error().message;
  for (const char* want : {
           "bmc[0].fru[0].id: expected an integer in 0..254",
           "bmc[0].fru[1].name: at most 16 bytes",
           "bmc[0].fru[1]: 'image' serves a raw file; it cannot be combined",
           "bmc[0].fru[1].image: /etc/simbmc/missing.bin is not a readable file",
           "bmc[0].fru[2].id: FRU device 1 is configured twice",
           "bmc[0].fru[2].size: expected an integer in 1..65535",
           "bmc[0].fru[2].chassis.type: expected an SMBIOS chassis type number or one of",
           "bmc[0].fru[2].board.mfg_date: expected a date-time",
           "bmc[0].fru[2].board.product: 64 bytes, a FRU field holds at most 63",
           "bmc[0].fru[2].product.name: U+20AC is not in ASCII + Latin-1",
           "bmc[0].fru[2].multirecord[0].type: expected \"power_supply\"",
           "bmc[0].fru[2].multirecord[1].hold_up_time: expected an integer in 0..15",
           "bmc[0].fru[2].multirecord[1].input_voltage_1: expected [low, high]",
           "bmc[0].fru[2].multirecord[2].value: management access sub-record 01h: 12 bytes, expected 16..254",
           "bmc[0].fru[3].id: required",
       }) {
    EXPECT_TRUE(mentions(m, want)) << "missing: " << want << "\n--- got ---\n" << m;
  }
}

TEST(FruConfigTest, AreasTooLargeForTheirLengthByte) {
  std::string custom = "custom = [";
  for (int i = 0; i < 40; ++i) custom += std::string(i ? ", " : "") + "\"" + std::string(63, 'c') + "\"";
  custom += "]";
  auto c = parse("[[bmc.fru]]\nid = 0\n[bmc.fru.product]\n" + custom + "\n");
  ASSERT_FALSE(c);
  EXPECT_TRUE(mentions(c.error().message, "bmc[0].fru[0].product area:")) << c.error().message;
}

TEST(FruConfigTest, ImagePathsAreRelativeToTheConfigFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  writeFile(dir.file("board.bin"), bmc::Bytes(64, 0x00));
  auto c = parse("[[bmc.fru]]\nid = 2\nimage = \"board.bin\"\nsize = 128\n", dir.file("simbmc.toml"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->instances[0].bmc.fru[0].imagePath, dir.file("board.bin"));
  EXPECT_EQ(c->instances[0].bmc.fru[0].size, 128u);

  c = parse("[[bmc.fru]]\nid = 2\nimage = \"board.bin\"\nsize = 32\n", dir.file("simbmc.toml"));
  ASSERT_FALSE(c);
  EXPECT_TRUE(mentions(c.error().message, "size: 32 is smaller than the 64-byte image")) << c.error().message;

  c = parse("[[bmc.fru]]\nid = 2\nimage = \"" + dir.file("board.bin") + "\"\n", "<default config>");
  ASSERT_TRUE(c) << "absolute paths stay as they are";
}

TEST(FruConfigTest, FruMustBeAnArrayOfTables) {
  auto c = parse("[bmc.fru]\nid = 0\n");
  ASSERT_FALSE(c);
  EXPECT_TRUE(mentions(c.error().message, "bmc[0].fru: expected [[bmc.fru]] tables")) << c.error().message;
}

TEST(FruConfigTest, DefaultConfigHasACleanDemoFru) {
  auto c = parseConfig(kDefaultConfig, "<default config>");
  ASSERT_TRUE(c) << c.error().message;
  const auto& frus = c->instances.at(0).bmc.fru;
  ASSERT_EQ(frus.size(), 1u);
  EXPECT_EQ(frus[0].id, 0);
  ASSERT_TRUE(frus[0].contents.chassis && frus[0].contents.board && frus[0].contents.product);
  EXPECT_EQ(frus[0].contents.board->manufacturer, "simbmc");
  EXPECT_FALSE(frus[0].contents.product->serial.empty());
  auto image = bmc::buildFruImage(frus[0].contents);
  ASSERT_TRUE(image) << image.error().message;
  const bmc::ParsedFru parsed = bmc::parseFruImage(*image);
  EXPECT_TRUE(parsed.ok()) << parsed.problems.front();
  EXPECT_EQ(parsed.contents, frus[0].contents);
}

}  // namespace
}  // namespace simbmc::daemon
