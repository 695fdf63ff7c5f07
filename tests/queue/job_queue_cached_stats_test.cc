// JobQueue::CachedStats, what /metrics reads: the records are read at most
// once per period whatever the number of callers, and the numbers follow the
// queue once the period has passed.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "queue/job_queue.h"
#include "tests/support/job_queue_fixture.h"

using regd::queue::QueueStats;

namespace {

struct Cached : regd::testing::QueueFixture {
  void Add(int64_t delay_ms = 0) { QueueFixture::Add("p", {}, delay_ms); }
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

  REQUIRE(f.q->Bury(f.Lease(), "no").ok());
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
