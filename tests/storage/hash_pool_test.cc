#include "storage/hash_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

using regd::Status;
using regd::storage::HashPool;

TEST_CASE("the hash pool never runs more than its workers at once", "[hash_pool]") {
  HashPool pool(2, 100);
  std::atomic<int> running{0}, peak{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      Status s = pool.Run([&] {
        int now = ++running;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        --running;
      });
      CHECK(s.ok());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(peak <= 2);
  CHECK(peak >= 1);
}

TEST_CASE("the hash pool refuses at once when its queue is full", "[hash_pool]") {
  HashPool pool(1, 1);
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  auto hold = [&] {
    ++started;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  std::thread first([&] { CHECK(pool.Run(hold).ok()); });  // takes the one slot
  while (started == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread second([&] { CHECK(pool.Run(hold).ok()); });  // waits in the queue
  while (pool.waiting() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Status third = pool.Run([] {});  // one running, one waiting: refused, not queued
  CHECK(third.code() == Status::Code::kBusy);
  CHECK(third.retry_after_s() == 1);
  CHECK(pool.rejected() >= 1);
  release = true;
  first.join();
  second.join();
  CHECK(pool.Run([] {}).ok());  // free again
}
