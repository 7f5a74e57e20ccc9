// StateStore: the persisted mutable state of one BMC instance (state-dir/state.db).
//
// Holds users and their per-channel access (passwords sealed by SecretBox) and a small typed
// key/value table for settings (boot options, channel access, LAN/SOL parameters, power restore
// policy, POH counter). Every put/save commits before returning: when it returns success the value
// survives kill -9. Single-threaded, owned by the instance.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "storage/database.hpp"
#include "storage/secret_box.hpp"

namespace simbmc::storage {

struct StoredChannelAccess {
  uint8_t channel = 1;
  uint8_t privilegeLimit = 0x0F;  // IPMI privilege code (0x0F = no access)
  bool callbackOnly = false;
  bool linkAuth = false;
  bool ipmiMessaging = false;
  uint32_t payloadMask = 0;  // bit n = standard payload type n enabled (Set User Payload Access)
};

struct StoredUser {
  uint8_t id = 0;                 // 1..max users; id 1 is the null user by spec convention
  std::string name;               // up to 16 bytes
  std::vector<uint8_t> password;  // plaintext in memory, up to 20 bytes; sealed on disk
  bool password20 = false;        // stored as a 20-byte password (Set User Password bit 7)
  bool enabled = false;
  std::vector<StoredChannelAccess> access;
};

class StateStore {
 public:
  // Opens `dbPath` (":memory:" allowed) and runs the schema migrations.
  static Result<std::unique_ptr<StateStore>> open(const std::string& dbPath, SecretBox box);

  // Users ordered by id. A password that does not unseal (wrong secret.key, damaged row) or a value
  // out of range fails the whole load with Error::Kind::corrupt naming the user id.
  Result<std::vector<StoredUser>> loadUsers();
  // Inserts or replaces user `u.id` with all its channel access rows, in one transaction.
  // invalidArgument (nothing written) for a name over 16 bytes, a password over 20 bytes or a
  // channel listed twice.
  Result<void> saveUser(const StoredUser& u);
  // Deletes the user and its access rows; deleting an absent user succeeds.
  Result<void> deleteUser(uint8_t id);

  Result<std::optional<std::vector<uint8_t>>> get(const std::string& key);
  Result<void> put(const std::string& key, const std::vector<uint8_t>& value);
  // All settings whose key starts with `prefix`.
  Result<std::map<std::string, std::vector<uint8_t>>> scan(const std::string& prefix);

  Database& database() { return *db_; }

 private:
  StateStore(std::unique_ptr<Database> db, SecretBox box) : db_(std::move(db)), box_(std::move(box)) {}
  Result<void> prepareStatements();
  Result<void> writeUser(const StoredUser& u, const std::vector<uint8_t>& sealedPassword);

  std::unique_ptr<Database> db_;
  SecretBox box_;
  // Prepared once in open(); declared after db_ so they are finalized before it closes.
  Statement selectUsers_;
  Statement selectAccess_;
  Statement deleteUser_;
  Statement insertUser_;
  Statement insertAccess_;
  Statement getSetting_;
  Statement putSetting_;
  Statement scanSettings_;
};

}  // namespace simbmc::storage
