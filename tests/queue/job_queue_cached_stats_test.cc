// JobQueue::CachedStats, what /metrics reads: the records are read at most
// once per period whatever the number of callers, and the numbers follow the
// queue once the period has passed.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "queue/job_queue.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::queue::JobQueue;
using regd::queue::QueueStats;
using regd::storage::LmdbEnv;
using regd::testing::FakeClock;
using regd::testing::TempDir;

namespace {

struct Cached {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<LmdbEnv> env;
  std::unique_ptr<JobQueue> q;

  Cached() {
    auto e = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto opened = JobQueue::Open(env.get(), &clock);
    REQUIRE(opened.ok());
    q = std::move(opened).value();
  }
  void Add(int64_t delay_ms = 0) {
    REQUIRE(env->Update([&](regd::storage::Txn& t) -> Status {
                 return q->Enqueue(t, "t", "p", clock.NowMs() + delay_ms).status();
               })
                .ok());
  }
  QueueStats Get() {
    auto st = q->CachedStats(1000);
    REQUIRE(st.ok());
    return *st;
  }
};

}  // namespace

TEST_CASE("cached queue stats are read once per period, then follow the queue",
          "[job_queue_cached_stats]") {
  Cached f;
  f.Add();
  CHECK(f.Get().ready == 1);
  CHECK(f.q->cached_stats_reads() == 1);
  f.Add();
  f.Add(60'000);
  f.clock.Advance(999);
  CHECK(f.Get().ready == 1);  // within the period: the first read's numbers
  CHECK(f.q->cached_stats_reads() == 1);
  f.clock.Advance(1);
  QueueStats st = f.Get();
  CHECK(st.ready == 2);
  CHECK(st.delayed == 1);
  CHECK(f.q->cached_stats_reads() == 2);

  auto job = f.q->Lease(30'000);
  REQUIRE(job.ok());
  REQUIRE(job->has_value());
  REQUIRE(f.q->Bury(**job, "no").ok());
  f.clock.Advance(1000);
  st = f.Get();
  CHECK(st.ready == 1);
  CHECK(st.dead == 1);
  CHECK(f.q->cached_stats_reads() == 3);
}

TEST_CASE("many callers at once share one read of the queue", "[job_queue_cached_stats]") {
  Cached f;
  for (int i = 0; i < 100; ++i) f.Add();
  std::vector<std::thread> callers;
  std::atomic<int> right{0};
  for (int i = 0; i < 16; ++i) {
    callers.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        auto st = f.q->CachedStats(1000);
        if (st.ok() && st->ready == 100) ++right;
      }
    });
  }
  for (auto& t : callers) t.join();
  CHECK(right == 16 * 50);
  CHECK(f.q->cached_stats_reads() == 1);
}

TEST_CASE("a clock that steps back makes the cache read again", "[job_queue_cached_stats]") {
  Cached f;
  f.clock.Advance(10'000);
  f.Get();
  f.Add();
  f.clock.Advance(-5'000);
  QueueStats st = f.Get();
  CHECK(st.ready + st.delayed == 1);  // due at 10 s, now 5 s: delayed
  CHECK(f.q->cached_stats_reads() == 2);
}
