#include "account/hash_pool.h"

#include <algorithm>

namespace regd::account {

HashPool::HashPool(int workers, int queue)
    : workers_(std::max(1, workers)), queue_(std::max(0, queue)) {}

Status HashPool::Run(const std::function<void()>& fn) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (running_ >= workers_) {
      if (waiting_ >= queue_) {
        ++rejected_;
        return Status::Busy("too many password checks at once", 1);
      }
      ++waiting_;
      cv_.wait(lock, [this] { return running_ < workers_; });
      --waiting_;
    }
    ++running_;
  }
  fn();
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  cv_.notify_one();
  return Status::Ok();
}

uint64_t HashPool::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

int HashPool::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace regd::account
