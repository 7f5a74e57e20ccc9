// SessionTable and SequenceWindow (net/session_table.hpp), in virtual time.
// IPMI v2.0 §6.12.13 (session sequence numbers), §22.18-22.20 (session commands).
#include "net/session_table.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <vector>

#include "common/clock.hpp"

namespace simbmc::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- SequenceWindow: RMCP+ (16 behind, 15 ahead) -------------------------------------------------

TEST(SequenceWindowTest, BeforeStartAnythingIsAcceptable) {
  SequenceWindow w(16, 15);
  EXPECT_TRUE(w.acceptable(1));
  EXPECT_TRUE(w.acceptable(0x80000000u));
  EXPECT_TRUE(w.acceptable(0xFFFFFFFFu));
}

TEST(SequenceWindowTest, FirstAcceptedNumberBecomesHighest) {
  SequenceWindow w(16, 15);
  w.accept(100);
  EXPECT_FALSE(w.acceptable(100)) << "exact duplicate";
  EXPECT_TRUE(w.acceptable(101));
  EXPECT_TRUE(w.acceptable(115)) << "15 ahead";
  EXPECT_FALSE(w.acceptable(116)) << "16 ahead";
  EXPECT_TRUE(w.acceptable(99));
  EXPECT_TRUE(w.acceptable(84)) << "16 behind";
  EXPECT_FALSE(w.acceptable(83)) << "17 behind";
}

TEST(SequenceWindowTest, StartAtMakesFirstTheNextAcceptable) {
  SequenceWindow w(16, 15);
  w.startAt(1000);
  EXPECT_TRUE(w.acceptable(1000));
  EXPECT_FALSE(w.acceptable(999)) << "the number before `first` counts as consumed";
  EXPECT_TRUE(w.acceptable(1000 + 14)) << "15 ahead of first-1";
  EXPECT_FALSE(w.acceptable(1000 + 15));
  w.accept(1000);
  EXPECT_FALSE(w.acceptable(1000));
  EXPECT_TRUE(w.acceptable(1001));
}

TEST(SequenceWindowTest, ExactDuplicatesRejectedInsideTheWindow) {
  SequenceWindow w(16, 15);
  w.accept(50);
  w.accept(55);
  w.accept(52);  // out of order but inside the window
  EXPECT_FALSE(w.acceptable(50));
  EXPECT_FALSE(w.acceptable(52));
  EXPECT_FALSE(w.acceptable(55));
  EXPECT_TRUE(w.acceptable(51));
  EXPECT_TRUE(w.acceptable(53));
  EXPECT_TRUE(w.acceptable(54));
  w.accept(51);
  EXPECT_FALSE(w.acceptable(51));
  // Moving the top forward keeps the bitmap aligned.
  w.accept(60);
  EXPECT_FALSE(w.acceptable(50));
  EXPECT_FALSE(w.acceptable(51));
  EXPECT_FALSE(w.acceptable(52));
  EXPECT_TRUE(w.acceptable(53));
  EXPECT_FALSE(w.acceptable(55));
  EXPECT_FALSE(w.acceptable(60));
  EXPECT_TRUE(w.acceptable(44)) << "16 behind 60, never seen";
  EXPECT_FALSE(w.acceptable(43)) << "17 behind 60";
}

TEST(SequenceWindowTest, EveryNumberOfAWindowOnceInAnyOrder) {
  SequenceWindow w(16, 15);
  w.accept(1000);
  std::vector<uint32_t> order = {1010, 1001, 1015, 1003, 999, 1012, 1020, 1005};
  for (uint32_t s : order) {
    ASSERT_TRUE(w.acceptable(s)) << s;
    w.accept(s);
    EXPECT_FALSE(w.acceptable(s)) << s;
  }
  for (uint32_t s : order) EXPECT_FALSE(w.acceptable(s)) << s;
}

TEST(SequenceWindowTest, LargeJumpsAheadAreRejectedAndNeverMoveTheWindow) {
  SequenceWindow w(16, 15);
  w.accept(10);
  EXPECT_FALSE(w.acceptable(10 + 20));
  EXPECT_FALSE(w.acceptable(10 + 0x7FFFFFFFu));
  EXPECT_FALSE(w.acceptable(10 + 0x80000000u));
  EXPECT_FALSE(w.acceptable(10 + 0x80000001u));
  EXPECT_TRUE(w.acceptable(25));
}

TEST(SequenceWindowTest, WrapsAroundAt2To32) {
  SequenceWindow w(16, 15);
  w.accept(0xFFFFFFF8u);
  EXPECT_TRUE(w.acceptable(0xFFFFFFFFu));
  EXPECT_TRUE(w.acceptable(0x00000000u));
  EXPECT_TRUE(w.acceptable(0x00000007u)) << "15 ahead across the wrap";
  EXPECT_FALSE(w.acceptable(0x00000008u)) << "16 ahead across the wrap";
  w.accept(0x00000002u);  // 10 ahead, across the wrap
  EXPECT_FALSE(w.acceptable(0x00000002u));
  EXPECT_FALSE(w.acceptable(0xFFFFFFF8u)) << "seen before the wrap";
  EXPECT_TRUE(w.acceptable(0xFFFFFFF9u));
  EXPECT_TRUE(w.acceptable(0xFFFFFFF2u)) << "16 behind across the wrap";
  EXPECT_FALSE(w.acceptable(0xFFFFFFF1u)) << "17 behind across the wrap";
  EXPECT_TRUE(w.acceptable(0x00000011u)) << "15 ahead of the new top";
  EXPECT_FALSE(w.acceptable(0x00000012u));
}

TEST(SequenceWindowTest, StartAtZeroWrapsBackwards) {
  SequenceWindow w(16, 15);
  w.startAt(0);  // highest = 0xFFFFFFFF
  EXPECT_TRUE(w.acceptable(0));
  EXPECT_FALSE(w.acceptable(0xFFFFFFFFu));
  w.accept(0);
  EXPECT_FALSE(w.acceptable(0));
  EXPECT_TRUE(w.acceptable(1));
}

TEST(SequenceWindowTest, Ipmi15WindowPlusMinusEight) {
  SequenceWindow w(8, 8);
  w.startAt(500);
  w.accept(500);
  EXPECT_TRUE(w.acceptable(508));
  EXPECT_FALSE(w.acceptable(509));
  EXPECT_TRUE(w.acceptable(492));
  EXPECT_FALSE(w.acceptable(491));
  EXPECT_FALSE(w.acceptable(500));
}

// ---- SessionTable --------------------------------------------------------------------------------

PeerAddress peerOf(uint8_t last, uint16_t port) {
  PeerAddress p;
  p.addr = {192, 168, 0, last};
  p.port = port;
  return p;
}

class SessionTableTest : public ::testing::Test {
 protected:
  // Creates a pending session and activates it with `priv` as both the maximum and current level.
  Session* activeSession(Privilege priv = Privilege::administrator, uint16_t port = 40000) {
    Session* s = table.createPending(true, peerOf(10, port));
    if (s == nullptr) return nullptr;
    s->maxPrivilege = priv;
    s->privilege = priv;
    if (!table.activate(*s)) return nullptr;
    return s;
  }

  ChannelSecurity security;
  FakeClock clock;
  SessionTable table{security, clock};
};

TEST_F(SessionTableTest, CreatePendingGivesNonZeroUniqueIds) {
  std::set<uint32_t> ids;
  for (int i = 0; i < 60; ++i) {
    Session* s = table.createPending(i % 2 == 0, peerOf(1, static_cast<uint16_t>(1000 + i)));
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->id, 0u);
    EXPECT_TRUE(ids.insert(s->id).second) << "duplicate id " << s->id;
    EXPECT_EQ(table.find(s->id), s);
  }
  EXPECT_EQ(table.size(), 60u);
  EXPECT_EQ(table.pendingCount(), 60u);
  EXPECT_EQ(table.activeSessions(), 0);
}

TEST_F(SessionTableTest, CreatePendingFillsTheSessionFromItsArguments) {
  clock.advance(seconds(3));
  Session* v20 = table.createPending(true, peerOf(7, 623));
  ASSERT_NE(v20, nullptr);
  EXPECT_TRUE(v20->ipmi20);
  EXPECT_EQ(v20->state, SessionState::opened);
  EXPECT_EQ(v20->peer, peerOf(7, 623));
  EXPECT_EQ(v20->channel, security.channel);
  EXPECT_EQ(v20->created, clock.now());
  EXPECT_EQ(v20->handle, 0);

  Session* v15 = table.createPending(false, peerOf(8, 624));
  ASSERT_NE(v15, nullptr);
  EXPECT_FALSE(v15->ipmi20);
  EXPECT_EQ(v15->state, SessionState::challenged);
}

TEST_F(SessionTableTest, FindUnknownIdIsNull) {
  EXPECT_EQ(table.find(0), nullptr);
  EXPECT_EQ(table.find(0x12345678), nullptr);
}

TEST_F(SessionTableTest, PendingPoolIsCappedAndEvictsTheOldest) {
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < SessionTable::kMaxPending; ++i) {
    Session* s = table.createPending(true, peerOf(1, static_cast<uint16_t>(2000 + i)));
    ASSERT_NE(s, nullptr);
    ids.push_back(s->id);
    clock.advance(milliseconds(1));
  }
  EXPECT_EQ(table.pendingCount(), SessionTable::kMaxPending);

  Session* extra = table.createPending(true, peerOf(2, 3000));
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(table.pendingCount(), SessionTable::kMaxPending);
  EXPECT_EQ(table.find(ids[0]), nullptr) << "the oldest pending session is evicted";
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_NE(table.find(ids[i]), nullptr) << i;

  clock.advance(milliseconds(1));
  ASSERT_NE(table.createPending(false, peerOf(2, 3001)), nullptr);
  EXPECT_EQ(table.find(ids[1]), nullptr) << "then the next oldest";
  EXPECT_NE(table.find(extra->id), nullptr);
}

TEST_F(SessionTableTest, PendingFloodNeverEvictsActiveSessions) {
  Session* a = activeSession();
  ASSERT_NE(a, nullptr);
  const uint32_t activeId = a->id;
  for (size_t i = 0; i < 3 * SessionTable::kMaxPending; ++i) {
    ASSERT_NE(table.createPending(true, peerOf(3, static_cast<uint16_t>(i))), nullptr);
    clock.advance(milliseconds(1));
  }
  EXPECT_EQ(table.pendingCount(), SessionTable::kMaxPending);
  ASSERT_NE(table.find(activeId), nullptr);
  EXPECT_EQ(table.find(activeId)->state, SessionState::active);
  EXPECT_EQ(table.activeSessions(), 1);
}

TEST_F(SessionTableTest, ActivateAssignsTheSmallestFreeHandle) {
  Session* s1 = activeSession();
  Session* s2 = activeSession();
  Session* s3 = activeSession();
  ASSERT_TRUE(s1 && s2 && s3);
  EXPECT_EQ(s1->handle, 1);
  EXPECT_EQ(s2->handle, 2);
  EXPECT_EQ(s3->handle, 3);
  EXPECT_EQ(s1->state, SessionState::active);
  EXPECT_EQ(table.activeSessions(), 3);
  EXPECT_EQ(table.pendingCount(), 0u);

  table.remove(s2->id);
  Session* s4 = activeSession();
  ASSERT_NE(s4, nullptr);
  EXPECT_EQ(s4->handle, 2) << "handle 2 became free";
  Session* s5 = activeSession();
  ASSERT_NE(s5, nullptr);
  EXPECT_EQ(s5->handle, 4);
}

TEST_F(SessionTableTest, ActivateRefusesWhenMaxSessionsAreActive) {
  security.maxSessions = 3;
  for (int i = 0; i < 3; ++i) ASSERT_NE(activeSession(), nullptr) << i;
  EXPECT_EQ(table.activeSessions(), 3);
  EXPECT_EQ(table.maxSessions(), 3);

  Session* s = table.createPending(true, peerOf(9, 1));
  ASSERT_NE(s, nullptr);
  const uint32_t id = s->id;
  EXPECT_FALSE(table.activate(*s));
  EXPECT_EQ(table.find(id), nullptr) << "a refused session is removed";
  EXPECT_EQ(table.activeSessions(), 3);

  // Pending sessions do not count against the limit, and a freed slot can be used again.
  table.remove(table.findByIndex(1)->sessionId);
  EXPECT_NE(activeSession(), nullptr);
  EXPECT_EQ(table.activeSessions(), 3);
}

TEST_F(SessionTableTest, ActivateRefreshesLastActivity) {
  Session* s = table.createPending(true, peerOf(1, 1));
  ASSERT_NE(s, nullptr);
  clock.advance(seconds(2));
  ASSERT_TRUE(table.activate(*s));
  EXPECT_EQ(s->lastActivity, clock.now());
}

TEST_F(SessionTableTest, ExpireDropsIdleActiveSessionsAfterTheTimeout) {
  security.sessionTimeoutSeconds = 60;
  Session* idle = activeSession();
  Session* busy = activeSession();
  ASSERT_TRUE(idle && busy);
  const uint32_t idleId = idle->id, busyId = busy->id;

  clock.advance(seconds(59));
  table.expire();
  EXPECT_NE(table.find(idleId), nullptr) << "59 s idle is within the 60 s timeout";
  busy->lastActivity = clock.now();  // the layer above records activity

  clock.advance(seconds(2));
  table.expire();
  EXPECT_EQ(table.find(idleId), nullptr) << "61 s idle";
  EXPECT_NE(table.find(busyId), nullptr) << "active 2 s ago";

  clock.advance(seconds(59));
  table.expire();
  EXPECT_EQ(table.find(busyId), nullptr);
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(SessionTableTest, ExpireHonoursAConfiguredTimeout) {
  security.sessionTimeoutSeconds = 5;
  Session* s = activeSession();
  ASSERT_NE(s, nullptr);
  const uint32_t id = s->id;
  clock.advance(seconds(4));
  table.expire();
  EXPECT_NE(table.find(id), nullptr);
  clock.advance(seconds(2));
  table.expire();
  EXPECT_EQ(table.find(id), nullptr);
}

TEST_F(SessionTableTest, ExpireDropsPendingSessionsAfterThePendingTimeout) {
  Session* p20 = table.createPending(true, peerOf(1, 1));
  Session* p15 = table.createPending(false, peerOf(1, 2));
  ASSERT_TRUE(p20 && p15);
  const uint32_t id20 = p20->id, id15 = p15->id;
  p20->state = SessionState::rakp2Sent;
  p20->lastActivity = clock.now() + seconds(100);  // pending age is measured from creation

  clock.advance(SessionTable::kPendingTimeout - seconds(1));
  table.expire();
  EXPECT_NE(table.find(id20), nullptr);
  EXPECT_NE(table.find(id15), nullptr);

  clock.advance(seconds(2));
  table.expire();
  EXPECT_EQ(table.find(id20), nullptr);
  EXPECT_EQ(table.find(id15), nullptr);
  EXPECT_EQ(table.pendingCount(), 0u);
}

TEST_F(SessionTableTest, ExpireKeepsActiveSessionsOlderThanThePendingTimeout) {
  Session* s = activeSession();
  ASSERT_NE(s, nullptr);
  const uint32_t id = s->id;
  clock.advance(seconds(30));
  table.expire();
  EXPECT_NE(table.find(id), nullptr);
}

// ---- Set Session Privilege Level (§22.18) ----------------------------------------------------------

TEST_F(SessionTableTest, SetPrivilegeRaisesAndLowersWithinTheMaximum) {
  Session* s = activeSession(Privilege::administrator);
  ASSERT_NE(s, nullptr);
  s->privilege = Privilege::user;
  Privilege out = Privilege::none;
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::administrator, out), Cc::ok);
  EXPECT_EQ(out, Privilege::administrator);
  EXPECT_EQ(s->privilege, Privilege::administrator);
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::operator_, out), Cc::ok);
  EXPECT_EQ(out, Privilege::operator_);
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::user, out), Cc::ok);
  EXPECT_EQ(out, Privilege::user);
  EXPECT_EQ(s->privilege, Privilege::user);
}

TEST_F(SessionTableTest, SetPrivilegeNoneOnlyReadsTheCurrentLevel) {
  Session* s = activeSession(Privilege::administrator);
  ASSERT_NE(s, nullptr);
  s->privilege = Privilege::operator_;
  Privilege out = Privilege::none;
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::none, out), Cc::ok);
  EXPECT_EQ(out, Privilege::operator_);
  EXPECT_EQ(s->privilege, Privilege::operator_);
}

TEST_F(SessionTableTest, SetPrivilegeCallbackIs0x80) {
  Session* s = activeSession(Privilege::administrator);
  ASSERT_NE(s, nullptr);
  s->privilege = Privilege::user;
  Privilege out = Privilege::none;
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::callback, out), Cc{0x80});
  EXPECT_EQ(s->privilege, Privilege::user) << "unchanged";
}

TEST_F(SessionTableTest, SetPrivilegeAboveTheMaximumIs0x81) {
  Session* s = activeSession(Privilege::operator_);
  ASSERT_NE(s, nullptr);
  s->privilege = Privilege::user;
  Privilege out = Privilege::none;
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::administrator, out), Cc{0x81});
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::oem, out), Cc{0x81});
  EXPECT_EQ(s->privilege, Privilege::user) << "unchanged";
  EXPECT_EQ(table.setPrivilege(s->id, Privilege::operator_, out), Cc::ok);
  EXPECT_EQ(out, Privilege::operator_);
}

TEST_F(SessionTableTest, SetPrivilegeForAPendingOrUnknownSessionFails) {
  Session* p = table.createPending(true, peerOf(1, 1));
  ASSERT_NE(p, nullptr);
  p->maxPrivilege = Privilege::administrator;
  Privilege out = Privilege::none;
  EXPECT_NE(table.setPrivilege(p->id, Privilege::user, out), Cc::ok);
  EXPECT_NE(table.setPrivilege(0xDEADBEEF, Privilege::user, out), Cc::ok);
}

// ---- Close Session (§22.19) ------------------------------------------------------------------------

TEST_F(SessionTableTest, ClosingTheOwnSessionWaitsForTheReply) {
  Session* s = activeSession(Privilege::user);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(table.closeSession(s->id, s->id, 0), Cc::ok);
  ASSERT_NE(table.find(s->id), nullptr) << "still there to sign the reply";
  EXPECT_TRUE(s->closeAfterReply);
}

TEST_F(SessionTableTest, ClosingTheOwnSessionByHandle) {
  Session* s = activeSession(Privilege::callback);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(table.closeSession(s->id, 0, s->handle), Cc::ok);
  EXPECT_TRUE(s->closeAfterReply);
  EXPECT_NE(table.find(s->id), nullptr);
}

TEST_F(SessionTableTest, AdministratorClosesAnotherSessionAtOnce) {
  Session* admin = activeSession(Privilege::administrator);
  Session* other = activeSession(Privilege::user);
  Session* third = activeSession(Privilege::user);
  ASSERT_TRUE(admin && other && third);
  const uint32_t otherId = other->id;
  const uint8_t thirdHandle = third->handle;
  const uint32_t thirdId = third->id;
  EXPECT_EQ(table.closeSession(admin->id, otherId, 0), Cc::ok);
  EXPECT_EQ(table.find(otherId), nullptr);
  EXPECT_EQ(table.closeSession(admin->id, 0, thirdHandle), Cc::ok);
  EXPECT_EQ(table.find(thirdId), nullptr);
  EXPECT_FALSE(admin->closeAfterReply);
  EXPECT_EQ(table.activeSessions(), 1);
}

TEST_F(SessionTableTest, ClosingAnotherSessionNeedsAdministrator) {
  Session* op = activeSession(Privilege::administrator);
  Session* other = activeSession(Privilege::user);
  ASSERT_TRUE(op && other);
  op->privilege = Privilege::operator_;  // maximum admin, but currently operator
  EXPECT_EQ(table.closeSession(op->id, other->id, 0), Cc::insufficientPrivilege);
  EXPECT_EQ(table.closeSession(op->id, 0, other->handle), Cc::insufficientPrivilege);
  EXPECT_NE(table.find(other->id), nullptr);
  EXPECT_FALSE(other->closeAfterReply);
  // Without a session at all.
  EXPECT_EQ(table.closeSession(0, other->id, 0), Cc::insufficientPrivilege);
  EXPECT_NE(table.find(other->id), nullptr);
}

TEST_F(SessionTableTest, CloseUnknownIdIs0x87AndUnknownHandle0x88) {
  Session* admin = activeSession(Privilege::administrator);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(table.closeSession(admin->id, 0x0BADF00D, 0), Cc{0x87});
  EXPECT_EQ(table.closeSession(admin->id, 0, 0x33), Cc{0x88});
  EXPECT_EQ(table.closeSession(admin->id, 0, 0), Cc{0x88}) << "handle 0 is never assigned";
  Session* pending = table.createPending(true, peerOf(1, 1));
  ASSERT_NE(pending, nullptr);
  EXPECT_EQ(table.closeSession(admin->id, pending->id, 0), Cc{0x87}) << "a pending session is not a session yet";
  EXPECT_NE(table.find(pending->id), nullptr);
  EXPECT_FALSE(admin->closeAfterReply);
}

// ---- Session info queries (§22.20) --------------------------------------------------------------------

TEST_F(SessionTableTest, FindByIndexIsInHandleOrderAndSkipsPendingSessions) {
  std::vector<uint32_t> byHandle;
  for (int i = 0; i < 4; ++i) {
    Session* s = activeSession(Privilege::user, static_cast<uint16_t>(5000 + i));
    ASSERT_NE(s, nullptr);
    byHandle.push_back(s->id);
    ASSERT_NE(table.createPending(true, peerOf(2, static_cast<uint16_t>(i))), nullptr);
  }
  table.remove(byHandle[1]);  // frees handle 2
  Session* reused = activeSession(Privilege::operator_, 6000);
  ASSERT_NE(reused, nullptr);
  ASSERT_EQ(reused->handle, 2);

  EXPECT_FALSE(table.findByIndex(0).has_value());
  for (uint8_t i = 1; i <= 4; ++i) {
    auto info = table.findByIndex(i);
    ASSERT_TRUE(info.has_value()) << int{i};
    EXPECT_EQ(info->handle, i);
  }
  EXPECT_EQ(table.findByIndex(2)->sessionId, reused->id);
  EXPECT_EQ(table.findByIndex(1)->sessionId, byHandle[0]);
  EXPECT_EQ(table.findByIndex(3)->sessionId, byHandle[2]);
  EXPECT_EQ(table.findByIndex(4)->sessionId, byHandle[3]);
  EXPECT_FALSE(table.findByIndex(5).has_value());
  EXPECT_FALSE(table.findByIndex(255).has_value());
}

TEST_F(SessionTableTest, SessionInfoCarriesTheSessionsFields) {
  Session* s = table.createPending(false, peerOf(77, 0xBEEF));
  ASSERT_NE(s, nullptr);
  s->userId = 5;
  s->maxPrivilege = Privilege::operator_;
  s->privilege = Privilege::operator_;
  ASSERT_TRUE(table.activate(*s));
  auto info = table.findById(s->id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->handle, s->handle);
  EXPECT_EQ(info->sessionId, s->id);
  EXPECT_EQ(info->userId, 5);
  EXPECT_EQ(info->privilege, Privilege::operator_);
  EXPECT_EQ(info->channel, security.channel);
  EXPECT_FALSE(info->ipmi20);
  EXPECT_EQ(info->remoteIp, (std::array<uint8_t, 4>{192, 168, 0, 77}));
  EXPECT_EQ(info->remotePort, 0xBEEF);

  auto byHandle = table.findByHandle(s->handle);
  ASSERT_TRUE(byHandle.has_value());
  EXPECT_EQ(byHandle->sessionId, s->id);
  EXPECT_FALSE(table.findByHandle(static_cast<uint8_t>(s->handle + 1)).has_value());
}

TEST_F(SessionTableTest, PendingSessionsAreInvisibleToSessionInfo) {
  Session* p = table.createPending(true, peerOf(1, 1));
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(table.findById(p->id).has_value());
  EXPECT_FALSE(table.findByHandle(0).has_value());
  EXPECT_FALSE(table.findByIndex(1).has_value());
  EXPECT_EQ(table.activeSessions(), 0);
}

TEST_F(SessionTableTest, Ipv6PeersReportZeroIpv4Address) {
  PeerAddress p6;
  p6.v6 = true;
  p6.addr.fill(0xAB);
  p6.port = 623;
  Session* s = table.createPending(true, p6);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(table.activate(*s));
  auto info = table.findById(s->id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->remoteIp, (std::array<uint8_t, 4>{0, 0, 0, 0}));
  EXPECT_EQ(info->remotePort, 623);
}

}  // namespace
}  // namespace simbmc::net
