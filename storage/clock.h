// Clock: where regd reads the time, so that expiry tests can advance it.
//
// NowMs() is Unix time in milliseconds. Every expiry in regd (captchas, SMS
// codes, send flags, sessions, job run-at times) is an absolute Unix-ms value
// read from a Clock. SystemClock is the only production implementation; tests
// use FakeClock (tests/support) which they advance by hand.
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>

namespace regd {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t NowMs() const override;
  // The process-wide instance.
  static SystemClock* Get();
};

// Unix time in ms as ISO 8601 UTC to the second, e.g. "2026-11-27T04:46:19Z"
// (for the CLIs' output).
std::string IsoUtc(int64_t unix_ms);

}  // namespace regd
