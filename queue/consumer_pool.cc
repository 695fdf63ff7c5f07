#include "queue/consumer_pool.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "storage/log.h"

namespace regd::queue {

ConsumerPool::ConsumerPool(JobQueue* queue, const Clock* clock, Options options)
    : queue_(queue),
      clock_(clock),
      options_(options),
      max_threads_(std::clamp(options.workers, 1, kMaxWorkers)),
      min_threads_(std::clamp(options.min_workers, 1, max_threads_)) {}

void ConsumerStats::RecordLatency(int64_t us) {
  size_t i = 0;
  while (i + 1 < kBuckets && us > kLatencyBucketsMs[i] * 1000) ++i;
  ++latency_buckets[i];
  latency_sum_us += static_cast<uint64_t>(us);
}

ConsumerPool::~ConsumerPool() {
  if (!Stop()) {
    // A handler outlived the bound; it uses this pool, so the process cannot
    // go on safely. Its job stays in the queue and is sent again at start.
    LogError("queue: a send is still running at shutdown; exiting now");
    std::_Exit(0);
  }
}

void ConsumerPool::Register(const std::string& type, JobHandler handler,
                            std::optional<RetryPolicy> policy) {
  Options o = options_;
  if (policy) {
    o.max_attempts = policy->max_attempts;
    o.backoff_base_ms = policy->backoff_base_ms;
    o.backoff_max_ms = std::max(policy->backoff_max_ms, policy->backoff_base_ms);
  }
  handlers_[type] = Registered{std::move(handler), o, std::make_unique<ConsumerStats>()};
}

const ConsumerStats* ConsumerPool::stats(const std::string& type) const {
  auto it = handlers_.find(type);
  return it == handlers_.end() ? nullptr : it->second.stats.get();
}

std::vector<std::string> ConsumerPool::types() const {
  std::vector<std::string> out;
  for (const auto& [type, r] : handlers_) out.push_back(type);
  return out;
}

void ConsumerPool::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < min_threads_; ++i) SpawnLocked();
}

bool ConsumerPool::SpawnLocked() {
  uint64_t serial = next_serial_++;
  std::thread t;
  try {
    t = std::thread([this, serial] { Run(serial); });
  } catch (const std::system_error& e) {  // out of threads (ulimit -u, TasksMax)
    no_spawn_until_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    LogError("queue: cannot start consumer thread %d: %s; %d keep sending", running_ + 1, e.what(),
             running_);
    return false;
  }
  ++running_;
  ++idle_;
  peak_ = std::max(peak_, running_);
  threads_.emplace(serial, std::move(t));
  return true;
}

std::vector<std::thread> ConsumerPool::TakeExitedLocked() {
  std::vector<std::thread> taken;
  for (uint64_t serial : exited_) {
    auto it = threads_.find(serial);
    if (it == threads_.end()) continue;
    taken.push_back(std::move(it->second));
    threads_.erase(it);
  }
  exited_.clear();
  return taken;
}

bool ConsumerPool::Leave(uint64_t serial, bool only_if_extra) {
  std::vector<std::thread> others;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (only_if_extra && running_ <= min_threads_) return false;
    // The threads that left before this one; this one is joined by the next
    // to start or leave, or by Stop. None waits for a thread that waits for
    // it: each takes only the threads that left before it did.
    others = TakeExitedLocked();
    --running_;
    --idle_;
    exited_.push_back(serial);
    exited_cv_.notify_all();
  }
  for (auto& t : others) t.join();
  return true;
}

void ConsumerPool::OnLeased(bool more_due) {
  std::vector<std::thread> exited;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --idle_;
    if (idle_ == 0 && running_ < max_threads_ && !stopping_ &&
        std::chrono::steady_clock::now() >= no_spawn_until_) {
      // Every thread is busy now: start a spare for the next job.
      exited = TakeExitedLocked();
      SpawnLocked();
    } else if (more_due && idle_ > 0) {
      wake = true;  // an idle thread may be asleep while a job is due
    }
  }
  if (wake) queue_->NotifyEnqueued();
  for (auto& t : exited) t.join();
}

void ConsumerPool::OnFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  ++idle_;
}

int ConsumerPool::Threads() {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

int ConsumerPool::PeakThreads() {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_;
}

bool ConsumerPool::Stop(std::chrono::milliseconds bound) {
  stopping_ = true;
  queue_->WakeAll();
  std::map<uint64_t, std::thread> threads;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!exited_cv_.wait_for(lock, bound, [this] { return running_ == 0; })) return false;
    // Every thread has left Run, and none can start another: only a running
    // thread starts one.
    threads.swap(threads_);
    exited_.clear();
  }
  for (auto& [serial, t] : threads) {
    if (t.joinable()) t.join();
  }
  return true;
}

int64_t ConsumerPool::BackoffMs(const Options& o, uint32_t attempts) {
  int64_t d = o.backoff_base_ms;
  for (uint32_t i = 1; i < attempts && d < o.backoff_max_ms; ++i) d *= 2;
  return std::min(d, o.backoff_max_ms);
}

void ConsumerPool::Run(uint64_t serial) {
  auto idle_since = std::chrono::steady_clock::now();
  while (!stopping_) {
    uint64_t seen = queue_->generation();
    bool more_due = false;
    auto job = queue_->Lease(options_.lease_ms, &more_due);
    if (!job.ok()) {
      LogError("queue: lease failed: %s", job.status().ToString().c_str());
      queue_->WaitForWork(seen, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      continue;
    }
    if (job->has_value()) {
      OnLeased(more_due);
      const Job& j = **job;
      auto it = handlers_.find(j.type);
      const Registered* type = it == handlers_.end() ? nullptr : &it->second;
      auto started = std::chrono::steady_clock::now();
      HandlerResult result = type == nullptr
                                 ? HandlerResult{HandlerResult::Kind::kPermanent,
                                                 "no handler for job type '" + j.type + "'"}
                                 : type->handler(j);
      int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
      stats_.RecordLatency(us);
      if (type != nullptr) type->stats->RecordLatency(us);
      Finish(j, result, us, type);
      OnFinished();
      idle_since = std::chrono::steady_clock::now();
      continue;
    }
    if (std::chrono::steady_clock::now() - idle_since >=
            std::chrono::milliseconds(options_.idle_exit_ms) &&
        Leave(serial, /*only_if_extra=*/true)) {
      return;
    }
    // Nothing due: sleep until the next due time or a wake-up, and at most
    // kIdleRecheckMs (another process may have made a job due).
    auto next = queue_->NextDueMs();
    int64_t wait_ms = std::min(kIdleRecheckMs, std::max<int64_t>(1, options_.idle_exit_ms));
    if (next.ok() && next->has_value()) {
      wait_ms = std::clamp<int64_t>(**next - clock_->NowMs(), 0, wait_ms);
    }
    if (stopping_) break;
    queue_->WaitForWork(seen,
                        std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms));
  }
  Leave(serial, /*only_if_extra=*/false);
}

void ConsumerPool::Finish(const Job& job, const HandlerResult& r, int64_t us,
                          const Registered* type) {
  const Options& policy = type != nullptr ? type->policy : options_;
  ConsumerStats* mine = type != nullptr ? type->stats.get() : nullptr;
  // Counts in the pool's stats and the type's.
  auto count = [&](std::atomic<uint64_t> ConsumerStats::*field) {
    ++(stats_.*field);
    if (mine != nullptr) ++(mine->*field);
  };
  const auto id = static_cast<unsigned long long>(job.id);
  const double ms = us / 1000.0;
  Status s;
  switch (r.kind) {
    case HandlerResult::Kind::kDone:
      s = queue_->Ack(job);
      if (s.ok()) count(&ConsumerStats::done);
      LogInfo("job %llu %s attempt %u: done in %.1f ms", id, job.type.c_str(), job.attempts, ms);
      break;
    case HandlerResult::Kind::kExpired:
      s = queue_->Bury(job, "expired: " + r.error);
      if (s.ok()) count(&ConsumerStats::expired);
      LogWarn("job %llu %s attempt %u: expired, not run: %s", id, job.type.c_str(), job.attempts,
              r.error.c_str());
      break;
    case HandlerResult::Kind::kPermanent:
      count(&ConsumerStats::permanent_failures);
      s = queue_->Bury(job, r.error);
      if (s.ok()) count(&ConsumerStats::dead);
      LogError("job %llu %s attempt %u: failed permanently in %.1f ms, dead: %s", id,
               job.type.c_str(), job.attempts, ms, r.error.c_str());
      break;
    case HandlerResult::Kind::kDeferred:
      s = queue_->Retry(job, clock_->NowMs() + std::max<int64_t>(0, r.retry_after_ms), r.error,
                        /*count_attempt=*/false);
      LogInfo("job %llu %s: put off %lld ms: %s", id, job.type.c_str(),
              static_cast<long long>(r.retry_after_ms), r.error.c_str());
      break;
    case HandlerResult::Kind::kRetry: {
      count(&ConsumerStats::transient_failures);
      if (job.attempts >= policy.max_attempts) {
        s = queue_->Bury(job, r.error);
        if (s.ok()) count(&ConsumerStats::dead);
        LogError("job %llu %s attempt %u: failed in %.1f ms, no attempts left, dead: %s", id,
                 job.type.c_str(), job.attempts, ms, r.error.c_str());
        break;
      }
      int64_t delay = r.retry_after_ms >= 0 ? r.retry_after_ms : BackoffMs(policy, job.attempts);
      if (r.retry_after_ms < 0) {  // ±20% jitter so retries of a burst spread out
        int64_t span = delay / 5;
        if (span > 0) delay += static_cast<int64_t>(randombytes_uniform(2 * span + 1)) - span;
      }
      s = queue_->Retry(job, clock_->NowMs() + delay, r.error);
      if (s.ok()) count(&ConsumerStats::retried);
      LogWarn("job %llu %s attempt %u: failed in %.1f ms, retry in %lld ms: %s", id,
              job.type.c_str(), job.attempts, ms, static_cast<long long>(delay), r.error.c_str());
      break;
    }
  }
  if (!s.ok()) {
    LogError("job %llu: cannot record its outcome: %s", id, s.ToString().c_str());
  }
}

}  // namespace regd::queue
