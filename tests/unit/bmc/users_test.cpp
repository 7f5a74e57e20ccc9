// UserDb (bmc/users.hpp): the user table, the CredentialStore view the session layer uses, the
// lockout policy (LAN parameter 0x1A, IPMI v2.0 §23.2 Table 23-4) in virtual time, persistence.
#include "bmc/users.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "storage/secret_box.hpp"
#include "storage/state_store.hpp"
#include "unit/storage/test_files.hpp"

namespace simbmc::bmc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

net::Bytes bytesOf(std::string_view s) { return net::Bytes(s.begin(), s.end()); }

net::Bytes padded20(std::string_view s) {
  net::Bytes b = bytesOf(s);
  b.resize(20, 0);
  return b;
}

class UserDbTest : public ::testing::Test {
 protected:
  uint8_t addUser(std::string_view name, std::string_view password, Privilege p = Privilege::administrator) {
    auto id = db.upsert(name, password, p, {1});
    EXPECT_TRUE(id.hasValue()) << (id ? "" : id.error().message);
    return id ? *id : 0;
  }

  FakeClock clock;
  UserDb db{clock, nullptr};
};

// ---- upsert, get, update -------------------------------------------------------------------------------

TEST_F(UserDbTest, UpsertCreatesUsersFromId2) {
  EXPECT_EQ(addUser("admin", "pw-admin"), 2);
  EXPECT_EQ(addUser("oper", "pw-oper", Privilege::operator_), 3);
  EXPECT_EQ(addUser("user", "pw-user", Privilege::user), 4);
  const User* u = db.get(3);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->id, 3);
  EXPECT_EQ(u->name, "oper");
  EXPECT_EQ(u->password, bytesOf("pw-oper"));
  EXPECT_FALSE(u->password20);
  EXPECT_TRUE(u->enabled);
  EXPECT_EQ(u->access[1].privilegeLimit, Privilege::operator_);
  EXPECT_TRUE(u->access[1].ipmiMessaging);
  EXPECT_TRUE(u->access[1].linkAuth);
  EXPECT_FALSE(u->access[1].callbackOnly);
  EXPECT_NE(u->access[1].payloadMask & (1u << 1), 0u) << "SOL payload";
  EXPECT_EQ(u->access[2].privilegeLimit, Privilege::noAccess) << "only the channels asked for";
  EXPECT_EQ(db.get(1), nullptr) << "the null user is not created";
  EXPECT_EQ(db.enabledCount(), 3);
  EXPECT_EQ(db.countWithAccess(1), 3);
  EXPECT_EQ(db.countWithAccess(2), 0);
}

TEST_F(UserDbTest, UpsertOfAnExistingNameUpdatesInPlace) {
  ASSERT_EQ(addUser("admin", "first"), 2);
  ASSERT_EQ(addUser("other", "x"), 3);
  ASSERT_TRUE(db.update(2, [](User& u) { u.enabled = false; }));
  auto id = db.upsert("admin", "a-twenty-byte-passwd", Privilege::operator_, {1, 3});
  ASSERT_TRUE(id.hasValue());
  EXPECT_EQ(*id, 2);
  const User* u = db.get(2);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->password, bytesOf("a-twenty-byte-passwd"));
  EXPECT_TRUE(u->password20) << "more than 16 bytes";
  EXPECT_TRUE(u->enabled);
  EXPECT_EQ(u->access[1].privilegeLimit, Privilege::operator_);
  EXPECT_EQ(u->access[3].privilegeLimit, Privilege::operator_);
  EXPECT_EQ(db.get(3)->name, "other");
  EXPECT_EQ(db.get(4), nullptr);
}

TEST_F(UserDbTest, UpsertRejectsBadNamesAndPasswords) {
  EXPECT_FALSE(db.upsert("", "pw", Privilege::user, {1}).hasValue());
  EXPECT_FALSE(db.upsert(std::string(17, 'n'), "pw", Privilege::user, {1}).hasValue());
  EXPECT_FALSE(db.upsert("name", std::string(21, 'p'), Privilege::user, {1}).hasValue());
  EXPECT_TRUE(db.upsert(std::string(16, 'n'), std::string(20, 'p'), Privilege::user, {1}).hasValue());
  EXPECT_EQ(db.enabledCount(), 1);
}

TEST_F(UserDbTest, UpsertFailsWhenTheTableIsFull) {
  for (int i = 2; i <= UserDb::kMaxUsers; ++i) ASSERT_EQ(addUser("u" + std::to_string(i), "pw"), i);
  auto id = db.upsert("one-too-many", "pw", Privilege::user, {1});
  ASSERT_FALSE(id.hasValue());
  EXPECT_EQ(id.error().kind, Error::Kind::full);
  EXPECT_TRUE(db.upsert("u5", "new", Privilege::user, {1}).hasValue()) << "updating still works";
}

TEST_F(UserDbTest, UpdateCreatesAbsentUsersAndKeepsTheNullUserNameless) {
  ASSERT_TRUE(db.update(7, [](User& u) { u.name = "seven"; }));
  ASSERT_NE(db.get(7), nullptr);
  EXPECT_EQ(db.get(7)->id, 7);
  EXPECT_FALSE(db.get(7)->enabled);
  ASSERT_TRUE(db.update(1, [](User& u) {
    u.name = "root";
    u.enabled = true;
  }));
  ASSERT_NE(db.get(1), nullptr);
  EXPECT_EQ(db.get(1)->name, "");
  EXPECT_FALSE(db.update(0, [](User&) {}).hasValue());
  EXPECT_FALSE(db.update(UserDb::kMaxUsers + 1, [](User&) {}).hasValue());
  EXPECT_EQ(db.get(0), nullptr);
  EXPECT_EQ(db.get(UserDb::kMaxUsers + 1), nullptr);
}

// ---- findUser (CredentialStore) -----------------------------------------------------------------------

TEST_F(UserDbTest, FindUserReturnsTheCredentialForAnEnabledUser) {
  ASSERT_EQ(addUser("admin", "pw-admin"), 2);
  auto c = db.findUser(1, "admin");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->userId, 2);
  EXPECT_EQ(c->name, "admin");
  EXPECT_EQ(c->password, padded20("pw-admin")) << "zero-padded to 20 bytes";
  EXPECT_EQ(c->maxPrivilege, Privilege::administrator);
  EXPECT_TRUE(c->ipmiMessaging);
  EXPECT_FALSE(db.findUser(1, "Admin").has_value()) << "names are exact";
  EXPECT_FALSE(db.findUser(1, "admi").has_value());
  EXPECT_FALSE(db.findUser(1, "nobody").has_value());
}

TEST_F(UserDbTest, FindUserRequiresEnabled) {
  ASSERT_EQ(addUser("admin", "pw"), 2);
  ASSERT_TRUE(db.update(2, [](User& u) { u.enabled = false; }));
  EXPECT_FALSE(db.findUser(1, "admin").has_value());
  ASSERT_TRUE(db.update(2, [](User& u) { u.enabled = true; }));
  EXPECT_TRUE(db.findUser(1, "admin").has_value());
}

TEST_F(UserDbTest, FindUserRequiresAccessOnTheChannel) {
  ASSERT_EQ(addUser("admin", "pw"), 2);
  EXPECT_FALSE(db.findUser(2, "admin").has_value()) << "no access configured on channel 2";
  EXPECT_FALSE(db.findUser(15, "admin").has_value());
  EXPECT_FALSE(db.findUser(16, "admin").has_value());
  EXPECT_FALSE(db.findUser(255, "admin").has_value());
  ASSERT_TRUE(db.update(2, [](User& u) { u.access[1].privilegeLimit = Privilege::noAccess; }));
  EXPECT_FALSE(db.findUser(1, "admin").has_value());
  ASSERT_TRUE(db.update(2, [](User& u) { u.access[1].privilegeLimit = Privilege::callback; }));
  auto c = db.findUser(1, "admin");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->maxPrivilege, Privilege::callback);
}

TEST_F(UserDbTest, FindUserReportsTheMessagingBit) {
  ASSERT_EQ(addUser("admin", "pw"), 2);
  ASSERT_TRUE(db.update(2, [](User& u) { u.access[1].ipmiMessaging = false; }));
  auto c = db.findUser(1, "admin");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->ipmiMessaging);
}

TEST_F(UserDbTest, TheNullUserIsNeverFound) {
  ASSERT_TRUE(db.update(1, [](User& u) {
    u.enabled = true;
    u.password = bytesOf("pw");
    u.access[1].privilegeLimit = Privilege::administrator;
    u.access[1].ipmiMessaging = true;
  }));
  EXPECT_FALSE(db.findUser(1, "").has_value());
  // Another user whose name was cleared does not become a null user either.
  ASSERT_EQ(addUser("admin", "pw"), 2);
  ASSERT_TRUE(db.update(2, [](User& u) { u.name.clear(); }));
  EXPECT_FALSE(db.findUser(1, "").has_value());
}

// ---- Lockout (LAN parameter 0x1A) -------------------------------------------------------------------------

TEST_F(UserDbTest, LockoutAfterThresholdFailuresForTheLockoutIntervalThenUnlocks) {
  const uint8_t id = addUser("admin", "pw");
  ASSERT_EQ(id, 2);
  db.lockoutPolicy() = LockoutPolicy{3, 6, 3, false};  // 3 failures; reset 60 s; lockout 30 s
  db.recordLoginFailure(id);
  clock.advance(seconds(1));
  db.recordLoginFailure(id);
  EXPECT_FALSE(db.lockedOut(id)) << "2 of 3";
  clock.advance(seconds(1));
  db.recordLoginFailure(id);
  EXPECT_TRUE(db.lockedOut(id)) << "3 of 3";
  clock.advance(seconds(29));
  EXPECT_TRUE(db.lockedOut(id)) << "29 s of 30";
  clock.advance(milliseconds(999));
  EXPECT_TRUE(db.lockedOut(id)) << "29.999 s of 30";
  clock.advance(milliseconds(2));
  EXPECT_FALSE(db.lockedOut(id)) << "30 s elapsed";
  // After the lockout the count starts again from zero.
  db.recordLoginFailure(id);
  db.recordLoginFailure(id);
  EXPECT_FALSE(db.lockedOut(id));
  db.recordLoginFailure(id);
  EXPECT_TRUE(db.lockedOut(id));
}

TEST_F(UserDbTest, DefaultPolicyLocksAfterFiveFailuresForSixtySeconds) {
  const uint8_t id = addUser("admin", "pw");
  const LockoutPolicy& p = db.lockoutPolicy();
  ASSERT_GT(p.threshold, 0) << "lockout is on by default (SECURITY.md)";
  for (int i = 0; i + 1 < p.threshold; ++i) db.recordLoginFailure(id);
  EXPECT_FALSE(db.lockedOut(id));
  db.recordLoginFailure(id);
  EXPECT_TRUE(db.lockedOut(id));
  clock.advance(seconds(10 * p.lockoutInterval10s) - milliseconds(1));
  EXPECT_TRUE(db.lockedOut(id));
  clock.advance(milliseconds(2));
  EXPECT_FALSE(db.lockedOut(id));
}

TEST_F(UserDbTest, LockoutIsPerUser) {
  const uint8_t a = addUser("a", "pw");
  const uint8_t b = addUser("b", "pw");
  for (int i = 0; i < db.lockoutPolicy().threshold; ++i) db.recordLoginFailure(a);
  EXPECT_TRUE(db.lockedOut(a));
  EXPECT_FALSE(db.lockedOut(b));
}

TEST_F(UserDbTest, AttemptCounterResetsAfterTheResetInterval) {
  const uint8_t id = addUser("admin", "pw");
  db.lockoutPolicy() = LockoutPolicy{3, 2, 6, false};  // 3 failures within 20 s
  db.recordLoginFailure(id);
  clock.advance(seconds(5));
  db.recordLoginFailure(id);
  clock.advance(seconds(16));  // 21 s after the first failure
  db.recordLoginFailure(id);
  EXPECT_FALSE(db.lockedOut(id)) << "the count was reset; this is failure 1 of a new interval";
  clock.advance(seconds(5));
  db.recordLoginFailure(id);
  EXPECT_FALSE(db.lockedOut(id));
  clock.advance(seconds(5));
  db.recordLoginFailure(id);
  EXPECT_TRUE(db.lockedOut(id)) << "3 failures within 20 s";
}

TEST_F(UserDbTest, FailuresWithinTheResetIntervalAccumulate) {
  const uint8_t id = addUser("admin", "pw");
  db.lockoutPolicy() = LockoutPolicy{3, 2, 6, false};
  db.recordLoginFailure(id);
  clock.advance(seconds(9));
  db.recordLoginFailure(id);
  clock.advance(seconds(9));
  db.recordLoginFailure(id);
  EXPECT_TRUE(db.lockedOut(id));
}

TEST_F(UserDbTest, SuccessResetsTheAttemptCounter) {
  const uint8_t id = addUser("admin", "pw");
  db.lockoutPolicy() = LockoutPolicy{3, 6, 6, false};
  db.recordLoginFailure(id);
  db.recordLoginFailure(id);
  db.recordLoginSuccess(id);
  db.recordLoginFailure(id);
  db.recordLoginFailure(id);
  EXPECT_FALSE(db.lockedOut(id));
  db.recordLoginFailure(id);
  EXPECT_TRUE(db.lockedOut(id));
}

TEST_F(UserDbTest, ThresholdZeroDisablesLockout) {
  const uint8_t id = addUser("admin", "pw");
  db.lockoutPolicy().threshold = 0;
  for (int i = 0; i < 100; ++i) db.recordLoginFailure(id);
  EXPECT_FALSE(db.lockedOut(id));
}

TEST_F(UserDbTest, LockoutIgnoresOutOfRangeIds) {
  for (int i = 0; i < 10; ++i) db.recordLoginFailure(200);
  EXPECT_FALSE(db.lockedOut(200));
  db.recordLoginSuccess(200);
}

// ---- Persistence -------------------------------------------------------------------------------------------

std::array<uint8_t, 32> fixedKey(uint8_t fill = 0x5A) {
  std::array<uint8_t, 32> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(fill + i);
  return k;
}

class UserDbPersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir.ok()); }

  std::unique_ptr<storage::StateStore> open(uint8_t keyFill = 0x5A) {
    auto s = storage::StateStore::open(dir.file("state.db"), storage::SecretBox(fixedKey(keyFill)));
    EXPECT_TRUE(s.hasValue()) << (s ? "" : s.error().message);
    if (!s) return nullptr;
    return std::move(*s);
  }

  storage::testing::TempDir dir;
  FakeClock clock;
};

TEST_F(UserDbPersistenceTest, UsersSurviveReopening) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    UserDb db(clock, store.get());
    ASSERT_TRUE(db.load());
    auto a = db.upsert("admin", "a-twenty-byte-passwd", Privilege::administrator, {1});
    ASSERT_TRUE(a.hasValue());
    ASSERT_EQ(*a, 2);
    auto o = db.upsert("oper", "operpass", Privilege::operator_, {1});
    ASSERT_TRUE(o.hasValue());
    ASSERT_TRUE(db.update(3, [](User& u) {
      u.enabled = false;
      u.access[1].callbackOnly = true;
      u.access[1].payloadMask = 0x06;
    }));
    ASSERT_TRUE(db.update(9, [](User& u) { u.name = "nine"; }));
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  UserDb db(clock, store.get());
  ASSERT_TRUE(db.load());

  const User* admin = db.get(2);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->name, "admin");
  EXPECT_EQ(admin->password, bytesOf("a-twenty-byte-passwd"));
  EXPECT_TRUE(admin->password20);
  EXPECT_TRUE(admin->enabled);
  EXPECT_EQ(admin->access[1].privilegeLimit, Privilege::administrator);
  EXPECT_TRUE(admin->access[1].ipmiMessaging);
  EXPECT_TRUE(admin->access[1].linkAuth);

  const User* oper = db.get(3);
  ASSERT_NE(oper, nullptr);
  EXPECT_EQ(oper->name, "oper");
  EXPECT_EQ(oper->password, bytesOf("operpass"));
  EXPECT_FALSE(oper->password20);
  EXPECT_FALSE(oper->enabled);
  EXPECT_EQ(oper->access[1].privilegeLimit, Privilege::operator_);
  EXPECT_TRUE(oper->access[1].callbackOnly);
  EXPECT_EQ(oper->access[1].payloadMask, 0x06u);
  EXPECT_EQ(oper->access[2].privilegeLimit, Privilege::noAccess);

  ASSERT_NE(db.get(9), nullptr);
  EXPECT_EQ(db.get(9)->name, "nine");
  EXPECT_EQ(db.get(4), nullptr);

  auto c = db.findUser(1, "admin");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->password, padded20("a-twenty-byte-passwd"));
  EXPECT_FALSE(db.findUser(1, "oper").has_value()) << "disabled";

  // New users after a reload still pick the first free id, and names stay unique.
  auto again = db.upsert("admin", "changed", Privilege::administrator, {1});
  ASSERT_TRUE(again.hasValue());
  EXPECT_EQ(*again, 2);
  auto fresh = db.upsert("fresh", "pw", Privilege::user, {1});
  ASSERT_TRUE(fresh.hasValue());
  EXPECT_EQ(*fresh, 4);
}

TEST_F(UserDbPersistenceTest, EveryChangeIsWrittenBeforeTheCallReturns) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  UserDb db(clock, store.get());
  ASSERT_TRUE(db.load());
  ASSERT_TRUE(db.upsert("admin", "pw1", Privilege::administrator, {1}).hasValue());
  ASSERT_TRUE(db.update(2, [](User& u) { u.password = bytesOf("pw2"); }));
  // A second handle on the same file sees the committed state while the first is still open.
  auto other = open();
  ASSERT_NE(other, nullptr);
  UserDb view(clock, other.get());
  ASSERT_TRUE(view.load());
  ASSERT_NE(view.get(2), nullptr);
  EXPECT_EQ(view.get(2)->password, bytesOf("pw2"));
}

TEST_F(UserDbPersistenceTest, PasswordsAreNotStoredInPlainText) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    UserDb db(clock, store.get());
    ASSERT_TRUE(db.upsert("admin", "Very-Distinct-Pw", Privilege::administrator, {1}).hasValue());
  }
  const auto raw = storage::testing::readFile(dir.file("state.db"));
  const std::string needle = "Very-Distinct-Pw";
  EXPECT_EQ(std::search(raw.begin(), raw.end(), needle.begin(), needle.end()), raw.end());
}

TEST_F(UserDbPersistenceTest, AWrongKeyFailsTheLoad) {
  {
    auto store = open(0x5A);
    ASSERT_NE(store, nullptr);
    UserDb db(clock, store.get());
    ASSERT_TRUE(db.upsert("admin", "pw", Privilege::administrator, {1}).hasValue());
  }
  auto store = open(0x11);
  ASSERT_NE(store, nullptr);
  UserDb db(clock, store.get());
  auto r = db.load();
  ASSERT_FALSE(r.hasValue());
  EXPECT_EQ(r.error().kind, Error::Kind::corrupt);
}

TEST_F(UserDbPersistenceTest, AFailedWriteLeavesMemoryUnchanged) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  UserDb db(clock, store.get());
  ASSERT_TRUE(db.upsert("admin", "pw", Privilege::administrator, {1}).hasValue());
  // The store refuses a name over 16 bytes; the in-memory table must not take it either.
  auto r = db.update(2, [](User& u) { u.name = std::string(17, 'x'); });
  EXPECT_FALSE(r.hasValue());
  ASSERT_NE(db.get(2), nullptr);
  EXPECT_EQ(db.get(2)->name, "admin");
  EXPECT_TRUE(db.findUser(1, "admin").has_value());
}

}  // namespace
}  // namespace simbmc::bmc
