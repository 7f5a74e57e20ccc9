#include "storage/database.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "unit/storage/test_files.hpp"

namespace simbmc::storage {
namespace {

using testing::fileMode;
using testing::readFile;
using testing::ScopedUmask;
using testing::TempDir;
using testing::writeFile;

std::unique_ptr<Database> openMemory() {
  auto db = Database::open(":memory:");
  EXPECT_TRUE(db.hasValue()) << (db ? "" : db.error().message);
  return db ? std::move(*db) : nullptr;
}

int64_t queryInt(Database& db, std::string_view sql) {
  auto stmt = db.prepare(sql);
  EXPECT_TRUE(stmt.hasValue()) << (stmt ? "" : stmt.error().message);
  if (!stmt) return -1;
  auto row = stmt->step();
  EXPECT_TRUE(row.hasValue() && *row) << sql;
  return row && *row ? stmt->columnInt(0) : -1;
}

std::string queryText(Database& db, std::string_view sql) {
  auto stmt = db.prepare(sql);
  if (!stmt) return "<prepare failed>";
  auto row = stmt->step();
  return row && *row ? stmt->columnText(0) : "<no row>";
}

TEST(Database, ExecPrepareBindStepAndColumns) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n INTEGER)"));
  auto insert = db->prepare("INSERT INTO t VALUES(?1, ?2, ?3, ?4)");
  ASSERT_TRUE(insert) << insert.error().message;
  const std::vector<uint8_t> blob{0x00, 0x01, 0xFF, 0x00};
  ASSERT_TRUE(insert->bind(1, int64_t{-5000000000}).bind(2, "héllo").bind(3, blob).bindNull(4).run());
  EXPECT_EQ(db->lastInsertRowId(), 1);

  auto select = db->prepare("SELECT i, s, b, n FROM t");
  ASSERT_TRUE(select);
  auto row = select->step();
  ASSERT_TRUE(row);
  ASSERT_TRUE(*row);
  EXPECT_EQ(select->columnInt(0), -5000000000);
  EXPECT_EQ(select->columnText(1), "héllo");
  EXPECT_EQ(select->columnBlob(2), blob);
  EXPECT_TRUE(select->columnIsNull(3));
  EXPECT_FALSE(select->columnIsNull(0));
  row = select->step();
  ASSERT_TRUE(row);
  EXPECT_FALSE(*row);
}

TEST(Database, EmptyTextAndBlobBindAsValuesNotNull) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(s TEXT NOT NULL, b BLOB NOT NULL)"));
  auto insert = db->prepare("INSERT INTO t VALUES(?1, ?2)");
  ASSERT_TRUE(insert);
  ASSERT_TRUE(insert->bind(1, std::string_view()).bind(2, std::span<const uint8_t>()).run());
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM t WHERE s = '' AND length(b) = 0 AND typeof(b) = 'blob'"), 1);
}

TEST(Database, RunResetsSoAStatementIsReusable) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)"));
  auto insert = db->prepare("INSERT INTO t VALUES(?1)");
  ASSERT_TRUE(insert);
  for (int64_t i = 1; i <= 3; ++i) ASSERT_TRUE(insert->bind(1, i).run());
  EXPECT_EQ(queryInt(*db, "SELECT sum(x) FROM t"), 6);

  // reset() clears bindings: an unbound parameter is NULL.
  auto select = db->prepare("SELECT ?1 IS NULL");
  ASSERT_TRUE(select);
  select->bind(1, int64_t{7});
  select->reset();
  auto row = select->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(select->columnInt(0), 1);
}

TEST(Database, BindErrorIsReportedByStepAndClearedByReset) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  auto stmt = db->prepare("SELECT ?1");
  ASSERT_TRUE(stmt);
  auto row = stmt->bind(2, int64_t{1}).bind(1, int64_t{1}).step();
  ASSERT_FALSE(row);
  EXPECT_NE(row.error().message.find("bind parameter 2"), std::string::npos) << row.error().message;
  EXPECT_NE(row.error().message.find("SELECT ?1"), std::string::npos) << row.error().message;
  stmt->reset();
  row = stmt->bind(1, int64_t{9}).step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(stmt->columnInt(0), 9);
}

TEST(Database, EmptyStatementFailsInsteadOfCrashing) {
  Statement empty;
  auto row = empty.bind(1, int64_t{1}).step();
  ASSERT_FALSE(row);
  EXPECT_FALSE(empty.run());
  empty.reset();
}

TEST(Database, StatementMoveKeepsTheStatement) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  auto prepared = db->prepare("SELECT 42");
  ASSERT_TRUE(prepared);
  Statement a = std::move(*prepared);
  Statement b;
  b = std::move(a);
  auto row = b.step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(b.columnInt(0), 42);
  EXPECT_FALSE(a.step());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
}

TEST(Database, PrepareRejectsBadSqlEmptySqlAndTrailingStatements) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  auto bad = db->prepare("SELEKT 1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, Error::Kind::internal);
  EXPECT_NE(bad.error().message.find("SELEKT"), std::string::npos);
  EXPECT_FALSE(db->prepare(""));
  EXPECT_FALSE(db->prepare("SELECT 1; SELECT 2"));
  EXPECT_TRUE(db->prepare("SELECT 1;  \n"));
  EXPECT_FALSE(db->exec("CREATE TABLE"));
  // Double-quoted strings are identifiers only.
  EXPECT_FALSE(db->prepare("SELECT \"not a column\""));
}

TEST(Database, ConstraintViolationNamesTheStatement) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER PRIMARY KEY)"));
  auto insert = db->prepare("INSERT INTO t VALUES(?1)");
  ASSERT_TRUE(insert);
  ASSERT_TRUE(insert->bind(1, int64_t{1}).run());
  auto again = insert->bind(1, int64_t{1}).run();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, Error::Kind::internal);
  EXPECT_NE(again.error().message.find("INSERT INTO t"), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().message.find("UNIQUE"), std::string::npos) << again.error().message;
  // The failed run() reset the statement: it works again.
  EXPECT_TRUE(insert->bind(1, int64_t{2}).run());
}

TEST(Database, ForeignKeysAreEnforced) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE p(id INTEGER PRIMARY KEY);"
                       "CREATE TABLE c(p INTEGER REFERENCES p(id) ON DELETE CASCADE)"));
  EXPECT_FALSE(db->exec("INSERT INTO c VALUES(1)"));
  ASSERT_TRUE(db->exec("INSERT INTO p VALUES(1); INSERT INTO c VALUES(1); DELETE FROM p"));
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM c"), 0);
}

TEST(Database, SqliteErrorMapsResultCodes) {
  struct Case {
    int rc;
    Error::Kind kind;
  };
  const Case cases[] = {
      {SQLITE_FULL, Error::Kind::full},         {SQLITE_CORRUPT, Error::Kind::corrupt},
      {SQLITE_NOTADB, Error::Kind::corrupt},    {SQLITE_BUSY, Error::Kind::busy},
      {SQLITE_LOCKED, Error::Kind::busy},       {SQLITE_READONLY, Error::Kind::io},
      {SQLITE_IOERR, Error::Kind::io},          {SQLITE_IOERR_FSYNC, Error::Kind::io},
      {SQLITE_CANTOPEN, Error::Kind::io},       {SQLITE_PERM, Error::Kind::io},
      {SQLITE_CONSTRAINT, Error::Kind::internal}, {SQLITE_ERROR, Error::Kind::internal},
  };
  for (const auto& c : cases) {
    Error e = sqliteError(nullptr, c.rc, "doing it");
    EXPECT_EQ(e.kind, c.kind) << "rc=" << c.rc;
    EXPECT_EQ(e.message.rfind("doing it: ", 0), 0u) << e.message;
  }
}

// --- transactions ---

TEST(Database, TransactionCommits) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)"));
  ASSERT_TRUE(db->transaction([&] { return db->exec("INSERT INTO t VALUES(1); INSERT INTO t VALUES(2)"); }));
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM t"), 2);
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
}

TEST(Database, TransactionRollsBackWhenFnFails) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)"));
  auto r = db->transaction([&]() -> Result<void> {
    if (auto e = db->exec("INSERT INTO t VALUES(1)"); !e) return e;
    return makeError(Error::Kind::invalidArgument, "changed my mind");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "changed my mind");
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM t"), 0);
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
}

TEST(Database, TransactionRollsBackAfterAFailedStatement) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER PRIMARY KEY)"));
  auto r = db->transaction([&] { return db->exec("INSERT INTO t VALUES(1); INSERT INTO t VALUES(1)"); });
  ASSERT_FALSE(r);
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM t"), 0);
  // The connection is usable afterwards.
  ASSERT_TRUE(db->transaction([&] { return db->exec("INSERT INTO t VALUES(1)"); }));
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM t"), 1);
}

TEST(Database, TransactionRollsBackWhenFnThrows) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)"));
  EXPECT_THROW((void)db->transaction([&]() -> Result<void> {
    (void)db->exec("INSERT INTO t VALUES(1)");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM t"), 0);
}

TEST(Database, NestedTransactionIsRefused) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  auto r = db->transaction([&] { return db->transaction([] { return Result<void>(); }); });
  EXPECT_FALSE(r);
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
}

// --- migrations ---

TEST(Database, MigrationsApplyOnceAndInOrder) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  std::vector<std::string> steps = {"CREATE TABLE log(step INTEGER); INSERT INTO log VALUES(1)",
                                    "INSERT INTO log VALUES(2)"};
  ASSERT_TRUE(db->migrate(steps));
  EXPECT_EQ(queryInt(*db, "PRAGMA user_version"), 2);
  ASSERT_TRUE(db->migrate(steps));  // nothing left to do
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM log"), 2);

  steps.push_back("INSERT INTO log VALUES(3)");
  ASSERT_TRUE(db->migrate(steps));
  EXPECT_EQ(queryInt(*db, "PRAGMA user_version"), 3);
  EXPECT_EQ(queryInt(*db, "SELECT group_concat(step) = '1,2,3' FROM log"), 1);
}

TEST(Database, FailedMigrationLeavesThePreviousVersion) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  std::vector<std::string> steps = {"CREATE TABLE a(x)", "CREATE TABLE b(x); THIS IS NOT SQL"};
  auto r = db->migrate(steps);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("migration 1 -> 2"), std::string::npos) << r.error().message;
  EXPECT_EQ(queryInt(*db, "PRAGMA user_version"), 1);
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'"), 1);
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), 0);
}

TEST(Database, MigrateRefusesANewerFile) {
  auto db = openMemory();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE keep(x); PRAGMA user_version = 5"));
  auto r = db->migrate({"CREATE TABLE a(x)", "CREATE TABLE b(x)"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("version 5 is newer"), std::string::npos) << r.error().message;
  EXPECT_EQ(queryInt(*db, "PRAGMA user_version"), 5);
  EXPECT_EQ(queryInt(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'"), 0);
}

// --- files ---

TEST(DatabaseFile, CreatedMode0600WithWalRegardlessOfUmask) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  ScopedUmask umask(0);
  auto db = Database::open(path);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE((*db)->exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)"));
  EXPECT_EQ(fileMode(path), 0600);
  EXPECT_EQ(fileMode(path + "-wal"), 0600);
  EXPECT_EQ(fileMode(path + "-shm"), 0600);
  EXPECT_EQ(queryText(**db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(queryInt(**db, "PRAGMA synchronous"), 2);  // FULL
  EXPECT_EQ(queryInt(**db, "PRAGMA foreign_keys"), 1);
  EXPECT_GT(queryInt(**db, "PRAGMA busy_timeout"), 0);
}

TEST(DatabaseFile, ExistingWideModeIsTightened) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->exec("CREATE TABLE t(x)"));
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  testing::writeFile(path + "-shm", {});  // a leftover with umask permissions
  ASSERT_EQ(::chmod((path + "-shm").c_str(), 0644), 0);
  auto db = Database::open(path);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(fileMode(path), 0600);
  EXPECT_EQ(fileMode(path + "-shm"), 0600);
}

TEST(DatabaseFile, DataPersistsAcrossReopen) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->migrate({"CREATE TABLE t(x)"}));
    ASSERT_TRUE((*db)->transaction([&] { return (*db)->exec("INSERT INTO t VALUES('kept')"); }));
  }
  auto db = Database::open(path);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE((*db)->migrate({"CREATE TABLE t(x)"}));
  EXPECT_EQ(queryText(**db, "SELECT x FROM t"), "kept");
}

TEST(DatabaseFile, MissingDirectoryIsAnIoError) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto db = Database::open(dir.file("no/such/dir/state.db"));
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, Error::Kind::io);
  EXPECT_NE(db.error().message.find("no/such/dir"), std::string::npos) << db.error().message;
}

TEST(DatabaseFile, EmptyPathIsRejected) {
  auto db = Database::open("");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, Error::Kind::invalidArgument);
}

TEST(DatabaseFile, RandomBytesAreCorrupt) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  std::mt19937 rng(1234);
  std::vector<uint8_t> garbage(8192);
  for (auto& b : garbage) b = static_cast<uint8_t>(rng());
  writeFile(path, garbage);
  auto db = Database::open(path);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, Error::Kind::corrupt);
  EXPECT_NE(db.error().message.find(path), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("corrupt"), std::string::npos) << db.error().message;
  EXPECT_EQ(readFile(path), garbage);  // never "repaired" behind the operator's back
}

TEST(DatabaseFile, DamagedPageInTheMiddleIsCorrupt) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  int64_t pageSize = 0;
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->exec("CREATE TABLE sel(id INTEGER PRIMARY KEY, data BLOB);"
                            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
                            "INSERT INTO sel SELECT i, zeroblob(300) FROM n"));
    pageSize = queryInt(**db, "PRAGMA page_size");
  }  // closing checkpoints the WAL into the main file and removes it
  ASSERT_EQ(fileMode(path + "-wal"), -1);
  auto bytes = readFile(path);
  const size_t pages = bytes.size() / static_cast<size_t>(pageSize);
  ASSERT_GE(pages, 10u);
  // Overwrite one whole page in the middle of the table's b-tree.
  std::mt19937 rng(42);
  const size_t start = (pages / 2) * static_cast<size_t>(pageSize);
  for (size_t i = 0; i < static_cast<size_t>(pageSize); ++i) bytes[start + i] = static_cast<uint8_t>(rng());
  writeFile(path, bytes);

  auto db = Database::open(path);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, Error::Kind::corrupt) << db.error().message;
  EXPECT_NE(db.error().message.find(path), std::string::npos) << db.error().message;
}

TEST(DatabaseFile, QuickCheckFindingsAreReported) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("state.db");
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)"));
  }
  // Header offset 36: total freelist pages. The file still opens, but quick_check disagrees.
  auto bytes = readFile(path);
  ASSERT_GE(bytes.size(), 100u);
  bytes[39] = 5;
  writeFile(path, bytes);

  auto db = Database::open(path);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, Error::Kind::corrupt);
  EXPECT_NE(db.error().message.find("freelist"), std::string::npos) << db.error().message;
  EXPECT_EQ(db.error().message.find('\n'), std::string::npos) << "one line for the log";
}

}  // namespace
}  // namespace simbmc::storage
