#include "storage/user_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

using regd::Status;
using regd::storage::User;
using regd::storage::UserStore;
using regd::testing::TempDir;

namespace {

constexpr int64_t kNow = 1'790'000'000'000;

std::unique_ptr<UserStore> OpenStore(const std::string& path) {
  auto s = UserStore::Open(path);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(s).value();
}

// Runs a one-row, one-column query with sqlite3 directly (not through regd).
std::string QueryText(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const unsigned char* t = sqlite3_column_text(st, 0);
  std::string out = t ? reinterpret_cast<const char*>(t) : "";
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

struct Fixture {
  TempDir dir;
  std::string path = dir.Join("users.sqlite3");
  std::unique_ptr<UserStore> store = OpenStore(path);

  int64_t Create(const std::string& username, const std::string& mobile,
                 const std::string& hash = "$argon2id$fake") {
    auto id = store->Create(username, mobile, hash, kNow);
    INFO(id.status().ToString());
    REQUIRE(id.ok());
    return *id;
  }
};

}  // namespace

TEST_CASE("a created user is found by username, mobile and id", "[user_store]") {
  Fixture f;
  int64_t id = f.Create("alice", "13800138000", "$argon2id$hash-of-alice");
  CHECK(id > 0);

  auto by_name = f.store->FindByUsername("alice");
  REQUIRE(by_name.ok());
  REQUIRE(by_name->has_value());
  const User& u = **by_name;
  CHECK(u.id == id);
  CHECK(u.username == "alice");
  CHECK(u.mobile == "13800138000");
  CHECK(u.password_hash == "$argon2id$hash-of-alice");
  CHECK(u.created_at_ms == kNow);

  auto by_mobile = f.store->FindByMobile("13800138000");
  REQUIRE(by_mobile.ok());
  REQUIRE(by_mobile->has_value());
  CHECK((*by_mobile)->id == id);
  CHECK((*by_mobile)->username == "alice");

  auto by_id = f.store->FindById(id);
  REQUIRE(by_id.ok());
  REQUIRE(by_id->has_value());
  CHECK((*by_id)->username == "alice");
  CHECK((*by_id)->mobile == "13800138000");
}

TEST_CASE("lookups of users that do not exist return nothing", "[user_store]") {
  Fixture f;
  f.Create("alice", "13800138000");
  auto by_name = f.store->FindByUsername("bob");
  REQUIRE(by_name.ok());
  CHECK_FALSE(by_name->has_value());
  auto by_mobile = f.store->FindByMobile("13900139000");
  REQUIRE(by_mobile.ok());
  CHECK_FALSE(by_mobile->has_value());
  auto by_id = f.store->FindById(9999);
  REQUIRE(by_id.ok());
  CHECK_FALSE(by_id->has_value());
}

TEST_CASE("exists and count reflect the created users", "[user_store]") {
  Fixture f;
  auto n = f.store->CountUsers();
  REQUIRE(n.ok());
  CHECK(*n == 0);
  f.Create("alice", "13800138000");
  f.Create("bob", "13900139000");
  n = f.store->CountUsers();
  REQUIRE(n.ok());
  CHECK(*n == 2);
  auto e = f.store->UsernameExists("bob");
  REQUIRE(e.ok());
  CHECK(*e);
  e = f.store->UsernameExists("carol");
  REQUIRE(e.ok());
  CHECK_FALSE(*e);
  e = f.store->MobileExists("13800138000");
  REQUIRE(e.ok());
  CHECK(*e);
  e = f.store->MobileExists("13700137000");
  REQUIRE(e.ok());
  CHECK_FALSE(*e);
  CHECK(f.store->Ping().ok());
}

TEST_CASE("each user gets a distinct id", "[user_store]") {
  Fixture f;
  int64_t a = f.Create("alice", "13800138000");
  int64_t b = f.Create("bob", "13900139000");
  CHECK(a != b);
}

TEST_CASE("a duplicate username is a conflict", "[user_store]") {
  Fixture f;
  f.Create("alice", "13800138000");
  UserStore::Taken taken = UserStore::Taken::kMobile;
  auto dup = f.store->Create("alice", "13900139000", "h", kNow, &taken);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().code() == Status::Code::kConflict);
  CHECK(taken == UserStore::Taken::kUsername);
  // The store is still usable after the failed insert.
  f.Create("bob", "13900139000");
  auto n = f.store->CountUsers();
  REQUIRE(n.ok());
  CHECK(*n == 2);
}

TEST_CASE("a duplicate mobile is a conflict", "[user_store]") {
  Fixture f;
  f.Create("alice", "13800138000");
  UserStore::Taken taken = UserStore::Taken::kUsername;
  auto dup = f.store->Create("bob", "13800138000", "h", kNow, &taken);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().code() == Status::Code::kConflict);
  CHECK(taken == UserStore::Taken::kMobile);
  auto bob = f.store->FindByUsername("bob");
  REQUIRE(bob.ok());
  CHECK_FALSE(bob->has_value());
}

TEST_CASE("usernames are case-sensitive", "[user_store]") {
  Fixture f;
  int64_t lower = f.Create("alice", "13800138000");
  int64_t upper = f.Create("Alice", "13900139000");
  CHECK(lower != upper);
  auto a = f.store->FindByUsername("Alice");
  REQUIRE(a.ok());
  REQUIRE(a->has_value());
  CHECK((*a)->id == upper);
  auto none = f.store->FindByUsername("ALICE");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto e = f.store->UsernameExists("ALICE");
  REQUIRE(e.ok());
  CHECK_FALSE(*e);
}

TEST_CASE("the schema version is 3 in PRAGMA user_version", "[user_store]") {
  Fixture f;
  CHECK(UserStore::kSchemaVersion == 3);
  CHECK(QueryText(f.path, "PRAGMA user_version") == "3");
}

TEST_CASE("the users database is in WAL mode", "[user_store]") {
  Fixture f;
  CHECK(QueryText(f.path, "PRAGMA journal_mode") == "wal");
}

TEST_CASE("reopening the store keeps its users and schema version", "[user_store]") {
  TempDir dir;
  std::string path = dir.Join("users.sqlite3");
  int64_t id = 0;
  {
    auto store = OpenStore(path);
    auto r = store->Create("alice", "13800138000", "$argon2id$h", kNow);
    REQUIRE(r.ok());
    id = *r;
  }
  auto store = OpenStore(path);
  auto u = store->FindByUsername("alice");
  REQUIRE(u.ok());
  REQUIRE(u->has_value());
  CHECK((*u)->id == id);
  CHECK((*u)->mobile == "13800138000");
  CHECK((*u)->password_hash == "$argon2id$h");
  CHECK((*u)->created_at_ms == kNow);
  // Uniqueness still holds across the reopen.
  auto dup = store->Create("alice", "13900139000", "h", kNow);
  CHECK(dup.status().code() == Status::Code::kConflict);
  store.reset();
  CHECK(QueryText(path, "PRAGMA user_version") == "3");
}

TEST_CASE("a database from a newer regd is refused", "[user_store]") {
  TempDir dir;
  std::string path = dir.Join("users.sqlite3");
  { OpenStore(path); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version=4", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto store = UserStore::Open(path);
  CHECK_FALSE(store.ok());
}

namespace {

// Two threads call create(username, <own mobile>) at the same moment; returns
// how many succeeded and checks the loser got the username conflict.
int Race(UserStore* a, UserStore* b, const std::string& username, int round) {
  std::atomic<int> ready{0};
  std::atomic<int> ok{0};
  std::atomic<int> conflicts{0};
  auto run = [&](UserStore* store, const std::string& mobile) {
    ++ready;
    while (ready.load() < 2) {
    }
    UserStore::Taken taken = UserStore::Taken::kMobile;
    auto r = store->Create(username, mobile, "h", kNow, &taken);
    if (r.ok()) {
      ++ok;
    } else if (r.status().code() == Status::Code::kConflict &&
               taken == UserStore::Taken::kUsername) {
      ++conflicts;
    }
  };
  std::thread t1(run, a, "138" + std::to_string(10000000 + round * 2));
  std::thread t2(run, b, "138" + std::to_string(10000000 + round * 2 + 1));
  t1.join();
  t2.join();
  CHECK(conflicts.load() == 2 - ok.load());
  return ok.load();
}

}  // namespace

TEST_CASE("of two threads creating the same username exactly one succeeds", "[user_store]") {
  Fixture f;
  for (int round = 0; round < 10; ++round) {
    std::string name = "racer" + std::to_string(round);
    INFO(name);
    CHECK(Race(f.store.get(), f.store.get(), name, round) == 1);
  }
  auto n = f.store->CountUsers();
  REQUIRE(n.ok());
  CHECK(*n == 10);
}

TEST_CASE("of two connections creating the same username exactly one succeeds", "[user_store]") {
  // Two stores on one file: uniqueness is enforced by the database, not by
  // the store's mutex.
  Fixture f;
  auto other = OpenStore(f.path);
  for (int round = 0; round < 10; ++round) {
    std::string name = "racer" + std::to_string(round);
    INFO(name);
    CHECK(Race(f.store.get(), other.get(), name, round) == 1);
  }
  auto n = f.store->CountUsers();
  REQUIRE(n.ok());
  CHECK(*n == 10);
}

namespace {

// The permission bits of path, or -1 if it is missing.
int ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

// Sets the umask for one scope (SQLite's own default makes files 0644 under
// the usual 022).
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("users.sqlite3 and its -wal and -shm are created owner-only (were 0644)",
          "[user_store]") {
  ScopedUmask umask022(022);
  Fixture f;
  f.Create("alice", "13800138000");  // the open store keeps its -wal and -shm
  CHECK(ModeOf(f.path) == 0600);
  CHECK(ModeOf(f.path + "-wal") == 0600);
  CHECK(ModeOf(f.path + "-shm") == 0600);
}

TEST_CASE("a users database left 0644 by an older regd is made owner-only when opened",
          "[user_store]") {
  ScopedUmask umask022(022);
  TempDir dir;
  std::string path = dir.Join("users.sqlite3");
  // An older regd's files: made by SQLite itself, the -wal and -shm kept by
  // an open connection.
  sqlite3* old = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &old) == SQLITE_OK);
  REQUIRE(sqlite3_exec(old, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1)",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(ModeOf(path) == 0644);
  REQUIRE(ModeOf(path + "-wal") == 0644);
  REQUIRE(ModeOf(path + "-shm") == 0644);
  {
    auto store = OpenStore(path);
    CHECK(ModeOf(path) == 0600);
    CHECK(ModeOf(path + "-wal") == 0600);
    CHECK(ModeOf(path + "-shm") == 0600);
  }
  sqlite3_close(old);
}

namespace {

// UserStore::Check through a read-only connection to path.
int64_t CheckUsers(const std::string& path, regd::storage::Findings* found) {
  auto db = regd::storage::SqliteDb::OpenReadOnly(path);
  REQUIRE(db.ok());
  return UserStore::Check(**db, found);
}

void ExecRaw(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("check passes a users database and counts its users", "[user_store]") {
  TempDir dir;
  std::string path = dir.Join("users.sqlite3");
  {
    auto store = OpenStore(path);
    REQUIRE(store->Create("alice", "13800000001", "h", kNow).ok());
    REQUIRE(store->Create("bob", "13800000002", "h", kNow).ok());
  }
  regd::storage::Findings found;
  CHECK(CheckUsers(path, &found) == 2);
  CHECK(found.problems.empty());
}

TEST_CASE("check refuses a database of another schema", "[user_store]") {
  TempDir dir;
  std::string other = dir.Join("other.sqlite3");
  ExecRaw(other, "CREATE TABLE t(x)");
  regd::storage::Findings found;
  CHECK(CheckUsers(other, &found) == -1);
  REQUIRE(found.problems.size() == 1);
  CHECK(found.problems[0] == "schema version 0, expected 3 (not a regd users database)");

  std::string shape = dir.Join("shape.sqlite3");
  ExecRaw(shape,
          "CREATE TABLE users(id INTEGER PRIMARY KEY, username TEXT); PRAGMA user_version=3");
  found = {};
  CHECK(CheckUsers(shape, &found) == -1);
  REQUIRE(found.problems.size() == 1);
  CHECK_THAT(found.problems[0], Catch::Matchers::StartsWith("the users table does not read: "));
}
