#include "bmc/registry.hpp"

#include <exception>

#include "common/log.hpp"

namespace simbmc::bmc {

void CommandRegistry::addRaw(uint8_t netfn, uint8_t cmd, Privilege privilege, RawHandler handler, Access access) {
  handlers_[key(netfn, cmd)] = Entry{privilege, access, std::move(handler)};
}

bool CommandRegistry::wrap(uint8_t netfn, uint8_t cmd, Wrapper wrapper) {
  auto it = handlers_.find(key(netfn, cmd));
  if (it == handlers_.end()) return false;
  it->second.handler = [next = std::move(it->second.handler), wrapper = std::move(wrapper)](const RequestContext& ctx,
                                                                                              Reader& r) {
    return wrapper(ctx, r, next);
  };
  return true;
}

std::optional<Privilege> CommandRegistry::privilegeOf(uint8_t netfn, uint8_t cmd) const {
  auto it = handlers_.find(key(netfn, cmd));
  if (it == handlers_.end()) return std::nullopt;
  return it->second.privilege;
}

namespace {
void logHandlerFailure(const net::IpmiRequest& req, const char* what) {
  static log::RateLimit limit(5, std::chrono::seconds(60));  // one limiter for the process's handlers
  if (limit.allow()) log::error("handler failed netfn=0x{:02x} cmd=0x{:02x} what={}", req.netfn, req.cmd, what);
}
}  // namespace

std::optional<net::IpmiResponse> CommandRegistry::dispatch(const RequestContext& ctx, const net::IpmiRequest& req) {
  auto it = handlers_.find(key(req.netfn, req.cmd));
  if (ctx.outOfSession) {
    // Before a session exists only the pre-session commands are answered (SECURITY.md); anything
    // else would let unauthenticated peers probe or amplify.
    if (it == handlers_.end() || it->second.access != Access::preSession) return std::nullopt;
  }
  if (it == handlers_.end() || req.lun != 0) return net::IpmiResponse{Cc::invalidCommand, {}};
  const Entry& e = it->second;
  if (!ctx.outOfSession && !atLeast(ctx.privilege, e.privilege)) {
    return net::IpmiResponse{Cc::insufficientPrivilege, {}};
  }
  Reader r(req.data);
  try {
    Reply reply = e.handler(ctx, r);
    net::IpmiResponse out{reply.cc(), {}};
    if (reply.cc() == Cc::ok) out.data = std::move(reply.data());
    return out;
  } catch (const std::exception& ex) {
    logHandlerFailure(req, ex.what());
  } catch (...) {
    logHandlerFailure(req, "unknown exception");
  }
  return net::IpmiResponse{Cc::unspecified, {}};
}

}  // namespace simbmc::bmc
