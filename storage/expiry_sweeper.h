// ExpirySweeper: the background half of ExpiringKv's expiry (see
// expiring_kv.h). One thread wakes every `interval` and deletes expired
// entries in batches of `batch` per write transaction until none are left.
//
// Ownership: owns its thread; the destructor (or Stop) stops and joins it. The
// ExpiringKv must outlive the sweeper.
// Thread-safety: Stop may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "storage/clock.h"
#include "storage/expiring_kv.h"

namespace regd::storage {

class ExpirySweeper {
 public:
  ExpirySweeper(ExpiringKv* kv, const Clock* clock,
                std::chrono::milliseconds interval = std::chrono::seconds(1), size_t batch = 1000);
  ~ExpirySweeper();
  ExpirySweeper(const ExpirySweeper&) = delete;
  ExpirySweeper& operator=(const ExpirySweeper&) = delete;

  void Stop();

 private:
  void Run();

  ExpiringKv* const kv_;
  const Clock* const clock_;
  const std::chrono::milliseconds interval_;
  const size_t batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace regd::storage
