#include "storage/user_store.h"

#include <vector>

namespace regd::storage {
namespace {

// Migration i takes the schema from version i to i + 1.
const char* const kMigrations[] = {
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE,"
    "  mobile TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL)",
    "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  username TEXT NOT NULL,"
    "  mobile TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  relayed INTEGER NOT NULL DEFAULT 0,"
    "  previous_mobile TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX events_unrelayed ON events(id) WHERE relayed = 0;"
    "CREATE INDEX events_by_user ON events(user_id, id)",
    // AUTOINCREMENT: an erased account's id is never given to another, so
    // nothing keyed on it (a session, a lock, an event, the shop's data)
    // passes to a new customer. The sequence starts above every id the
    // table or its events (user.deleted included) ever held.
    "CREATE TABLE users_v3 ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  username TEXT NOT NULL UNIQUE,"
    "  mobile TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO users_v3 (id, username, mobile, password_hash, created_at_ms, disabled)"
    "  SELECT id, username, mobile, password_hash, created_at_ms, disabled FROM users;"
    "DROP TABLE users;"
    "ALTER TABLE users_v3 RENAME TO users;"
    "DELETE FROM sqlite_sequence WHERE name IN ('users', 'users_v3');"
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'users', max("
    "  (SELECT coalesce(max(id), 0) FROM users), (SELECT coalesce(max(user_id), 0) FROM events))",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == UserStore::kSchemaVersion);

constexpr const char* kColumns =
    "SELECT id, username, mobile, password_hash, created_at_ms, disabled ";
constexpr const char* kEventColumns =
    "SELECT id, type, user_id, username, mobile, at_ms, previous_mobile ";

}  // namespace

const char* UserEventType(UserEvent event) {
  switch (event) {
    case UserEvent::kRegistered:
      return "user.registered";
    case UserEvent::kPasswordChanged:
      return "user.password_changed";
    case UserEvent::kPasswordReset:
      return "user.password_reset";
    case UserEvent::kMobileChanged:
      return "user.mobile_changed";
    case UserEvent::kDisabled:
      return "user.disabled";
    case UserEvent::kEnabled:
      return "user.enabled";
    case UserEvent::kDeleted:
      return "user.deleted";
  }
  return "user.unknown";
}

Result<std::unique_ptr<UserStore>> UserStore::Open(const std::string& path) {
  auto db = SqliteDb::Open(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<UserStore> store(new UserStore(std::move(db).value()));
  Status s = store->Migrate();
  if (!s.ok()) return s;
  s = store->PrepareStatements();
  if (!s.ok()) return s;
  return store;
}

int64_t UserStore::Check(SqliteDb& db, Findings* out) {
  auto integrity = db.Prepare("PRAGMA integrity_check(10)");
  if (!integrity.ok()) {
    out->problems.push_back("cannot be read: " + integrity.status().message());
    return -1;
  }
  std::vector<std::string> errors;
  for (;;) {
    auto row = integrity->Step();
    if (!row.ok()) {
      errors.push_back(row.status().message());
      break;
    }
    if (!*row) break;
    if (std::string line = integrity->ColumnText(0); line != "ok") errors.push_back(line);
  }
  for (const std::string& e : errors) out->problems.push_back("integrity_check: " + e);
  if (!errors.empty()) return -1;

  auto version = db.Prepare("PRAGMA user_version");
  auto has_row = version.ok() ? version->Step() : Result<bool>(version.status());
  if (!has_row.ok()) {
    out->problems.push_back(has_row.status().message());
    return -1;
  }
  int64_t v = version->ColumnInt64(0);
  if (v != kSchemaVersion) {
    out->problems.push_back("schema version " + std::to_string(v) + ", expected " +
                            std::to_string(kSchemaVersion) +
                            (v == 0 ? " (not a regd users database)" : ""));
    return -1;
  }
  // Naming every column checks the table's shape as well.
  auto count = db.Prepare(std::string("SELECT count(*) FROM (") + kColumns + "FROM users)");
  auto counted = count.ok() ? count->Step() : Result<bool>(count.status());
  if (!counted.ok()) {
    out->problems.push_back("the users table does not read: " + counted.status().message());
    return -1;
  }
  int64_t users = count->ColumnInt64(0);
  auto events =
      db.Prepare(std::string("SELECT count(*) FROM (") + kEventColumns + ", relayed FROM events)");
  auto read = events.ok() ? events->Step() : Result<bool>(events.status());
  if (!read.ok()) {
    out->problems.push_back("the events table does not read: " + read.status().message());
    return -1;
  }
  return users;
}

Status UserStore::Migrate() {
  for (;;) {
    int version = 0;
    {  // finalized before the migration: DROP TABLE fails beside a live statement
      auto st = db_->Prepare("PRAGMA user_version");
      if (!st.ok()) return st.status();
      auto row = st->Step();
      if (!row.ok()) return row.status();
      version = static_cast<int>(st->ColumnInt64(0));
    }
    if (version == kSchemaVersion) return Status::Ok();
    if (version > kSchemaVersion) {
      return Status::Unavailable("users database has schema version " + std::to_string(version) +
                                 ", newer than this regd understands");
    }
    Status s = db_->Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    s = db_->Exec(kMigrations[version]);
    if (s.ok()) {
      std::string bump = "PRAGMA user_version=" + std::to_string(version + 1);
      s = db_->Exec(bump.c_str());
    }
    if (!s.ok()) {
      db_->Exec("ROLLBACK");
      return s;
    }
    s = db_->Exec("COMMIT");
    if (!s.ok()) return s;
  }
}

Status UserStore::PrepareStatements() {
  struct {
    Stmt* stmt;
    std::string sql;
  } const all[] = {
      {&insert_,
       "INSERT INTO users(username, mobile, password_hash, created_at_ms) VALUES(?1, ?2, ?3, ?4)"},
      {&set_password_, "UPDATE users SET password_hash = ?2 WHERE id = ?1"},
      {&set_mobile_, "UPDATE users SET mobile = ?2 WHERE id = ?1"},
      {&by_username_, std::string(kColumns) + "FROM users WHERE username = ?1"},
      {&by_mobile_, std::string(kColumns) + "FROM users WHERE mobile = ?1"},
      {&by_id_, std::string(kColumns) + "FROM users WHERE id = ?1"},
      {&username_exists_, "SELECT 1 FROM users WHERE username = ?1"},
      {&mobile_exists_, "SELECT 1 FROM users WHERE mobile = ?1"},
      {&count_, "SELECT count(*) FROM users"},
      {&set_disabled_, "UPDATE users SET disabled = ?2 WHERE id = ?1 AND disabled != ?2"},
      {&delete_, "DELETE FROM users WHERE id = ?1"},
      {&list_, std::string(kColumns) + "FROM users ORDER BY id DESC LIMIT ?1"},
      {&add_event_,
       "INSERT INTO events(type, user_id, username, mobile, at_ms, previous_mobile) "
       "SELECT ?2, id, username, mobile, ?3, ?4 FROM users WHERE id = ?1"},
      {&unrelayed_,
       std::string(kEventColumns) + "FROM events WHERE relayed = 0 ORDER BY id LIMIT ?1"},
      {&mark_relayed_, "UPDATE events SET relayed = 1 WHERE id = ?1"},
      {&events_of_,
       std::string(kEventColumns) + "FROM events WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2"},
      {&prune_events_, "DELETE FROM events WHERE relayed = 1 AND at_ms < ?1"},
      {&trim_events_,
       "DELETE FROM events WHERE user_id = ?1 AND relayed = 1 AND id <= (SELECT id FROM events "
       "WHERE user_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)"},
  };
  for (const auto& p : all) {
    auto st = db_->Prepare(p.sql);
    if (!st.ok()) return st.status();
    *p.stmt = std::move(st).value();
  }
  return Status::Ok();
}

Status UserStore::InTransactionLocked(const std::function<Status()>& body) {
  Status s = db_->Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  s = body();
  if (s.ok()) s = db_->Exec("COMMIT");
  if (!s.ok()) db_->Exec("ROLLBACK");  // no-op when COMMIT ended it
  return s;
}

Status UserStore::AddEventLocked(int64_t id, UserEvent event, int64_t now_ms,
                                 std::string_view previous_mobile) {
  Stmt& st = add_event_;
  Status s = st.BindInt64(1, id);
  if (s.ok()) s = st.BindText(2, UserEventType(event));
  if (s.ok()) s = st.BindInt64(3, now_ms);
  if (s.ok()) s = st.BindText(4, previous_mobile);
  Result<bool> r = s.ok() ? st.Step() : Result<bool>(s);
  st.Reset();
  if (!r.ok()) return r.status();
  if (sqlite3_changes(db_->get()) == 0) return Status::NotFound("no such user");
  s = trim_events_.BindInt64(1, id);
  if (s.ok()) s = trim_events_.BindInt64(2, kMaxEventsPerUser);
  r = s.ok() ? trim_events_.Step() : Result<bool>(s);
  trim_events_.Reset();
  return r.ok() ? Status::Ok() : r.status();
}

Result<int64_t> UserStore::Create(std::string_view username, std::string_view mobile,
                                  std::string_view password_hash, int64_t now_ms, Taken* taken) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = 0;
  Status s = InTransactionLocked([&]() -> Status {
    Stmt& st = insert_;
    Status b = st.BindText(1, username);
    if (b.ok()) b = st.BindText(2, mobile);
    if (b.ok()) b = st.BindText(3, password_hash);
    if (b.ok()) b = st.BindInt64(4, now_ms);
    Result<bool> r = b.ok() ? st.Step() : Result<bool>(b);
    st.Reset();
    if (!r.ok()) return r.status();
    id = sqlite3_last_insert_rowid(db_->get());
    return AddEventLocked(id, UserEvent::kRegistered, now_ms);
  });
  if (s.code() == Status::Code::kConflict) {
    // Only the two UNIQUE columns can conflict; mu_ keeps other inserts
    // through this store out until the answer is read.
    Result<bool> by_name = ExistsLocked(username_exists_, username);
    if (!by_name.ok()) return by_name.status();
    if (taken != nullptr) *taken = *by_name ? Taken::kUsername : Taken::kMobile;
    return Status::Conflict(*by_name ? "username already registered" : "mobile already registered");
  }
  if (!s.ok()) return s;
  return id;
}

namespace {

// Runs an UPDATE of one row by id (?1) to text (?2); kNotFound when no row
// changed. Constraint violations come back as kConflict (Stmt::Step).
Status UpdateById(sqlite3* db, Stmt& st, int64_t id, std::string_view text) {
  Status s = st.BindInt64(1, id);
  if (s.ok()) s = st.BindText(2, text);
  Result<bool> r = s.ok() ? st.Step() : Result<bool>(s);
  st.Reset();
  if (!r.ok()) return r.status();
  if (sqlite3_changes(db) == 0) return Status::NotFound("no such user");
  return Status::Ok();
}

}  // namespace

Status UserStore::SetPasswordHash(int64_t id, std::string_view password_hash, UserEvent event,
                                  int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransactionLocked([&]() -> Status {
    Status s = UpdateById(db_->get(), set_password_, id, password_hash);
    return s.ok() ? AddEventLocked(id, event, now_ms) : s;
  });
}

Status UserStore::SetMobile(int64_t id, std::string_view mobile, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = InTransactionLocked([&]() -> Status {
    Status b = by_id_.BindInt64(1, id);
    if (!b.ok()) return b;
    auto before = FindOne(by_id_);
    if (!before.ok()) return before.status();
    if (!before->has_value()) return Status::NotFound("no such user");
    Status u = UpdateById(db_->get(), set_mobile_, id, mobile);
    return u.ok() ? AddEventLocked(id, UserEvent::kMobileChanged, now_ms, (*before)->mobile) : u;
  });
  if (s.code() == Status::Code::kConflict) return Status::Conflict("mobile already registered");
  return s;
}

Result<bool> UserStore::SetDisabled(int64_t id, bool disabled, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  bool changed = false;
  Status s = InTransactionLocked([&]() -> Status {
    Status b = set_disabled_.BindInt64(1, id);
    if (b.ok()) b = set_disabled_.BindInt64(2, disabled ? 1 : 0);
    Result<bool> r = b.ok() ? set_disabled_.Step() : Result<bool>(b);
    set_disabled_.Reset();
    if (!r.ok()) return r.status();
    changed = sqlite3_changes(db_->get()) > 0;
    if (changed)
      return AddEventLocked(id, disabled ? UserEvent::kDisabled : UserEvent::kEnabled, now_ms);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!changed) {
    by_id_.BindInt64(1, id);
    auto user = FindOne(by_id_);
    if (!user.ok()) return user.status();
    if (!user->has_value()) return Status::NotFound("no such user");
  }
  return changed;
}

Status UserStore::Delete(int64_t id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransactionLocked([&]() -> Status {
    Status s = AddEventLocked(id, UserEvent::kDeleted, now_ms);  // reads the row first
    if (!s.ok()) return s;
    s = delete_.BindInt64(1, id);
    Result<bool> r = s.ok() ? delete_.Step() : Result<bool>(s);
    delete_.Reset();
    return r.ok() ? Status::Ok() : r.status();
  });
}

Result<std::vector<User>> UserStore::List(size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = list_.BindInt64(1, static_cast<int64_t>(limit));
  if (!s.ok()) return s;
  std::vector<User> out;
  for (;;) {
    auto row = list_.Step();
    if (!row.ok()) {
      list_.Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back(User{list_.ColumnInt64(0), list_.ColumnText(1), list_.ColumnText(2),
                       list_.ColumnText(3), list_.ColumnInt64(4), list_.ColumnInt64(5) != 0});
  }
  list_.Reset();
  return out;
}

Result<std::vector<StoredEvent>> UserStore::ReadEvents(Stmt& st) {
  std::vector<StoredEvent> out;
  for (;;) {
    auto row = st.Step();
    if (!row.ok()) {
      st.Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back(StoredEvent{st.ColumnInt64(0), st.ColumnText(1), st.ColumnInt64(2),
                              st.ColumnText(3), st.ColumnText(4), st.ColumnInt64(5),
                              st.ColumnText(6)});
  }
  st.Reset();
  return out;
}

Result<std::vector<StoredEvent>> UserStore::UnrelayedEvents(size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = unrelayed_.BindInt64(1, static_cast<int64_t>(limit));
  if (!s.ok()) return s;
  return ReadEvents(unrelayed_);
}

Status UserStore::MarkRelayed(const std::vector<int64_t>& ids) {
  if (ids.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  return InTransactionLocked([&]() -> Status {
    for (int64_t id : ids) {
      Status s = mark_relayed_.BindInt64(1, id);
      Result<bool> r = s.ok() ? mark_relayed_.Step() : Result<bool>(s);
      mark_relayed_.Reset();
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  });
}

Result<std::vector<StoredEvent>> UserStore::EventsOf(int64_t user_id, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = events_of_.BindInt64(1, user_id);
  if (s.ok()) s = events_of_.BindInt64(2, static_cast<int64_t>(limit));
  if (!s.ok()) return s;
  return ReadEvents(events_of_);
}

Result<int64_t> UserStore::PruneEvents(int64_t before_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = prune_events_.BindInt64(1, before_ms);
  Result<bool> r = s.ok() ? prune_events_.Step() : Result<bool>(s);
  prune_events_.Reset();
  if (!r.ok()) return r.status();
  return static_cast<int64_t>(sqlite3_changes(db_->get()));
}

Result<std::optional<User>> UserStore::FindOne(Stmt& st) {
  auto row = st.Step();
  std::optional<User> user;
  if (row.ok() && *row) {
    user = User{st.ColumnInt64(0), st.ColumnText(1),  st.ColumnText(2),
                st.ColumnText(3),  st.ColumnInt64(4), st.ColumnInt64(5) != 0};
  }
  st.Reset();
  if (!row.ok()) return row.status();
  return user;
}

Result<std::optional<User>> UserStore::FindByUsername(std::string_view username) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = by_username_.BindText(1, username);
  if (!s.ok()) return s;
  return FindOne(by_username_);
}

Result<std::optional<User>> UserStore::FindByMobile(std::string_view mobile) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = by_mobile_.BindText(1, mobile);
  if (!s.ok()) return s;
  return FindOne(by_mobile_);
}

Result<std::optional<User>> UserStore::FindById(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = by_id_.BindInt64(1, id);
  if (!s.ok()) return s;
  return FindOne(by_id_);
}

Result<bool> UserStore::Exists(Stmt& st, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  return ExistsLocked(st, value);
}

Result<bool> UserStore::ExistsLocked(Stmt& st, std::string_view value) {
  Status s = st.BindText(1, value);
  Result<bool> r = s.ok() ? st.Step() : Result<bool>(s);
  st.Reset();
  return r;
}

Result<bool> UserStore::UsernameExists(std::string_view username) {
  return Exists(username_exists_, username);
}

Result<bool> UserStore::MobileExists(std::string_view mobile) {
  return Exists(mobile_exists_, mobile);
}

Result<int64_t> UserStore::CountUsers() {
  std::lock_guard<std::mutex> lock(mu_);
  auto r = count_.Step();
  int64_t n = (r.ok() && *r) ? count_.ColumnInt64(0) : 0;
  count_.Reset();
  if (!r.ok()) return r.status();
  return n;
}

Status UserStore::Ping() {
  auto n = CountUsers();
  return n.ok() ? Status::Ok() : n.status();
}

}  // namespace regd::storage
