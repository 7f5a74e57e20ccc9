// Get/Set System Info Parameters, App NetFn 0x58/0x59, IPMI v2.0 §22.14a (Table 22-16a).
// String parameters are kept as the spec's block image: encoding, length, then the characters, so
// set selector 0 carries encoding + length + 14 characters and each later selector 16 characters.
#include <map>

#include "bmc/bmc.hpp"

namespace simbmc::bmc {
namespace {

constexpr uint8_t kRevision = 0x11;
constexpr Cc kParameterNotSupported{0x80};
constexpr Cc kSetInProgress{0x81};
constexpr Cc kReadOnly{0x82};
constexpr uint8_t kMaxSelectors = 16;  // 14 + 15 * 16 = 254 characters at most

Bytes stringImage(std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), 254);
  Bytes img;
  img.reserve(2 + n);
  Writer(img).u8(0x00).u8(static_cast<uint8_t>(n));  // encoding ASCII+Latin1, length
  for (size_t i = 0; i < n; ++i) img.push_back(static_cast<uint8_t>(s[i]));
  return img;
}

struct GetRequest {
  uint8_t flags, param, setSelector, blockSelector;
  static std::optional<GetRequest> decode(Reader& r) { return GetRequest{r.u8(), r.u8(), r.u8(), r.u8()}; }
};

struct SetRequest {
  uint8_t param;
  Bytes data;
  static std::optional<SetRequest> decode(Reader& r) {
    SetRequest q{r.u8(), {}};
    ByteView rest = r.rest();
    q.data.assign(rest.begin(), rest.end());
    return q;
  }
};

}  // namespace

void registerSystemInfo(Bmc& bmc) {
  Bmc* b = &bmc;
  auto& info = bmc.systemInfo();
  if (!info.contains(1)) info[1] = stringImage(bmc.identity().firmwareVersion);
  if (!info.contains(2)) info[2] = stringImage(bmc.identity().systemName);
  for (uint8_t p = 3; p <= 7; ++p) {
    if (!info.contains(p)) info[p] = stringImage("");
  }

  bmc.registry().add<GetRequest>(netfn::app, 0x59, Privilege::user, [b](const RequestContext&, const GetRequest& q) -> Reply {
    if ((q.flags & 0x80) != 0) return Reply::ok({kRevision});
    if (q.param == 0) return Reply::ok({kRevision, b->app().sysInfoSetInProgress});
    auto it = b->systemInfo().find(q.param);
    if (it == b->systemInfo().end()) return kParameterNotSupported;
    if (q.setSelector >= kMaxSelectors) return Cc::invalidField;
    const Bytes& img = it->second;
    const size_t offset = static_cast<size_t>(q.setSelector) * 16;
    Bytes out{kRevision, q.setSelector};
    for (size_t i = 0; i < 16; ++i) out.push_back(offset + i < img.size() ? img[offset + i] : 0);
    return Reply::ok(std::move(out));
  });

  bmc.registry().add<SetRequest>(netfn::app, 0x58, Privilege::administrator, [b](const RequestContext&, const SetRequest& q) -> Reply {
    if (q.param == 0) {
      if (q.data.size() != 1) return Cc::invalidLength;
      const uint8_t v = q.data[0] & 0x03;
      if (v == 0x03) return Cc::invalidField;
      if (v == 0x01 && b->app().sysInfoSetInProgress == 0x01) return kSetInProgress;
      if (v != 0x02) b->app().sysInfoSetInProgress = v;
      return Reply::ok();
    }
    auto it = b->systemInfo().find(q.param);
    if (it == b->systemInfo().end()) return kParameterNotSupported;
    if (q.param == 1) return kReadOnly;  // the system firmware reports its own version
    if (q.data.size() != 17) return Cc::invalidLength;
    const uint8_t selector = q.data[0];
    if (selector >= kMaxSelectors) return Cc::invalidField;
    if (selector == 0 && ((q.data[1] & 0x0F) > 2 || q.data[2] > 254)) return Cc::invalidField;
    Bytes img = it->second;
    const size_t offset = static_cast<size_t>(selector) * 16;
    if (img.size() < offset + 16) img.resize(offset + 16, 0);
    std::copy(q.data.begin() + 1, q.data.end(), img.begin() + static_cast<std::ptrdiff_t>(offset));
    img.resize(std::max<size_t>(2 + img[1], std::min<size_t>(img.size(), 2 + img[1])));
    if (b->store() != nullptr) {
      auto r = b->store()->put("sysinfo." + std::to_string(q.param), img);
      if (!r) return storeErrorCc(r.error());
    }
    it->second = std::move(img);
    return Reply::ok();
  });
}

}  // namespace simbmc::bmc
