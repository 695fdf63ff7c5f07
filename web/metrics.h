// Metrics: counters behind GET /metrics, in the Prometheus text format.
// Request counts by status live here; queue numbers are read at render time
// from the ConsumerPool's stats and from JobQueue::CachedStats, at most
// kQueueStatsMaxAgeMs old, so a flood of /metrics (a public route) reads the
// jobs table at most once per that period.
//
// Thread-safety: all counters are atomics; safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "queue/consumer_pool.h"
#include "queue/job_queue.h"

namespace regd::web {

// Why a request was refused before any work (AbuseGuard, the SMS budget,
// the cross-origin check): regd_limited_total{limit="..."}.
enum class Limited {
  kIpCaptcha,
  kIpSms,
  kIpRegister,
  kIpLogin,
  kIpCount,
  kLoginLocked,
  kSmsBudget,
  kSmsMobileDay,
  kCrossOrigin,
  kCount_,  // the number of kinds
};

class Metrics {
 public:
  static constexpr int64_t kQueueStatsMaxAgeMs = 1000;

  void CountLimited(Limited why) { ++limited_[static_cast<size_t>(why)]; }
  // For the SMS budget gauge (0: not spent), set before Render.
  void SetSmsBudgetPausedUntil(int64_t until_ms, int64_t now_ms) {
    budget_paused_ = until_ms > now_ms;
  }
  void CountRequest(int status);
  void CountSmsRequested() { ++sms_requested_; }
  void CountRegistered() { ++registered_; }
  void CountLogin(bool ok) { ++(ok ? logins_ok_ : logins_failed_); }

  // A job type whose outcomes /metrics shows as regd_jobs_total{type=...};
  // call before serving (not thread-safe against Render).
  void AddJobType(std::string type, const queue::ConsumerStats* stats) {
    job_types_.emplace_back(std::move(type), stats);
  }

  // stats: the SMS jobs' (regd_sms_*, regd_job_*).
  std::string Render(queue::JobQueue* queue, const queue::ConsumerStats* stats) const;

 private:
  std::array<std::atomic<uint64_t>, 600> by_status_{};
  std::atomic<uint64_t> sms_requested_{0};
  std::atomic<uint64_t> registered_{0};
  std::atomic<uint64_t> logins_ok_{0};
  std::atomic<uint64_t> logins_failed_{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Limited::kCount_)> limited_{};
  std::atomic<bool> budget_paused_{false};
  std::vector<std::pair<std::string, const queue::ConsumerStats*>> job_types_;
};

}  // namespace regd::web
