// LanChannel: the packet path of one IPMI LAN channel, without sockets.
//
// handle() takes one UDP datagram and returns the datagram to send back, if any: RMCP and ASF
// presence ping (DMTF DSP0136), IPMI v1.5 sessions (IPMI v2.0 §22.15-22.17: Get Session Challenge,
// Activate Session, auth codes), RMCP+ (§13.15-13.33: Open Session, RAKP 1-4, integrity and
// confidentiality), sequence windows and the response cache, then the Dispatcher for every IPMI
// request. Anything that fails parsing or authentication is dropped and counted, never answered
// with a per-packet log line. Single-threaded; the UDP server and the fuzzer both drive this.
//
// Payloads other than IPMI messages (SOL) are activated by bmc/ through the PayloadChannel interface
// (net/dispatch.hpp); their packets go to the PayloadHandler and never produce a reply from handle().
// Whatever the channel sends unsolicited (SOL data, acks) leaves through the transmit callback the
// UDP server installs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "common/clock.hpp"
#include "net/channel_security.hpp"
#include "net/dispatch.hpp"
#include "net/session_table.hpp"

namespace simbmc::net {

enum class Drop : uint8_t {
  malformed,          // truncated, bad lengths, bad checksums, unknown classes or formats
  notAllowed,         // well-formed but not acceptable outside a session / in this state
  unknownSession,
  authFailed,         // bad auth code / integrity / RAKP 3 HMAC
  replay,             // outside the sequence window or a duplicate
  decryptFailed,      // a payload that does not decrypt (or, on an OpenSSL failure, a reply that cannot be sealed)
  wrongPeer,
  oversized,          // a payload above the size granted at activation (SOL: max inbound payload)
  count_
};

struct ChannelCounters {
  uint64_t received = 0;
  uint64_t replied = 0;
  uint64_t asfPings = 0;
  uint64_t cacheHits = 0;
  uint64_t sessionsOpened = 0;
  uint64_t loginFailures = 0;
  uint64_t payloadsReceived = 0;  // non-IPMI payloads handed to the PayloadHandler
  uint64_t payloadsSent = 0;      // unsolicited packets given to the transmit callback
  std::array<uint64_t, static_cast<size_t>(Drop::count_)> dropped{};
  uint64_t totalDropped() const;
};

class LanChannel final : public PayloadChannel {
 public:
  using Transmit = std::function<void(const PeerAddress&, ByteView)>;

  LanChannel(ChannelSecurity& security, CredentialStore& credentials, Dispatcher& dispatcher,
             const Clock& clock, std::array<uint8_t, 16> systemGuid);
  // Tells the payload handler that every active session is closing.
  ~LanChannel() override;
  LanChannel(const LanChannel&) = delete;
  LanChannel& operator=(const LanChannel&) = delete;

  // One datagram in, at most one datagram out (anything else leaves through the transmit callback).
  std::optional<Bytes> handle(ByteView datagram, const PeerAddress& peer);

  // Wiring: the payload handler (bmc/), the socket's send function and its port. Null/0 to unset.
  void setPayloadHandler(PayloadHandler* handler) { payloadHandler_ = handler; }
  void setTransmit(Transmit transmit) { transmit_ = std::move(transmit); }
  void setLocalPort(uint16_t port) { localPort_ = port; }

  // PayloadChannel
  bool openPayload(uint32_t sessionId, uint8_t type, const PayloadGrant& grant) override;
  void closePayload(uint32_t sessionId, uint8_t type) override;
  bool setPayloadEncrypted(uint32_t sessionId, uint8_t type, bool encrypted) override;
  bool sendPayload(uint32_t sessionId, uint8_t type, ByteView payload) override;
  uint16_t localPort() const override { return localPort_; }

  SessionTable& sessions() { return sessions_; }
  const ChannelCounters& counters() const { return counters_; }
  const ChannelSecurity& security() const { return security_; }

 private:
  std::optional<Bytes> handleAsf(ByteView body, uint8_t rmcpSeq);
  std::optional<Bytes> handleV15(ByteView ipmi, const PeerAddress& peer);
  std::optional<Bytes> handleV20(ByteView ipmi, const PeerAddress& peer);
  std::optional<Bytes> openSession(ByteView payload, const PeerAddress& peer);
  std::optional<Bytes> rakp1(ByteView payload, const PeerAddress& peer);
  std::optional<Bytes> rakp3(ByteView payload, const PeerAddress& peer);
  std::optional<Bytes> getSessionChallenge(const struct LanMessage& msg, const PeerAddress& peer);
  std::optional<Bytes> activateSession(const struct LanMessage& msg, ByteView header, Session& s);

  // Runs one IPMI request (after authentication) through the cache and the dispatcher; returns the
  // IPMI response message, or nullopt to drop.
  std::optional<Bytes> runRequest(const struct LanMessage& msg, Session* session, bool ipmi20);
  Bytes wrapV20(Session* session, uint8_t payloadType, ByteView payload);
  Bytes wrapV20(Session* session, uint8_t payloadType, ByteView payload, bool encrypt);
  Bytes wrapV15(Session* session, crypto::AuthType15 authType, uint32_t sessionId, uint32_t seq, const Bytes& message);
  std::nullopt_t drop(Drop why);

  ChannelSecurity& security_;
  CredentialStore& credentials_;
  Dispatcher& dispatcher_;
  const Clock& clock_;
  std::array<uint8_t, 16> guid_;
  SessionTable sessions_;
  ChannelCounters counters_;
  PayloadHandler* payloadHandler_ = nullptr;
  Transmit transmit_;
  uint16_t localPort_ = 0;
};

}  // namespace simbmc::net
