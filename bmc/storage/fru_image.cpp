#include "bmc/storage/fru_image.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace simbmc::bmc {
namespace {

// FRU spec §13, Table 13-1: type code in bits 7:6 of the type/length byte, length in bits 5:0.
constexpr uint8_t kTypeBinary = 0;
constexpr uint8_t kTypeBcdPlus = 1;
constexpr uint8_t kTypeSixBitAscii = 2;
constexpr uint8_t kTypeEightBit = 3;  // 8-bit ASCII + Latin-1 with an English language code
constexpr uint8_t kEndOfFields = 0xC1;
constexpr uint8_t kFormatVersion = 0x01;         // common header and info areas (§8, §10-§12)
constexpr uint8_t kRecordFormatVersion = 0x02;   // multirecord header byte 2, bits 3:0 (§16.1)
constexpr uint8_t kEndOfList = 0x80;             // multirecord header byte 2, bit 7
constexpr size_t kHeaderBytes = 8;
constexpr size_t kRecordHeaderBytes = 5;

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

// UTF-8 -> code points; nullopt on malformed input (overlong forms and surrogates included).
std::optional<std::vector<uint32_t>> codePoints(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07u;
    } else {
      return std::nullopt;
    }
    if (i + n > s.size()) return std::nullopt;
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr std::array<uint32_t, 5> kMin{0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += n;
  }
  return out;
}

void appendUtf8(std::string& s, uint8_t latin1) {
  if (latin1 < 0x80) {
    s.push_back(static_cast<char>(latin1));
  } else {
    s.push_back(static_cast<char>(0xC0 | (latin1 >> 6)));
    s.push_back(static_cast<char>(0x80 | (latin1 & 0x3F)));
  }
}

Error invalid(std::string message) { return makeError(Error::Kind::invalidArgument, std::move(message)); }

Result<void> appendField(Bytes& area, std::string_view value, std::string_view name) {
  auto field = encodeFruField(value);
  if (!field) return invalid(fmt::format("{}: {}", name, field.error().message));
  area.insert(area.end(), field->begin(), field->end());
  return {};
}

Result<void> appendCustom(Bytes& area, const std::vector<std::string>& custom, std::string_view areaName) {
  for (size_t i = 0; i < custom.size(); ++i) {
    // An empty custom field would read as "no more custom fields" to nobody, but C0h is legal and
    // clients skip it; keep what was configured.
    if (auto r = appendField(area, custom[i], fmt::format("{}.custom[{}]", areaName, i)); !r) return r;
  }
  return {};
}

// Ends an info area (§10-§12): C1h, zero padding so that the checksum byte ends a multiple of 8, the
// length byte (in multiples of 8) and the zero checksum.
Result<void> closeArea(Bytes& area, std::string_view areaName) {
  area.push_back(kEndOfFields);
  while ((area.size() + 1) % 8 != 0) area.push_back(0x00);
  area.push_back(0x00);
  if (area.size() > kFruMaxAreaBytes) {
    return invalid(fmt::format("{} area: {} bytes, more than the {} a one-byte length in 8-byte units can describe",
                               areaName, area.size(), kFruMaxAreaBytes));
  }
  area[1] = static_cast<uint8_t>(area.size() / 8);
  area.back() = fruChecksum(ByteView(area.data(), area.size() - 1));
  return {};
}

Result<Bytes> chassisArea(const FruChassisInfo& c) {
  Bytes a{kFormatVersion, 0x00, c.type};  // §10, Table 10-1
  if (auto r = appendField(a, c.partNumber, "chassis.part_number"); !r) return r.error();
  if (auto r = appendField(a, c.serial, "chassis.serial"); !r) return r.error();
  if (auto r = appendCustom(a, c.custom, "chassis"); !r) return r.error();
  if (auto r = closeArea(a, "chassis"); !r) return r.error();
  return a;
}

Result<Bytes> boardArea(const FruBoardInfo& b) {
  // §11, Table 11-1: version, length, language, 3-byte Mfg. Date/Time (LS byte first), five fields.
  if (b.mfgMinutes > 0xFFFFFF) return invalid("board.mfg_date: beyond the 24-bit minute count");
  Bytes a{kFormatVersion, 0x00, b.language, static_cast<uint8_t>(b.mfgMinutes),
          static_cast<uint8_t>(b.mfgMinutes >> 8), static_cast<uint8_t>(b.mfgMinutes >> 16)};
  if (auto r = appendField(a, b.manufacturer, "board.manufacturer"); !r) return r.error();
  if (auto r = appendField(a, b.product, "board.product"); !r) return r.error();
  if (auto r = appendField(a, b.serial, "board.serial"); !r) return r.error();
  if (auto r = appendField(a, b.partNumber, "board.part_number"); !r) return r.error();
  if (auto r = appendField(a, b.fileId, "board.file_id"); !r) return r.error();
  if (auto r = appendCustom(a, b.custom, "board"); !r) return r.error();
  if (auto r = closeArea(a, "board"); !r) return r.error();
  return a;
}

Result<Bytes> productArea(const FruProductInfo& p) {
  Bytes a{kFormatVersion, 0x00, p.language};  // §12, Table 12-1
  if (auto r = appendField(a, p.manufacturer, "product.manufacturer"); !r) return r.error();
  if (auto r = appendField(a, p.name, "product.name"); !r) return r.error();
  if (auto r = appendField(a, p.partNumber, "product.part_number"); !r) return r.error();
  if (auto r = appendField(a, p.version, "product.version"); !r) return r.error();
  if (auto r = appendField(a, p.serial, "product.serial"); !r) return r.error();
  if (auto r = appendField(a, p.assetTag, "product.asset_tag"); !r) return r.error();
  if (auto r = appendField(a, p.fileId, "product.file_id"); !r) return r.error();
  if (auto r = appendCustom(a, p.custom, "product"); !r) return r.error();
  if (auto r = closeArea(a, "product"); !r) return r.error();
  return a;
}

// §16.1, Table 16-1: type, end-of-list | format version 2, length, record checksum, header checksum.
Result<Bytes> multiRecordArea(const std::vector<FruRecord>& records) {
  Bytes a;
  for (size_t i = 0; i < records.size(); ++i) {
    const FruRecord& r = records[i];
    if (r.data.size() > kFruMaxRecordBytes) {
      return invalid(fmt::format("multirecord[{}]: {} data bytes, at most {}", i, r.data.size(), kFruMaxRecordBytes));
    }
    const bool last = i + 1 == records.size();
    const std::array<uint8_t, 4> head{r.type, static_cast<uint8_t>((last ? kEndOfList : 0) | kRecordFormatVersion),
                                      static_cast<uint8_t>(r.data.size()), fruChecksum(r.data)};
    a.insert(a.end(), head.begin(), head.end());
    a.push_back(fruChecksum(head));
    a.insert(a.end(), r.data.begin(), r.data.end());
  }
  return a;
}

// ---- Parsing ------------------------------------------------------------------------------------

std::string hexList(ByteView data) {
  std::string s;
  for (uint8_t b : data) s += fmt::format("{}{:02X}h", s.empty() ? "" : " ", b);
  return s;
}

// §13: decodes one field's data by its type code.
std::string decodeField(uint8_t typeCode, ByteView data) {
  std::string s;
  switch (typeCode) {
    case kTypeBinary:
      return hexList(data);
    case kTypeBcdPlus: {
      // §13.1 BCD plus: 0-9, space, dash, period; two digits a byte, high nibble first.
      static constexpr char kDigits[] = "0123456789 -.???";
      for (uint8_t b : data) {
        s.push_back(kDigits[b >> 4]);
        s.push_back(kDigits[b & 0x0F]);
      }
      return s;
    }
    case kTypeSixBitAscii: {
      // §13.2 6-bit ASCII packed: characters 20h-5Fh, LS bits first across byte boundaries.
      const size_t chars = data.size() * 8 / 6;
      for (size_t i = 0; i < chars; ++i) {
        const size_t bit = i * 6;
        uint32_t v = data[bit / 8];
        if (bit / 8 + 1 < data.size()) v |= static_cast<uint32_t>(data[bit / 8 + 1]) << 8;
        s.push_back(static_cast<char>(((v >> (bit % 8)) & 0x3F) + 0x20));
      }
      return s;
    }
    default:
      for (uint8_t b : data) appendUtf8(s, b);
      return s;
  }
}

class Parser {
 public:
  explicit Parser(ByteView image) : image_(image) {}

  ParsedFru run() {
    if (image_.size() < kHeaderBytes) {
      problem(fmt::format("image is {} bytes, shorter than the 8-byte common header", image_.size()));
      return std::move(out_);
    }
    const ByteView h = image_.subspan(0, kHeaderBytes);
    if (h[0] != kFormatVersion) problem(fmt::format("common header: format version {:02X}h, expected 01h", h[0]));
    if (fruChecksum(h) != 0) problem("common header: checksum does not sum to zero");
    if (h[6] != 0) problem(fmt::format("common header: pad byte is {:02X}h, expected 00h", h[6]));
    if (h[1] != 0) span("internal use", h[1] * 8u, h[1] * 8u + 1);
    if (h[2] != 0) parseInfoArea(Area::chassis, h[2] * 8u);
    if (h[3] != 0) parseInfoArea(Area::board, h[3] * 8u);
    if (h[4] != 0) parseInfoArea(Area::product, h[4] * 8u);
    if (h[5] != 0) parseMultiRecords(h[5] * 8u);
    checkOverlaps();
    return std::move(out_);
  }

 private:
  enum class Area { chassis, board, product };

  struct Span {
    std::string name;
    size_t begin;
    size_t end;
  };

  void problem(std::string p) { out_.problems.push_back(std::move(p)); }
  void span(std::string name, size_t begin, size_t end) { spans_.push_back({std::move(name), begin, end}); }

  static const char* areaName(Area a) {
    switch (a) {
      case Area::chassis: return "chassis info area";
      case Area::board: return "board info area";
      case Area::product: return "product info area";
    }
    return "";
  }

  void parseInfoArea(Area kind, size_t offset) {
    const char* name = areaName(kind);
    if (offset + 2 > image_.size()) {
      problem(fmt::format("{}: offset {} is past the end of the {}-byte image", name, offset, image_.size()));
      return;
    }
    if (image_[offset] != kFormatVersion) {
      problem(fmt::format("{}: format version {:02X}h, expected 01h", name, image_[offset]));
    }
    const size_t length = image_[offset + 1] * 8u;
    if (length == 0) {
      problem(fmt::format("{}: length is zero", name));
      return;
    }
    if (offset + length > image_.size()) {
      problem(fmt::format("{}: {} bytes at offset {} run past the end of the {}-byte image", name, length, offset,
                          image_.size()));
      return;
    }
    span(name, offset, offset + length);
    const ByteView area = image_.subspan(offset, length);
    if (fruChecksum(area) != 0) problem(fmt::format("{}: checksum does not sum to zero", name));

    // Fields end before the checksum byte.
    Fields f{area.subspan(0, length - 1), kind == Area::chassis ? 3u : kind == Area::board ? 6u : 3u};
    switch (kind) {
      case Area::chassis: {
        FruChassisInfo c;
        c.type = area[2];  // an area is at least 8 bytes
        const std::array<std::string*, 2> fixed{&c.partNumber, &c.serial};
        readFields(f, name, fixed, c.custom);
        out_.contents.chassis = std::move(c);
        break;
      }
      case Area::board: {
        FruBoardInfo b;
        b.language = area[2];
        b.mfgMinutes = area[3] | (area[4] << 8) | (static_cast<uint32_t>(area[5]) << 16);
        const std::array<std::string*, 5> fixed{&b.manufacturer, &b.product, &b.serial, &b.partNumber, &b.fileId};
        checkLanguage(name, b.language);
        readFields(f, name, fixed, b.custom);
        out_.contents.board = std::move(b);
        break;
      }
      case Area::product: {
        FruProductInfo p;
        p.language = area[2];
        const std::array<std::string*, 7> fixed{&p.manufacturer, &p.name,   &p.partNumber, &p.version,
                                                &p.serial,       &p.assetTag, &p.fileId};
        checkLanguage(name, p.language);
        readFields(f, name, fixed, p.custom);
        out_.contents.product = std::move(p);
        break;
      }
    }
  }

  void checkLanguage(const char* name, uint8_t language) {
    // §15: 8-bit fields are ASCII + Latin-1 only under English (0 or 25); clients refuse other codes.
    if (language != 0 && language != 25) {
      problem(fmt::format("{}: language code {} is not English (0 or 25); clients may not decode its text fields",
                          name, language));
    }
  }

  struct Fields {
    ByteView data;
    size_t pos;
  };

  enum class Next { field, end, broken };

  // Reads the field at f.pos into `out`: `end` at the end-of-fields marker, `broken` (reported)
  // when the area runs out first.
  Next nextField(Fields& f, const char* name, std::string& out) {
    if (f.pos >= f.data.size()) {
      problem(fmt::format("{}: no end-of-fields marker (C1h)", name));
      return Next::broken;
    }
    const uint8_t tl = f.data[f.pos];
    if (tl == kEndOfFields) return Next::end;
    const uint8_t type = tl >> 6;
    const size_t len = tl & 0x3F;
    if (f.pos + 1 + len > f.data.size()) {
      problem(fmt::format("{}: field at offset {} ({:02X}h) runs past the end of the area", name, f.pos, tl));
      return Next::broken;
    }
    out = decodeField(type, f.data.subspan(f.pos + 1, len));
    f.pos += 1 + len;
    return Next::field;
  }

  template <size_t N>
  void readFields(Fields& f, const char* name, const std::array<std::string*, N>& fixed,
                  std::vector<std::string>& custom) {
    for (std::string* dest : fixed) {
      const Next n = nextField(f, name, *dest);
      if (n == Next::end) problem(fmt::format("{}: end-of-fields marker before all its fixed fields", name));
      if (n != Next::field) return;
    }
    // Bounded: each field consumes at least one byte of a finite area.
    for (size_t i = 0; i <= f.data.size(); ++i) {
      std::string v;
      if (nextField(f, name, v) != Next::field) return;
      custom.push_back(std::move(v));
    }
  }

  void parseMultiRecords(size_t offset) {
    const size_t start = offset;
    // Bounded: every record advances by at least its 5-byte header.
    for (size_t n = 0; n <= image_.size() / kRecordHeaderBytes; ++n) {
      if (offset + kRecordHeaderBytes > image_.size()) {
        problem(fmt::format("multirecord area: record header at offset {} runs past the end of the image "
                            "(no end-of-list record)", offset));
        break;
      }
      const ByteView head = image_.subspan(offset, kRecordHeaderBytes);
      if (fruChecksum(head) != 0) {
        problem(fmt::format("multirecord area: header checksum of the record at offset {} does not sum to zero",
                            offset));
      }
      if ((head[1] & 0x0F) != kRecordFormatVersion) {
        problem(fmt::format("multirecord area: record at offset {} has format version {}, expected 2", offset,
                            head[1] & 0x0F));
      }
      const size_t len = head[2];
      if (offset + kRecordHeaderBytes + len > image_.size()) {
        problem(fmt::format("multirecord area: record at offset {} ({} bytes) runs past the end of the image",
                            offset, len));
        break;
      }
      const ByteView data = image_.subspan(offset + kRecordHeaderBytes, len);
      if (static_cast<uint8_t>(fruChecksum(data) - head[3]) != 0) {
        problem(fmt::format("multirecord area: data checksum of the record at offset {} does not sum to zero",
                            offset));
      }
      out_.contents.records.push_back(FruRecord{head[0], Bytes(data.begin(), data.end())});
      offset += kRecordHeaderBytes + len;
      if ((head[1] & kEndOfList) != 0) break;
    }
    span("multirecord area", start, offset);
  }

  void checkOverlaps() {
    std::sort(spans_.begin(), spans_.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < spans_.size(); ++i) {
      if (spans_[i].begin < spans_[i - 1].end) {
        problem(fmt::format("{} (offset {}) overlaps the {} (offsets {}..{})", spans_[i].name, spans_[i].begin,
                            spans_[i - 1].name, spans_[i - 1].begin, spans_[i - 1].end - 1));
      }
    }
  }

  ByteView image_;
  ParsedFru out_;
  std::vector<Span> spans_;
};

bool parseDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return int64_t{era} * 146097 + doe - 719468;
}

}  // namespace

uint8_t fruChecksum(ByteView data) {
  uint8_t sum = 0;
  for (uint8_t b : data) sum = static_cast<uint8_t>(sum + b);
  return static_cast<uint8_t>(-sum);
}

Result<Bytes> encodeFruField(std::string_view utf8) {
  auto cps = codePoints(utf8);
  if (!cps) return invalid("not valid UTF-8");
  Bytes latin1;
  for (uint32_t cp : *cps) {
    if (cp > 0xFF) {
      return invalid(fmt::format("U+{:04X} is not in ASCII + Latin-1, the 8-bit FRU character set", cp));
    }
    latin1.push_back(static_cast<uint8_t>(cp));
  }
  if (latin1.size() > kFruFieldMaxBytes) {
    return invalid(fmt::format("{} bytes, a FRU field holds at most {}", latin1.size(), kFruFieldMaxBytes));
  }
  if (latin1.size() == 1) {
    const uint8_t c = latin1[0];
    if (c < 0x20 || c > 0x5F) {
      return invalid("a one-character value must be 6-bit ASCII (space to '_', no lower case): 8-bit text of "
                     "length 1 would be the end-of-fields marker C1h");
    }
    return Bytes{static_cast<uint8_t>((kTypeSixBitAscii << 6) | 1), static_cast<uint8_t>(c - 0x20)};
  }
  Bytes out{static_cast<uint8_t>((kTypeEightBit << 6) | latin1.size())};
  out.insert(out.end(), latin1.begin(), latin1.end());
  return out;
}

FruRecord powerSupplyRecord(const FruPowerSupply& ps) {
  Bytes d;  // §18.1, Table 18-1: 24 bytes, multi-byte fields LS byte first
  put16(d, ps.capacityWatts & 0x0FFF);
  put16(d, ps.peakVa);
  d.push_back(ps.inrushCurrentAmps);
  d.push_back(ps.inrushIntervalMs);
  put16(d, ps.inputLow1);
  put16(d, ps.inputHigh1);
  put16(d, ps.inputLow2);
  put16(d, ps.inputHigh2);
  d.push_back(ps.frequencyLowHz);
  d.push_back(ps.frequencyHighHz);
  d.push_back(ps.dropoutToleranceMs);
  d.push_back(static_cast<uint8_t>((ps.predictiveFail ? 0x01 : 0) | (ps.powerFactorCorrection ? 0x02 : 0) |
                                   (ps.autoswitch ? 0x04 : 0) | (ps.hotSwap ? 0x08 : 0) |
                                   (ps.tachometerTwoPulses ? 0x10 : 0)));
  put16(d, static_cast<uint16_t>(((ps.holdUpSeconds & 0x0F) << 12) | (ps.peakCapacityWatts & 0x0FFF)));
  d.push_back(static_cast<uint8_t>(((ps.combinedVoltage1 & 0x0F) << 4) | (ps.combinedVoltage2 & 0x0F)));
  put16(d, ps.combinedWatts);
  d.push_back(ps.tachometerLowerRps);
  return FruRecord{fruRecordType::powerSupply, std::move(d)};
}

Result<FruRecord> managementAccessRecord(uint8_t subType, ByteView value) {
  // §18.4: sizes per sub-record type.
  size_t lo = 0, hi = 0;
  switch (subType) {
    case fruManagementAccess::systemUrl:
    case fruManagementAccess::componentUrl:
      lo = 16, hi = 256;
      break;
    case fruManagementAccess::systemName:
    case fruManagementAccess::componentName:
    case fruManagementAccess::systemPingAddress:
    case fruManagementAccess::componentPingAddress:
      lo = 8, hi = 64;
      break;
    case fruManagementAccess::systemUniqueId:
      lo = 16, hi = 16;
      break;
    default:
      return invalid(fmt::format("management access sub-record type {:02X}h is not 01h..07h", subType));
  }
  hi = std::min(hi, kFruMaxRecordBytes - 1);
  if (value.size() < lo || value.size() > hi) {
    return invalid(fmt::format("management access sub-record {:02X}h: {} bytes, expected {}..{}", subType,
                               value.size(), lo, hi));
  }
  Bytes d{subType};
  d.insert(d.end(), value.begin(), value.end());
  return FruRecord{fruRecordType::managementAccess, std::move(d)};
}

FruRecord oemRecord(uint8_t type, uint32_t manufacturerId, ByteView data) {
  Bytes d{static_cast<uint8_t>(manufacturerId), static_cast<uint8_t>(manufacturerId >> 8),
          static_cast<uint8_t>(manufacturerId >> 16)};
  d.insert(d.end(), data.begin(), data.end());
  return FruRecord{type, std::move(d)};
}

Result<Bytes> buildFruImage(const FruContents& contents) {
  Bytes image(kHeaderBytes, 0x00);
  image[0] = kFormatVersion;
  // Common header offset bytes (§8, Table 8-1), in 8-byte units.
  auto place = [&](size_t headerIndex, Result<Bytes> area, const char* name) -> Result<void> {
    if (!area) return area.error();
    const size_t offset = image.size() / 8;
    if (offset > 255) {
      return invalid(fmt::format("{} area would start at byte {}, past the 2040 a header offset can reach", name,
                                 image.size()));
    }
    image[headerIndex] = static_cast<uint8_t>(offset);
    image.insert(image.end(), area->begin(), area->end());
    return {};
  };
  if (contents.chassis) {
    if (auto r = place(2, chassisArea(*contents.chassis), "chassis"); !r) return r.error();
  }
  if (contents.board) {
    if (auto r = place(3, boardArea(*contents.board), "board"); !r) return r.error();
  }
  if (contents.product) {
    if (auto r = place(4, productArea(*contents.product), "product"); !r) return r.error();
  }
  if (!contents.records.empty()) {
    if (auto r = place(5, multiRecordArea(contents.records), "multirecord"); !r) return r.error();
  }
  image[7] = fruChecksum(ByteView(image.data(), 7));
  return image;
}

std::optional<uint32_t> fruMinutesFromDateTime(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!parseDigits(s, 0, 4, y) || s.size() < 16 || s[4] != '-' || !parseDigits(s, 5, 2, mo) || s[7] != '-' ||
      !parseDigits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !parseDigits(s, 11, 2, h) ||
      s[13] != ':' || !parseDigits(s, 14, 2, mi)) {
    return std::nullopt;
  }
  size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!parseDigits(s, pos + 1, 2, sec)) return std::nullopt;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {  // fractional seconds are dropped with the seconds
      ++pos;
      const size_t digits = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == digits) return std::nullopt;
    }
  }
  int offsetMinutes = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      pos = s.size();
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh = 0, om = 0;
      if (!parseDigits(s, pos + 1, 2, oh) || !parseDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offsetMinutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  static constexpr std::array<int, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 ||
      sec > 60) {
    return std::nullopt;
  }
  const int64_t unixMinutes = daysFromCivil(y, mo, d) * 1440 + h * 60 + mi - offsetMinutes;
  const int64_t minutes = unixMinutes - fruMinutesToUnix(0) / 60;
  if (minutes < 1 || minutes > 0xFFFFFF) return std::nullopt;
  return static_cast<uint32_t>(minutes);
}

ParsedFru parseFruImage(ByteView image) { return Parser(image).run(); }

}  // namespace simbmc::bmc
