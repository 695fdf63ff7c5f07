// ConsumerPool: the threads that run queued jobs, in place of the seed's
// Celery workers. A handler is registered per job type before Start.
//
// Each consumer thread loops:
//   1. read the queue's wake generation;
//   2. Lease the first due job; if there is one, run its handler, then
//      Ack (done), Retry with backoff (transient failure) or Bury (permanent
//      failure, unknown type, or max_attempts reached) and go to 1;
//   3. otherwise sleep until the next job is due (NextDueMs) or until a
//      producer calls NotifyEnqueued, whichever is first. No polling.
// Backoff: base * 2^(attempts-1), capped at max, with ±20% jitter; a
// handler may name its own delay (a provider's Retry-After).
//
// Shutdown (Stop): no new job is leased; handlers already running finish
// (sends have their own timeouts), then the threads are joined. A job whose
// handler did not finish stays leased on disk and is due again at the next
// start (JobQueue::Open), so nothing is lost.
//
// Ownership: owns its threads; the destructor stops them. The JobQueue must
// outlive the pool. Thread-safety: Register before Start; stats are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "queue/job_queue.h"

namespace regd::queue {

struct HandlerResult {
  enum class Kind { kDone, kRetry, kPermanent, kExpired };
  Kind kind = Kind::kDone;
  std::string error;
  int64_t retry_after_ms = -1;  // >= 0 overrides the backoff
};

using JobHandler = std::function<HandlerResult(const Job&)>;

struct ConsumerStats {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> dead{0};
  std::atomic<uint64_t> expired{0};
};

class ConsumerPool {
 public:
  struct Options {
    int workers = 2;
    int64_t lease_ms = 60000;
    int64_t backoff_base_ms = 1000;
    int64_t backoff_max_ms = 60000;
    uint32_t max_attempts = 5;
  };

  ConsumerPool(JobQueue* queue, const Clock* clock, Options options);
  ~ConsumerPool();
  ConsumerPool(const ConsumerPool&) = delete;
  ConsumerPool& operator=(const ConsumerPool&) = delete;

  void Register(const std::string& type, JobHandler handler);
  void Start();
  void Stop();

  const ConsumerStats& stats() const { return stats_; }
  // The delay before attempt `attempts + 1`, without jitter.
  static int64_t BackoffMs(const Options& options, uint32_t attempts);

 private:
  void Run();
  void Finish(const Job& job, const HandlerResult& result);

  JobQueue* const queue_;
  const Clock* const clock_;
  const Options options_;
  std::map<std::string, JobHandler> handlers_;  // written only before Start
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  ConsumerStats stats_;
};

}  // namespace regd::queue
