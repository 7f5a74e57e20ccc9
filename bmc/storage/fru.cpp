#include "bmc/storage/fru.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "common/log.hpp"

namespace simbmc::bmc {
namespace {

// IPMI v2.0 Appendix G, Storage NetFn FRU commands.
namespace cmd {
constexpr uint8_t getFruInventoryAreaInfo = 0x10;
constexpr uint8_t readFruData = 0x11;
constexpr uint8_t writeFruData = 0x12;
}  // namespace cmd

// §34.1 Table 34-1: bit 0 of the access byte, 0 = the device is accessed by bytes.
constexpr uint8_t kAccessByBytes = 0x00;
// §34: the largest inventory area a 16-bit size can report.
constexpr size_t kMaxDeviceBytes = 0xFFFF;
// At most this many problems of one raw image are logged at start-up.
constexpr size_t kMaxLoggedProblems = 8;

std::string imageKey(uint8_t id) { return "fru." + std::to_string(id); }
std::string baseKey(uint8_t id) { return imageKey(id) + ".base"; }

uint64_t fingerprint(ByteView data) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (uint8_t b : data) h = (h ^ b) * 1099511628211ull;
  return h;
}

Bytes u64le(uint64_t v) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return b;
}

Result<Bytes> readImageFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(Error::Kind::io, "cannot read FRU image file " + path);
  Bytes data;
  // Bounded: at most one byte past the largest device, to tell "too large" apart.
  std::istreambuf_iterator<char> it(in), end;
  for (size_t n = 0; it != end && n <= kMaxDeviceBytes; ++it, ++n) data.push_back(static_cast<uint8_t>(*it));
  if (in.bad()) return makeError(Error::Kind::io, "error reading FRU image file " + path);
  if (data.empty()) return makeError(Error::Kind::invalidArgument, "FRU image file " + path + " is empty");
  if (data.size() > kMaxDeviceBytes) {
    return makeError(Error::Kind::invalidArgument,
                     "FRU image file " + path + " is larger than 65535 bytes, the most a FRU device can hold");
  }
  return data;
}

// §34.2 Read FRU Data request: device ID, offset LS/MS, count to read.
struct ReadRequest {
  uint8_t id;
  uint16_t offset;
  uint8_t count;
  static std::optional<ReadRequest> decode(Reader& r) {
    ReadRequest q{r.u8(), r.u16le(), r.u8()};
    return q;
  }
};

// §34.3 Write FRU Data request: device ID, offset LS/MS, then 1..n data bytes. A request without a
// data byte is too short (C7h); the data is checked against the reply's one-byte count in write().
struct WriteRequest {
  uint8_t id;
  uint16_t offset;
  Bytes data;
  static std::optional<WriteRequest> decode(Reader& r) {
    WriteRequest q{r.u8(), r.u16le(), {}};
    const uint8_t first = r.u8();
    if (!r.ok()) return q;  // the registry answers C7h
    q.data.push_back(first);
    const ByteView rest = r.rest();
    q.data.insert(q.data.end(), rest.begin(), rest.end());
    return q;
  }
};

struct DeviceRequest {
  uint8_t id;
  static std::optional<DeviceRequest> decode(Reader& r) { return DeviceRequest{r.u8()}; }
};

}  // namespace

FruService::FruService(std::vector<FruConfig> config, storage::StateStore* store)
    : config_(std::move(config)), store_(store) {}

Result<void> FruService::load() {
  devices_.clear();
  for (const FruConfig& c : config_) {
    if (auto r = loadDevice(c); !r) {
      return makeError(r.error().kind, "FRU device " + std::to_string(c.id) + ": " + r.error().message);
    }
  }
  return {};
}

Result<void> FruService::loadDevice(const FruConfig& c) {
  if (c.id == 0xFF) return makeError(Error::Kind::invalidArgument, "device ID FFh is reserved");
  if (devices_.contains(c.id)) return makeError(Error::Kind::invalidArgument, "configured twice");
  Bytes image;
  if (!c.imagePath.empty()) {
    auto file = readImageFile(c.imagePath);
    if (!file) return file.error();
    image = std::move(*file);
    const ParsedFru parsed = parseFruImage(image);
    for (size_t i = 0; i < parsed.problems.size() && i < kMaxLoggedProblems; ++i) {
      log::warn("fru id={} image={} problem=\"{}\" (served as is)", c.id, c.imagePath, parsed.problems[i]);
    }
    if (parsed.problems.size() > kMaxLoggedProblems) {
      log::warn("fru id={} image={} further_problems={}", c.id, c.imagePath,
                parsed.problems.size() - kMaxLoggedProblems);
    }
  } else {
    auto built = buildFruImage(c.contents);
    if (!built) return built.error();
    image = std::move(*built);
  }
  if (c.size != 0) {
    if (c.size < image.size()) {
      return makeError(Error::Kind::invalidArgument, "size " + std::to_string(c.size) + " is smaller than its " +
                                                         std::to_string(image.size()) + "-byte image");
    }
    if (c.size > kMaxDeviceBytes) return makeError(Error::Kind::invalidArgument, "size is over 65535 bytes");
    image.resize(c.size, 0x00);
  }

  Device d;
  d.name = c.name;
  d.baseFingerprint = fingerprint(image);
  d.image = std::move(image);
  if (store_ != nullptr) {
    auto base = store_->get(baseKey(c.id));
    if (!base) return base.error();
    auto saved = store_->get(imageKey(c.id));
    if (!saved) return saved.error();
    d.baseStored = base->has_value() && **base == u64le(d.baseFingerprint);
    if (d.baseStored && saved->has_value() && (*saved)->size() == d.image.size()) {
      d.image = std::move(**saved);
      log::info("fru id={} serving the image last written over IPMI", c.id);
    } else if (saved->has_value()) {
      log::info("fru id={} configured image changed since the last Write FRU Data; serving the configured image",
                c.id);
    }
  }
  log::debug("fru id={} name=\"{}\" size={} source={}", c.id, c.name, d.image.size(),
             c.imagePath.empty() ? "config" : c.imagePath);
  devices_.emplace(c.id, std::move(d));
  return {};
}

void FruService::registerCommands(CommandRegistry& registry) {
  // Privileges from IPMI v2.0 Appendix G: reads need User, writes Operator.
  registry.add<DeviceRequest>(netfn::storage, cmd::getFruInventoryAreaInfo, Privilege::user,
                              [this](const RequestContext&, const DeviceRequest& q) { return getAreaInfo(q.id); });
  registry.add<ReadRequest>(netfn::storage, cmd::readFruData, Privilege::user,
                            [this](const RequestContext&, const ReadRequest& q) {
                              return read(q.id, q.offset, q.count);
                            });
  registry.add<WriteRequest>(netfn::storage, cmd::writeFruData, Privilege::operator_,
                             [this](const RequestContext&, const WriteRequest& q) {
                               return write(q.id, q.offset, q.data);
                             });
}

std::vector<FruDevice> FruService::devices() const {
  std::vector<FruDevice> out;
  for (const auto& [id, d] : devices_) out.push_back(FruDevice{id, d.name, d.image.size()});
  return out;
}

const Bytes* FruService::image(uint8_t id) const {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : &it->second.image;
}

// §34.1, Table 34-1: inventory area size LS/MS, access type.
Reply FruService::getAreaInfo(uint8_t id) const {
  const Bytes* img = image(id);
  if (img == nullptr) return Cc::notPresent;
  Bytes out;
  Writer(out).u16le(static_cast<uint16_t>(img->size())).u8(kAccessByBytes);
  return Reply::ok(std::move(out));
}

// §34.2, Table 34-2: count returned, then the data. A read that starts inside the area and runs past
// its end returns the bytes that exist (clients loop on the count returned); one that starts at or
// past the end is out of range (C9h), so a client walking past the end stops instead of looping on
// a zero count. A count above kMaxReadCount is CAh so clients retry smaller.
Reply FruService::read(uint8_t id, uint16_t offset, uint8_t count) const {
  const Bytes* img = image(id);
  if (img == nullptr) return Cc::notPresent;
  if (offset >= img->size()) return Cc::parameterOutOfRange;
  const size_t n = std::min<size_t>(count, img->size() - offset);
  if (n > kMaxReadCount) return Cc::cannotReturnRequestedBytes;
  Bytes out;
  out.reserve(1 + n);
  Writer(out).u8(static_cast<uint8_t>(n)).bytes(ByteView(*img).subspan(offset, n));
  return Reply::ok(std::move(out));
}

// §34.3, Table 34-3: count written. All or nothing: a write that would run past the end of the
// area is out of range (C9h) and changes nothing. More than 255 bytes cannot be acknowledged in
// the one-byte count (C8h, so clients shrink their writes).
Reply FruService::write(uint8_t id, uint16_t offset, ByteView data) {
  auto it = devices_.find(id);
  if (it == devices_.end()) return Cc::notPresent;
  Device& d = it->second;
  if (data.size() > 0xFF) return Cc::lengthExceeded;
  if (offset >= d.image.size() || data.size() > d.image.size() - offset) return Cc::parameterOutOfRange;
  Bytes next = d.image;
  std::copy(data.begin(), data.end(), next.begin() + offset);
  if (store_ != nullptr) {
    // The image first: a crash between the two puts leaves a base that does not match, so the
    // configured image is served, never an image written against another configuration.
    if (auto r = store_->put(imageKey(id), next); !r) {
      log::error("fru id={} write not persisted what={}", id, r.error().message);
      return storeErrorCc(r.error());
    }
    if (!d.baseStored) {
      if (auto r = store_->put(baseKey(id), u64le(d.baseFingerprint)); !r) {
        log::error("fru id={} write not persisted what={}", id, r.error().message);
        return storeErrorCc(r.error());
      }
      d.baseStored = true;
    }
  }
  d.image = std::move(next);
  log::debug("fru id={} wrote offset={} count={}", id, offset, data.size());
  return Reply::ok(Bytes{static_cast<uint8_t>(data.size())});
}

}  // namespace simbmc::bmc
