// RAII SQLite: Database (one connection), Statement (prepared once, reset per use), Transaction.
//
// Opened with WAL and synchronous=FULL so a write is durable when commit() returns: a reply that says
// "done" is sent only after that. All functions return Result; no exceptions. Single-threaded: one
// Database belongs to one BMC instance on the io_context thread. ":memory:" works for tests.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace simbmc::storage {

// A prepared statement. Finalized by its destructor, which may run after its Database is gone (the
// connection closes when the last statement is gone). Error messages name the SQL text with its
// placeholders, never the bound values.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds are 1-based like sqlite3_bind_*; they return *this and remember the first error.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::span<const uint8_t> blob);
  Statement& bindNull(int index);

  // One step: true when a row is available, false when done; an error otherwise.
  Result<bool> step();
  // Steps to completion, discarding rows (for INSERT/UPDATE/DELETE), then resets.
  Result<void> run();
  // Resets the statement and clears its bindings so it can be reused.
  void reset();

  int64_t columnInt(int index) const;
  std::string columnText(int index) const;
  std::vector<uint8_t> columnBlob(int index) const;
  bool columnIsNull(int index) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void noteBind(int index, int rc);
  std::string describe() const;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bindError_ = SQLITE_OK;
  int bindErrorIndex_ = 0;
};

class Database {
 public:
  // Opens (creating if needed) `path` with mode 0600, WAL, synchronous=FULL, foreign keys on,
  // busy timeout; runs `PRAGMA quick_check` on an existing file and fails with Error::Kind::corrupt
  // if it does not say "ok". An existing file with a wider mode is tightened to 0600 (with a warning).
  // Errors: io (path unusable), corrupt, busy (locked by another process), internal.
  static Result<std::unique_ptr<Database>> open(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<void> exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);

  // Schema migrations: migrations[i] takes the schema from user_version i to i+1. Applies the
  // missing ones, each in its own transaction. Fails if the file is newer than the code.
  // A migration may hold several statements, but none that cannot run in a transaction (VACUUM,
  // PRAGMA journal_mode, PRAGMA foreign_keys).
  Result<void> migrate(const std::vector<std::string>& migrations);

  // Runs fn inside BEGIN IMMEDIATE .. COMMIT; rolls back if fn fails (or throws) or commit fails.
  // Not re-entrant: calling it from inside fn fails.
  Result<void> transaction(const std::function<Result<void>()>& fn);

  int64_t lastInsertRowId() const;
  sqlite3* handle() { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// Turns an sqlite result code into an Error (SQLITE_FULL -> full, SQLITE_CORRUPT/NOTADB -> corrupt,
// SQLITE_BUSY/LOCKED -> busy, SQLITE_READONLY/IOERR/CANTOPEN/PERM -> io, else internal).
Error sqliteError(sqlite3* db, int rc, std::string_view what);

}  // namespace simbmc::storage
