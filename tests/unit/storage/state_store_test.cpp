#include "storage/state_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "unit/storage/test_files.hpp"

namespace simbmc::storage {
namespace {

using testing::fileMode;
using testing::TempDir;

std::array<uint8_t, 32> testKey(uint8_t fill = 0x5C) {
  std::array<uint8_t, 32> key{};
  key.fill(fill);
  return key;
}

std::vector<uint8_t> bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::unique_ptr<StateStore> openStore(const std::string& path = ":memory:", uint8_t keyFill = 0x5C) {
  auto store = StateStore::open(path, SecretBox(testKey(keyFill)));
  EXPECT_TRUE(store.hasValue()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

int64_t count(StateStore& store, std::string_view sql) {
  auto stmt = store.database().prepare(sql);
  if (!stmt) return -1;
  auto row = stmt->step();
  return row && *row ? stmt->columnInt(0) : -1;
}

StoredUser admin() {
  StoredUser u;
  u.id = 2;
  u.name = "admin";
  u.password = bytes("correct horse");
  u.enabled = true;
  u.access = {
      {.channel = 1, .privilegeLimit = 4, .linkAuth = true, .ipmiMessaging = true, .payloadMask = 0x3},
      {.channel = 14, .privilegeLimit = 3, .callbackOnly = true},
  };
  return u;
}

StoredUser operatorUser() {
  StoredUser u;
  u.id = 5;
  u.name = "operator";
  u.password = std::vector<uint8_t>(20, 0xA5);
  u.password20 = true;
  u.enabled = false;
  u.access = {{.channel = 2, .privilegeLimit = 0x0F, .payloadMask = 0xFFFFFFFF}};
  return u;
}

void expectSameUser(const StoredUser& a, const StoredUser& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.password, b.password);
  EXPECT_EQ(a.password20, b.password20);
  EXPECT_EQ(a.enabled, b.enabled);
  ASSERT_EQ(a.access.size(), b.access.size()) << "user " << int{a.id};
  for (size_t i = 0; i < a.access.size(); ++i) {
    EXPECT_EQ(a.access[i].channel, b.access[i].channel);
    EXPECT_EQ(a.access[i].privilegeLimit, b.access[i].privilegeLimit);
    EXPECT_EQ(a.access[i].callbackOnly, b.access[i].callbackOnly);
    EXPECT_EQ(a.access[i].linkAuth, b.access[i].linkAuth);
    EXPECT_EQ(a.access[i].ipmiMessaging, b.access[i].ipmiMessaging);
    EXPECT_EQ(a.access[i].payloadMask, b.access[i].payloadMask);
  }
}

TEST(StateStore, EmptyStoreHasNoUsers) {
  auto store = openStore();
  ASSERT_TRUE(store);
  auto users = store->loadUsers();
  ASSERT_TRUE(users) << users.error().message;
  EXPECT_TRUE(users->empty());
}

TEST(StateStore, UsersRoundTripWithAccessRowsOrderedById) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveUser(operatorUser()));  // saved out of id order on purpose
  ASSERT_TRUE(store->saveUser(admin()));
  StoredUser noAccess;
  noAccess.id = 3;
  noAccess.name = "";
  ASSERT_TRUE(store->saveUser(noAccess));  // empty name and password are valid values

  auto users = store->loadUsers();
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 3u);
  expectSameUser((*users)[0], admin());
  expectSameUser((*users)[1], noAccess);
  expectSameUser((*users)[2], operatorUser());
}

TEST(StateStore, SaveUserReplacesTheUserAndAllItsAccessRows) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveUser(admin()));
  StoredUser changed = admin();
  changed.name = "root";
  changed.password = bytes("new");
  changed.access = {{.channel = 14, .privilegeLimit = 2}};
  ASSERT_TRUE(store->saveUser(changed));

  auto users = store->loadUsers();
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 1u);
  expectSameUser((*users)[0], changed);
  EXPECT_EQ(count(*store, "SELECT count(*) FROM user_access"), 1);
}

TEST(StateStore, DeleteUserRemovesItsAccessRows) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveUser(admin()));
  ASSERT_TRUE(store->saveUser(operatorUser()));
  ASSERT_TRUE(store->deleteUser(2));
  EXPECT_TRUE(store->deleteUser(2));  // absent: still fine
  auto users = store->loadUsers();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].id, 5);
  EXPECT_EQ(count(*store, "SELECT count(*) FROM user_access WHERE user_id = 2"), 0);
  EXPECT_EQ(count(*store, "SELECT count(*) FROM user_access WHERE user_id = 5"), 1);
}

TEST(StateStore, InvalidUsersAreRefusedAndNothingIsWritten) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveUser(admin()));

  StoredUser longName = admin();
  longName.name = std::string(17, 'n');
  StoredUser longPassword = admin();
  longPassword.password = std::vector<uint8_t>(21, 'p');
  StoredUser twice = admin();
  twice.access.push_back({.channel = 1, .privilegeLimit = 2});
  for (const auto& bad : {longName, longPassword, twice}) {
    auto r = store->saveUser(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, Error::Kind::invalidArgument);
    EXPECT_NE(r.error().message.find("id=2"), std::string::npos) << r.error().message;
  }
  auto users = store->loadUsers();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  expectSameUser((*users)[0], admin());
}

TEST(StateStore, PasswordColumnDoesNotHoldThePlaintext) {
  auto store = openStore();
  ASSERT_TRUE(store);
  StoredUser u = admin();
  ASSERT_TRUE(store->saveUser(u));
  auto stmt = store->database().prepare("SELECT password FROM users WHERE id = 2");
  ASSERT_TRUE(stmt);
  auto row = stmt->step();
  ASSERT_TRUE(row && *row);
  auto raw = stmt->columnBlob(0);
  EXPECT_EQ(raw.size(), u.password.size() + 12 + 16);
  EXPECT_EQ(std::search(raw.begin(), raw.end(), u.password.begin(), u.password.end()), raw.end());
  // Not even a 4-byte piece of it.
  for (size_t i = 0; i + 4 <= u.password.size(); ++i) {
    EXPECT_EQ(std::search(raw.begin(), raw.end(), u.password.begin() + i, u.password.begin() + i + 4), raw.end());
  }
}

// Overwrites user `id`'s sealed password column with `edit` applied to it.
void editSealedPassword(StateStore& store, int64_t id, const std::function<void(std::vector<uint8_t>&)>& edit) {
  auto select = store.database().prepare("SELECT password FROM users WHERE id = ?1");
  ASSERT_TRUE(select);
  auto row = select->bind(1, id).step();
  ASSERT_TRUE(row && *row);
  auto blob = select->columnBlob(0);
  select->reset();
  edit(blob);
  auto update = store.database().prepare("UPDATE users SET password = ?1 WHERE id = ?2");
  ASSERT_TRUE(update);
  ASSERT_TRUE(update->bind(1, blob).bind(2, id).run());
}

TEST(StateStore, TamperedPasswordIsCorruptAndNamesTheUser) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveUser(admin()));
  ASSERT_TRUE(store->saveUser(operatorUser()));
  editSealedPassword(*store, 5, [](std::vector<uint8_t>& b) { b[b.size() / 2] ^= 0x01; });
  auto users = store->loadUsers();
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().kind, Error::Kind::corrupt);
  EXPECT_NE(users.error().message.find("id=5"), std::string::npos) << users.error().message;
}

TEST(StateStore, TruncatedPasswordIsCorrupt) {
  auto store = openStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveUser(admin()));
  editSealedPassword(*store, 2, [](std::vector<uint8_t>& b) { b.resize(5); });
  auto users = store->loadUsers();
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().kind, Error::Kind::corrupt);
  EXPECT_NE(users.error().message.find("id=2"), std::string::npos) << users.error().message;
}

TEST(StateStore, SettingsGetPutOverwrite) {
  auto store = openStore();
  ASSERT_TRUE(store);
  auto missing = store->get("boot.flags");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store->put("boot.flags", {0x80, 0x04}));
  auto got = store->get("boot.flags");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::optional(std::vector<uint8_t>{0x80, 0x04}));

  ASSERT_TRUE(store->put("boot.flags", {0x00}));
  got = store->get("boot.flags");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::optional(std::vector<uint8_t>{0x00}));
  EXPECT_EQ(count(*store, "SELECT count(*) FROM settings"), 1);

  // An empty value is a value, not an absent key.
  ASSERT_TRUE(store->put("empty", {}));
  got = store->get("empty");
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE((*got)->empty());
}

TEST(StateStore, ScanReturnsExactlyThePrefix) {
  auto store = openStore();
  ASSERT_TRUE(store);
  for (const char* key : {"lan.1.ip", "lan.1.mask", "lan.10.ip", "lan.", "lan", "lan/x", "lanx", "LAN.1.ip", "sol.1"}) {
    ASSERT_TRUE(store->put(key, bytes(key)));
  }
  auto lan1 = store->scan("lan.1.");
  ASSERT_TRUE(lan1) << lan1.error().message;
  EXPECT_EQ(lan1->size(), 2u);
  EXPECT_EQ(lan1->at("lan.1.ip"), bytes("lan.1.ip"));
  EXPECT_EQ(lan1->at("lan.1.mask"), bytes("lan.1.mask"));

  auto lan = store->scan("lan.");
  ASSERT_TRUE(lan);
  std::vector<std::string> keys;
  for (const auto& [k, v] : *lan) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"lan.", "lan.1.ip", "lan.1.mask", "lan.10.ip"}));

  auto all = store->scan("");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 9u);
  auto none = store->scan("zzz");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(StateStore, ScanHandlesPrefixEndingInFF) {
  auto store = openStore();
  ASSERT_TRUE(store);
  const std::string ff = "k\xFF";
  ASSERT_TRUE(store->put(ff + "a", {1}));
  ASSERT_TRUE(store->put(ff + "\xFF", {2}));
  ASSERT_TRUE(store->put("l", {3}));
  ASSERT_TRUE(store->put("k", {4}));
  auto r = store->scan(ff);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 2u);
  EXPECT_TRUE(r->count(ff + "a"));
  EXPECT_TRUE(r->count(ff + "\xFF"));
}

TEST(StateStoreFile, PersistsAcrossReopenWithMode0600) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  {
    auto store = openStore(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->saveUser(admin()));
    ASSERT_TRUE(store->saveUser(operatorUser()));
    ASSERT_TRUE(store->deleteUser(5));
    ASSERT_TRUE(store->put("power.restore", {0x02}));
  }
  EXPECT_EQ(fileMode(path), 0600);
  auto store = openStore(path);
  ASSERT_TRUE(store);
  auto users = store->loadUsers();
  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 1u);
  expectSameUser((*users)[0], admin());
  auto restore = store->get("power.restore");
  ASSERT_TRUE(restore);
  EXPECT_EQ(*restore, std::optional(std::vector<uint8_t>{0x02}));
  EXPECT_EQ(count(*store, "PRAGMA user_version"), 1);
}

TEST(StateStoreFile, ReopenWithAnotherKeyIsCorruptWithoutLeakingThePassword) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  {
    auto store = openStore(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->saveUser(admin()));
  }
  auto store = openStore(path, 0x77);
  ASSERT_TRUE(store);
  auto users = store->loadUsers();
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().kind, Error::Kind::corrupt);
  EXPECT_NE(users.error().message.find("id=2"), std::string::npos) << users.error().message;
  EXPECT_EQ(users.error().message.find("correct horse"), std::string::npos);
  // Settings are unaffected by the key.
  EXPECT_TRUE(store->put("x", {1}));
}

TEST(StateStoreFile, RefusesASchemaFromANewerVersion) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  {
    auto store = openStore(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->database().exec("PRAGMA user_version = 99"));
  }
  auto store = StateStore::open(path, SecretBox(testKey()));
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("99"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace simbmc::storage
