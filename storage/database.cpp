#include "storage/database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <utility>

#include "common/log.hpp"

namespace simbmc::storage {
namespace {

// Short on purpose: the connection lives on the io_context thread, so waiting on a lock held by
// another process (an operator's sqlite3 shell) stalls every session of the instance.
constexpr int kBusyTimeoutMs = 1000;
constexpr mode_t kFileMode = 0600;
constexpr const char* kMemoryPath = ":memory:";

Error errnoError(std::string_view what, const std::string& path, int err) {
  return makeError(Error::Kind::io, fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

// SQLite creates WAL and shm files with the database file's mode; this repairs leftovers from a run
// that created them under other permissions, before SQLite opens them.
Result<void> tightenMode(const std::string& path) {
  if (::chmod(path.c_str(), kFileMode) != 0 && errno != ENOENT) return errnoError("chmod", path, errno);
  return {};
}

Result<void> fsyncParentDir(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoError("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errnoError("fsync directory", dir, err);
  return {};
}

// Creates the file ourselves so it never exists with umask-derived permissions, even for a moment.
Result<void> prepareFile(const std::string& path) {
  bool created = false;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd >= 0) {
    created = true;
  } else if (errno == EEXIST) {
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return errnoError("open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return errnoError("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return makeError(Error::Kind::io, fmt::format("open {}: not a regular file", path));
  }
  if ((st.st_mode & 07777) != kFileMode) {
    if (!created) log::warn("storage: tightening mode of path={} from {:o} to 600", path, st.st_mode & 07777);
    if (::fchmod(fd, kFileMode) != 0) {
      int err = errno;
      ::close(fd);
      return errnoError("chmod", path, err);
    }
  }
  ::close(fd);
  if (created) return fsyncParentDir(path);  // the directory entry must survive a power cut too
  return {};
}

// Runs a statement expected to return one text row (a PRAGMA) and returns that row.
Result<std::string> queryText(Database& db, std::string_view sql) {
  auto stmt = db.prepare(sql);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return makeError(Error::Kind::internal, fmt::format("`{}` returned no row", sql));
  return stmt->columnText(0);
}

Result<void> quickCheck(Database& db) {
  auto stmt = db.prepare("PRAGMA quick_check");
  if (!stmt) return stmt.error();
  std::string problems;
  int rows = 0;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    std::string line = stmt->columnText(0);
    if (rows == 0 && line == "ok") return {};
    std::replace(line.begin(), line.end(), '\n', ' ');  // findings end up in one log line
    if (rows < 3) problems += (rows ? "; " : "") + line;
    ++rows;
  }
  if (rows == 0) return makeError(Error::Kind::internal, "quick_check returned no row");
  return makeError(Error::Kind::corrupt, fmt::format("quick_check: {}{}", problems, rows > 3 ? "; ..." : ""));
}

}  // namespace

Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  Error::Kind kind = Error::Kind::internal;
  switch (rc & 0xff) {
    case SQLITE_FULL: kind = Error::Kind::full; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: kind = Error::Kind::corrupt; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: kind = Error::Kind::busy; break;
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: kind = Error::Kind::io; break;
    default: break;
  }
  // The connection's message is more specific, but only if it describes this failure (a bind error
  // reported later at step() is no longer the connection's last error).
  const char* detail = (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return makeError(kind, fmt::format("{}: {} (sqlite rc={})", what, detail, rc));
}

// --- Statement ---

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bindError_(std::exchange(other.bindError_, SQLITE_OK)),
      bindErrorIndex_(std::exchange(other.bindErrorIndex_, 0)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bindError_ = std::exchange(other.bindError_, SQLITE_OK);
    bindErrorIndex_ = std::exchange(other.bindErrorIndex_, 0);
  }
  return *this;
}

// sqlite3_finalize only repeats the last step()'s error, which step() already reported.
Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::noteBind(int index, int rc) {
  if (rc != SQLITE_OK && bindError_ == SQLITE_OK) {
    bindError_ = rc;
    bindErrorIndex_ = index;
  }
}

Statement& Statement::bind(int index, int64_t value) {
  noteBind(index, stmt_ ? sqlite3_bind_int64(stmt_, index, value) : SQLITE_MISUSE);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  if (!stmt_) {
    noteBind(index, SQLITE_MISUSE);
  } else if (text.size() > static_cast<size_t>(INT_MAX)) {
    noteBind(index, SQLITE_TOOBIG);
  } else {
    // A null pointer would bind SQL NULL, so an empty view binds "" explicitly.
    const char* data = text.data() != nullptr ? text.data() : "";
    noteBind(index, sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  return *this;
}

Statement& Statement::bind(int index, std::span<const uint8_t> blob) {
  if (!stmt_) {
    noteBind(index, SQLITE_MISUSE);
  } else if (blob.size() > static_cast<size_t>(INT_MAX)) {
    noteBind(index, SQLITE_TOOBIG);
  } else if (blob.empty()) {
    // sqlite3_bind_blob with a null pointer binds NULL; an empty value must stay a zero-length blob.
    noteBind(index, sqlite3_bind_zeroblob(stmt_, index, 0));
  } else {
    noteBind(index, sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT));
  }
  return *this;
}

Statement& Statement::bindNull(int index) {
  noteBind(index, stmt_ ? sqlite3_bind_null(stmt_, index) : SQLITE_MISUSE);
  return *this;
}

std::string Statement::describe() const {
  // sqlite3_sql has the placeholders, never the bound values (which may be sealed secrets).
  const char* sql = stmt_ ? sqlite3_sql(stmt_) : nullptr;
  return fmt::format("`{}`", sql ? sql : "");
}

Result<bool> Statement::step() {
  if (!stmt_) return makeError(Error::Kind::invalidArgument, "step on an empty statement");
  if (bindError_ != SQLITE_OK) {
    return sqliteError(nullptr, bindError_, fmt::format("bind parameter {} of {}", bindErrorIndex_, describe()));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqliteError(db_, rc, fmt::format("step {}", describe()));
}

Result<void> Statement::run() {
  Result<void> result;
  for (;;) {
    auto row = step();
    if (!row) {
      result = row.error();
      break;
    }
    if (!*row) break;
  }
  reset();
  return result;
}

void Statement::reset() {
  if (stmt_) {
    // The return value repeats the last step() error, which has been reported already.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  bindError_ = SQLITE_OK;
  bindErrorIndex_ = 0;
}

int64_t Statement::columnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::columnText(int index) const {
  // Text before bytes: sqlite3_column_bytes reports the size of the converted value.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  int size = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr || size <= 0) return {};
  return std::string(text, static_cast<size_t>(size));
}

std::vector<uint8_t> Statement::columnBlob(int index) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, index));
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return {};
  return std::vector<uint8_t>(data, data + size);
}

bool Statement::columnIsNull(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

// --- Database ---

Result<std::unique_ptr<Database>> Database::open(const std::string& path) {
  if (path.empty()) return makeError(Error::Kind::invalidArgument, "database path is empty");
  const bool inMemory = path == kMemoryPath;
  if (!inMemory) {
    if (auto r = prepareFile(path); !r) return r.error();
    for (const char* suffix : {"-wal", "-shm"}) {
      if (auto r = tightenMode(path + suffix); !r) return r.error();
    }
  }

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  // From here the handle is owned by `db`, which closes it on every failure path.
  std::unique_ptr<Database> db(new Database(raw));
  if (rc != SQLITE_OK) return sqliteError(raw, rc, fmt::format("open database {}", path));

  auto fail = [&](const Error& e) -> Error {
    if (e.kind == Error::Kind::corrupt) {
      return makeError(e.kind, fmt::format("database {} is corrupt or not an SQLite database: {}", path, e.message));
    }
    return makeError(e.kind, fmt::format("open database {}: {}", path, e.message));
  };

  if (rc = sqlite3_extended_result_codes(raw, 1); rc != SQLITE_OK) {
    return fail(sqliteError(raw, rc, "extended result codes"));
  }
  if (rc = sqlite3_busy_timeout(raw, kBusyTimeoutMs); rc != SQLITE_OK) {
    return fail(sqliteError(raw, rc, "busy timeout"));
  }
  // Defensive mode refuses SQL that can corrupt the file (writable_schema and the like); DQS off makes
  // a misquoted identifier an error instead of a silent string literal.
  for (int option : {SQLITE_DBCONFIG_DEFENSIVE, SQLITE_DBCONFIG_DQS_DML, SQLITE_DBCONFIG_DQS_DDL}) {
    int value = option == SQLITE_DBCONFIG_DEFENSIVE ? 1 : 0;
    if (rc = sqlite3_db_config(raw, option, value, nullptr); rc != SQLITE_OK) {
      return fail(sqliteError(raw, rc, "configure connection"));
    }
  }

  // Before anything writes: the first read of a damaged file fails here (NOTADB/CORRUPT) or reports.
  if (!inMemory) {
    if (auto r = quickCheck(*db); !r) return fail(r.error());
  }

  auto mode = queryText(*db, "PRAGMA journal_mode=WAL");
  if (!mode) return fail(mode.error());
  const char* wanted = inMemory ? "memory" : "wal";
  if (*mode != wanted) {
    return makeError(Error::Kind::io,
                     fmt::format("open database {}: journal_mode is '{}', expected '{}'", path, *mode, wanted));
  }
  if (auto r = db->exec("PRAGMA synchronous=FULL"); !r) return fail(r.error());
  if (auto r = db->exec("PRAGMA foreign_keys=ON"); !r) return fail(r.error());
  // Both pragmas are silently ignored in some builds or states; read them back.
  auto sync = queryText(*db, "PRAGMA synchronous");
  if (!sync) return fail(sync.error());
  auto fk = queryText(*db, "PRAGMA foreign_keys");
  if (!fk) return fail(fk.error());
  if (*sync != "2" || *fk != "1") {
    return makeError(Error::Kind::internal, fmt::format("open database {}: synchronous={} foreign_keys={}, "
                                                        "expected 2 and 1",
                                                        path, *sync, *fk));
  }

  return db;
}

Database::~Database() {
  // close_v2 defers the close until statements still alive (members of an owner) are finalized.
  int rc = sqlite3_close_v2(db_);
  if (rc != SQLITE_OK) log::error("storage: closing database failed: {}", sqlite3_errstr(rc));
}

Result<void> Database::exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db_, rc, fmt::format("exec `{}`", sql));
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  if (sql.size() > static_cast<size_t>(INT_MAX)) return makeError(Error::Kind::invalidArgument, "SQL too long");
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  // PERSISTENT: statements are prepared once and kept for the life of the owner.
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqliteError(db_, rc, fmt::format("prepare `{}`", sql));
  }
  Statement result(db_, stmt);
  if (stmt == nullptr) return makeError(Error::Kind::invalidArgument, fmt::format("prepare `{}`: no statement", sql));
  // A second statement would be silently ignored by step(); refuse it instead.
  std::string_view rest = sql.substr(static_cast<size_t>(tail - sql.data()));
  auto extra = rest.find_first_not_of(" \t\r\n;");
  if (extra != std::string_view::npos) {
    return makeError(Error::Kind::invalidArgument,
                     fmt::format("prepare `{}`: trailing text after the first statement", sql));
  }
  return result;
}

Result<void> Database::migrate(const std::vector<std::string>& migrations) {
  // Each step re-reads user_version under the write lock, so two processes migrating the same file
  // cannot both apply a step.
  for (;;) {
    bool done = false;
    auto r = transaction([&]() -> Result<void> {
      auto version = prepare("PRAGMA user_version");
      if (!version) return version.error();
      auto row = version->step();
      if (!row) return row.error();
      if (!*row) return makeError(Error::Kind::internal, "PRAGMA user_version returned no row");
      int64_t v = version->columnInt(0);
      version->reset();
      if (v < 0 || static_cast<uint64_t>(v) > migrations.size()) {
        return makeError(Error::Kind::invalidArgument,
                         fmt::format("database schema version {} is newer than this simbmc supports ({}); "
                                     "refusing to use it",
                                     v, migrations.size()));
      }
      if (static_cast<size_t>(v) == migrations.size()) {
        done = true;
        return {};
      }
      if (auto e = exec(migrations[static_cast<size_t>(v)]); !e) {
        return makeError(e.error().kind, fmt::format("migration {} -> {}: {}", v, v + 1, e.error().message));
      }
      return exec(fmt::format("PRAGMA user_version = {}", v + 1));
    });
    if (!r) return r;
    if (done) return {};
  }
}

Result<void> Database::transaction(const std::function<Result<void>()>& fn) {
  if (!sqlite3_get_autocommit(db_)) {
    return makeError(Error::Kind::internal, "transaction: already inside a transaction");
  }
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;

  // Rolls back on every exit that did not commit, including an exception thrown by fn. SQLite may
  // already have rolled back by itself (after FULL or IOERR); then there is nothing to undo.
  struct Guard {
    Database& db;
    bool committed = false;
    ~Guard() {
      if (committed || sqlite3_get_autocommit(db.db_)) return;
      int rc = sqlite3_exec(db.db_, "ROLLBACK", nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK) log::error("storage: ROLLBACK failed: {}", sqlite3_errmsg(db.db_));
    }
  } guard{*this};

  if (auto r = fn(); !r) return r;
  if (auto r = exec("COMMIT"); !r) return r;
  guard.committed = true;
  return {};
}

int64_t Database::lastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

}  // namespace simbmc::storage
