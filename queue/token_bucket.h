// TokenBucket: a rate limit of `rate` events per second with bursts of up to
// `burst` events. Used to keep SMS sends under the provider's rate (so a burst
// does not get the shop's account blocked).
//
// Algorithm: the bucket holds up to `burst` tokens and refills continuously at
// `rate` tokens per second (computed lazily from the time of the last call).
// TryTake takes one token if there is one; otherwise it says how long until
// the next token. Reserve also takes a token that is not there yet, when it
// comes within max_wait_ms: the count goes below zero, so the token is
// promised to this caller alone and the next caller's wait starts after it.
// Many consumer threads that each Reserve, sleep the answer, then send keep
// to the rate together, in the order they asked, and none of them wakes to
// find that another took the token it was waiting for.
//
// Thread-safety: safe from any thread (one mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace regd::queue {

class TokenBucket {
 public:
  // rate > 0 events per second; burst >= 1.
  TokenBucket(double rate, double burst);

  // Takes a token at now_ms: returns 0 if taken, else the milliseconds to
  // wait before a token will be there (nothing is taken then).
  int64_t TryTake(int64_t now_ms);

  struct Reservation {
    bool reserved = false;  // true: the caller owns a token from now + wait_ms on
    int64_t wait_ms = 0;    // until the token is there (0: now)
  };
  // Reserves the next token at now_ms if it is there within max_wait_ms:
  // reserved, and the caller may act once wait_ms have passed (it must not
  // ask again for the same event). Otherwise nothing is reserved and wait_ms
  // says when a token would be free; the caller should come back then.
  Reservation Reserve(int64_t now_ms, int64_t max_wait_ms);

  double rate() const { return rate_; }

 private:
  const double rate_;
  const double burst_;
  std::mutex mu_;
  double tokens_;         // guarded by mu_; below 0: tokens promised by Reserve
  int64_t last_ms_ = -1;  // guarded by mu_; -1 before the first call
};

// Parses "20/s", "300/m", "1000/h" or a bare number (per second) into events
// per second. False on anything else or a rate <= 0.
bool ParseRate(const std::string& text, double* per_second);

}  // namespace regd::queue
