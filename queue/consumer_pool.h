// ConsumerPool: the threads that run queued jobs, in place of the seed's
// Celery workers. A handler is registered per job type before Start.
//
// Each consumer thread loops:
//   1. read the queue's wake generation;
//   2. Lease the first due job; if there is one, run its handler, then
//      Ack (done), Retry with backoff (transient failure) or Bury (permanent
//      failure, unknown type, or max_attempts reached) and go to 1;
//   3. otherwise sleep until the next job is due (NextDueMs), until a
//      producer calls NotifyEnqueued, or kIdleRecheckMs, whichever is first.
//      A producer in this process wakes a consumer at once; one in another
//      process (`regd queue retry` beside a running server writes the same
//      LMDB) cannot, so an idle consumer looks again every kIdleRecheckMs:
//      one short read transaction a second.
// Backoff: base * 2^(attempts-1), capped at max, with ±20% jitter; a
// handler may name its own delay (a provider's Retry-After).
//
// Sends in flight: a send mostly waits for the provider (300 ms is normal
// over the internet), so the pool holds as many threads as there are jobs
// to wait for, up to a cap. Start starts min_workers threads (2) that never
// leave. A thread is idle while it is not running a handler. When a thread
// leases a job and no other thread is idle, it starts one more (up to
// `workers`), so one is always ready for the next job; when the lease says
// more jobs are due and some thread is idle, it wakes one, so a backlog
// (also one made due by another process) is taken up by a chain of threads
// within milliseconds. A thread beyond min_workers that has found no job
// for idle_exit_ms leaves. The send rate is not the pool's business: the
// SMS handler reserves its slot in a shared TokenBucket before it sends.
// Exited threads are joined by the next thread that starts or leaves, and
// by Stop.
//
// Shutdown (Stop): no new job is leased; handlers already running may finish
// within a bound (default 10 s), then the threads are joined. If a handler
// is still running at the bound, Stop returns false and leaves its thread
// alone: the caller must end the process (main does _exit(0)). Its lease
// ends with the process (leases live in memory) and the job, still in the
// queue, is due again at the next start, so nothing is lost either way.
//
// Every outcome is logged as one line: job id, type, attempt, outcome,
// duration.
//
// Ownership: owns its threads; the destructor stops them. The JobQueue must
// outlive the pool. Thread-safety: Register before Start; Start and Stop
// from one thread; stats and Threads() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "queue/job_queue.h"

namespace regd::queue {

struct HandlerResult {
  // kDeferred: not tried (e.g. over the send rate); run again after
  // retry_after_ms without counting an attempt.
  enum class Kind { kDone, kRetry, kPermanent, kExpired, kDeferred };
  Kind kind = Kind::kDone;
  std::string error;
  int64_t retry_after_ms = -1;  // >= 0 overrides the backoff
};

using JobHandler = std::function<HandlerResult(const Job&)>;

// How often a job type is tried before it is a dead letter, and the backoff
// between tries; a type registered without one uses the pool's Options.
struct RetryPolicy {
  uint32_t max_attempts = 5;
  int64_t backoff_base_ms = 1000;
  int64_t backoff_max_ms = 60000;
};

struct ConsumerStats {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> dead{0};     // failed permanently or too often
  std::atomic<uint64_t> expired{0};  // deadline passed before it could run
  // Failed attempts by kind, whatever happened to the job afterwards.
  std::atomic<uint64_t> transient_failures{0};  // 5xx, 408, 429, timeouts, refused
  std::atomic<uint64_t> permanent_failures{0};  // other 4xx, bad payload, no handler
  // Handler durations (send latency): bucket i counts runs of at most
  // kLatencyBucketsMs[i] ms; the last bucket is +Inf.
  static constexpr int64_t kLatencyBucketsMs[] = {1,   5,   10,   25,   50,   100,
                                                  250, 500, 1000, 2500, 10000};
  static constexpr size_t kBuckets = sizeof(kLatencyBucketsMs) / sizeof(kLatencyBucketsMs[0]) + 1;
  std::atomic<uint64_t> latency_buckets[kBuckets] = {};
  std::atomic<uint64_t> latency_sum_us{0};
  void RecordLatency(int64_t us);
};

class ConsumerPool {
 public:
  // The longest an idle consumer sleeps before it looks at the queue again.
  static constexpr int64_t kIdleRecheckMs = 1000;
  // The most consumer threads a pool may have (--workers' upper bound).
  static constexpr int kMaxWorkers = 1024;
  // --workers' default: a 300 ms provider at 400 sends/s.
  static constexpr int kDefaultWorkers = 128;

  struct Options {
    int workers = kDefaultWorkers;  // the most threads (sends in flight); 1..kMaxWorkers
    int min_workers = 2;            // threads that never leave (at most workers)
    int64_t idle_exit_ms = 10000;   // a thread beyond min_workers idle this long leaves
    int64_t lease_ms = 60000;
    int64_t backoff_base_ms = 1000;
    int64_t backoff_max_ms = 60000;
    uint32_t max_attempts = 5;
  };

  ConsumerPool(JobQueue* queue, const Clock* clock, Options options);
  ~ConsumerPool();
  ConsumerPool(const ConsumerPool&) = delete;
  ConsumerPool& operator=(const ConsumerPool&) = delete;

  // One handler per job type, with its retry policy (none: the pool's
  // options) and its own stats.
  void Register(const std::string& type, JobHandler handler,
                std::optional<RetryPolicy> policy = std::nullopt);
  void Start();
  // Stops leasing and waits up to bound for running handlers. True when every
  // thread was joined; false when a handler was still running at the bound.
  bool Stop(std::chrono::milliseconds bound = std::chrono::seconds(10));

  // Every type's jobs together.
  const ConsumerStats& stats() const { return stats_; }
  // One registered type's jobs; null for a type not registered.
  const ConsumerStats* stats(const std::string& type) const;
  // The registered types, in name order.
  std::vector<std::string> types() const;
  // Consumer threads now (started and not yet left), and the most so far.
  int Threads();
  int PeakThreads();
  // The most threads this pool may have: options.workers, clamped.
  int max_threads() const { return max_threads_; }
  // The delay before attempt `attempts + 1`, without jitter.
  static int64_t BackoffMs(const Options& options, uint32_t attempts);

 private:
  // Starts one thread, counted idle. False (logged) if the system has no
  // thread to give; the pool goes on with the threads it has. Requires mu_.
  bool SpawnLocked();
  // Takes the threads that have left out of threads_. Requires mu_; the
  // caller joins them after unlocking.
  std::vector<std::thread> TakeExitedLocked();
  void Run(uint64_t serial);
  // Counts thread `serial` gone and joins the threads that left before it.
  // With only_if_extra, only if more than min_workers threads run (else
  // false, nothing done).
  bool Leave(uint64_t serial, bool only_if_extra);
  // A job was leased: counts this thread busy; starts or wakes another.
  void OnLeased(bool more_due);
  // The handler returned: counts this thread idle again.
  void OnFinished();
  struct Registered {
    JobHandler handler;
    Options policy;  // the pool's options with the type's retry policy
    std::unique_ptr<ConsumerStats> stats;
  };
  void Finish(const Job& job, const HandlerResult& result, int64_t duration_us,
              const Registered* type);

  JobQueue* const queue_;
  const Clock* const clock_;
  const Options options_;
  const int max_threads_;
  const int min_threads_;
  std::map<std::string, Registered> handlers_;  // written only before Start
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable exited_cv_;
  std::map<uint64_t, std::thread> threads_;  // guarded by mu_; by serial number
  std::vector<uint64_t> exited_;             // guarded by mu_; left Run, not yet joined
  uint64_t next_serial_ = 0;                 // guarded by mu_
  int running_ = 0;                          // threads not yet returned from Run; guarded by mu_
  int idle_ = 0;                             // of those, not running a handler; guarded by mu_
  int peak_ = 0;                             // the most running_ so far; guarded by mu_
  // After a failed thread start, no other is tried before this; guarded by mu_.
  std::chrono::steady_clock::time_point no_spawn_until_{};
  ConsumerStats stats_;
};

}  // namespace regd::queue
