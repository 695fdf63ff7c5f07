// UserStore: the shop's customers, in SQLite (DATA_DIR/users.sqlite3).
//
// Schema (version 3, in PRAGMA user_version; Open migrates older files step
// by step inside one transaction each):
//   users(id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE,
//         mobile TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
//         created_at_ms INTEGER NOT NULL,
//         disabled INTEGER NOT NULL DEFAULT 0)  (disabled: since version 2)
//   events(id INTEGER PRIMARY KEY, type TEXT NOT NULL, user_id INTEGER NOT
//          NULL, username TEXT NOT NULL, mobile TEXT NOT NULL, at_ms INTEGER
//          NOT NULL, relayed INTEGER NOT NULL DEFAULT 0, previous_mobile
//          TEXT NOT NULL DEFAULT '')
//     + index events_unrelayed (id) WHERE relayed = 0, events_by_user
//       (user_id, id)
// Uniqueness of username and mobile is enforced by the database, so of two
// racing registrations exactly one succeeds and the other gets kConflict.
// An id is never given twice (AUTOINCREMENT, since version 3, its sequence
// started above every id the users and events tables held): what is keyed
// on an erased account's id (a session, a login lock, its audit, the shop's
// own data by X-User-Id) never passes to a new customer.
//
// The events table is the account events' outbox and audit trail. Every
// change of an account writes its event (the account as it is after the
// change) in the same SQLite transaction as the change, so a change that
// committed always has its event, whatever crashes next. The relay
// (events/outbox_relay) reads unrelayed events, hands them to the job
// queue and marks them relayed; rows are kept for the audit (EventsOf)
// until PruneEvents, and at most kMaxEventsPerUser relayed ones per account
// (each new event drops that account's oldest beyond it), so an account
// changed in a loop cannot grow the table without bound.
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
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  bool disabled = false;  // `regd users disable`: may not log in
};

// What happened to an account; each change of the store writes one.
enum class UserEvent {
  kRegistered,
  kPasswordChanged,
  kPasswordReset,
  kMobileChanged,
  kDisabled,
  kEnabled,
  kDeleted,
};
// The event's wire name: "user.registered", "user.password_changed", ...
const char* UserEventType(UserEvent event);

// One row of the events table: the account as the event left it.
struct StoredEvent {
  int64_t id = 0;  // increasing in commit order
  std::string type;
  int64_t user_id = 0;
  std::string username;
  std::string mobile;
  int64_t at_ms = 0;
  std::string previous_mobile;  // user.mobile_changed: the mobile it left; else ""
};

class UserStore {
 public:
  static constexpr int kSchemaVersion = 3;
  static constexpr int kMaxEventsPerUser = 100;

  static Result<std::unique_ptr<UserStore>> Open(const std::string& path);

  // Checks a users database (`regd check`) through db, a read-only
  // connection (SqliteDb::OpenReadOnly), without changing it. Problems, in
  // this order, the first ending the check: PRAGMA integrity_check is not
  // "ok" (up to 10 of its lines); PRAGMA user_version is not kSchemaVersion;
  // the users or the events table does not read with its columns. Returns
  // the number of users, or -1 after a problem.
  static int64_t Check(SqliteDb& db, Findings* out);

  // The unique column an insert collided with.
  enum class Taken { kUsername, kMobile };

  // Inserts a user with its user.registered event and returns its id;
  // kConflict if the username or the mobile is registered already, and then
  // *taken (if given) says which (the username when both are), read from
  // the table under the store's lock, never from SQLite's message text.
  Result<int64_t> Create(std::string_view username, std::string_view mobile,
                         std::string_view password_hash, int64_t now_ms, Taken* taken = nullptr);
  // Replaces user id's password hash, with `event` (kPasswordChanged or
  // kPasswordReset) at now_ms; kNotFound if there is no such user. Durable
  // when it returns ok, like Create.
  Status SetPasswordHash(int64_t id, std::string_view password_hash, UserEvent event,
                         int64_t now_ms);
  // Moves user id to mobile, with its user.mobile_changed event; kConflict
  // if another user has it (the UNIQUE constraint decides, so of two users
  // moving to one mobile one wins); kNotFound if there is no such user.
  Status SetMobile(int64_t id, std::string_view mobile, int64_t now_ms);

  // Disables or enables user id, with its user.disabled / user.enabled
  // event; false (and no event) when it already was so; kNotFound if there
  // is no such user.
  Result<bool> SetDisabled(int64_t id, bool disabled, int64_t now_ms);
  // Erases user id, writing its user.deleted event (the account as it was)
  // in the same transaction: the username and mobile are free after.
  // kNotFound if there is no such user.
  Status Delete(int64_t id, int64_t now_ms);
  // Up to limit users, newest first.
  Result<std::vector<User>> List(size_t limit);

  // The outbox: up to `limit` unrelayed events, oldest first.
  Result<std::vector<StoredEvent>> UnrelayedEvents(size_t limit);
  // Marks events relayed (one transaction); ids that are not there are skipped.
  Status MarkRelayed(const std::vector<int64_t>& ids);
  // The audit: user id's events, newest first, at most limit.
  Result<std::vector<StoredEvent>> EventsOf(int64_t user_id, size_t limit);
  // Deletes relayed events older than before_ms; returns how many.
  Result<int64_t> PruneEvents(int64_t before_ms);
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
  // Runs body inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when it fails). mu_ held.
  Status InTransactionLocked(const std::function<Status()>& body);
  // Appends event for user id at now_ms, from the row as it is now. mu_ held.
  Status AddEventLocked(int64_t id, UserEvent event, int64_t now_ms,
                        std::string_view previous_mobile = {});
  Result<std::vector<StoredEvent>> ReadEvents(Stmt& stmt);  // mu_ held

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
  Stmt set_disabled_;
  Stmt delete_;
  Stmt list_;
  Stmt add_event_;
  Stmt unrelayed_;
  Stmt mark_relayed_;
  Stmt events_of_;
  Stmt prune_events_;
  Stmt trim_events_;
};

}  // namespace regd::storage
