// HashPool: a bound on how many password hashes (Argon2id, ~64 MiB and tens
// of milliseconds each) run at once, so a burst of registrations or logins
// cannot eat all memory. At most `workers` hashes run; up to `queue` more
// callers wait their turn; beyond that Run refuses at once with kBusy (the
// client gets 503 + Retry-After) instead of piling up.
//
// The hash runs on the caller's thread: the pool is a gate, not a thread
// pool, so it adds no hand-off latency. Peak hashing memory is
// workers × memlimit.
//
// Thread-safety: safe from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>

#include "storage/status.h"

namespace regd::account {

class HashPool {
 public:
  HashPool(int workers, int queue);

  // Runs fn when a slot is free; kBusy (retry after 1 s) when `queue`
  // callers are already waiting.
  Status Run(const std::function<void()>& fn);

  int workers() const { return workers_; }
  // Calls refused because the queue was full, and calls waiting now (for
  // /metrics).
  uint64_t rejected() const;
  int waiting() const;

 private:
  const int workers_;
  const int queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;        // guarded by mu_
  int waiting_ = 0;        // guarded by mu_
  uint64_t rejected_ = 0;  // guarded by mu_
};

}  // namespace regd::account
