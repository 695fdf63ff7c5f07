#include "storage/sqlite_db.h"

#include <chrono>
#include <thread>

#include "storage/files.h"

namespace regd::storage {
namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Status::Conflict(msg);
    case SQLITE_FULL:
      return Status::Full("disk is full (" + msg + ")", 60);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(msg, 1);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Unavailable(msg);
    default:
      return Status::Internal(msg);
  }
}

}  // namespace

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Status Stmt::BindText(int i, std::string_view v) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  const char* data = v.data() != nullptr ? v.data() : "";
  int rc = sqlite3_bind_text(s_, i, data, static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(sqlite3_db_handle(s_), rc, "bind");
}

Status Stmt::BindInt64(int i, int64_t v) {
  int rc = sqlite3_bind_int64(s_, i, v);
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(sqlite3_db_handle(s_), rc, "bind");
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(sqlite3_db_handle(s_), sqlite3_extended_errcode(sqlite3_db_handle(s_)),
                     "step");
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::ColumnText(int i) const {
  const unsigned char* t = sqlite3_column_text(s_, i);
  int n = sqlite3_column_bytes(s_, i);
  return t ? std::string(reinterpret_cast<const char*>(t), n) : std::string();
}

int64_t Stmt::ColumnInt64(int i) const { return sqlite3_column_int64(s_, i); }

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  // SQLite would create the file 0644 (less the umask) and gives the -wal
  // and -shm it creates the database file's mode: make the file owner-only
  // before SQLite opens it (an empty file is an empty database), and narrow
  // the files an older regd left wider.
  if (!PathExists(path)) {
    Status made = WriteNewFile(path, "");
    if (!made.ok()) return made;
  }
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    if (!PathExists(file)) continue;
    Status narrowed = MakeOwnerOnly(file);
    if (!narrowed.ok()) return narrowed;
  }
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteDb> db(raw ? new SqliteDb(raw) : nullptr);
  if (rc != SQLITE_OK) return Status::Unavailable("open " + path + ": " + sqlite3_errstr(rc));
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    // journal_mode returns a row; run it through a statement.
    auto st = db->Prepare(pragma);
    if (!st.ok()) return st.status();
    auto r = st->Step();
    if (!r.ok()) return r.status();
  }
  return db;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::OpenReadOnly(const std::string& path) {
  if (!PathExists(path)) return Status::NotFound("no database file " + path);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteDb> db(raw ? new SqliteDb(raw) : nullptr);
  if (rc != SQLITE_OK) return Status::Unavailable("open " + path + ": " + sqlite3_errstr(rc));
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Status SqliteDb::BackupTo(const std::string& dest_path) {
  if (PathExists(dest_path)) return Status::Conflict(dest_path + " already exists");
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(dest_path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteDb> dest(raw ? new SqliteDb(raw) : nullptr);
  if (rc != SQLITE_OK) return Status::Unavailable("open " + dest_path + ": " + sqlite3_errstr(rc));
  sqlite3_extended_result_codes(raw, 1);

  sqlite3_backup* backup = sqlite3_backup_init(raw, "main", db_, "main");
  if (backup == nullptr) return SqliteError(raw, sqlite3_extended_errcode(raw), "backup init");
  // One step of all pages (-1) reads the source in a single read transaction.
  // Busy only while a writer holds an exclusive lock (WAL recovery): retry.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
           std::chrono::steady_clock::now() < deadline);
  int finished = sqlite3_backup_finish(backup);  // always, whatever the steps gave
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    return Status::Busy("backup of the users database: still locked after 10 s", 1);
  }
  if (rc != SQLITE_DONE) return SqliteError(raw, rc, "backup");
  if (finished != SQLITE_OK) return SqliteError(raw, finished, "backup");

  // The copied header says WAL, like the source; make the copy one file.
  {
    auto mode = dest->Prepare("PRAGMA journal_mode=DELETE");
    if (!mode.ok()) return mode.status();
    auto stepped = mode->Step();
    if (!stepped.ok()) return stepped.status();
  }              // the statement is finalized before its connection closes
  dest.reset();  // closes the copy before it is flushed
  return SyncPath(dest_path);
}

SqliteDb::~SqliteDb() { sqlite3_close(db_); }

Status SqliteDb::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(db_, rc, "exec");
}

Result<Stmt> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
  return Stmt(s);
}

}  // namespace regd::storage
