// FRU images byte for byte against layouts worked out by hand from the FRU Information Storage
// Definition v1.0 rev 1.3 (common header §8, chassis §10, board §11, product §12, type/length §13,
// multirecords §16/§18), and the parser's verdict on images damaged one byte at a time.
#include "bmc/storage/fru_image.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace simbmc::bmc {
namespace {

Bytes ascii(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// 2024-01-15 08:00 UTC = 14,747,520 minutes after 1996-01-01 00:00 UTC = E10780h.
constexpr uint32_t kMfgMinutes = 14'747'520;

FruContents demoContents() {
  FruContents c;
  c.chassis = FruChassisInfo{0x17, "CP-1", "CS1", {}};
  FruBoardInfo b;
  b.mfgMinutes = kMfgMinutes;
  b.manufacturer = "simbmc";
  b.product = "SB-100";
  b.serial = "B1";
  b.partNumber = "P-2";
  b.custom = {"X1"};
  c.board = b;
  FruProductInfo p;
  p.manufacturer = "simbmc";
  p.name = "Demo";
  p.partNumber = "DM-1";
  p.version = "A";  // one character: 6-bit ASCII
  p.serial = "PS1";
  c.product = p;
  FruPowerSupply ps;
  ps.capacityWatts = 800;
  ps.peakVa = 900;
  ps.inrushCurrentAmps = 30;
  ps.inrushIntervalMs = 5;
  ps.inputLow1 = 9000;   // 90.00 V
  ps.inputHigh1 = 26400; // 264.00 V
  ps.frequencyLowHz = 47;
  ps.frequencyHighHz = 63;
  ps.dropoutToleranceMs = 20;
  ps.powerFactorCorrection = true;
  ps.autoswitch = true;
  ps.hotSwap = true;
  ps.peakCapacityWatts = 1000;
  ps.holdUpSeconds = 1;
  ps.combinedVoltage1 = 0;  // 12 V
  ps.combinedVoltage2 = 2;  // 5 V
  c.records.push_back(powerSupplyRecord(ps));
  c.records.push_back(oemRecord(0xC0, 12345, Bytes{0x01, 0x02}));
  return c;
}

// The image of demoContents(), area by area.
const Bytes kHeader{0x01, 0x00, 0x01, 0x03, 0x08, 0x0C, 0x00, 0xE7};  // chassis @8, board @24, product @64, MR @96
const Bytes kChassis = cat({{0x01, 0x02, 0x17},                        // version, 16 bytes, rack mount chassis
                            {0xC4}, ascii("CP-1"), {0xC3}, ascii("CS1"),  // part number, serial
                            {0xC1, 0x00, 0x00, 0xE6}});                   // end, pad, checksum
const Bytes kBoard = cat({{0x01, 0x05, 0x00, 0x80, 0x07, 0xE1},        // version, 40 bytes, English, E10780h LE
                          {0xC6}, ascii("simbmc"), {0xC6}, ascii("SB-100"), {0xC2}, ascii("B1"), {0xC3}, ascii("P-2"),
                          {0xC0},                                      // empty FRU file ID
                          {0xC2}, ascii("X1"),                         // custom field
                          {0xC1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC5}});
const Bytes kProduct = cat({{0x01, 0x04, 0x00},                        // version, 32 bytes, English
                            {0xC6}, ascii("simbmc"), {0xC4}, ascii("Demo"), {0xC4}, ascii("DM-1"),
                            {0x81, 0x21},                              // "A" as 6-bit ASCII (41h - 20h)
                            {0xC3}, ascii("PS1"), {0xC0, 0xC0},        // serial, empty asset tag and file ID
                            {0xC1, 0x00, 0x00, 0x44}});
const Bytes kPowerSupply{0x00, 0x02, 0x18, 0xD4, 0x12,  // type 00h, v2, 24 bytes, data and header checksums
                         0x20, 0x03, 0x84, 0x03, 0x1E, 0x05, 0x28, 0x23, 0x20, 0x67, 0x00, 0x00, 0x00, 0x00,
                         0x2F, 0x3F, 0x14, 0x0E, 0xE8, 0x13, 0x02, 0x00, 0x00, 0x00};
const Bytes kOem{0xC0, 0x82, 0x05, 0x94, 0x25,  // end of list | v2, 5 bytes
                 0x39, 0x30, 0x00, 0x01, 0x02};  // IANA 12345 LS byte first, data

// ---- Type/length bytes (§13) -----------------------------------------------------------------------

TEST(FruFieldTest, EightBitTextIsC0OrLength) {
  EXPECT_EQ(*encodeFruField("AB"), (Bytes{0xC2, 'A', 'B'}));
  const Bytes longest = encodeFruField(std::string(63, 'x')).value();
  ASSERT_EQ(longest.size(), 64u);
  EXPECT_EQ(longest[0], 0xFF);
}

TEST(FruFieldTest, EmptyIsC0) { EXPECT_EQ(*encodeFruField(""), (Bytes{0xC0})); }

TEST(FruFieldTest, OneCharacterIsSixBitAsciiBecauseC1EndsTheFields) {
  EXPECT_EQ(*encodeFruField("A"), (Bytes{0x81, 0x21}));
  EXPECT_EQ(*encodeFruField("1"), (Bytes{0x81, 0x11}));
  EXPECT_EQ(*encodeFruField(" "), (Bytes{0x81, 0x00}));
  EXPECT_EQ(*encodeFruField("_"), (Bytes{0x81, 0x3F}));
  EXPECT_FALSE(encodeFruField("a")) << "lower case has no 6-bit ASCII code";
  EXPECT_FALSE(encodeFruField("~"));
}

TEST(FruFieldTest, LatinOneIsStoredAsOneByte) {
  EXPECT_EQ(*encodeFruField("\xC3\xA9t\xC3\xA9"), (Bytes{0xC3, 0xE9, 't', 0xE9}));  // "été"
}

TEST(FruFieldTest, RejectsWhatTheFieldCannotHold) {
  EXPECT_FALSE(encodeFruField(std::string(64, 'x'))) << "64 bytes";
  EXPECT_FALSE(encodeFruField("\xE2\x82\xAC" "5")) << "U+20AC is not Latin-1";
  EXPECT_FALSE(encodeFruField("\xFF\xFE")) << "not UTF-8";
  EXPECT_FALSE(encodeFruField("\xC0\x80x")) << "overlong NUL";
  EXPECT_EQ(encodeFruField(std::string(32, 'x') + "\xC3\xA9").value().size(), 34u) << "counts bytes after Latin-1";
}

// ---- Whole images ------------------------------------------------------------------------------------

TEST(FruImageTest, NoAreasIsJustTheCommonHeader) {
  EXPECT_EQ(*buildFruImage({}), (Bytes{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF}));
}

TEST(FruImageTest, ChassisOnly) {
  FruContents c;
  c.chassis = FruChassisInfo{0x17, "AB", "", {}};
  const Bytes expected{0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xFE,   // header: chassis at 1 x 8
                       0x01, 0x02, 0x17, 0xC2, 'A',  'B',  0xC0, 0xC1,   // 16-byte area
                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20};  // pad, checksum
  EXPECT_EQ(*buildFruImage(c), expected);
}

TEST(FruImageTest, AllAreasAndMultiRecordsByteForByte) {
  const Bytes expected = cat({kHeader, kChassis, kBoard, kProduct, kPowerSupply, kOem});
  auto image = buildFruImage(demoContents());
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(*image, expected);
  EXPECT_EQ(image->size(), 8u + 16 + 40 + 32 + 29 + 10);
}

TEST(FruImageTest, AreasAreMultiplesOfEightWithZeroChecksums) {
  const Bytes image = *buildFruImage(demoContents());
  for (size_t headerIndex : {2u, 3u, 4u}) {
    const size_t offset = image[headerIndex] * 8u;
    const size_t length = image[offset + 1] * 8u;
    EXPECT_EQ(fruChecksum(ByteView(image).subspan(offset, length)), 0) << "area " << headerIndex;
  }
  EXPECT_EQ(fruChecksum(ByteView(image).subspan(0, 8)), 0);
}

TEST(FruImageTest, ACustomFieldThatFillsTheAreaExactlyNeedsNoPadding) {
  // version, length, type, two empty fields (C0h C0h), a 24-character custom field (25 bytes) and C1h
  // make 31 bytes: the checksum is byte 31 and the area is 32 bytes with no pad.
  FruContents c;
  c.chassis = FruChassisInfo{0x01, "", "", {std::string(24, 'z')}};
  const Bytes image = *buildFruImage(c);
  ASSERT_EQ(image.size(), 8u + 32u);
  EXPECT_EQ(image[9], 0x04);
  EXPECT_EQ(image[8 + 30], 0xC1);
  EXPECT_EQ(fruChecksum(ByteView(image).subspan(8)), 0);
}

TEST(FruImageTest, ManagementAccessRecordLayout) {
  FruContents c;
  auto r = managementAccessRecord(fruManagementAccess::systemName, ascii("demo-server"));
  ASSERT_TRUE(r) << r.error().message;
  c.records.push_back(*r);
  const Bytes expected = cat({{0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0xFE},  // MR area at 8
                              {0x03, 0x82, 0x0C, 0x95, 0xDA},                    // type 03h, end, 12 bytes
                              {0x02}, ascii("demo-server")});
  EXPECT_EQ(*buildFruImage(c), expected);
  EXPECT_FALSE(managementAccessRecord(fruManagementAccess::systemName, ascii("short"))) << "names are 8..64 bytes";
  EXPECT_FALSE(managementAccessRecord(fruManagementAccess::systemUrl, ascii("http://x/"))) << "URLs 16..256";
  EXPECT_FALSE(managementAccessRecord(0x08, ascii("whatever-value")));
  EXPECT_TRUE(managementAccessRecord(fruManagementAccess::systemUniqueId, Bytes(16, 0xAB)));
}

TEST(FruImageTest, RefusesAreasAndRecordsTheLengthBytesCannotDescribe) {
  FruContents big;
  big.product = FruProductInfo{};
  for (int i = 0; i < 40; ++i) big.product->custom.push_back(std::string(63, 'c'));  // 40 x 64 > 2040
  auto r = buildFruImage(big);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("product area"), std::string::npos) << r.error().message;

  FruContents rec;
  rec.records.push_back(FruRecord{0xC1, Bytes(256, 0)});
  EXPECT_FALSE(buildFruImage(rec));
  rec.records[0].data.resize(255);
  EXPECT_TRUE(buildFruImage(rec));

  FruContents badField;
  badField.board = FruBoardInfo{};
  badField.board->serial = std::string(64, 's');
  auto e = buildFruImage(badField);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("board.serial"), std::string::npos) << e.error().message;
}

// ---- Mfg. Date/Time (§11) ---------------------------------------------------------------------------

TEST(FruDateTest, MinutesSince1996) {
  EXPECT_EQ(fruMinutesFromDateTime("2024-01-15T08:00:00Z"), kMfgMinutes);
  EXPECT_EQ(fruMinutesFromDateTime("2024-01-15T08:00Z"), kMfgMinutes);
  EXPECT_EQ(fruMinutesFromDateTime("2024-01-15 08:00:00"), kMfgMinutes) << "no offset means UTC";
  EXPECT_EQ(fruMinutesFromDateTime("2024-01-15T09:30:00+01:30"), kMfgMinutes);
  EXPECT_EQ(fruMinutesFromDateTime("2024-01-15T03:00:00-05:00"), kMfgMinutes);
  EXPECT_EQ(fruMinutesFromDateTime("2024-01-15T08:00:59.999Z"), kMfgMinutes) << "seconds are dropped";
  EXPECT_EQ(fruMinutesFromDateTime("1996-01-01T00:01:00Z"), 1u);
  EXPECT_EQ(fruMinutesFromDateTime("2000-02-29T00:00:00Z"), (365u * 3 + 366 + 31 + 28) * 1440);
  EXPECT_EQ(fruMinutesFromDateTime("2027-11-24T20:15:00Z"), 0xFFFFFFu) << "the last 24-bit minute";
  EXPECT_EQ(fruMinutesToUnix(kMfgMinutes), 1705305600);
}

TEST(FruDateTest, RejectsMalformedAndUnrepresentable) {
  for (const char* s : {"1996-01-01T00:00:00Z", "1995-12-31T23:59:00Z", "2027-11-24T20:16:00Z", "2023-02-29T00:00Z",
                        "2024-13-01T00:00Z", "2024-01-32T00:00Z", "2024-01-15T24:00Z", "2024-01-15", "2024-1-15T08:00Z",
                        "2024-01-15T08:00:00+0100", "2024-01-15T08:00:00ZZ", "", "yesterday", "2024-01-15T08:00:00."}) {
    EXPECT_FALSE(fruMinutesFromDateTime(s)) << s;
  }
}

// ---- Parsing and validation ---------------------------------------------------------------------------

TEST(FruParseTest, RoundTripsWhatTheBuilderWrote) {
  const FruContents c = demoContents();
  const ParsedFru p = parseFruImage(*buildFruImage(c));
  EXPECT_TRUE(p.ok()) << p.problems.front();
  EXPECT_EQ(p.contents, c);
}

TEST(FruParseTest, DecodesEveryTypeCode) {
  // Product area with: binary 01h 02h, BCD plus "12-.", 6-bit "IPMI" (the spec's example 29h DCh A6h),
  // 8-bit Latin-1 "é!", then empty fields and a custom 6-bit field.
  Bytes area{0x01, 0x00, 0x00,
             0x02, 0x01, 0x02,         // binary
             0x42, 0x12, 0xBC,         // BCD plus
             0x83, 0x29, 0xDC, 0xA6,   // 6-bit ASCII
             0xC2, 0xE9, '!',          // Latin-1
             0xC0, 0xC0, 0xC0, 0x81, 0x21, 0xC1};
  while ((area.size() + 1) % 8 != 0) area.push_back(0);
  area.push_back(0);
  area[1] = static_cast<uint8_t>(area.size() / 8);
  area.back() = fruChecksum(ByteView(area.data(), area.size() - 1));
  Bytes image{0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
  image[7] = fruChecksum(ByteView(image.data(), 7));
  image.insert(image.end(), area.begin(), area.end());

  const ParsedFru p = parseFruImage(image);
  EXPECT_TRUE(p.ok()) << p.problems.front();
  ASSERT_TRUE(p.contents.product);
  EXPECT_EQ(p.contents.product->manufacturer, "01h 02h");
  EXPECT_EQ(p.contents.product->name, "12-.");
  EXPECT_EQ(p.contents.product->partNumber, "IPMI");
  EXPECT_EQ(p.contents.product->version, "\xC3\xA9!");
  EXPECT_EQ(p.contents.product->custom, std::vector<std::string>{"A"});
}

// Each case damages the demo image at one place and names the problem the parser must report.
struct Damage {
  const char* name;
  size_t offset;
  uint8_t value;
  const char* problem;
};

class FruDamageTest : public ::testing::TestWithParam<Damage> {};

TEST_P(FruDamageTest, ReportsTheProblem) {
  Bytes image = *buildFruImage(demoContents());
  const Damage& d = GetParam();
  ASSERT_LT(d.offset, image.size());
  image[d.offset] = d.value;
  const ParsedFru p = parseFruImage(image);
  ASSERT_FALSE(p.ok()) << d.name;
  std::string all;
  for (const auto& s : p.problems) all += s + "\n";
  EXPECT_NE(all.find(d.problem), std::string::npos) << d.name << ":\n" << all;
}

INSTANTIATE_TEST_SUITE_P(
    OneByte, FruDamageTest,
    ::testing::Values(
        Damage{"header checksum", 7, 0x00, "common header: checksum"},
        Damage{"header version", 0, 0x02, "common header: format version 02h"},
        Damage{"chassis byte", 8 + 4, 'X', "chassis info area: checksum"},
        Damage{"board version", 24, 0x02, "board info area: format version 02h"},
        Damage{"board length past end", 24 + 1, 0x20, "board info area: 256 bytes at offset 24 run past the end"},
        Damage{"product end marker", 64 + 28, 0x00, "product info area: no end-of-fields marker"},
        Damage{"product field length", 64 + 3, 0xFF, "runs past the end of the area"},
        Damage{"language", 64 + 2, 0x07, "language code 7 is not English"},
        Damage{"early end marker", 8 + 8, 0xC1 /* chassis serial C3h */, "end-of-fields marker before"},
        Damage{"record header checksum", 96 + 4, 0x00, "header checksum of the record at offset 96"},
        Damage{"record data", 96 + 5, 0x21, "data checksum of the record at offset 96"},
        Damage{"record version", 96 + 1, 0x03, "format version 3, expected 2"},
        Damage{"overlap", 4, 0x03 /* product at the board */, "overlaps"},
        Damage{"area offset past end", 4, 0x40, "product info area: offset 512 is past the end"}),
    [](const ::testing::TestParamInfo<Damage>& param) {
      std::string n;
      for (const char* c = param.param.name; *c != 0; ++c) n.push_back(std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_');
      return n;
    });

TEST(FruParseTest, MissingEndOfListIsReported) {
  Bytes image = *buildFruImage(demoContents());
  image[125 + 1] = 0x02;  // the OEM record's end-of-list bit (it follows the 29-byte power supply record)
  image[125 + 4] = fruChecksum(ByteView(image).subspan(125, 4));
  const ParsedFru p = parseFruImage(image);
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_NE(p.problems[0].find("no end-of-list record"), std::string::npos) << p.problems[0];
}

TEST(FruParseTest, ShortAndEmptyImages) {
  EXPECT_FALSE(parseFruImage(Bytes{}).ok());
  EXPECT_FALSE(parseFruImage(Bytes{0x01, 0x00, 0x00}).ok());
  const ParsedFru zeros = parseFruImage(Bytes(64, 0x00));
  ASSERT_FALSE(zeros.ok()) << "an all-zero header has version 0";
  const ParsedFru ones = parseFruImage(Bytes(64, 0xFF));
  EXPECT_FALSE(ones.ok()) << "an erased EEPROM";
}

TEST(FruParseTest, NeverReadsPastTheImage) {
  // Every truncation of a valid image parses without crashing and reports a problem.
  const Bytes image = *buildFruImage(demoContents());
  for (size_t n = 0; n < image.size(); ++n) {
    const ParsedFru p = parseFruImage(ByteView(image.data(), n));
    EXPECT_FALSE(p.ok()) << "truncated to " << n;
  }
}

TEST(FruParseTest, SurvivesRandomDamage) {
  // Deterministic: a fixed-seed generator flips 1..8 bytes of the demo image, 5000 times; the parser
  // must stay inside the buffer (ASan/UBSan builds check) and return.
  const Bytes good = *buildFruImage(demoContents());
  uint32_t state = 0x2545F491;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  size_t flagged = 0;
  for (int round = 0; round < 5000; ++round) {
    Bytes img = good;
    const int flips = 1 + static_cast<int>(next() % 8);
    for (int i = 0; i < flips; ++i) img[next() % img.size()] = static_cast<uint8_t>(next());
    if (next() % 4 == 0) img.resize(next() % img.size());
    const ParsedFru p = parseFruImage(img);
    if (!p.ok()) ++flagged;
  }
  EXPECT_GT(flagged, 4500u) << "nearly every damaged image is reported";
}

}  // namespace
}  // namespace simbmc::bmc
