// CommandRegistry: one line registers (netfn, cmd, privilege, handler); the registry is the
// Dispatcher and owns the policy every handler would otherwise repeat (after phosphor-host-ipmid):
//   unknown (netfn, cmd) or LUN -> 0xC1; request too short or too long -> 0xC7 (strict length, via
//   the request type's decode); decode says a field is invalid -> 0xCC; session privilege below the
//   command's -> 0xD4; a handler that throws -> 0xFF; outside a session only commands registered as
//   pre-session are answered, anything else is dropped.
// A Reply carries data only with Cc::ok, so an error reply can never leak a payload.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

#include "common/cc.hpp"
#include "common/ipmi_types.hpp"
#include "common/result.hpp"
#include "net/dispatch.hpp"
#include "net/wire.hpp"

namespace simbmc::bmc {

using net::ByteView;
using net::Bytes;
using net::Reader;
using net::RequestContext;
using net::Writer;

class Reply {
 public:
  Reply(Cc cc) : cc_(cc) {}  // NOLINT: implicit so handlers can `return Cc::invalidField;`
  static Reply ok(Bytes data = {}) { return Reply(Cc::ok, std::move(data)); }
  Cc cc() const { return cc_; }
  const Bytes& data() const { return data_; }
  Bytes& data() { return data_; }

 private:
  Reply(Cc cc, Bytes data) : cc_(cc), data_(std::move(data)) {}
  Cc cc_;
  Bytes data_;
};

// The completion code for a failed write to storage: 0xC4 when the disk or store is full,
// 0xFF otherwise (SECURITY.md "Durability"). Services with a better code for a case check it first.
inline Cc storeErrorCc(const Error& e) { return e.kind == Error::Kind::full ? Cc::outOfSpace : Cc::unspecified; }

// Request types decode themselves from a Reader: read every field, return nullopt for an invalid
// field value (0xCC). Running out of bytes or leaving bytes over is caught by the registry (0xC7).
struct NoData {
  static std::optional<NoData> decode(Reader&) { return NoData{}; }
};

enum class Access : uint8_t { session, preSession };

class CommandRegistry final : public net::Dispatcher {
 public:
  using RawHandler = std::function<Reply(const RequestContext&, Reader&)>;

  // A handler that reads the request itself. It must leave the Reader done() on success.
  void addRaw(uint8_t netfn, uint8_t cmd, Privilege privilege, RawHandler handler,
              Access access = Access::session);

  // The usual form: Req::decode(Reader&) -> std::optional<Req>, then fn(ctx, req) -> Reply.
  template <typename Req, typename Fn>
  void add(uint8_t netfn, uint8_t cmd, Privilege privilege, Fn fn, Access access = Access::session) {
    addRaw(
        netfn, cmd, privilege,
        [fn = std::move(fn)](const RequestContext& ctx, Reader& r) -> Reply {
          std::optional<Req> req = Req::decode(r);
          if (!r.done()) return Cc::invalidLength;
          if (!req) return Cc::invalidField;
          return fn(ctx, *req);
        },
        access);
  }

  // Puts `wrapper` in front of the handler registered for (netfn, cmd), keeping its privilege and
  // access: the wrapper sees each request first (with the Reader at its start) and answers it or
  // calls `next`. For a service that owns part of another's command space, such as the watchdog's
  // sensor among the configured sensors. False (nothing changed) when nothing is registered.
  using Wrapper = std::function<Reply(const RequestContext&, Reader&, const RawHandler& next)>;
  bool wrap(uint8_t netfn, uint8_t cmd, Wrapper wrapper);

  bool contains(uint8_t netfn, uint8_t cmd) const { return handlers_.contains(key(netfn, cmd)); }
  std::optional<Privilege> privilegeOf(uint8_t netfn, uint8_t cmd) const;

  std::optional<net::IpmiResponse> dispatch(const RequestContext& ctx, const net::IpmiRequest& req) override;

 private:
  struct Entry {
    Privilege privilege;
    Access access;
    RawHandler handler;
  };
  static uint16_t key(uint8_t netfn, uint8_t cmd) { return static_cast<uint16_t>((netfn << 8) | cmd); }
  std::unordered_map<uint16_t, Entry> handlers_;
};

}  // namespace simbmc::bmc
