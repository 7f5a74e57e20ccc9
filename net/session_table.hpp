// SessionTable: the live IPMI sessions of one LAN channel, v1.5 and v2.0 (RMCP+).
//
// Owns session ids (CSPRNG, 32-bit, non-zero, unique while live), handles, keys (wiped on close),
// sequence windows and the per-session response cache. Pending sessions (Open Session or Get Session
// Challenge done, not yet authenticated) live in a separately capped pool so a flood of new sessions
// can neither exhaust active slots nor disturb active sessions. Single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "net/channel_security.hpp"
#include "net/crypto.hpp"
#include "net/dispatch.hpp"

namespace simbmc::net {

// A UDP peer, kept Asio-free so the packet core can be fuzzed and unit tested.
struct PeerAddress {
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes when !v6
  bool v6 = false;
  uint16_t port = 0;
  bool operator==(const PeerAddress&) const = default;
};

// Anti-replay window over 32-bit session sequence numbers: accepts up to `ahead` beyond the highest
// accepted number and up to `behind` below it, each number once (bitmap). Advance only after the
// packet authenticated.
class SequenceWindow {
 public:
  SequenceWindow(uint32_t behind, uint32_t ahead) : behind_(behind), ahead_(ahead) {}
  // Starts the window so that `first` is the next acceptable number.
  void startAt(uint32_t first);
  bool acceptable(uint32_t seq) const;
  void accept(uint32_t seq);

 private:
  uint32_t behind_, ahead_;
  uint32_t highest_ = 0;
  uint64_t seen_ = 0;  // bit d = highest_ - d was accepted
  bool started_ = false;
};

enum class SessionState : uint8_t {
  challenged,   // v1.5: Get Session Challenge answered, waiting for Activate Session
  opened,       // v2.0: Open Session answered, waiting for RAKP 1
  rakp2Sent,    // v2.0: RAKP 2 sent, waiting for RAKP 3
  active,
};

struct CachedResponse {
  Bytes request;   // the complete IPMI request message: a retry repeats it exactly
  Bytes message;   // the complete IPMI response message that was sent
  SteadyTime at{};
};

// A payload other than IPMI messages activated in the session (§24.1), e.g. SOL.
struct OpenPayload {
  uint8_t type = 0;
  PayloadGrant grant;
};

struct Session {
  uint32_t id = 0;          // BMC session id (SIDc)
  uint32_t remoteId = 0;    // console session id (SIDm), v2.0
  uint8_t handle = 0;       // 1..255 once active
  SessionState state = SessionState::opened;
  bool ipmi20 = true;
  uint8_t channel = 1;
  PeerAddress peer;
  SteadyTime created{}, lastActivity{};

  // Authorization
  uint8_t userId = 0;
  std::string userName;
  Privilege requestedMax = Privilege::none;  // Open Session / Activate Session request
  Privilege maxPrivilege = Privilege::user;  // min(user, channel, cipher suite, requested)
  Privilege privilege = Privilege::user;     // current level (Set Session Privilege)

  // v2.0
  crypto::CipherSuite suite{};
  uint8_t openTag = 0;
  uint8_t rakpRole = 0;
  std::array<uint8_t, 16> consoleRandom{}, bmcRandom{};
  Bytes userKey;  // password zero-padded to 20 bytes
  Bytes sik, k1, k2;
  std::unique_ptr<crypto::SessionCipher> cipher;  // keyed from suite/k1/k2/userKey on first use
  uint32_t outboundSeq = 0;

  // v1.5
  crypto::AuthType15 authType = crypto::AuthType15::none;
  std::array<uint8_t, 16> challenge{};
  Bytes password16;

  SequenceWindow window{16, 15};
  std::vector<CachedResponse> cache;  // small ring, newest last
  bool closeAfterReply = false;
  std::vector<OpenPayload> payloads;  // activated non-IPMI payloads (at most one per type)

  OpenPayload* findPayload(uint8_t type);
  // The session's keyed integrity/AES contexts, created from suite, k1, k2 and userKey the first
  // time; nullptr when they cannot be (missing keys, OpenSSL failure).
  crypto::SessionCipher* sessionCipher();

  ~Session();  // wipes keys
};

class SessionTable final : public SessionControl {
 public:
  static constexpr size_t kMaxPending = 64;
  static constexpr auto kPendingTimeout = std::chrono::seconds(5);

  SessionTable(const ChannelSecurity& security, const Clock& clock) : security_(security), clock_(clock) {}

  // Creates a pending session with a fresh id; evicts the oldest pending one when the pool is full.
  Session* createPending(bool ipmi20, const PeerAddress& peer);
  Session* find(uint32_t id);
  // Moves a pending session to active: assigns a handle. False (and the session is removed) when the
  // active table is full.
  bool activate(Session& s);
  void remove(uint32_t id);
  // Drops active sessions idle longer than the timeout and pending ones older than kPendingTimeout.
  void expire();
  // Called with the id of every active session removed (remove(), expire(), Close Session), after
  // it is gone. The callback may use the table.
  void setOnClose(std::function<void(uint32_t)> fn) { onClose_ = std::move(fn); }
  std::vector<uint32_t> activeIds() const;
  size_t pendingCount() const;
  size_t size() const { return sessions_.size(); }

  // SessionControl
  Cc setPrivilege(uint32_t sessionId, Privilege requested, Privilege& out) override;
  Cc closeSession(uint32_t callerSessionId, uint32_t targetId, uint8_t targetHandle) override;
  uint8_t maxSessions() const override { return security_.maxSessions; }
  uint8_t activeSessions() const override;
  std::optional<SessionInfo> findById(uint32_t sessionId) const override;
  std::optional<SessionInfo> findByHandle(uint8_t handle) const override;
  std::optional<SessionInfo> findByIndex(uint8_t index) const override;

 private:
  static SessionInfo infoOf(const Session& s);
  const ChannelSecurity& security_;
  const Clock& clock_;
  std::unordered_map<uint32_t, std::unique_ptr<Session>> sessions_;
  std::function<void(uint32_t)> onClose_;
};

}  // namespace simbmc::net
