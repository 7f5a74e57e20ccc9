// The one meeting point of net/ and bmc/: a decoded IPMI request with where it came from, and the
// Dispatcher that answers it. net/ knows nothing about commands; bmc/ knows nothing about packets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "common/cc.hpp"
#include "common/ipmi_types.hpp"
#include "net/wire.hpp"

namespace simbmc::net {

class SessionControl;

// Where a request came from and with what authority.
struct RequestContext {
  uint8_t channel = 1;                     // the channel the request arrived on (never 0x0E)
  Privilege privilege = Privilege::none;   // the session's current privilege (none outside a session)
  bool outOfSession = false;               // a LAN packet with session id 0 (pre-session commands only)
  bool ipmi20 = false;                     // arrived in RMCP+ framing (or asked for v2 data)
  uint32_t sessionId = 0;                  // BMC-side session id, 0 outside a session
  uint8_t userId = 0;                      // 0 outside a session
  SessionControl* sessions = nullptr;      // the channel's session table (null on session-less channels)
};

struct IpmiRequest {
  uint8_t netfn = 0;  // request NetFn (even)
  uint8_t lun = 0;
  uint8_t cmd = 0;
  ByteView data;
};

struct IpmiResponse {
  Cc cc = Cc::ok;
  Bytes data;  // response data after the completion code
};

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Returns the response, or nullopt when the request must be dropped without a reply
  // (a command that is not allowed outside a session).
  virtual std::optional<IpmiResponse> dispatch(const RequestContext& ctx, const IpmiRequest& req) = 0;
};

// Read-only view of one session for Get Session Info (IPMI v2.0 §22.20).
struct SessionInfo {
  uint8_t handle = 0;
  uint32_t sessionId = 0;
  uint8_t userId = 0;
  Privilege privilege = Privilege::none;
  uint8_t channel = 1;
  bool ipmi20 = false;
  std::array<uint8_t, 4> remoteIp{};  // IPv4 (zeros for IPv6 peers)
  uint16_t remotePort = 0;
};

// What session commands (Set Session Privilege, Close Session, Get Session Info) need from the
// session layer. Implemented by net::SessionTable.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Set Session Privilege Level (§22.18): `requested` none = read only. Returns the new level or a cc
  // (0x80 requested level not available for this user, 0x81 exceeds the channel/user limit).
  virtual Cc setPrivilege(uint32_t sessionId, Privilege requested, Privilege& out) = 0;
  // Close Session (§22.19): by id, or by handle when id == 0. The caller's own session closes after
  // the reply has been sent. 0x87 invalid session id, 0x88 invalid handle.
  virtual Cc closeSession(uint32_t callerSessionId, uint32_t targetId, uint8_t targetHandle) = 0;
  virtual uint8_t maxSessions() const = 0;
  virtual uint8_t activeSessions() const = 0;
  virtual std::optional<SessionInfo> findById(uint32_t sessionId) const = 0;
  virtual std::optional<SessionInfo> findByHandle(uint8_t handle) const = 0;
  // The n-th active session (1-based) in handle order.
  virtual std::optional<SessionInfo> findByIndex(uint8_t index) const = 0;
};

}  // namespace simbmc::net
