#include "bmc/lan_config.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "net/crypto.hpp"

namespace simbmc::bmc {
namespace {

constexpr uint8_t kParameterRevision = 0x11;
constexpr Cc kParameterNotSupported{0x80};
constexpr Cc kSetInProgress{0x81};
constexpr Cc kReadOnlyParameter{0x82};
constexpr uint8_t kAuthTypesImplemented = 0x17;  // none, MD2, MD5, straight password (§23.2 param 1)
constexpr uint8_t kAuthTypesSecure = 0x04;       // MD5 only without lab mode

// Writable parameters stored as given, with their exact lengths (Table 23-4).
struct PlainParam {
  uint8_t id;
  uint8_t length;
};
constexpr PlainParam kPlain[] = {{3, 4},  {4, 1},  {5, 6},  {6, 4},  {7, 3}, {10, 1}, {11, 1},
                                 {12, 4}, {13, 6}, {14, 4}, {15, 6}, {16, 18}, {20, 2}, {21, 1}};

std::optional<uint8_t> plainLength(uint8_t id) {
  for (const auto& p : kPlain) {
    if (p.id == id) return p.length;
  }
  return std::nullopt;
}

uint8_t resolve(const RequestContext& ctx, uint8_t raw) {
  const uint8_t ch = raw & 0x0F;
  return ch == kCurrentChannel ? ctx.channel : ch;
}

}  // namespace

LanConfig::LanConfig(net::ChannelSecurity& security, UserDb& users, storage::StateStore* store, bool allowInsecure,
                     LanIdentity identity)
    : security_(security), users_(users), store_(store), allowInsecure_(allowInsecure), identity_(identity) {
  authEnables_.fill(security_.authTypes15);
  auto put = [&](uint8_t id, Bytes v) { plain_[id] = std::move(v); };
  put(3, Bytes(identity_.ipAddress.begin(), identity_.ipAddress.end()));
  put(4, {0x01});  // static
  put(5, Bytes(identity_.macAddress.begin(), identity_.macAddress.end()));
  put(6, Bytes(identity_.subnetMask.begin(), identity_.subnetMask.end()));
  put(7, {0x40, 0x40, 0x10});  // TTL 64, don't fragment, TOS "minimize delay" (spec defaults)
  put(10, {0x00});
  put(11, {0x00});
  put(12, Bytes(4, 0));
  put(13, Bytes(6, 0));
  put(14, Bytes(4, 0));
  put(15, Bytes(6, 0));
  Bytes community(18, 0);
  std::copy_n("public", 6, community.begin());
  put(16, community);
  put(20, {0x00, 0x00});
  put(21, {0x00});
  volatile_.privilegeLimit = nonVolatile_.privilegeLimit = security_.channelPrivilegeLimit;
}

Cc LanConfig::persist(const std::string& key, const Bytes& value) {
  if (store_ == nullptr) return Cc::ok;
  auto r = store_->put(key, value);
  if (r) return Cc::ok;
  return storeErrorCc(r.error());
}

Result<void> LanConfig::load() {
  if (store_ != nullptr) {
    auto saved = store_->scan("lan.");
    if (!saved) return saved.error();
    for (const auto& [key, value] : *saved) {
      if (key.rfind("lan.param.", 0) != 0) continue;
      const int id = std::atoi(key.c_str() + 10);
      auto len = plainLength(static_cast<uint8_t>(id));
      if (len && value.size() == *len) plain_[static_cast<uint8_t>(id)] = value;
    }
    for (uint8_t p : {uint8_t{2}, uint8_t{24}, uint8_t{26}}) {
      auto v = store_->get("lan.live." + std::to_string(p));
      if (!v) return v.error();
      if (v->has_value()) set(p, **v);
    }
    auto access = store_->get("channel.access");
    if (!access) return access.error();
    if (access->has_value() && (*access)->size() == 2) {
      const Bytes& a = **access;
      nonVolatile_.alertingDisabled = (a[0] & 0x20) != 0;
      nonVolatile_.perMessageAuthDisabled = (a[0] & 0x10) != 0;
      nonVolatile_.userLevelAuthDisabled = (a[0] & 0x08) != 0;
      nonVolatile_.accessMode = a[0] & 0x07;
      nonVolatile_.privilegeLimit = privilegeFromByte(a[1] & 0x0F).value_or(Privilege::administrator);
    }
  }
  volatile_ = nonVolatile_;
  applyAccess();
  if (volatile_.accessMode == 0) {
    // Stored by a non-volatile Set Channel Access (`ipmitool lan set 1 access off` sets both): no
    // session can be set up over this channel, and it is the only one; say how to undo it.
    log::warn("lan channel {} starts disabled (stored access mode); no session can be set up over it. To "
              "enable it, stop simbmcd and run: sqlite3 <state-dir>/state.db \"DELETE FROM settings WHERE "
              "key='channel.access'\"",
              security_.channel);
  }
  return {};
}

void LanConfig::applyAccess() {
  security_.channelEnabled = volatile_.accessMode != 0;
  security_.perMessageAuth = !volatile_.perMessageAuthDisabled;
  security_.channelPrivilegeLimit = volatile_.privilegeLimit;
}

Bytes LanConfig::encodeAccess(const ChannelAccess& a) const {
  return {static_cast<uint8_t>((a.alertingDisabled ? 0x20 : 0) | (a.perMessageAuthDisabled ? 0x10 : 0) |
                               (a.userLevelAuthDisabled ? 0x08 : 0) | (a.accessMode & 0x07)),
          static_cast<uint8_t>(static_cast<uint8_t>(a.privilegeLimit) & 0x0F)};
}

std::variant<Bytes, Cc> LanConfig::get(uint8_t param, uint8_t /*setSelector*/, uint8_t /*blockSelector*/) const {
  Bytes out;
  Writer w(out);
  switch (param) {
    case 0: w.u8(setInProgress_); break;
    case 1: w.u8(kAuthTypesImplemented); break;
    case 2:
      for (uint8_t b : authEnables_) w.u8(b);
      break;
    case 17: w.u8(0x00); break;  // no alert destinations
    case 22: w.u8(static_cast<uint8_t>(security_.cipherSuites.size() & 0x1F)); break;
    case 23:
      w.u8(0x00);
      for (uint8_t id : security_.cipherSuites) w.u8(id);
      break;
    case 24: {
      // Reserved byte, then one nibble per cipher suite *id* 0..15 (id 0 in the low nibble of the
      // first byte): how ipmitool (`lan set cipher_privs`, "position = suite number") and FreeIPMI's
      // ipmi-config (Maximum_Privilege_Cipher_Suite_Id_N) read the table the spec leaves ambiguous.
      // Suites that are not enabled read 0 ("unused"); ids above 15 have no slot.
      std::array<uint8_t, 8> nibbles{};
      for (uint8_t id : security_.cipherSuites) {
        if (id > 15) continue;
        const uint8_t p = static_cast<uint8_t>(security_.suitePrivilegeLimit[id]) & 0x0F;
        nibbles[id / 2] |= static_cast<uint8_t>(id % 2 == 0 ? p : p << 4);
      }
      w.u8(0x00).bytes(nibbles);
      break;
    }
    case 26: {
      auto& l = const_cast<UserDb&>(users_).lockoutPolicy();
      w.u8(l.generateEvent ? 1 : 0).u8(l.threshold).u16le(l.resetInterval10s).u16le(l.lockoutInterval10s);
      break;
    }
    default: {
      auto it = plain_.find(param);
      if (it == plain_.end()) return kParameterNotSupported;
      w.bytes(it->second);
    }
  }
  return out;
}

Cc LanConfig::set(uint8_t param, ByteView data) {
  switch (param) {
    case 0: {
      if (data.size() != 1) return Cc::invalidLength;
      const uint8_t v = data[0] & 0x03;
      if (v == 0x03) return Cc::invalidField;
      if (v == 0x01 && setInProgress_ == 0x01) return kSetInProgress;
      // Every write takes effect at once, so "commit write" has nothing left to do.
      setInProgress_ = v == 0x02 ? setInProgress_ : v;
      return Cc::ok;
    }
    case 1:
    case 17:
    case 22:
    case 23: return kReadOnlyParameter;
    case 2: {
      if (data.size() != 5) return Cc::invalidLength;
      uint8_t all = 0;
      for (uint8_t b : data) {
        if ((b & ~kAuthTypesImplemented) != 0) return Cc::invalidField;
        all |= b;
      }
      if (!allowInsecure_ && (all & ~kAuthTypesSecure) != 0) return Cc::invalidField;
      if (Cc cc = persist("lan.live.2", Bytes(data.begin(), data.end())); cc != Cc::ok) return cc;
      std::copy(data.begin(), data.end(), authEnables_.begin());
      security_.authTypes15 = all;
      return Cc::ok;
    }
    case 24: {
      if (data.size() != 9) return Cc::invalidLength;
      std::array<Privilege, 20> limits = security_.suitePrivilegeLimit;
      for (uint8_t id = 0; id < 16; ++id) {
        const uint8_t nibble = (id % 2 == 0 ? data[1 + id / 2] : data[1 + id / 2] >> 4) & 0x0F;
        if (nibble == 0) continue;  // "unused": leaves the suite as it is
        auto p = privilegeFromByte(nibble);
        if (!p) return Cc::invalidField;
        limits[id] = *p;
      }
      if (Cc cc = persist("lan.live.24", Bytes(data.begin(), data.end())); cc != Cc::ok) return cc;
      security_.suitePrivilegeLimit = limits;
      return Cc::ok;
    }
    case 26: {
      if (data.size() != 6) return Cc::invalidLength;
      if ((data[0] & 0xFE) != 0) return Cc::invalidField;
      if (Cc cc = persist("lan.live.26", Bytes(data.begin(), data.end())); cc != Cc::ok) return cc;
      LockoutPolicy& l = users_.lockoutPolicy();
      l.generateEvent = (data[0] & 0x01) != 0;
      l.threshold = data[1];
      l.resetInterval10s = static_cast<uint16_t>(data[2] | (data[3] << 8));
      l.lockoutInterval10s = static_cast<uint16_t>(data[4] | (data[5] << 8));
      return Cc::ok;
    }
    default: {
      auto len = plainLength(param);
      if (!len) return kParameterNotSupported;
      if (data.size() != *len) return Cc::invalidLength;
      if (param == 4 && data[0] > 4) return Cc::invalidField;
      Bytes value(data.begin(), data.end());
      if (Cc cc = persist("lan.param." + std::to_string(param), value); cc != Cc::ok) return cc;
      plain_[param] = std::move(value);
      return Cc::ok;
    }
  }
}

namespace {

struct GetLanRequest {
  uint8_t channel, param, setSelector, blockSelector;
  static std::optional<GetLanRequest> decode(Reader& r) {
    return GetLanRequest{r.u8(), r.u8(), r.u8(), r.u8()};
  }
};

struct SetLanRequest {
  uint8_t channel, param;
  Bytes data;
  static std::optional<SetLanRequest> decode(Reader& r) {
    SetLanRequest q{r.u8(), r.u8(), {}};
    ByteView rest = r.rest();
    q.data.assign(rest.begin(), rest.end());
    if ((q.channel & 0xF0) != 0) return std::nullopt;
    return q;
  }
};

struct GetAccessRequest {
  uint8_t channel, type;
  static std::optional<GetAccessRequest> decode(Reader& r) {
    GetAccessRequest q{r.u8(), r.u8()};
    const uint8_t t = q.type >> 6;
    if ((q.channel & 0xF0) != 0 || (q.type & 0x3F) != 0 || t == 0 || t == 3) return std::nullopt;
    return q;
  }
};

struct SetAccessRequest {
  uint8_t channel, access, privilege;
  static std::optional<SetAccessRequest> decode(Reader& r) {
    SetAccessRequest q{r.u8(), r.u8(), r.u8()};
    if ((q.channel & 0xF0) != 0 || (q.access >> 6) == 3 || (q.privilege >> 6) == 3) return std::nullopt;
    if ((q.access & 0x07) > 3) return std::nullopt;
    if ((q.privilege >> 6) != 0) {
      auto p = privilegeFromByte(q.privilege & 0x0F);
      if (!p || *p == Privilege::none) return std::nullopt;
    }
    return q;
  }
};

}  // namespace

void LanConfig::registerCommands(CommandRegistry& reg) {
  // Get/Set LAN Configuration Parameters, Transport NetFn, IPMI v2.0 §23.1-23.2.
  reg.add<GetLanRequest>(netfn::transport, 0x02, Privilege::operator_,
                         [this](const RequestContext& ctx, const GetLanRequest& q) -> Reply {
                           if (resolve(ctx, q.channel) != security_.channel || (q.channel & 0x70) != 0) {
                             return Cc::invalidField;
                           }
                           if ((q.channel & 0x80) != 0) return Reply::ok({kParameterRevision});
                           auto v = get(q.param, q.setSelector, q.blockSelector);
                           if (auto* cc = std::get_if<Cc>(&v)) return *cc;
                           const Bytes& data = std::get<Bytes>(v);
                           Bytes out;
                           out.reserve(1 + data.size());
                           Writer(out).u8(kParameterRevision).bytes(data);
                           return Reply::ok(std::move(out));
                         });
  reg.add<SetLanRequest>(netfn::transport, 0x01, Privilege::administrator,
                         [this](const RequestContext& ctx, const SetLanRequest& q) -> Reply {
                           if (resolve(ctx, q.channel) != security_.channel) return Cc::invalidField;
                           return set(q.param, q.data);
                         });
  // Get/Set Channel Access, App NetFn, IPMI v2.0 §22.22-22.23.
  reg.add<GetAccessRequest>(netfn::app, 0x41, Privilege::user,
                            [this](const RequestContext& ctx, const GetAccessRequest& q) -> Reply {
                              if (resolve(ctx, q.channel) != security_.channel) return Cc::invalidField;
                              return Reply::ok(encodeAccess((q.type >> 6) == 1 ? nonVolatile_ : volatile_));
                            });
  reg.add<SetAccessRequest>(netfn::app, 0x40, Privilege::administrator,
                            [this](const RequestContext& ctx, const SetAccessRequest& q) -> Reply {
                              if (resolve(ctx, q.channel) != security_.channel) return Cc::invalidField;
                              ChannelAccess nv = nonVolatile_, vol = volatile_;
                              auto applyAccessBits = [&](ChannelAccess& a) {
                                a.alertingDisabled = (q.access & 0x20) != 0;
                                a.perMessageAuthDisabled = (q.access & 0x10) != 0;
                                a.userLevelAuthDisabled = (q.access & 0x08) != 0;
                                a.accessMode = q.access & 0x07;
                              };
                              const uint8_t accessSet = q.access >> 6, privSet = q.privilege >> 6;
                              if (accessSet == 1) applyAccessBits(nv);
                              if (accessSet == 2) applyAccessBits(vol);
                              const Privilege p = privilegeFromByte(q.privilege & 0x0F).value_or(Privilege::administrator);
                              if (privSet == 1) nv.privilegeLimit = p;
                              if (privSet == 2) vol.privilegeLimit = p;
                              if (accessSet == 1 || privSet == 1) {
                                if (Cc cc = persist("channel.access", encodeAccess(nv)); cc != Cc::ok) return cc;
                              }
                              nonVolatile_ = nv;
                              volatile_ = vol;
                              applyAccess();
                              if (accessObserver_) accessObserver_();
                              return Reply::ok();
                            });
}

}  // namespace simbmc::bmc
