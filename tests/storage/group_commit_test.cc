// GroupCommit through LmdbEnv::Update: concurrent writers share commits, a
// failing writer leaves no trace and does not hurt its batch, and every
// acknowledged write is there after reopening.
#include "storage/group_commit.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "storage/lmdb_env.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::storage::LmdbEnv;
using regd::storage::Txn;
using regd::testing::TempDir;

namespace {

std::unique_ptr<LmdbEnv> OpenEnv(const TempDir& dir) {
  auto env = LmdbEnv::Open({dir.Join("lmdb")});
  REQUIRE(env.ok());
  return std::move(env).value();
}

std::optional<std::string> Read(LmdbEnv* env, MDB_dbi dbi, const std::string& key) {
  std::optional<std::string> out;
  REQUIRE(env->View([&](Txn& t) {
               auto v = t.Get(dbi, key);
               if (v.ok() && v->has_value()) out = std::string(**v);
               return v.status();
             })
              .ok());
  return out;
}

}  // namespace

TEST_CASE("concurrent updates share commits and all of them are durable", "[group_commit]") {
  TempDir dir;
  constexpr int kThreads = 8, kPerThread = 50;
  {
    auto env = OpenEnv(dir);
    auto dbi = env->OpenDb("t");
    REQUIRE(dbi.ok());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string key = std::to_string(t) + ":" + std::to_string(i);
          Status s = env->Update([&](Txn& txn) { return txn.Put(*dbi, key, "v"); });
          if (!s.ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(env->commit_writes() == kThreads * kPerThread);
    // With 8 writers waiting on flushes, batches form: fewer commits than writes.
    WARN("commits: " << env->commit_batches() << " for " << env->commit_writes() << " writes");
    CHECK(env->commit_batches() < env->commit_writes());
  }
  auto env = OpenEnv(dir);
  auto dbi = env->OpenDb("t");
  REQUIRE(dbi.ok());
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      CHECK(Read(env.get(), *dbi, std::to_string(t) + ":" + std::to_string(i)) == "v");
    }
  }
}

TEST_CASE("a failing update in a batch leaves no trace and the others commit", "[group_commit]") {
  TempDir dir;
  auto env = OpenEnv(dir);
  auto dbi = env->OpenDb("t");
  REQUIRE(dbi.ok());
  std::vector<std::thread> threads;
  // Catch2's assertions are not thread-safe: threads count, the test checks.
  std::atomic<int> ok{0}, failed{0}, other{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      Status s = env->Update([&](Txn& txn) -> Status {
        Status put = txn.Put(*dbi, "k" + std::to_string(t), "v");
        if (!put.ok()) return put;
        if (t % 2 == 1) return Status::Invalid("odd writers change their mind");
        return Status::Ok();
      });
      if (s.ok()) {
        ++ok;
      } else if (s.code() == Status::Code::kInvalid) {  // the function's own error
        ++failed;
      } else {
        ++other;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 8);
  CHECK(failed == 8);
  CHECK(other == 0);
  for (int t = 0; t < 16; ++t) {
    INFO(t);
    CHECK(Read(env.get(), *dbi, "k" + std::to_string(t)).has_value() == (t % 2 == 0));
  }
}

TEST_CASE("an update sees the writes of the updates before it", "[group_commit]") {
  TempDir dir;
  auto env = OpenEnv(dir);
  auto dbi = env->OpenDb("counter");
  REQUIRE(dbi.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};  // counted in the threads, checked here (Catch2)
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Status s = env->Update([&](Txn& txn) -> Status {
          auto v = txn.Get(*dbi, "n");
          if (!v.ok()) return v.status();
          int n = v->has_value() ? std::stoi(std::string(**v)) : 0;
          return txn.Put(*dbi, "n", std::to_string(n + 1));
        });
        if (!s.ok()) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failed == 0);
  CHECK(Read(env.get(), *dbi, "n") == "200");  // no lost increments
}
