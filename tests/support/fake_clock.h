// FakeClock: a Clock that tests advance by hand (Ninja's VirtualFileSystem
// Tick, for time). Starts at a fixed, realistic Unix time.
// Thread-safety: Advance and NowMs may race safely (atomic).
#pragma once

#include <atomic>

#include "storage/clock.h"

namespace regd::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'790'000'000'000) : now_(start_ms) {}
  int64_t NowMs() const override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace regd::testing
