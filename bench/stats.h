// LatencyRecorder: collects latency samples from many threads and reports
// percentiles. Samples are kept whole (a benchmark run makes at most a few
// hundred thousand), so percentiles are exact, not bucketed.
//
// Thread-safety: Add may be called from any thread; Summarize after the
// threads that add have been joined (or concurrently: it takes the lock).
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace regd::bench {

struct LatencySummary {
  size_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};

class LatencyRecorder {
 public:
  void Add(int64_t us);
  LatencySummary Summarize() const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<int64_t> us_;  // guarded by mu_
};

// The q-quantile (0..1) of sorted samples, nearest rank; 0 when empty.
int64_t Percentile(const std::vector<int64_t>& sorted, double q);
LatencySummary Summarize(std::vector<int64_t> us);

}  // namespace regd::bench
