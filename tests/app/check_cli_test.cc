// `regd check` (app/check_cli.h, app/data_check.h) on real data dirs: a live
// server's passes; a damaged SQLite file, a garbage LMDB file and a queue
// record the queue could not use fail with exit 1 and say what is wrong.
// Which records are damage is each store's own Check, tested beside it
// (tests/queue/job_queue_check_test.cc, tests/storage/expiring_kv_test.cc,
// tests/storage/user_store_test.cc).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "storage/data_dir.h"
#include "storage/files.h"
#include "storage/lmdb_env.h"
#include "storage/user_store.h"
#include "tests/support/fake_sms_server.h"
#include "tests/support/lmdb_keys.h"
#include "tests/support/regd_client.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using Catch::Matchers::Contains;
using regd::testing::AskCode;
using regd::testing::ClientOf;
using regd::testing::CommandOutput;
using regd::testing::Describe;
using regd::testing::FakeSmsServer;
using regd::testing::Key64;
using regd::testing::RegdProcess;
using regd::testing::RunRegdCapturing;
using regd::testing::TempDir;
using regd::testing::TestRegdArgs;

namespace {

std::vector<std::string> ServerArgs(const std::string& data, const FakeSmsServer& sms) {
  return TestRegdArgs(data, sms.url(), {"--retry-base-ms", "60000"});
}

int RequestCode(const RegdProcess& p, const std::string& mobile) {
  auto cli = ClientOf(p);
  return AskCode(cli, mobile);
}

// A stopped data dir with users (enough for many SQLite pages), expiring
// keys and a pending job.
std::string MakeDataDir(const TempDir& dir) {
  std::string data = dir.Join("data");
  {
    FakeSmsServer sms;
    sms.SetDefaultStatus(503);  // the job stays pending
    RegdProcess regd(ServerArgs(data, sms), dir.Join("regd.log"));
    REQUIRE(regd.started());
    REQUIRE(RequestCode(regd, "13900000001") == 200);
  }
  auto users = regd::storage::UserStore::Open(regd::storage::UsersDbPath(data));
  REQUIRE(users.ok());
  for (int i = 0; i < 300; ++i) {
    std::string n = std::to_string(1000 + i);
    REQUIRE((*users)->Create("user_" + n, "1380000" + n, std::string(90, 'h'), i).ok());
  }
  return data;
}

// Opens the stopped data dir's env in this process and runs fn in a write
// transaction on the named database.
void WriteRaw(const std::string& data, const char* db,
              const std::function<regd::Status(regd::storage::Txn&, MDB_dbi)>& fn) {
  regd::storage::LmdbEnv::Options o;
  o.path = regd::storage::LmdbDirPath(data);
  auto env = regd::storage::LmdbEnv::Open(o);
  REQUIRE(env.ok());
  auto dbi = (*env)->OpenDb(db);
  REQUIRE(dbi.ok());
  REQUIRE((*env)->Update([&](regd::storage::Txn& t) { return fn(t, *dbi); }).ok());
}

}  // namespace

TEST_CASE("regd check passes a live server's data dir", "[check_cli]") {
  TempDir dir;
  FakeSmsServer sms;
  sms.SetDefaultStatus(503);
  std::string data = dir.Join("data");
  RegdProcess regd(ServerArgs(data, sms), dir.Join("regd.log"));
  REQUIRE(regd.started());
  REQUIRE(RequestCode(regd, "13900000002") == 200);
  CommandOutput r = RunRegdCapturing({"check", "--data-dir", data});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("ok       users.sqlite3: ok") &&
                        Contains("ok       lmdb/data.mdb: ok") && Contains("1 pending jobs") &&
                        Contains("\nhealthy\n"));
}

TEST_CASE("regd check passes a stopped data dir with many users", "[check_cli]") {
  TempDir dir;
  std::string data = MakeDataDir(dir);
  CommandOutput r = RunRegdCapturing({"check", "--data-dir=" + data});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("300 users") && Contains("1 pending jobs"));
}

TEST_CASE("regd check finds a users database damaged in the middle", "[check_cli]") {
  TempDir dir;
  std::string data = MakeDataDir(dir);
  std::string db = regd::storage::UsersDbPath(data);
  std::ifstream size_of(db, std::ios::binary | std::ios::ate);
  const long pages = static_cast<long>(size_of.tellg()) / 4096;
  REQUIRE(pages >= 8);
  {
    // The header of a b-tree page in the middle of the file.
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp((pages / 2) * 4096);
    std::string junk(64, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  CommandOutput r = RunRegdCapturing({"check", "--data-dir", data});
  INFO(Describe(r));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("DAMAGED  users.sqlite3: integrity_check") && Contains("damaged: "));
  CHECK_THAT(r.out, Contains("ok       lmdb/data.mdb"));  // the other store is fine
}

TEST_CASE("regd check finds an LMDB file that is garbage", "[check_cli]") {
  TempDir dir;
  std::string data = MakeDataDir(dir);
  std::string mdb = regd::storage::LmdbDataPath(data);
  std::ifstream size_of(mdb, std::ios::binary | std::ios::ate);
  std::string garbage(static_cast<size_t>(size_of.tellg()), '\0');
  std::mt19937 rng(42);
  for (char& c : garbage) c = static_cast<char>(rng());
  std::ofstream(mdb, std::ios::binary | std::ios::trunc) << garbage;
  CommandOutput r = RunRegdCapturing({"check", "--data-dir", data});
  INFO(Describe(r));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("DAMAGED  lmdb/data.mdb: cannot be opened"));
  CHECK_THAT(r.out, Contains("ok       users.sqlite3"));
}

TEST_CASE("regd check finds a job record the queue cannot decode", "[check_cli]") {
  TempDir dir;
  std::string data = MakeDataDir(dir);
  WriteRaw(data, "jobs", [](regd::storage::Txn& t, MDB_dbi jobs) {
    return t.Put(jobs, Key64(99), "not a job record");
  });
  CommandOutput r = RunRegdCapturing({"check", "--data-dir", data});
  INFO(Describe(r));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("DAMAGED  jobs: record 99 cannot be decoded"));
}

TEST_CASE("regd check reports a data dir that is not there", "[check_cli]") {
  TempDir dir;
  CommandOutput r = RunRegdCapturing({"check", "--data-dir", dir.Join("nothing")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("is not a directory"));
  REQUIRE(regd::storage::MakeDir(dir.Join("empty")).ok());
  r = RunRegdCapturing({"check", "--data-dir", dir.Join("empty")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out,
             Contains("users.sqlite3: no database file") && Contains("lmdb/data.mdb: missing"));
  CHECK(RunRegdCapturing({"check", "--bogus"}).exit_code == 2);
}

TEST_CASE("regd check run as root leaves what it creates to the data dir's owner", "[check_cli]") {
  if (geteuid() != 0) {
    WARN("not root: the ownership of files created by root cannot be tested here");
    return;
  }
  TempDir dir;
  std::string data = MakeDataDir(dir);
  std::string db = regd::storage::UsersDbPath(data);
  REQUIRE_FALSE(regd::storage::PathExists(db + "-wal"));  // a clean stop removed it
  const uid_t nobody = 65534;
  REQUIRE(lchown(data.c_str(), nobody, nobody) == 0);
  for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    REQUIRE(lchown(e.path().c_str(), nobody, nobody) == 0);
  }
  CommandOutput r = RunRegdCapturing({"check", "--data-dir", data});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  for (const std::string& created : {db + "-wal", db + "-shm"}) {
    INFO(created);
    struct stat st;
    if (stat(created.c_str(), &st) == 0) CHECK(st.st_uid == nobody);
  }
  REQUIRE(RunRegdCapturing({"backup", dir.Join("b"), "--data-dir", data}).exit_code == 0);
  for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    INFO(e.path());
    struct stat st;
    REQUIRE(lstat(e.path().c_str(), &st) == 0);
    CHECK(st.st_uid == nobody);
  }
}
