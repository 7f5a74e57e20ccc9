// UserDb: the BMC's user table (IPMI v2.0 §22.26-22.30) and the login lockout policy
// (LAN parameter 0x1A, §23.2 Table 23-4). Implements the session layer's CredentialStore.
//
// User ids run 1..maxUsers; id 1 is the null user (name fixed empty) and stays disabled. Every
// change is written through to the StateStore before the call returns (the reply that says "done"
// follows a COMMIT); without a store (unit tests) the table is memory-only.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "net/channel_security.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

struct UserChannelAccess {
  Privilege privilegeLimit = Privilege::noAccess;
  bool callbackOnly = false;
  bool linkAuth = false;
  bool ipmiMessaging = false;
  uint32_t payloadMask = 0;  // standard payload types: bit 1 = SOL
};

struct User {
  uint8_t id = 0;
  std::string name;
  net::Bytes password;  // up to 20 bytes, unpadded
  bool password20 = false;
  bool enabled = false;
  std::array<UserChannelAccess, 16> access{};  // index = channel number
};

struct LockoutPolicy {
  uint8_t threshold = 5;                 // failed attempts before lockout; 0 = off
  uint16_t resetInterval10s = 6;         // attempt counter reset interval, 10 s units
  uint16_t lockoutInterval10s = 6;       // lockout duration, 10 s units
  bool generateEvent = false;
};

class UserDb final : public net::CredentialStore {
 public:
  static constexpr uint8_t kMaxUsers = 16;

  UserDb(const Clock& clock, storage::StateStore* store) : clock_(clock), store_(store) {}

  // Loads persisted users; call once at start-up.
  Result<void> load();
  // Creates or updates a user by name (from config or --user): enabled, password, privilege on
  // `channels`, IPMI messaging and SOL payload access. Picks the first free id >= 2 for new users.
  Result<uint8_t> upsert(std::string_view name, std::string_view password, Privilege privilege,
                         const std::vector<uint8_t>& channels);

  const User* get(uint8_t id) const;
  // Applies `change` to user `id` (created if absent) and persists it; an error leaves memory as it was.
  // Observers run after a successful change.
  Result<void> update(uint8_t id, const std::function<void(User&)>& change);
  // Called with the user id after every change that update() made (also through upsert()), on the
  // caller's thread. Whoever holds state derived from a user's access (SOL payloads activated under
  // it) re-checks it here. Observers must outlive this UserDb.
  void addObserver(std::function<void(uint8_t userId)> observer) { observers_.push_back(std::move(observer)); }
  uint8_t enabledCount() const;
  uint8_t fixedNameCount() const { return 1; }  // user 1 (null user) has a fixed name
  // Count of users with any access on `channel` (for Get User Access).
  uint8_t countWithAccess(uint8_t channel) const;

  LockoutPolicy& lockoutPolicy() { return lockout_; }

  // net::CredentialStore
  std::optional<net::UserCredential> findUser(uint8_t channel, std::string_view name) const override;
  bool lockedOut(uint8_t userId) const override;
  void recordLoginFailure(uint8_t userId) override;
  void recordLoginSuccess(uint8_t userId) override;

 private:
  Result<void> persist(const User& u);
  struct Attempts {
    uint8_t failures = 0;
    SteadyTime firstFailure{};
    SteadyTime lockedUntil{};
  };
  const Clock& clock_;
  storage::StateStore* store_;
  std::array<std::optional<User>, kMaxUsers + 1> users_{};
  std::array<Attempts, kMaxUsers + 1> attempts_{};
  LockoutPolicy lockout_;
  std::vector<std::function<void(uint8_t)>> observers_;
};

}  // namespace simbmc::bmc
