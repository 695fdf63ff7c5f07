// TokenBucket: a rate limit of `rate` events per second with bursts of up to
// `burst` events. Used to keep SMS sends under the provider's rate (so a burst
// does not get the shop's account blocked).
//
// Algorithm: the bucket holds up to `burst` tokens and refills continuously at
// `rate` tokens per second (computed lazily from the time of the last call).
// TryTake takes one token if there is one; otherwise it says how long until
// the next token.
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

  double rate() const { return rate_; }

 private:
  const double rate_;
  const double burst_;
  std::mutex mu_;
  double tokens_;         // guarded by mu_
  int64_t last_ms_ = -1;  // guarded by mu_; -1 before the first call
};

// Parses "20/s", "300/m", "1000/h" or a bare number (per second) into events
// per second. False on anything else or a rate <= 0.
bool ParseRate(const std::string& text, double* per_second);

}  // namespace regd::queue
