// UserStore: the shop's customers, in SQLite (DATA_DIR/users.sqlite3).
//
// Schema (version 1, in PRAGMA user_version; Open migrates older files step
// by step inside one transaction each):
//   users(id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,
//         mobile TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
//         created_at_ms INTEGER NOT NULL)
// Uniqueness of username and mobile is enforced by the database, so of two
// racing registrations exactly one succeeds and the other gets kConflict.
// The store keeps password hashes only; hashing is the caller's (password.h).
// Usernames are case-sensitive, as in Django. Check (for `regd check`)
// verifies the file, its schema version and the table's shape.
//
// Durability: WAL + synchronous=FULL; Create returns ok only after the row is
// on disk.
// Thread-safety: safe to share; one connection guarded by a mutex (each call
// is a short indexed statement; slow work such as hashing happens outside).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "storage/format_check.h"
#include "storage/sqlite_db.h"
#include "storage/status.h"

namespace regd::storage {

struct User {
  int64_t id = 0;
  std::string username;
  std::string mobile;
  std::string password_hash;
  int64_t created_at_ms = 0;
};

class UserStore {
 public:
  static constexpr int kSchemaVersion = 1;

  static Result<std::unique_ptr<UserStore>> Open(const std::string& path);

  // Checks a users database (`regd check`) through db, a read-only
  // connection (SqliteDb::OpenReadOnly), without changing it. Problems, in
  // this order, the first ending the check: PRAGMA integrity_check is not
  // "ok" (up to 10 of its lines); PRAGMA user_version is not kSchemaVersion;
  // the users table does not read with its columns. Returns the number of
  // users, or -1 after a problem.
  static int64_t Check(SqliteDb& db, Findings* out);

  // The unique column an insert collided with.
  enum class Taken { kUsername, kMobile };

  // Inserts a user and returns its id; kConflict if the username or the
  // mobile is registered already, and then *taken (if given) says which
  // (the username when both are), read from the table under the store's
  // lock, never from SQLite's message text.
  Result<int64_t> Create(std::string_view username, std::string_view mobile,
                         std::string_view password_hash, int64_t now_ms, Taken* taken = nullptr);
  // Replaces user id's password hash; kNotFound if there is no such user.
  // Durable when it returns ok, like Create.
  Status SetPasswordHash(int64_t id, std::string_view password_hash);
  // Moves user id to mobile; kConflict if another user has it (the UNIQUE
  // constraint decides, so of two users moving to one mobile one wins);
  // kNotFound if there is no such user.
  Status SetMobile(int64_t id, std::string_view mobile);
  Result<std::optional<User>> FindByUsername(std::string_view username);
  Result<std::optional<User>> FindByMobile(std::string_view mobile);
  Result<std::optional<User>> FindById(int64_t id);
  Result<bool> UsernameExists(std::string_view username);
  Result<bool> MobileExists(std::string_view mobile);
  Result<int64_t> CountUsers();
  // Runs a trivial query; ok when the database is usable.
  Status Ping();

 private:
  explicit UserStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Migrate();
  Status PrepareStatements();
  Result<std::optional<User>> FindOne(Stmt& stmt);
  Result<bool> Exists(Stmt& stmt, std::string_view value);
  Result<bool> ExistsLocked(Stmt& stmt, std::string_view value);  // mu_ held

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // declared before the statements: destroyed last
  Stmt insert_;                   // all statements guarded by mu_
  Stmt set_password_;
  Stmt set_mobile_;
  Stmt by_username_;
  Stmt by_mobile_;
  Stmt by_id_;
  Stmt username_exists_;
  Stmt mobile_exists_;
  Stmt count_;
};

}  // namespace regd::storage
