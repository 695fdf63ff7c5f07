// SqliteDb and Stmt: RAII owners of a sqlite3 connection and a prepared
// statement. Every query in regd is a prepared statement with bound
// parameters; no SQL is ever built from input.
//
// A SqliteDb is opened in WAL mode with synchronous=FULL, so a committed
// transaction is on disk before the call returns (kill -9 and power loss
// keep it). Statements must be destroyed before their SqliteDb (sqlite3_close
// returns SQLITE_BUSY while statements are alive); owners declare the
// SqliteDb first so it is destroyed last.
//
// Thread-safety: none. One SqliteDb and its statements are used by one thread
// at a time (callers hold a mutex; see UserStore).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace regd::storage {

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Bind by 1-based index. The text is copied (SQLITE_TRANSIENT).
  Status BindText(int i, std::string_view v);
  Status BindInt64(int i, int64_t v);
  // Runs one step: true when a row is ready, false when done. A failed step
  // returns the SQLite error (constraint violations as kConflict, with the
  // SQLite message, which callers must not show to clients as is).
  Result<bool> Step();
  // Resets the statement and clears its bindings for the next use.
  void Reset();
  std::string ColumnText(int i) const;
  int64_t ColumnInt64(int i) const;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

class SqliteDb {
 public:
  // Opens (creating) the database file at path, WAL, synchronous=FULL,
  // foreign keys on, busy timeout 5 s. The file and its -wal and -shm are
  // mode 0600, also when they were left wider by an older regd (kUnavailable
  // if they cannot be narrowed).
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  // Opens an existing database file read-only (no pragmas are set), for
  // tools beside a live server. kNotFound if there is no such file.
  static Result<std::unique_ptr<SqliteDb>> OpenReadOnly(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs SQL with no parameters and no result rows (schema, BEGIN/COMMIT).
  Status Exec(const char* sql);
  Result<Stmt> Prepare(std::string_view sql);
  sqlite3* get() const { return db_; }

  // Copies this connection's main database into the new file dest_path with
  // SQLite's online backup API, in one step: the copy is the database as of
  // one read transaction, while other connections and processes go on
  // writing (in WAL mode readers never block writers). The copy is a single
  // file in rollback-journal mode (no -wal beside it) and is flushed before
  // this returns. kConflict if dest_path exists; kBusy if the database
  // stayed locked for 10 s; other errors as SQLite reports them.
  Status BackupTo(const std::string& dest_path);

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace regd::storage
