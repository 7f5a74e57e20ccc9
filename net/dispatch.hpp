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
class PayloadChannel;

// Where a request came from and with what authority.
struct RequestContext {
  uint8_t channel = 1;                     // the channel the request arrived on (never 0x0E)
  Privilege privilege = Privilege::none;   // the session's current privilege (none outside a session)
  bool outOfSession = false;               // a LAN packet with session id 0 (pre-session commands only)
  bool ipmi20 = false;                     // arrived in RMCP+ framing (or asked for v2 data)
  uint32_t sessionId = 0;                  // BMC-side session id, 0 outside a session
  uint8_t userId = 0;                      // 0 outside a session
  SessionControl* sessions = nullptr;      // the channel's session table (null on session-less channels)
  PayloadChannel* payloads = nullptr;      // RMCP+ payload activation and sends (null where none exist)
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
  bool integrity = false;        // v2.0: the cipher suite signs every packet
  bool confidentiality = false;  // v2.0: the cipher suite encrypts payloads
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

// ---- Payloads other than IPMI messages (IPMI v2.0 §13.27.3 Table 13-16: SOL is type 1) -----------
//
// bmc/ activates a payload in a session (Activate Payload, §24.1) through PayloadChannel; from then
// on net/ routes that session's packets of that type, after integrity, decryption and the sequence
// window, to the PayloadHandler, and bmc/ may send packets of that type to the session's console at
// any time (no request needed). Payloads close with the session.

inline constexpr uint8_t kPayloadTypeSol = 0x01;

// How an activated payload travels (§24.1 Table 24-2 auxiliary data).
struct PayloadGrant {
  bool encrypted = true;     // only meaningful when the session's suite has confidentiality
  uint16_t maxInbound = 0;   // largest payload accepted from the console (after decryption)
};

// Implemented by the LAN channel (net::LanChannel). Single-threaded, like everything in net/.
class PayloadChannel {
 public:
  virtual ~PayloadChannel() = default;
  // Accepts `type` packets in an active RMCP+ session from now on. False: no such session.
  virtual bool openPayload(uint32_t sessionId, uint8_t type, const PayloadGrant& grant) = 0;
  virtual void closePayload(uint32_t sessionId, uint8_t type) = 0;
  // Changes the encryption of an open payload (Suspend/Resume Payload Encryption, §24.3).
  virtual bool setPayloadEncrypted(uint32_t sessionId, uint8_t type, bool encrypted) = 0;
  // Wraps `payload` for the session (integrity and encryption as granted) and sends it to the
  // session's console. False when the session is gone, the payload is not open or nothing can send.
  virtual bool sendPayload(uint32_t sessionId, uint8_t type, ByteView payload) = 0;
  // The UDP port this channel's sessions use (Activate Payload reply, SOL parameter 8); 0 if unbound.
  virtual uint16_t localPort() const = 0;
};

// Implemented by bmc/ (the SOL service). Must outlive the channel it is set on, or be unset first.
class PayloadHandler {
 public:
  virtual ~PayloadHandler() = default;
  // An authenticated, decrypted, in-window packet of an open payload type, within the granted size.
  virtual void onPayload(uint32_t sessionId, uint8_t type, ByteView payload) = 0;
  // An active session closed (Close Session, timeout, channel shut down); its payloads are closed.
  virtual void onSessionClosed(uint32_t sessionId) = 0;
};

}  // namespace simbmc::net
