#include "storage/expiry_sweeper.h"

#include "storage/log.h"

namespace regd::storage {

ExpirySweeper::ExpirySweeper(ExpiringKv* kv, const Clock* clock, std::chrono::milliseconds interval,
                             size_t batch)
    : kv_(kv), clock_(clock), interval_(interval), batch_(batch) {
  thread_ = std::thread([this] { Run(); });
}

ExpirySweeper::~ExpirySweeper() { Stop(); }

void ExpirySweeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExpirySweeper::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, interval_, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    for (;;) {
      auto n = kv_->SweepExpired(clock_->NowMs(), batch_);
      if (!n.ok()) {
        LogError("expiry sweep failed: %s", n.status().ToString().c_str());
        break;
      }
      if (*n < batch_) break;
    }
    lock.lock();
  }
}

}  // namespace regd::storage
