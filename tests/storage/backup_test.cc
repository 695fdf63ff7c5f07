// Hot copies of the stores while writers go on (storage/backup.h): each copy
// holds exactly the commits made before it began, and a backup is a plain
// directory laid out like a data dir, readable by its owner only.
#include "storage/backup.h"

#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>

#include "storage/data_dir.h"
#include "storage/files.h"
#include "storage/lmdb_env.h"
#include "storage/sqlite_db.h"
#include "storage/user_store.h"
#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::storage::GetBigEndian64;
using regd::storage::LmdbEnv;
using regd::storage::PutBigEndian64;
using regd::storage::SqliteDb;
using regd::storage::Txn;
using regd::storage::UserStore;
using regd::testing::RequireOk;
using regd::testing::TempDir;

namespace {

constexpr int kKeysPerCommit = 50;  // every commit rewrites all of them

std::string Be(uint64_t v) {
  std::string s;
  PutBigEndian64(&s, v);
  return s;
}

int64_t QueryInt(SqliteDb& db, const char* sql) {
  auto st = RequireOk(db.Prepare(sql));
  REQUIRE(RequireOk(st.Step()));
  return st.ColumnInt64(0);
}

unsigned Mode(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("an LMDB copy taken while writes go on holds exactly the commits made before it",
          "[backup]") {
  TempDir dir;
  LmdbEnv::Options o;
  o.path = dir.Join("lmdb");
  auto env = RequireOk(LmdbEnv::Open(o));
  MDB_dbi dbi = RequireOk(env->OpenDb("t"));

  // Commit n writes n under every key; `committed` trails the commits by at
  // most one (it is stored after Update returns).
  std::atomic<uint64_t> committed{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t n = 1; !stop; ++n) {
      Status s = env->Update([&](Txn& t) -> Status {
        for (int k = 0; k < kKeysPerCommit; ++k) {
          Status p = t.Put(dbi, "key" + std::to_string(k), Be(n) + std::string(200, 'x'));
          if (!p.ok()) return p;
        }
        return Status::Ok();
      });
      if (!s.ok()) return;
      committed = n;
    }
  });
  while (committed < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  for (int i = 0; i < 4; ++i) {
    std::string out = dir.Join("copy" + std::to_string(i));
    REQUIRE(regd::storage::MakeDir(out).ok());
    uint64_t before = committed;
    Status s = env->CopyTo(out);
    uint64_t after = committed;
    INFO(s.ToString());
    REQUIRE(s.ok());

    LmdbEnv::Options co;
    co.path = out;
    co.read_only = true;
    co.private_copy = true;
    auto copy = RequireOk(LmdbEnv::Open(co));
    auto copy_dbi = RequireOk(copy->FindDb("t"));
    REQUIRE(copy_dbi.has_value());
    std::vector<uint64_t> seen;
    REQUIRE(copy->View([&](Txn& t) -> Status {
                  for (int k = 0; k < kKeysPerCommit; ++k) {
                    auto v = t.Get(*copy_dbi, "key" + std::to_string(k));
                    if (!v.ok()) return v.status();
                    seen.push_back(v->has_value() ? GetBigEndian64(**v) : 0);
                  }
                  return Status::Ok();
                })
                .ok());
    // One snapshot: every key from the same commit, no earlier than the
    // last commit before the copy and no later than the first after it.
    CHECK(std::count(seen.begin(), seen.end(), seen[0]) == kKeysPerCommit);
    CHECK(seen[0] >= before);
    CHECK(seen[0] <= after + 1);
    CHECK_FALSE(regd::storage::PathExists(out + "/lock.mdb"));
  }
  stop = true;
  writer.join();
}

TEST_CASE("an SQLite backup taken while users register holds every user committed before it",
          "[backup]") {
  TempDir dir;
  std::string path = dir.Join("users.sqlite3");
  auto users = RequireOk(UserStore::Open(path));
  std::atomic<int64_t> committed{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int64_t n = 1; !stop; ++n) {
      std::string num = std::to_string(n);
      auto id = users->Create("user_" + num, "139" + std::string(8 - num.size(), '0') + num,
                              "$argon2id$fake", n);
      if (!id.ok()) return;
      committed = n;
    }
  });
  while (committed < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  auto reader = RequireOk(SqliteDb::OpenReadOnly(path));
  std::string copy_path = dir.Join("copy.sqlite3");
  int64_t before = committed;
  Status s = reader->BackupTo(copy_path);
  int64_t after = committed;
  stop = true;
  writer.join();
  INFO(s.ToString());
  REQUIRE(s.ok());

  auto copy = RequireOk(SqliteDb::OpenReadOnly(copy_path));
  auto integrity = RequireOk(copy->Prepare("PRAGMA integrity_check"));
  REQUIRE(RequireOk(integrity.Step()));
  CHECK(integrity.ColumnText(0) == "ok");
  int64_t count = QueryInt(*copy, "SELECT count(*) FROM users");
  CHECK(count >= before);
  CHECK(count <= after + 1);
  CHECK(QueryInt(*copy, "SELECT max(id) FROM users") == count);  // a prefix: no gaps
  CHECK(QueryInt(*copy, "PRAGMA user_version") == UserStore::kSchemaVersion);
  // One self-contained file: rollback-journal mode, no WAL beside it.
  CHECK_FALSE(regd::storage::PathExists(copy_path + "-wal"));
  std::ifstream header(copy_path, std::ios::binary);
  char bytes[20];
  header.read(bytes, sizeof(bytes));
  CHECK(bytes[18] == 1);
  CHECK(bytes[19] == 1);
}

TEST_CASE("an SQLite backup does not overwrite an existing file", "[backup]") {
  TempDir dir;
  { RequireOk(UserStore::Open(dir.Join("users.sqlite3"))); }
  auto db = RequireOk(SqliteDb::OpenReadOnly(dir.Join("users.sqlite3")));
  std::ofstream(dir.Join("taken")) << "precious";
  CHECK(db->BackupTo(dir.Join("taken")).code() == Status::Code::kConflict);
  std::ifstream in(dir.Join("taken"));
  std::string content;
  in >> content;
  CHECK(content == "precious");
}

TEST_CASE("a backup of a data dir has its layout and is readable by its owner only", "[backup]") {
  TempDir dir;
  std::string data = dir.Join("data");
  REQUIRE(regd::storage::MakeDir(data).ok());
  {
    LmdbEnv::Options o;
    o.path = regd::storage::LmdbDirPath(data);
    auto env = RequireOk(LmdbEnv::Open(o));
    MDB_dbi dbi = RequireOk(env->OpenDb("kv"));
    REQUIRE(env->Update([&](Txn& t) { return t.Put(dbi, "k", "v"); }).ok());
    auto users = RequireOk(UserStore::Open(regd::storage::UsersDbPath(data)));
    REQUIRE(users->Create("someone", "13900000000", "h", 1).ok());
  }  // closed: CopyStores opens its own env (one env per process)
  std::string out = dir.Join("backup");
  REQUIRE(regd::storage::MakeDir(out).ok());
  Status s = regd::storage::CopyStores(data, out);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(Mode(regd::storage::UsersDbPath(out)) == 0600);
  CHECK(Mode(regd::storage::LmdbDataPath(out)) == 0600);
  CHECK(Mode(regd::storage::LmdbDirPath(out)) == 0700);
  auto users = RequireOk(UserStore::Open(regd::storage::UsersDbPath(out)));
  CHECK(RequireOk(users->CountUsers()) == 1);
}

TEST_CASE("a backup of a directory without regd data is refused", "[backup]") {
  TempDir dir;
  REQUIRE(regd::storage::MakeDir(dir.Join("out")).ok());
  Status s = regd::storage::CopyStores(dir.Join("empty"), dir.Join("out"));
  CHECK(s.code() == Status::Code::kNotFound);
  CHECK(RequireOk(regd::storage::ListDir(dir.Join("out"))).empty());
}
