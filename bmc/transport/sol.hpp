// SolService: Serial over LAN on the BMC side. Owns
//   - the SOL configuration parameters 0-8 (Transport NetFn, Set/Get SOL Configuration Parameters,
//     IPMI v2.0 §26.2-26.3, Table 26-5) with the set-in-progress protocol, persisted in the
//     StateStore before the reply like the LAN parameters;
//   - the payload commands for payload type 1 (App NetFn, §24.1-24.4): Activate Payload, Deactivate
//     Payload, Get Payload Activation Status, Get Payload Instance Info, Suspend/Resume Payload
//     Encryption;
//   - one net::SolTransport per active payload instance, joining the session that activated it
//     (through net::PayloadChannel) to the host's serial console (HostConsole port).
// It is the LAN channel's net::PayloadHandler: SOL packets of a session arrive in onPayload(), and a
// session that closes or times out takes its SOL instance with it.
//
// Activation policy (§24.1, §26.2 parameter 2): the user needs SOL payload access (Set User
// Payload Access) and a session privilege at or above the SOL privilege parameter; SOL packets
// carry the session's integrity, and its encryption unless activated without (refused when
// parameter 2 forces encryption). A session can hold one SOL instance (an SOL packet names no
// instance); another session's instance answers 0x80 until it is deactivated (any session with
// the SOL privilege may do that: the owner gets an "SOL deactivating" packet; §24.2 leaves its
// session open). A new activation first receives up to `historyReplay` bytes of console history.
//
// Revocation: an active instance keeps needing what its activation needed. When SOL is disabled
// (parameter 1), the SOL privilege raised or encryption or authentication forced on a payload
// running without (parameter 2), the owner's user disabled or its SOL payload
// access removed (Set User Payload Access, §24.6), the user's, the channel's or the session's
// privilege limit lowered below the SOL privilege, or the channel's active (volatile) access mode
// set to "disabled" (Set Channel Access, §22.22: "channel disabled for IPMI messaging"), the owner
// gets an "SOL deactivating" packet (§15.9 Table 15-3) and the payload is torn down; the session
// itself stays open. A disabled channel carries no payload: Activate Payload answers 0x81 on it,
// as for SOL disabled, until the access mode allows access again.
// enforceAccess() re-checks every instance; the Bmc calls it whenever users or channel access change.
// Single-threaded (io_context thread); timers on the injected TimerQueue.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "bmc/host_console.hpp"
#include "bmc/registry.hpp"
#include "bmc/users.hpp"
#include "common/result.hpp"
#include "common/timer_queue.hpp"
#include "net/channel_security.hpp"
#include "net/dispatch.hpp"
#include "net/sol_transport.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

// Static SOL settings from the config file ([bmc.sol]); parameters set over IPMI override the
// parameter defaults and persist.
struct SolConfig {
  uint8_t instances = 1;        // payload instances offered (1..15), each on the same console
  size_t historyReplay = 4096;  // console history bytes sent to a newly activated session (0 = none)
  // Defaults of SOL parameters 1-6 (§26.2 Table 26-5).
  bool enabled = true;
  bool forceEncryption = true;
  bool forceAuthentication = true;
  Privilege privilege = Privilege::administrator;
  uint8_t accumulateInterval = 10;  // 5 ms units
  uint8_t sendThreshold = 96;
  uint8_t retryCount = 7;
  uint8_t retryInterval = 50;       // 10 ms units
  uint8_t bitRate = 0x0A;           // 115.2 kbps (parameters 5 and 6)
};

class SolService final : public net::PayloadHandler {
 public:
  static constexpr uint8_t kMaxInstances = 15;
  // Payload sizes in the Activate Payload reply: the 4-byte SOL header and up to 255 characters.
  static constexpr uint16_t kMaxPayload = net::sol::kHeaderSize + net::sol::kMaxCharacters;
  // What the channel accepts: pyghmi (OpenStack Ironic, xCAT) reads the advertised size as a
  // character count and sends one SOL header more; anything larger is dropped unread.
  static constexpr uint16_t kMaxAcceptedPayload = kMaxPayload + net::sol::kHeaderSize;
  static constexpr uint16_t kDefaultPort = 623;

  // `console` is asked at each activation (the composition root may attach the console late).
  SolService(TimerQueue& timers, UserDb& users, storage::StateStore* store, const net::ChannelSecurity& lan,
             std::function<HostConsole*()> console, SolConfig config);
  ~SolService() override;
  SolService(const SolService&) = delete;
  SolService& operator=(const SolService&) = delete;

  // Restores persisted parameters.
  Result<void> load();
  void registerCommands(CommandRegistry& registry);

  // SOL configuration parameters (data after the revision byte), as the commands see them.
  std::variant<Bytes, Cc> getParameter(uint8_t param, uint16_t port) const;
  Cc setParameter(uint8_t param, ByteView data);

  bool enabled() const { return enabled_; }
  uint8_t instanceCapacity() const { return capacity_; }
  // Session holding `instance` (1-based), 0 if inactive.
  uint32_t sessionOf(uint8_t instance) const;
  // Ends every active instance (owners get "SOL deactivating").
  void deactivateAll();
  // Ends (with "SOL deactivating") every instance whose owner may no longer hold SOL: see
  // "Revocation" above. Safe to call at any time, also from inside a command handler.
  void enforceAccess();

  // net::PayloadHandler
  void onPayload(uint32_t sessionId, uint8_t type, net::ByteView payload) override;
  void onSessionClosed(uint32_t sessionId) override;

 private:
  struct Active {
    uint32_t sessionId = 0;
    uint8_t userId = 0;
    Privilege privilege = Privilege::none;  // the session's privilege at activation
    net::PayloadChannel* channel = nullptr;
    net::SessionControl* sessions = nullptr;  // to read the session's current privilege
    HostConsole* console = nullptr;
    int listener = -1;
    bool encrypted = false;
    std::unique_ptr<net::SolTransport> transport;
  };

  Cc persist(uint8_t param, const Bytes& value);
  Cc applyParameter(uint8_t param, ByteView data, bool save);
  net::SolTiming timing() const;
  // Ends `instance` (0-based index): `notify` sends the owner an "SOL deactivating" packet,
  // `close` withdraws the payload from the session (false when the session is already gone).
  void end(size_t index, bool notify, bool close);
  std::optional<size_t> findBySession(uint32_t sessionId) const;
  Privilege solPrivilege() const;
  // What activation requires of the user and the privilege the session holds (§24.1, §26.2
  // parameters 1-2, §24.6, §22.22): SOL enabled, the channel's access mode not "disabled", the user
  // enabled with SOL payload access, and that privilege, the user's limit and the channel's limit
  // all at or above the SOL privilege.
  bool mayHold(uint8_t userId, Privilege sessionPrivilege) const;

  Reply activate(const RequestContext& ctx, uint8_t type, uint8_t instance, uint8_t aux);
  Reply deactivate(const RequestContext& ctx, uint8_t type, uint8_t instance);
  Reply suspendResume(const RequestContext& ctx, uint8_t type, uint8_t instance, uint8_t operation);

  TimerQueue& timers_;
  UserDb& users_;
  storage::StateStore* store_;
  const net::ChannelSecurity& lan_;
  std::function<HostConsole*()> console_;
  SolConfig config_;
  uint8_t capacity_;

  // Parameters (§26.2 Table 26-5).
  uint8_t setInProgress_ = 0;
  bool enabled_;
  uint8_t authentication_;  // [7] force encryption, [6] force authentication, [3:0] privilege
  uint8_t accumulateInterval_, sendThreshold_;
  uint8_t retryCount_, retryInterval_;
  uint8_t nonVolatileBitRate_, volatileBitRate_;

  std::array<std::optional<Active>, kMaxInstances> active_;
};

}  // namespace simbmc::bmc
