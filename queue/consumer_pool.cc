#include "queue/consumer_pool.h"

#include <sodium.h>

#include <algorithm>

#include "storage/log.h"

namespace regd::queue {

ConsumerPool::ConsumerPool(JobQueue* queue, const Clock* clock, Options options)
    : queue_(queue), clock_(clock), options_(options) {}

ConsumerPool::~ConsumerPool() { Stop(); }

void ConsumerPool::Register(const std::string& type, JobHandler handler) {
  handlers_[type] = std::move(handler);
}

void ConsumerPool::Start() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { Run(); });
}

void ConsumerPool::Stop() {
  stopping_ = true;
  queue_->NotifyEnqueued();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

int64_t ConsumerPool::BackoffMs(const Options& o, uint32_t attempts) {
  int64_t d = o.backoff_base_ms;
  for (uint32_t i = 1; i < attempts && d < o.backoff_max_ms; ++i) d *= 2;
  return std::min(d, o.backoff_max_ms);
}

void ConsumerPool::Run() {
  while (!stopping_) {
    uint64_t seen = queue_->generation();
    auto job = queue_->Lease(options_.lease_ms);
    if (!job.ok()) {
      LogError("queue: lease failed: %s", job.status().ToString().c_str());
      queue_->WaitForWork(seen, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      continue;
    }
    if (job->has_value()) {
      const Job& j = **job;
      auto it = handlers_.find(j.type);
      HandlerResult result = it == handlers_.end()
                                 ? HandlerResult{HandlerResult::Kind::kPermanent,
                                                 "no handler for job type '" + j.type + "'"}
                                 : it->second(j);
      Finish(j, result);
      continue;
    }
    // Nothing due: sleep until the next due time or a wake-up.
    auto next = queue_->NextDueMs();
    int64_t wait_ms = 60000;
    if (next.ok() && next->has_value()) {
      wait_ms = std::clamp<int64_t>(**next - clock_->NowMs(), 0, 60000);
    }
    if (stopping_) break;
    queue_->WaitForWork(seen,
                        std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms));
  }
}

void ConsumerPool::Finish(const Job& job, const HandlerResult& r) {
  Status s;
  switch (r.kind) {
    case HandlerResult::Kind::kDone:
      s = queue_->Ack(job.id);
      if (s.ok()) ++stats_.done;
      break;
    case HandlerResult::Kind::kExpired:
      LogWarn("queue: job %llu (%s) expired: %s", static_cast<unsigned long long>(job.id),
              job.type.c_str(), r.error.c_str());
      s = queue_->Bury(job, "expired: " + r.error);
      if (s.ok()) ++stats_.expired;
      break;
    case HandlerResult::Kind::kPermanent:
      LogError("queue: job %llu (%s) failed permanently: %s",
               static_cast<unsigned long long>(job.id), job.type.c_str(), r.error.c_str());
      s = queue_->Bury(job, r.error);
      if (s.ok()) ++stats_.dead;
      break;
    case HandlerResult::Kind::kRetry: {
      if (job.attempts >= options_.max_attempts) {
        LogError("queue: job %llu (%s) failed %u times, giving up: %s",
                 static_cast<unsigned long long>(job.id), job.type.c_str(), job.attempts,
                 r.error.c_str());
        s = queue_->Bury(job, r.error);
        if (s.ok()) ++stats_.dead;
        break;
      }
      int64_t delay = r.retry_after_ms >= 0 ? r.retry_after_ms : BackoffMs(options_, job.attempts);
      if (r.retry_after_ms < 0) {  // ±20% jitter so retries of a burst spread out
        int64_t span = delay / 5;
        if (span > 0) delay += static_cast<int64_t>(randombytes_uniform(2 * span + 1)) - span;
      }
      LogWarn("queue: job %llu (%s) attempt %u failed, retry in %lld ms: %s",
              static_cast<unsigned long long>(job.id), job.type.c_str(), job.attempts,
              static_cast<long long>(delay), r.error.c_str());
      s = queue_->Retry(job, clock_->NowMs() + delay, r.error);
      if (s.ok()) ++stats_.retried;
      break;
    }
  }
  if (!s.ok()) {
    LogError("queue: cannot record the outcome of job %llu: %s",
             static_cast<unsigned long long>(job.id), s.ToString().c_str());
  }
}

}  // namespace regd::queue
