#include "queue/consumer_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

using regd::Status;
using regd::SystemClock;
using regd::queue::ConsumerPool;
using regd::queue::HandlerResult;
using regd::queue::Job;
using regd::queue::JobQueue;
using regd::storage::LmdbEnv;
using regd::storage::Txn;
using regd::testing::TempDir;
using Kind = HandlerResult::Kind;

namespace {

using namespace std::chrono_literals;

// Polls pred until it holds or timeout passes; returns the last value.
template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

ConsumerPool::Options FastOptions() {
  ConsumerPool::Options o;
  o.workers = 2;
  o.lease_ms = 60'000;
  o.backoff_base_ms = 20;
  o.backoff_max_ms = 200;
  o.max_attempts = 5;
  return o;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<LmdbEnv> env;
  std::unique_ptr<JobQueue> queue;

  Fixture() {
    auto e = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto q = JobQueue::Open(env.get(), SystemClock::Get());
    REQUIRE(q.ok());
    queue = std::move(q).value();
  }
  uint64_t Enqueue(const std::string& type, const std::string& payload) {
    auto id = queue->EnqueueNow(type, payload);
    REQUIRE(id.ok());
    return *id;
  }
  // Enqueues without waking anyone, due at run_at_ms.
  uint64_t EnqueueAt(const std::string& type, int64_t run_at_ms) {
    uint64_t id = 0;
    REQUIRE(env->Update([&](Txn& t) -> Status {
                 auto r = queue->Enqueue(t, type, "", run_at_ms);
                 if (!r.ok()) return r.status();
                 id = *r;
                 return Status::Ok();
               })
                .ok());
    return id;
  }
  size_t Depth() {
    auto d = queue->Depth();
    REQUIRE(d.ok());
    return *d;
  }
  size_t Dead() {
    auto d = queue->DeadCount();
    REQUIRE(d.ok());
    return *d;
  }
};

// What a handler saw on one call.
struct Call {
  uint64_t id;
  uint32_t attempts;
  int64_t at_ms;
  std::string last_error;
  std::string payload;
};

class Recorder {
 public:
  void Add(const Job& job) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(
        {job.id, job.attempts, SystemClock::Get()->NowMs(), job.last_error, job.payload});
  }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.size();
  }
  // A handler that records each call and answers every one with `result`.
  regd::queue::JobHandler Answering(HandlerResult result) {
    return [this, result](const Job& job) {
      Add(job);
      return result;
    };
  }

 private:
  std::mutex mu_;
  std::vector<Call> calls_;
};

// A handler that sleeps for `hold` on each job, and how many such calls ran
// at once: the current count and the most seen.
struct Concurrency {
  std::atomic<int> running{0};
  std::atomic<int> most{0};

  regd::queue::JobHandler Sleeping(std::chrono::milliseconds hold) {
    return [this, hold](const Job&) {
      int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(hold);
      --running;
      return HandlerResult{};
    };
  }
};

}  // namespace

TEST_CASE("backoff doubles from the base up to the cap", "[consumer_pool]") {
  ConsumerPool::Options o = FastOptions();
  CHECK(ConsumerPool::BackoffMs(o, 1) == 20);
  CHECK(ConsumerPool::BackoffMs(o, 2) == 40);
  CHECK(ConsumerPool::BackoffMs(o, 3) == 80);
  CHECK(ConsumerPool::BackoffMs(o, 4) == 160);
  CHECK(ConsumerPool::BackoffMs(o, 5) == 200);
  CHECK(ConsumerPool::BackoffMs(o, 60) == 200);
}

TEST_CASE("a handler runs and its job is acked", "[consumer_pool]") {
  Fixture f;
  Recorder rec;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("echo", rec.Answering(HandlerResult{}));
  uint64_t id = f.Enqueue("echo", "hello");
  pool.Start();
  REQUIRE(WaitUntil([&] { return pool.stats().done.load() == 1; }));
  auto calls = rec.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].id == id);
  CHECK(calls[0].payload == "hello");
  CHECK(calls[0].attempts == 1);
  CHECK(f.Depth() == 0);
  CHECK(f.Dead() == 0);
  CHECK(pool.stats().retried.load() == 0);
}

TEST_CASE("a job enqueued while consumers sleep with nothing due is picked up promptly",
          "[consumer_pool]") {
  // With nothing due a consumer sleeps for up to a minute; only the wake-up
  // from EnqueueNow gets the job run within seconds.
  Fixture f;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("echo", [](const Job&) { return HandlerResult{}; });
  pool.Start();
  std::this_thread::sleep_for(50ms);  // let the consumers go to sleep
  f.Enqueue("echo", "");
  CHECK(WaitUntil([&] { return pool.stats().done.load() == 1; }, 5s));
}

TEST_CASE("a job enqueued while consumers sleep until a later job is picked up promptly",
          "[consumer_pool]") {
  Fixture f;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("echo", [](const Job&) { return HandlerResult{}; });
  f.EnqueueAt("echo", SystemClock::Get()->NowMs() + 50'000);  // consumers sleep until then
  pool.Start();
  std::this_thread::sleep_for(50ms);
  f.Enqueue("echo", "");
  CHECK(WaitUntil([&] { return pool.stats().done.load() == 1; }, 5s));
  CHECK(f.Depth() == 1);  // the later job is still waiting
}

TEST_CASE("a failing handler is retried with backoff and then succeeds", "[consumer_pool]") {
  Fixture f;
  Recorder rec;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("flaky", [&](const Job& job) {
    rec.Add(job);
    if (job.attempts < 3) {
      return HandlerResult{Kind::kRetry, "transient " + std::to_string(job.attempts)};
    }
    return HandlerResult{};
  });
  uint64_t id = f.Enqueue("flaky", "x");
  pool.Start();
  REQUIRE(WaitUntil([&] { return pool.stats().done.load() == 1; }));
  auto calls = rec.calls();
  REQUIRE(calls.size() == 3);
  for (size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].id == id);
    CHECK(calls[i].attempts == i + 1);
  }
  CHECK(calls[0].last_error.empty());
  CHECK(calls[1].last_error == "transient 1");
  CHECK(calls[2].last_error == "transient 2");
  // Backoff base 20 ms then 40 ms, each with at most 20% jitter.
  CHECK(calls[1].at_ms - calls[0].at_ms >= 16);
  CHECK(calls[2].at_ms - calls[1].at_ms >= 32);
  CHECK(pool.stats().retried.load() == 2);
  CHECK(pool.stats().dead.load() == 0);
  CHECK(f.Depth() == 0);
  CHECK(f.Dead() == 0);
}

TEST_CASE("a handler's own retry delay overrides the backoff", "[consumer_pool]") {
  Fixture f;
  Recorder rec;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("rate_limited", [&](const Job& job) {
    rec.Add(job);
    if (job.attempts == 1) return HandlerResult{Kind::kRetry, "HTTP 429", 300};
    return HandlerResult{};
  });
  f.Enqueue("rate_limited", "");
  pool.Start();
  REQUIRE(WaitUntil([&] { return pool.stats().done.load() == 1; }));
  auto calls = rec.calls();
  REQUIRE(calls.size() == 2);
  // The backoff alone would retry after about 20 ms.
  CHECK(calls[1].at_ms - calls[0].at_ms >= 300);
}

TEST_CASE("after max_attempts failures the job is dead", "[consumer_pool]") {
  Fixture f;
  Recorder rec;
  ConsumerPool::Options o = FastOptions();
  o.max_attempts = 3;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), o);
  pool.Register("always_fails", rec.Answering(HandlerResult{Kind::kRetry, "still down"}));
  f.Enqueue("always_fails", "");
  pool.Start();
  REQUIRE(WaitUntil([&] { return pool.stats().dead.load() == 1; }));
  CHECK(rec.size() == 3);
  CHECK(pool.stats().retried.load() == 2);
  CHECK(pool.stats().done.load() == 0);
  CHECK(f.Dead() == 1);
  CHECK(f.Depth() == 0);
}

TEST_CASE("a permanent failure goes dead at once", "[consumer_pool]") {
  Fixture f;
  Recorder rec;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("rejected", rec.Answering(HandlerResult{Kind::kPermanent, "HTTP 400"}));
  f.Enqueue("rejected", "");
  pool.Start();
  REQUIRE(WaitUntil([&] { return pool.stats().dead.load() == 1; }));
  CHECK(rec.size() == 1);
  CHECK(pool.stats().retried.load() == 0);
  CHECK(f.Dead() == 1);
  CHECK(f.Depth() == 0);
}

TEST_CASE("an expired job is counted as expired and not retried", "[consumer_pool]") {
  Fixture f;
  Recorder rec;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("late", rec.Answering(HandlerResult{Kind::kExpired, "code expired"}));
  f.Enqueue("late", "");
  pool.Start();
  REQUIRE(WaitUntil([&] { return pool.stats().expired.load() == 1; }));
  CHECK(rec.size() == 1);
  CHECK(pool.stats().retried.load() == 0);
  CHECK(pool.stats().done.load() == 0);
  CHECK(f.Depth() == 0);
}

TEST_CASE("a job of an unknown type goes dead", "[consumer_pool]") {
  Fixture f;
  Recorder rec;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("known", rec.Answering(HandlerResult{}));
  f.Enqueue("unknown", "");
  f.Enqueue("known", "");
  pool.Start();
  REQUIRE(
      WaitUntil([&] { return pool.stats().dead.load() == 1 && pool.stats().done.load() == 1; }));
  CHECK(rec.size() == 1);
  CHECK(pool.stats().retried.load() == 0);
  CHECK(f.Dead() == 1);
  CHECK(f.Depth() == 0);
}

TEST_CASE("stop joins the consumers and leaves pending jobs in the queue", "[consumer_pool]") {
  Fixture f;
  std::atomic<int> calls{0};
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), FastOptions());
  pool.Register("later", [&](const Job&) {
    ++calls;
    return HandlerResult{};
  });
  int64_t later = SystemClock::Get()->NowMs() + 3'600'000;
  for (int i = 0; i < 5; ++i) f.EnqueueAt("later", later);
  pool.Start();
  std::this_thread::sleep_for(20ms);
  pool.Stop();
  CHECK(calls.load() == 0);
  CHECK(f.Depth() == 5);
  pool.Stop();  // a second Stop is harmless
}

TEST_CASE("stop lets a running handler finish and leases nothing more", "[consumer_pool]") {
  Fixture f;
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  std::atomic<int> calls{0};
  ConsumerPool::Options o = FastOptions();
  o.workers = 1;
  {
    ConsumerPool pool(f.queue.get(), SystemClock::Get(), o);
    pool.Register("slow", [&](const Job&) {
      ++calls;
      entered = true;
      while (!release) std::this_thread::sleep_for(1ms);
      return HandlerResult{};
    });
    for (int i = 0; i < 5; ++i) f.Enqueue("slow", "");
    pool.Start();
    bool began = WaitUntil([&] { return entered.load(); });
    if (!began) release = true;  // so that the pool's destructor cannot hang
    REQUIRE(began);
    uint64_t gen = f.queue->generation();
    std::thread stopper([&] { pool.Stop(); });
    // Stop has begun once it wakes the consumers; then let the handler finish.
    bool stopping = WaitUntil([&] { return f.queue->generation() != gen; });
    release = true;
    stopper.join();
    REQUIRE(stopping);
    CHECK(calls.load() == 1);
    CHECK(pool.stats().done.load() == 1);  // the running job completed and was acked
    CHECK(f.Depth() == 4);
  }
  // The jobs left behind are run by the next pool.
  ConsumerPool next(f.queue.get(), SystemClock::Get(), o);
  next.Register("slow", [](const Job&) { return HandlerResult{}; });
  next.Start();
  CHECK(WaitUntil([&] { return next.stats().done.load() == 4; }));
  CHECK(f.Depth() == 0);
}

TEST_CASE("several workers run many jobs exactly once each", "[consumer_pool]") {
  Fixture f;
  constexpr int kJobs = 120;
  std::mutex mu;
  std::map<uint64_t, int> deliveries;  // guarded by mu
  ConsumerPool::Options o = FastOptions();
  o.workers = 4;
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), o);
  pool.Register("count", [&](const Job& job) {
    std::lock_guard<std::mutex> lock(mu);
    ++deliveries[job.id];
    return HandlerResult{};
  });
  std::vector<uint64_t> ids;
  // Half before the consumers start (one transaction), half while they run.
  REQUIRE(f.env
              ->Update([&](Txn& t) -> Status {
                for (int i = 0; i < kJobs / 2; ++i) {
                  auto id =
                      f.queue->Enqueue(t, "count", std::to_string(i), SystemClock::Get()->NowMs());
                  if (!id.ok()) return id.status();
                  ids.push_back(*id);
                }
                return Status::Ok();
              })
              .ok());
  f.queue->NotifyEnqueued();
  pool.Start();
  for (int i = kJobs / 2; i < kJobs; ++i) ids.push_back(f.Enqueue("count", std::to_string(i)));
  REQUIRE(WaitUntil([&] { return pool.stats().done.load() == kJobs; }, 60s));
  pool.Stop();
  std::lock_guard<std::mutex> lock(mu);
  CHECK(deliveries.size() == static_cast<size_t>(kJobs));
  for (uint64_t id : ids) {
    INFO("job " << id);
    CHECK(deliveries[id] == 1);
  }
  CHECK(pool.stats().done.load() == kJobs);
  CHECK(f.Depth() == 0);
}

TEST_CASE("a grown pool shrinks back to its two threads after it has been idle",
          "[consumer_pool]") {
  Fixture f;
  ConsumerPool::Options o = FastOptions();
  o.workers = 32;
  o.idle_exit_ms = 300;
  Concurrency ran;  // outlives the pool and its threads
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), o);
  pool.Register("slow", ran.Sleeping(200ms));
  pool.Start();
  CHECK(pool.Threads() == 2);
  for (int i = 0; i < 20; ++i) f.Enqueue("slow", "");
  REQUIRE(WaitUntil([&] { return pool.stats().done.load() == 20; }));
  CHECK(ran.most.load() >= 10);  // the jobs ran side by side, not two at a time
  CHECK(pool.PeakThreads() > 10);
  CHECK(pool.PeakThreads() <= 32);
  CHECK(WaitUntil([&] { return pool.Threads() == 2; }, 5s));
  // The two that stay still take new work, and grow again when needed.
  for (int i = 0; i < 4; ++i) f.Enqueue("slow", "");
  CHECK(WaitUntil([&] { return pool.stats().done.load() == 24; }));
  CHECK(pool.Stop());
  CHECK(pool.Threads() == 0);
}

TEST_CASE("the pool never runs more threads than --workers", "[consumer_pool]") {
  Fixture f;
  ConsumerPool::Options o = FastOptions();
  o.workers = 4;
  Concurrency ran;  // outlives the pool and its threads
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), o);
  pool.Register("slow", ran.Sleeping(50ms));
  pool.Start();
  for (int i = 0; i < 30; ++i) f.Enqueue("slow", "");
  REQUIRE(WaitUntil([&] { return pool.stats().done.load() == 30; }));
  CHECK(ran.most.load() == 4);
  CHECK(pool.PeakThreads() == 4);
  CHECK(pool.Stop());
}

TEST_CASE("a backlog due at start is taken up by many threads, not two", "[consumer_pool]") {
  Fixture f;
  // Due already, enqueued without a wake-up (as a backlog found at start or
  // made due by another process).
  for (int i = 0; i < 12; ++i) f.EnqueueAt("slow", SystemClock::Get()->NowMs());
  ConsumerPool::Options o = FastOptions();
  o.workers = ConsumerPool::kDefaultWorkers;
  Concurrency ran;  // outlives the pool and its threads
  ConsumerPool pool(f.queue.get(), SystemClock::Get(), o);
  pool.Register("slow", ran.Sleeping(500ms));
  auto start = std::chrono::steady_clock::now();
  pool.Start();
  REQUIRE(WaitUntil([&] { return pool.stats().done.load() == 12; }));
  CHECK(ran.most.load() == 12);
  CHECK(std::chrono::steady_clock::now() - start < 2s);  // two at a time: 3 s
  CHECK(pool.Stop());
}

TEST_CASE("stopping a pool that is growing joins every thread", "[consumer_pool]") {
  Fixture f;
  ConsumerPool::Options o = FastOptions();
  o.workers = 64;
  for (int round = 0; round < 5; ++round) {
    ConsumerPool pool(f.queue.get(), SystemClock::Get(), o);
    pool.Register("quick", [](const Job&) {
      std::this_thread::sleep_for(1ms);
      return HandlerResult{};
    });
    pool.Start();
    for (int i = 0; i < 50; ++i) f.Enqueue("quick", "");
    CHECK(pool.Stop());
    CHECK(pool.Threads() == 0);
  }
}
