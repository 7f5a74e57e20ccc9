#include "net/session_table.hpp"

#include <algorithm>

namespace simbmc::net {

void SequenceWindow::startAt(uint32_t first) {
  highest_ = first - 1;
  seen_ = 1;  // treat first-1 as consumed so it is not replayable
  started_ = true;
}

bool SequenceWindow::acceptable(uint32_t seq) const {
  if (!started_) return true;
  if (seq == highest_) return false;
  if (static_cast<int32_t>(seq - highest_) > 0) return seq - highest_ <= ahead_;
  const uint32_t back = highest_ - seq;
  if (back > behind_ || back >= 64) return false;
  return (seen_ & (uint64_t{1} << back)) == 0;
}

void SequenceWindow::accept(uint32_t seq) {
  if (!started_) {
    highest_ = seq;
    seen_ = 1;
    started_ = true;
    return;
  }
  if (static_cast<int32_t>(seq - highest_) > 0) {
    const uint32_t shift = seq - highest_;
    seen_ = shift >= 64 ? 0 : seen_ << shift;
    seen_ |= 1;
    highest_ = seq;
  } else {
    const uint32_t back = highest_ - seq;
    if (back < 64) seen_ |= uint64_t{1} << back;
  }
}

crypto::SessionCipher* Session::sessionCipher() {
  if (!cipher) cipher = crypto::SessionCipher::create(suite, k1, k2, userKey);
  return cipher.get();
}

Session::~Session() {
  crypto::wipe(sik);
  crypto::wipe(k1);
  crypto::wipe(k2);
  crypto::wipe(userKey);
  crypto::wipe(password16);
}

Session* SessionTable::createPending(bool ipmi20, const PeerAddress& peer) {
  if (pendingCount() >= kMaxPending) {
    // Evict the oldest pending session: half-open floods recycle their own slots.
    auto oldest = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second->state == SessionState::active) continue;
      if (oldest == sessions_.end() || it->second->created < oldest->second->created) oldest = it;
    }
    if (oldest != sessions_.end()) sessions_.erase(oldest);
  }
  uint32_t id = 0;
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::array<uint8_t, 4> r{};
    if (!crypto::randomBytes(r)) return nullptr;
    id = static_cast<uint32_t>(r[0]) | (static_cast<uint32_t>(r[1]) << 8) |
         (static_cast<uint32_t>(r[2]) << 16) | (static_cast<uint32_t>(r[3]) << 24);
    if (id != 0 && !sessions_.contains(id)) break;
    id = 0;
  }
  if (id == 0) return nullptr;
  auto s = std::make_unique<Session>();
  s->id = id;
  s->ipmi20 = ipmi20;
  s->state = ipmi20 ? SessionState::opened : SessionState::challenged;
  s->channel = security_.channel;
  s->peer = peer;
  s->created = s->lastActivity = clock_.now();
  Session* raw = s.get();
  sessions_.emplace(id, std::move(s));
  return raw;
}

Session* SessionTable::find(uint32_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

bool SessionTable::activate(Session& s) {
  if (activeSessions() >= security_.maxSessions) {
    remove(s.id);
    return false;
  }
  std::array<bool, 256> used{};
  for (const auto& [id, other] : sessions_) {
    if (other->state == SessionState::active) used[other->handle] = true;
  }
  uint8_t handle = 1;
  while (handle < 255 && used[handle]) ++handle;
  s.handle = handle;
  s.state = SessionState::active;
  s.lastActivity = clock_.now();
  return true;
}

OpenPayload* Session::findPayload(uint8_t type) {
  for (OpenPayload& p : payloads) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

void SessionTable::remove(uint32_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const bool wasActive = it->second->state == SessionState::active;
  sessions_.erase(it);
  if (wasActive && onClose_) onClose_(id);
}

void SessionTable::expire() {
  const SteadyTime now = clock_.now();
  const auto idle = std::chrono::seconds(security_.sessionTimeoutSeconds);
  std::vector<uint32_t> gone;
  for (const auto& [id, s] : sessions_) {
    const bool stale = s->state == SessionState::active ? now - s->lastActivity > idle : now - s->created > kPendingTimeout;
    if (stale) gone.push_back(id);
  }
  for (uint32_t id : gone) remove(id);
}

std::vector<uint32_t> SessionTable::activeIds() const {
  std::vector<uint32_t> ids;
  for (const auto& [id, s] : sessions_) {
    if (s->state == SessionState::active) ids.push_back(id);
  }
  return ids;
}

size_t SessionTable::pendingCount() const {
  return static_cast<size_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                           [](const auto& kv) { return kv.second->state != SessionState::active; }));
}

uint8_t SessionTable::activeSessions() const {
  return static_cast<uint8_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                            [](const auto& kv) { return kv.second->state == SessionState::active; }));
}

// IPMI v2.0 §22.18 Set Session Privilege Level.
Cc SessionTable::setPrivilege(uint32_t sessionId, Privilege requested, Privilege& out) {
  Session* s = find(sessionId);
  if (s == nullptr || s->state != SessionState::active) return Cc::unspecified;
  if (requested != Privilege::none) {
    if (requested == Privilege::callback || requested == Privilege::noAccess) return Cc{0x80};
    if (!atLeast(s->maxPrivilege, requested)) return Cc{0x81};
    s->privilege = requested;
  }
  out = s->privilege;
  return Cc::ok;
}

// IPMI v2.0 §22.19 Close Session.
Cc SessionTable::closeSession(uint32_t callerSessionId, uint32_t targetId, uint8_t targetHandle) {
  Session* caller = find(callerSessionId);
  Session* target = nullptr;
  if (targetId != 0) {
    target = find(targetId);
    if (target == nullptr || target->state != SessionState::active) return Cc{0x87};
  } else {
    for (auto& [id, s] : sessions_) {
      if (s->state == SessionState::active && s->handle == targetHandle) target = s.get();
    }
    if (target == nullptr) return Cc{0x88};
  }
  if (target != caller) {
    if (caller == nullptr || !atLeast(caller->privilege, Privilege::administrator)) return Cc::insufficientPrivilege;
    remove(target->id);
  } else {
    target->closeAfterReply = true;
  }
  return Cc::ok;
}

SessionInfo SessionTable::infoOf(const Session& s) {
  SessionInfo i;
  i.handle = s.handle;
  i.sessionId = s.id;
  i.userId = s.userId;
  i.privilege = s.privilege;
  i.channel = s.channel;
  i.ipmi20 = s.ipmi20;
  if (!s.peer.v6) std::copy_n(s.peer.addr.begin(), 4, i.remoteIp.begin());
  i.remotePort = s.peer.port;
  i.integrity = s.ipmi20 && s.suite.integrity != crypto::IntegrityAlg::none;
  i.confidentiality = s.ipmi20 && s.suite.conf != crypto::ConfAlg::none;
  return i;
}

std::optional<SessionInfo> SessionTable::findById(uint32_t sessionId) const {
  auto it = sessions_.find(sessionId);
  if (it == sessions_.end() || it->second->state != SessionState::active) return std::nullopt;
  return infoOf(*it->second);
}

std::optional<SessionInfo> SessionTable::findByHandle(uint8_t handle) const {
  for (const auto& [id, s] : sessions_) {
    if (s->state == SessionState::active && s->handle == handle) return infoOf(*s);
  }
  return std::nullopt;
}

std::optional<SessionInfo> SessionTable::findByIndex(uint8_t index) const {
  std::vector<const Session*> active;
  for (const auto& [id, s] : sessions_) {
    if (s->state == SessionState::active) active.push_back(s.get());
  }
  std::sort(active.begin(), active.end(), [](auto* a, auto* b) { return a->handle < b->handle; });
  if (index == 0 || index > active.size()) return std::nullopt;
  return infoOf(*active[index - 1]);
}

}  // namespace simbmc::net
