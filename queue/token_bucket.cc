#include "queue/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace regd::queue {

TokenBucket::TokenBucket(double rate, double burst)
    : rate_(rate), burst_(std::max(1.0, burst)), tokens_(std::max(1.0, burst)) {}

int64_t TokenBucket::TryTake(int64_t now_ms) {
  Reservation r = Reserve(now_ms, 0);
  return r.reserved ? 0 : r.wait_ms;
}

TokenBucket::Reservation TokenBucket::Reserve(int64_t now_ms, int64_t max_wait_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (last_ms_ >= 0 && now_ms > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + (now_ms - last_ms_) * rate_ / 1000.0);
  }
  if (last_ms_ < 0 || now_ms > last_ms_) last_ms_ = now_ms;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return {true, 0};
  }
  int64_t wait =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - tokens_) * 1000.0 / rate_)));
  if (wait > max_wait_ms) return {false, wait};
  tokens_ -= 1.0;  // promised: the refill pays it back by now + wait
  return {true, wait};
}

bool ParseRate(const std::string& text, double* per_second) {
  char* end = nullptr;
  double n = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(n > 0) || !std::isfinite(n)) return false;
  std::string unit(end);
  double div;
  if (unit.empty() || unit == "/s") {
    div = 1;
  } else if (unit == "/m") {
    div = 60;
  } else if (unit == "/h") {
    div = 3600;
  } else {
    return false;
  }
  *per_second = n / div;
  return true;
}

}  // namespace regd::queue
