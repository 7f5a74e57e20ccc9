#include "storage/state_store.hpp"

#include <fmt/core.h>

#include <limits>
#include <set>

namespace simbmc::storage {
namespace {

constexpr size_t kMaxNameSize = 16;      // IPMI v2.0 §22.28 Set User Name: 16 bytes
constexpr size_t kMaxPasswordSize = 20;  // IPMI v2.0 §22.30 Set User Password: 16 or 20 bytes

// migrations[i] takes user_version i to i+1. Append only; never edit a shipped step.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kSteps = {
      // 1: users, per-channel access, settings.
      R"sql(
        CREATE TABLE users(
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          password BLOB NOT NULL,
          password20 INTEGER NOT NULL DEFAULT 0,
          enabled INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE user_access(
          user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          channel INTEGER NOT NULL,
          privilege_limit INTEGER NOT NULL,
          callback_only INTEGER NOT NULL,
          link_auth INTEGER NOT NULL,
          ipmi_messaging INTEGER NOT NULL,
          payload_mask INTEGER NOT NULL,
          PRIMARY KEY(user_id, channel)
        );
        CREATE TABLE settings(
          key TEXT PRIMARY KEY,
          value BLOB NOT NULL
        );
      )sql",
  };
  return kSteps;
}

// Leaves a shared statement ready for its next use on every return path.
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& s_;
};

Error withContext(const Error& e, std::string_view context) {
  return makeError(e.kind, fmt::format("{}: {}", context, e.message));
}

template <typename T>
bool inRange(int64_t v) {
  return v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
         v <= static_cast<int64_t>(std::numeric_limits<T>::max());
}

// Smallest string greater than every string starting with `prefix` (bytewise, like SQLite's BINARY
// collation), or nullopt when there is none.
std::optional<std::string> prefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& dbPath, SecretBox box) {
  auto db = Database::open(dbPath);
  if (!db) return db.error();
  if (auto r = (*db)->migrate(migrations()); !r) return withContext(r.error(), fmt::format("state store {}", dbPath));
  std::unique_ptr<StateStore> store(new StateStore(std::move(*db), std::move(box)));
  if (auto r = store->prepareStatements(); !r) return r.error();
  return store;
}

Result<void> StateStore::prepareStatements() {
  struct Item {
    Statement& target;
    std::string_view sql;
  };
  const Item items[] = {
      {selectUsers_, "SELECT id, name, password, password20, enabled FROM users ORDER BY id"},
      {selectAccess_,
       "SELECT user_id, channel, privilege_limit, callback_only, link_auth, ipmi_messaging, payload_mask "
       "FROM user_access ORDER BY user_id, channel"},
      {deleteUser_, "DELETE FROM users WHERE id = ?1"},
      {insertUser_, "INSERT INTO users(id, name, password, password20, enabled) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {insertAccess_,
       "INSERT INTO user_access(user_id, channel, privilege_limit, callback_only, link_auth, ipmi_messaging, "
       "payload_mask) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {getSetting_, "SELECT value FROM settings WHERE key = ?1"},
      {putSetting_,
       "INSERT INTO settings(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
      // Range instead of LIKE: no wildcard escaping, case-sensitive, and it uses the primary key index.
      {scanSettings_, "SELECT key, value FROM settings WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) ORDER BY key"},
  };
  for (const auto& item : items) {
    auto stmt = db_->prepare(item.sql);
    if (!stmt) return stmt.error();
    item.target = std::move(*stmt);
  }
  return {};
}

Result<std::vector<StoredUser>> StateStore::loadUsers() {
  std::vector<StoredUser> users;
  {
    ResetOnExit guard(selectUsers_);
    for (;;) {
      auto row = selectUsers_.step();
      if (!row) return withContext(row.error(), "load users");
      if (!*row) break;
      int64_t id = selectUsers_.columnInt(0);
      auto corrupt = [id](std::string_view what) {
        return makeError(Error::Kind::corrupt, fmt::format("load users: user id={}: {}", id, what));
      };
      if (!inRange<uint8_t>(id)) return corrupt("id out of range");
      StoredUser u;
      u.id = static_cast<uint8_t>(id);
      u.name = selectUsers_.columnText(1);
      if (u.name.size() > kMaxNameSize) return corrupt("name longer than 16 bytes");
      auto password = box_.open(selectUsers_.columnBlob(2));
      if (!password) return corrupt("stored password does not unseal (wrong secret key or damaged record)");
      if (password->size() > kMaxPasswordSize) return corrupt("stored password longer than 20 bytes");
      u.password = std::move(*password);
      u.password20 = selectUsers_.columnInt(3) != 0;
      u.enabled = selectUsers_.columnInt(4) != 0;
      users.push_back(std::move(u));
    }
  }

  ResetOnExit guard(selectAccess_);
  size_t next = 0;  // both queries are ordered by user id, so one forward pass matches them up
  for (;;) {
    auto row = selectAccess_.step();
    if (!row) return withContext(row.error(), "load user access");
    if (!*row) break;
    int64_t userId = selectAccess_.columnInt(0);
    while (next < users.size() && users[next].id < userId) ++next;
    if (next == users.size() || users[next].id != userId) {
      // Cannot happen with foreign keys on; a row for no user means the file was edited or damaged.
      return makeError(Error::Kind::corrupt, fmt::format("load user access: row for missing user id={}", userId));
    }
    int64_t channel = selectAccess_.columnInt(1);
    int64_t privilege = selectAccess_.columnInt(2);
    int64_t mask = selectAccess_.columnInt(6);
    if (!inRange<uint8_t>(channel) || !inRange<uint8_t>(privilege) || !inRange<uint32_t>(mask)) {
      return makeError(Error::Kind::corrupt,
                       fmt::format("load user access: user id={} channel={}: value out of range", userId, channel));
    }
    StoredChannelAccess a;
    a.channel = static_cast<uint8_t>(channel);
    a.privilegeLimit = static_cast<uint8_t>(privilege);
    a.callbackOnly = selectAccess_.columnInt(3) != 0;
    a.linkAuth = selectAccess_.columnInt(4) != 0;
    a.ipmiMessaging = selectAccess_.columnInt(5) != 0;
    a.payloadMask = static_cast<uint32_t>(mask);
    users[next].access.push_back(a);
  }
  return users;
}

Result<void> StateStore::saveUser(const StoredUser& u) {
  auto invalid = [&u](std::string_view what) {
    return makeError(Error::Kind::invalidArgument, fmt::format("save user id={}: {}", u.id, what));
  };
  if (u.name.size() > kMaxNameSize) return invalid("name longer than 16 bytes");
  if (u.password.size() > kMaxPasswordSize) return invalid("password longer than 20 bytes");
  std::set<uint8_t> channels;
  for (const auto& a : u.access) {
    if (!channels.insert(a.channel).second) return invalid(fmt::format("channel {} listed twice", a.channel));
  }

  std::vector<uint8_t> sealed = box_.seal(u.password);
  if (sealed.empty()) return makeError(Error::Kind::internal, fmt::format("save user id={}: sealing failed", u.id));
  auto r = db_->transaction([&] { return writeUser(u, sealed); });
  if (!r) return withContext(r.error(), fmt::format("save user id={}", u.id));
  return {};
}

Result<void> StateStore::writeUser(const StoredUser& u, const std::vector<uint8_t>& sealedPassword) {
  // Delete then insert: ON DELETE CASCADE drops the old access rows, so nothing stale survives.
  if (auto r = deleteUser_.bind(1, int64_t{u.id}).run(); !r) return r;
  auto r = insertUser_.bind(1, int64_t{u.id})
               .bind(2, std::string_view(u.name))
               .bind(3, std::span<const uint8_t>(sealedPassword))
               .bind(4, int64_t{u.password20})
               .bind(5, int64_t{u.enabled})
               .run();
  if (!r) return r;
  for (const auto& a : u.access) {
    auto ra = insertAccess_.bind(1, int64_t{u.id})
                  .bind(2, int64_t{a.channel})
                  .bind(3, int64_t{a.privilegeLimit})
                  .bind(4, int64_t{a.callbackOnly})
                  .bind(5, int64_t{a.linkAuth})
                  .bind(6, int64_t{a.ipmiMessaging})
                  .bind(7, int64_t{a.payloadMask})
                  .run();
    if (!ra) return ra;
  }
  return {};
}

Result<void> StateStore::deleteUser(uint8_t id) {
  auto r = deleteUser_.bind(1, int64_t{id}).run();
  if (!r) return withContext(r.error(), fmt::format("delete user id={}", id));
  return {};
}

Result<std::optional<std::vector<uint8_t>>> StateStore::get(const std::string& key) {
  ResetOnExit guard(getSetting_);
  auto row = getSetting_.bind(1, std::string_view(key)).step();
  if (!row) return withContext(row.error(), fmt::format("get setting key={}", key));
  if (!*row) return std::optional<std::vector<uint8_t>>{};
  return std::optional<std::vector<uint8_t>>{getSetting_.columnBlob(0)};
}

Result<void> StateStore::put(const std::string& key, const std::vector<uint8_t>& value) {
  auto r = putSetting_.bind(1, std::string_view(key)).bind(2, std::span<const uint8_t>(value)).run();
  if (!r) return withContext(r.error(), fmt::format("put setting key={}", key));
  return {};
}

Result<std::map<std::string, std::vector<uint8_t>>> StateStore::scan(const std::string& prefix) {
  ResetOnExit guard(scanSettings_);
  scanSettings_.bind(1, std::string_view(prefix));
  if (auto end = prefixEnd(prefix)) {
    scanSettings_.bind(2, std::string_view(*end));
  } else {
    scanSettings_.bindNull(2);
  }
  std::map<std::string, std::vector<uint8_t>> out;
  for (;;) {
    auto row = scanSettings_.step();
    if (!row) return withContext(row.error(), fmt::format("scan settings prefix={}", prefix));
    if (!*row) break;
    out.emplace(scanSettings_.columnText(0), scanSettings_.columnBlob(1));
  }
  return out;
}

}  // namespace simbmc::storage
