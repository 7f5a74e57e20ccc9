// LanConfig: the LAN channel's configuration parameters (IPMI v2.0 §23.1-23.2, Table 23-4) and
// channel access settings (§22.22-22.23), over the ChannelSecurity the session layer reads.
//
// Parameters that steer the session layer (2 auth type enables, 22-24 cipher suites and their
// privilege limits, 26 bad password threshold) read and write the live ChannelSecurity/UserDb, so
// what Get LAN Configuration reports is exactly what Open Session and the lockout enforce. Network
// parameters (addresses, VLAN, ARP, community) are plain values: the simulator does not reconfigure
// its socket. Every successful set is written to the StateStore before the reply.
//
// Channel access (Set Channel Access, §22.22 Table 22-28): the volatile settings are the ones in
// effect and apply at once; the non-volatile ones are stored and become the volatile ones at the
// next start. Access mode 0 "disabled" ("channel disabled for IPMI messaging") turns
// ChannelSecurity::channelEnabled off: the session layer refuses session set-up and SOL ends running
// payloads and refuses new ones. Get Channel Authentication Capabilities and Get Channel Cipher Suites
// are still answered, so clients can tell the channel is there; other session-less requests get
// D5h, Open Session and RAKP status 01h (insufficient resources): a refusal at once, not a timeout.
// Sessions established before, RMCP+ and IPMI 1.5, keep their IPMI messaging (OpenBMC's netipmid
// likewise checks the access mode at RAKP 1 only): that is how a console sets access back, since
// this BMC has no other channel to do it from.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "bmc/registry.hpp"
#include "bmc/users.hpp"
#include "common/result.hpp"
#include "net/channel_security.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

// Get/Set Channel Access data (§22.22 Table 22-24), one copy for volatile and one non-volatile.
struct ChannelAccess {
  uint8_t accessMode = 0x02;  // 0 disabled, 1 pre-boot only, 2 always available, 3 shared
  bool userLevelAuthDisabled = false;
  bool perMessageAuthDisabled = false;
  bool alertingDisabled = true;
  Privilege privilegeLimit = Privilege::administrator;
};

struct LanIdentity {
  std::array<uint8_t, 4> ipAddress{127, 0, 0, 1};
  std::array<uint8_t, 4> subnetMask{255, 0, 0, 0};
  std::array<uint8_t, 6> macAddress{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};  // locally administered
};

class LanConfig {
 public:
  LanConfig(net::ChannelSecurity& security, UserDb& users, storage::StateStore* store, bool allowInsecure,
            LanIdentity identity);

  // Restores persisted parameters and channel access; applies them to the ChannelSecurity.
  Result<void> load();
  void registerCommands(CommandRegistry& registry);

  // Get LAN Configuration Parameters data after the revision byte, or a completion code.
  std::variant<Bytes, Cc> get(uint8_t param, uint8_t setSelector, uint8_t blockSelector) const;
  Cc set(uint8_t param, ByteView data);
  // Called after Set Channel Access changed the active (volatile) settings, before its reply: SOL
  // ends payloads whose session the new channel privilege limit or access mode no longer allows.
  void setAccessObserver(std::function<void()> observer) { accessObserver_ = std::move(observer); }

 private:
  Cc persist(const std::string& key, const Bytes& value);
  void applyAccess();
  Bytes encodeAccess(const ChannelAccess& a) const;

  net::ChannelSecurity& security_;
  UserDb& users_;
  storage::StateStore* store_;
  bool allowInsecure_;
  LanIdentity identity_;
  uint8_t setInProgress_ = 0;
  std::array<uint8_t, 5> authEnables_{};        // per privilege: callback, user, operator, admin, oem
  std::map<uint8_t, Bytes> plain_;              // parameters stored as given
  ChannelAccess volatile_, nonVolatile_;
  std::function<void()> accessObserver_;
};

}  // namespace simbmc::bmc
