// What the session layer needs from the platform model about one LAN channel: which
// authentication is allowed and who the users are. The bmc/ model owns these and may change them at
// any time (Set LAN Configuration, Set User Password); net/ reads them per session setup.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ipmi_types.hpp"
#include "net/wire.hpp"

namespace simbmc::net {

struct ChannelSecurity {
  uint8_t channel = 1;
  // RMCP+ cipher suites accepted by Open Session, in preference order (LAN parameters 22-24).
  std::vector<uint8_t> cipherSuites{17, 3};
  // Highest privilege each cipher suite may reach (index = suite id); default: administrator.
  std::array<Privilege, 20> suitePrivilegeLimit = [] {
    std::array<Privilege, 20> a{};
    a.fill(Privilege::administrator);
    return a;
  }();
  // IPMI 1.5 authentication types enabled (bit n = type n: 0 none, 1 MD2, 2 MD5, 4 straight password).
  uint8_t authTypes15 = 1u << 2;
  bool ipmi15Enabled = true;
  bool perMessageAuth = true;       // 1.5: every packet in a session carries an auth code
  Privilege channelPrivilegeLimit = Privilege::administrator;  // Set Channel Access
  bool channelEnabled = true;       // access mode not "disabled"
  Bytes kg;                         // BMC key Kg (empty or all zero = use the user key)
  uint8_t maxSessions = 16;
  uint32_t sessionTimeoutSeconds = 60;
};

struct UserCredential {
  uint8_t userId = 0;
  std::string name;
  Bytes password;                    // zero-padded to 20 bytes
  Privilege maxPrivilege = Privilege::noAccess;  // user's limit on this channel
  bool ipmiMessaging = true;         // user access "IPMI messaging" bit
};

// Looks users up and applies the lockout policy (LAN parameter 0x1A).
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // An enabled user with this exact name, or nullopt. An empty name means the null user.
  virtual std::optional<UserCredential> findUser(uint8_t channel, std::string_view name) const = 0;
  // True when the user is temporarily locked out after too many bad passwords.
  virtual bool lockedOut(uint8_t userId) const = 0;
  virtual void recordLoginFailure(uint8_t userId) = 0;
  virtual void recordLoginSuccess(uint8_t userId) = 0;
};

}  // namespace simbmc::net
