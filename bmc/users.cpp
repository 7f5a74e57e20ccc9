#include "bmc/users.hpp"

#include "common/log.hpp"

namespace simbmc::bmc {

Result<void> UserDb::load() {
  if (store_ == nullptr) return {};
  auto loaded = store_->loadUsers();
  if (!loaded) return loaded.error();
  for (const storage::StoredUser& s : *loaded) {
    if (s.id < 1 || s.id > kMaxUsers) continue;
    User u;
    u.id = s.id;
    u.name = s.name;
    u.password = s.password;
    u.password20 = s.password20;
    u.enabled = s.enabled;
    for (const auto& a : s.access) {
      if (a.channel >= u.access.size()) continue;
      auto priv = privilegeFromByte(a.privilegeLimit);
      u.access[a.channel] = UserChannelAccess{priv.value_or(Privilege::noAccess), a.callbackOnly, a.linkAuth,
                                              a.ipmiMessaging, a.payloadMask};
    }
    users_[u.id] = std::move(u);
  }
  return {};
}

Result<void> UserDb::persist(const User& u) {
  if (store_ == nullptr) return {};
  storage::StoredUser s;
  s.id = u.id;
  s.name = u.name;
  s.password = u.password;
  s.password20 = u.password20;
  s.enabled = u.enabled;
  for (uint8_t ch = 0; ch < u.access.size(); ++ch) {
    const auto& a = u.access[ch];
    if (a.privilegeLimit == Privilege::noAccess && !a.ipmiMessaging && !a.linkAuth && !a.callbackOnly &&
        a.payloadMask == 0) {
      continue;
    }
    s.access.push_back(storage::StoredChannelAccess{ch, static_cast<uint8_t>(a.privilegeLimit), a.callbackOnly,
                                                    a.linkAuth, a.ipmiMessaging, a.payloadMask});
  }
  return store_->saveUser(s);
}

Result<uint8_t> UserDb::upsert(std::string_view name, std::string_view password, Privilege privilege,
                               const std::vector<uint8_t>& channels) {
  if (name.empty() || name.size() > 16) return makeError(Error::Kind::invalidArgument, "user name must be 1..16 bytes");
  if (password.size() > 20) return makeError(Error::Kind::invalidArgument, "password must be at most 20 bytes");
  uint8_t id = 0;
  for (uint8_t i = 2; i <= kMaxUsers; ++i) {
    if (users_[i] && users_[i]->name == name) id = i;
  }
  for (uint8_t i = 2; i <= kMaxUsers && id == 0; ++i) {
    if (!users_[i] || users_[i]->name.empty()) id = i;
  }
  if (id == 0) return makeError(Error::Kind::full, "no free user slot");
  auto r = update(id, [&](User& u) {
    u.name = std::string(name);
    u.password.assign(password.begin(), password.end());
    u.password20 = password.size() > 16;
    u.enabled = true;
    for (uint8_t ch : channels) {
      if (ch >= u.access.size()) continue;
      u.access[ch].privilegeLimit = privilege;
      u.access[ch].ipmiMessaging = true;
      u.access[ch].linkAuth = true;
      u.access[ch].payloadMask |= 1u << 1;  // SOL
    }
  });
  if (!r) return r.error();
  return id;
}

const User* UserDb::get(uint8_t id) const {
  if (id < 1 || id > kMaxUsers || !users_[id]) return nullptr;
  return &*users_[id];
}

Result<void> UserDb::update(uint8_t id, const std::function<void(User&)>& change) {
  if (id < 1 || id > kMaxUsers) return makeError(Error::Kind::invalidArgument, "user id out of range");
  User next = users_[id] ? *users_[id] : User{};
  next.id = id;
  change(next);
  if (id == 1) next.name.clear();  // the null user's name is fixed
  auto r = persist(next);
  if (!r) return r;
  users_[id] = std::move(next);
  for (const auto& observer : observers_) observer(id);
  return {};
}

uint8_t UserDb::enabledCount() const {
  uint8_t n = 0;
  for (const auto& u : users_) n += (u && u->enabled) ? 1 : 0;
  return n;
}

uint8_t UserDb::countWithAccess(uint8_t channel) const {
  uint8_t n = 0;
  for (const auto& u : users_) {
    if (u && channel < u->access.size() && u->access[channel].privilegeLimit != Privilege::noAccess) ++n;
  }
  return n;
}

std::optional<net::UserCredential> UserDb::findUser(uint8_t channel, std::string_view name) const {
  if (name.empty()) return std::nullopt;  // no null user, no anonymous login
  for (const auto& u : users_) {
    if (!u || !u->enabled || u->name != name || u->id == 1) continue;
    if (channel >= u->access.size()) return std::nullopt;
    const UserChannelAccess& a = u->access[channel];
    if (a.privilegeLimit == Privilege::noAccess) return std::nullopt;
    net::UserCredential c;
    c.userId = u->id;
    c.name = u->name;
    c.password = u->password;
    c.password.resize(20, 0);
    c.maxPrivilege = a.privilegeLimit;
    c.ipmiMessaging = a.ipmiMessaging;
    return c;
  }
  return std::nullopt;
}

bool UserDb::lockedOut(uint8_t userId) const {
  if (userId > kMaxUsers || lockout_.threshold == 0) return false;
  return clock_.now() < attempts_[userId].lockedUntil;
}

void UserDb::recordLoginFailure(uint8_t userId) {
  if (userId > kMaxUsers || lockout_.threshold == 0) return;
  Attempts& a = attempts_[userId];
  const SteadyTime now = clock_.now();
  const auto resetAfter = std::chrono::seconds(10 * lockout_.resetInterval10s);
  if (a.failures == 0 || (lockout_.resetInterval10s != 0 && now - a.firstFailure > resetAfter)) {
    a.failures = 0;
    a.firstFailure = now;
  }
  if (++a.failures >= lockout_.threshold) {
    a.lockedUntil = now + std::chrono::seconds(10 * lockout_.lockoutInterval10s);
    a.failures = 0;
    const User* u = get(userId);
    log::warn("user locked out user={} seconds={}", u != nullptr ? u->name : "?", 10 * lockout_.lockoutInterval10s);
  }
}

void UserDb::recordLoginSuccess(uint8_t userId) {
  if (userId > kMaxUsers) return;
  attempts_[userId].failures = 0;
}

}  // namespace simbmc::bmc
