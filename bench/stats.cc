#include "bench/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace regd::bench {

void LatencyRecorder::Add(int64_t us) {
  std::lock_guard<std::mutex> lock(mu_);
  us_.push_back(us);
}

size_t LatencyRecorder::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return us_.size();
}

LatencySummary LatencyRecorder::Summarize() const {
  std::vector<int64_t> copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    copy = us_;
  }
  return bench::Summarize(std::move(copy));
}

int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

LatencySummary Summarize(std::vector<int64_t> us) {
  LatencySummary s;
  s.count = us.size();
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  s.p50_ms = Percentile(us, 0.50) / 1000.0;
  s.p99_ms = Percentile(us, 0.99) / 1000.0;
  s.max_ms = us.back() / 1000.0;
  s.mean_ms = std::accumulate(us.begin(), us.end(), 0.0) / us.size() / 1000.0;
  return s;
}

}  // namespace regd::bench
