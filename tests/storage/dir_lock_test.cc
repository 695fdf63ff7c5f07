// The claim on a data dir (storage/dir_lock.h): one holder at a time,
// released with its owner; and the probe that sees another process using the
// data dir's LMDB env.
#include "storage/dir_lock.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "storage/lmdb_env.h"
#include "tests/support/regd_process.h"
#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using regd::Status;
using regd::storage::DirLock;
using regd::storage::LmdbEnvUser;
using regd::testing::RegdProcess;
using regd::testing::RequireOk;
using regd::testing::TempDir;

TEST_CASE("a second claim on a claimed data dir fails and names the holder's pid", "[dir_lock]") {
  TempDir dir;
  auto first = RequireOk(DirLock::Acquire(dir.path()));
  auto second = DirLock::Acquire(dir.path());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Status::Code::kConflict);
  CHECK_THAT(second.status().message(),
             Contains("in use by regd") && Contains("pid " + std::to_string(getpid())));
}

TEST_CASE("a data dir's claim ends with its owner", "[dir_lock]") {
  TempDir dir;
  { auto first = RequireOk(DirLock::Acquire(dir.path())); }
  CHECK(DirLock::Acquire(dir.path()).ok());
}

TEST_CASE("a claim on a directory that does not exist fails", "[dir_lock]") {
  TempDir dir;
  CHECK(DirLock::Acquire(dir.Join("missing")).status().code() == Status::Code::kUnavailable);
}

TEST_CASE("the LMDB probe names the process that has a data dir's env open", "[dir_lock]") {
  TempDir dir;
  std::string data = dir.Join("data");
  CHECK(RequireOk(LmdbEnvUser(data)) == 0);  // no env at all
  {
    RegdProcess regd({"--port", "0", "--data-dir", data, "--access-log", "false"},
                     dir.Join("regd.log"));
    REQUIRE(regd.started());
    CHECK(RequireOk(LmdbEnvUser(data)) == regd.pid());
  }
  CHECK(RequireOk(LmdbEnvUser(data)) == 0);  // the lock file stays; nobody holds it
}
