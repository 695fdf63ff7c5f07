// The users store's events table: every account change writes its event in
// the change's own transaction; the outbox reads, marks and prunes them.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "storage/user_store.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::storage::StoredEvent;
using regd::storage::UserEvent;
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

std::vector<StoredEvent> Unrelayed(UserStore* store) {
  auto e = store->UnrelayedEvents(100);
  REQUIRE(e.ok());
  return *e;
}

void Exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("each account change writes its event with the account as it left it", "[user_events]") {
  TempDir dir;
  auto store = OpenStore(dir.Join("users.sqlite3"));
  auto id = store->Create("alice", "13800138000", "h1", kNow);
  REQUIRE(id.ok());
  REQUIRE(store->SetPasswordHash(*id, "h2", UserEvent::kPasswordChanged, kNow + 1).ok());
  REQUIRE(store->SetPasswordHash(*id, "h3", UserEvent::kPasswordReset, kNow + 2).ok());
  REQUIRE(store->SetMobile(*id, "13900139000", kNow + 3).ok());

  auto events = Unrelayed(store.get());
  REQUIRE(events.size() == 4);
  CHECK(events[0].type == "user.registered");
  CHECK(events[1].type == "user.password_changed");
  CHECK(events[2].type == "user.password_reset");
  CHECK(events[3].type == "user.mobile_changed");
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].user_id == *id);
    CHECK(events[i].username == "alice");
    CHECK(events[i].at_ms == kNow + static_cast<int64_t>(i));
    if (i > 0) CHECK(events[i].id > events[i - 1].id);
  }
  CHECK(events[0].mobile == "13800138000");
  CHECK(events[3].mobile == "13900139000");  // the new one
}

TEST_CASE("a change that fails writes no event", "[user_events]") {
  TempDir dir;
  auto store = OpenStore(dir.Join("users.sqlite3"));
  auto a = store->Create("alice", "13800138000", "h", kNow);
  auto b = store->Create("bobby", "13900139000", "h", kNow);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(store->Create("alice", "13700137000", "h", kNow).status().code() ==
        Status::Code::kConflict);
  CHECK(store->SetMobile(*a, "13900139000", kNow).code() == Status::Code::kConflict);
  CHECK(store->SetMobile(999, "13600136000", kNow).code() == Status::Code::kNotFound);
  CHECK(store->SetPasswordHash(999, "h", UserEvent::kPasswordReset, kNow).code() ==
        Status::Code::kNotFound);
  CHECK(Unrelayed(store.get()).size() == 2);  // the two registrations only
  auto alice = store->FindById(*a);
  REQUIRE(alice.ok());
  CHECK((*alice)->mobile == "13800138000");
}

TEST_CASE("relayed events leave the outbox and stay in the audit until pruned", "[user_events]") {
  TempDir dir;
  auto store = OpenStore(dir.Join("users.sqlite3"));
  auto id = store->Create("alice", "13800138000", "h", kNow);
  REQUIRE(id.ok());
  REQUIRE(store->SetMobile(*id, "13900139000", kNow + 86'400'000).ok());
  auto events = Unrelayed(store.get());
  REQUIRE(events.size() == 2);
  REQUIRE(store->MarkRelayed({events[0].id}).ok());
  auto left = Unrelayed(store.get());
  REQUIRE(left.size() == 1);
  CHECK(left[0].type == "user.mobile_changed");

  auto audit = store->EventsOf(*id, 10);
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 2);
  CHECK((*audit)[0].type == "user.mobile_changed");  // newest first
  CHECK((*audit)[1].type == "user.registered");

  // Only relayed rows older than the cut go; an unrelayed one never does.
  auto pruned = store->PruneEvents(kNow + 2 * 86'400'000);
  REQUIRE(pruned.ok());
  CHECK(*pruned == 1);
  audit = store->EventsOf(*id, 10);
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 1);
  CHECK((*audit)[0].type == "user.mobile_changed");
  REQUIRE(store->MarkRelayed({left[0].id}).ok());
  CHECK(Unrelayed(store.get()).empty());
}

TEST_CASE("a version 1 users database is migrated and keeps its users", "[user_events]") {
  TempDir dir;
  const std::string path = dir.Join("users.sqlite3");
  Exec(path,
       "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,"
       " mobile TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,"
       " created_at_ms INTEGER NOT NULL);"
       "INSERT INTO users VALUES (1, 'alice', '13800138000', 'h', 5);"
       "PRAGMA user_version=1;");
  auto store = OpenStore(path);
  auto alice = store->FindByUsername("alice");
  REQUIRE(alice.ok());
  REQUIRE(alice->has_value());
  CHECK((*alice)->mobile == "13800138000");
  CHECK(Unrelayed(store.get()).empty());  // no event invented for old users
  REQUIRE(store->SetMobile(1, "13900139000", kNow).ok());
  CHECK(Unrelayed(store.get()).size() == 1);
}

TEST_CASE("an erased account's id is never given to another account", "[user_events]") {
  TempDir dir;
  auto store = OpenStore(dir.Join("users.sqlite3"));
  auto first = store->Create("alice", "13800138000", "h", kNow);
  auto newest = store->Create("bobby", "13900139000", "h", kNow);
  REQUIRE(first.ok());
  REQUIRE(newest.ok());
  REQUIRE(store->Delete(*newest, kNow).ok());  // the highest id goes
  auto next = store->Create("carol", "13700137000", "h", kNow);
  REQUIRE(next.ok());
  CHECK(*next > *newest);
  store.reset();
  store = OpenStore(dir.Join("users.sqlite3"));  // the sequence is on disk
  REQUIRE(store->Delete(*next, kNow).ok());
  auto after_reopen = store->Create("dave01", "13600136000", "h", kNow);
  REQUIRE(after_reopen.ok());
  CHECK(*after_reopen > *next);
}

TEST_CASE("a version 2 database keeps its accounts and never reuses an id its events name",
          "[user_events]") {
  TempDir dir;
  const std::string path = dir.Join("users.sqlite3");
  // Schema 2 as an older regd wrote it: account 3 was the newest and was
  // erased (only its user.deleted event is left), so SQLite alone would
  // give 3 again.
  Exec(path,
       "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,"
       " mobile TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,"
       " created_at_ms INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);"
       "CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT NOT NULL,"
       " user_id INTEGER NOT NULL, username TEXT NOT NULL, mobile TEXT NOT NULL,"
       " at_ms INTEGER NOT NULL, relayed INTEGER NOT NULL DEFAULT 0,"
       " previous_mobile TEXT NOT NULL DEFAULT '');"
       "CREATE INDEX events_unrelayed ON events(id) WHERE relayed = 0;"
       "CREATE INDEX events_by_user ON events(user_id, id);"
       "INSERT INTO users VALUES (1, 'alice', '13800138000', 'h1', 5, 0);"
       "INSERT INTO users VALUES (2, 'bobby', '13900139000', 'h2', 6, 1);"
       "INSERT INTO events (type, user_id, username, mobile, at_ms, relayed)"
       " VALUES ('user.deleted', 3, 'carol', '13700137000', 7, 1);"
       "PRAGMA user_version=2;");
  auto store = OpenStore(path);
  auto bobby = store->FindByUsername("bobby");
  REQUIRE(bobby.ok());
  REQUIRE(bobby->has_value());
  CHECK((*bobby)->id == 2);
  CHECK((*bobby)->password_hash == "h2");
  CHECK((*bobby)->disabled);
  CHECK(store->Create("alice", "13600136000", "h", kNow).status().code() ==
        Status::Code::kConflict);  // still unique
  auto next = store->Create("dave01", "13600136000", "h", kNow);
  REQUIRE(next.ok());
  CHECK(*next == 4);
  auto events = store->EventsOf(3, 10);
  REQUIRE(events.ok());
  CHECK(events->size() == 1);  // carol's audit stays hers
}

TEST_CASE("an account keeps at most kMaxEventsPerUser relayed events", "[user_events]") {
  TempDir dir;
  auto store = OpenStore(dir.Join("users.sqlite3"));
  auto id = store->Create("alice", "13800138000", "h", kNow);
  auto other = store->Create("bobby", "13900139000", "h", kNow);
  REQUIRE(id.ok());
  REQUIRE(other.ok());
  const int n = UserStore::kMaxEventsPerUser + 50;
  for (int i = 0; i < n; ++i) {
    REQUIRE(store->SetPasswordHash(*id, "h", UserEvent::kPasswordChanged, kNow + i).ok());
    if (i == 10) {  // the first ones are relayed by now; the rest wait
      std::vector<int64_t> ids;
      for (const auto& e : Unrelayed(store.get())) ids.push_back(e.id);
      REQUIRE(store->MarkRelayed(ids).ok());
    }
  }
  // Unrelayed events are never dropped (they must still be delivered).
  auto pending = store->UnrelayedEvents(1000);
  REQUIRE(pending.ok());
  CHECK(pending->size() == static_cast<size_t>(n - 11));
  std::vector<int64_t> ids;
  for (const auto& e : *pending) ids.push_back(e.id);
  REQUIRE(store->MarkRelayed(ids).ok());
  REQUIRE(store->SetPasswordHash(*id, "h", UserEvent::kPasswordReset, kNow + n).ok());
  auto audit = store->EventsOf(*id, 1000);
  REQUIRE(audit.ok());
  CHECK(audit->size() == static_cast<size_t>(UserStore::kMaxEventsPerUser));
  CHECK((*audit)[0].type == "user.password_reset");  // the newest kept
  auto bobby = store->EventsOf(*other, 10);
  REQUIRE(bobby.ok());
  CHECK(bobby->size() == 1);  // another account's untouched
}
