#include "account/hash_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

using regd::Status;
using regd::account::HashPool;

TEST_CASE("the hash pool never runs more than its workers at once", "[hash_pool]") {
  HashPool pool(2, 100);
  // Catch2's assertions are not thread-safe: threads count, the test checks.
  std::atomic<int> running{0}, peak{0}, refused{0};
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
      if (!s.ok()) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(refused == 0);
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
  Status first_s, second_s;  // set in the threads, checked after join (Catch2)
  std::thread first([&] { first_s = pool.Run(hold); });  // takes the one slot
  while (started == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread second([&] { second_s = pool.Run(hold); });  // waits in the queue
  while (pool.waiting() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Status third = pool.Run([] {});  // one running, one waiting: refused, not queued
  CHECK(third.code() == Status::Code::kBusy);
  CHECK(third.retry_after_s() == 1);
  CHECK(pool.rejected() >= 1);
  release = true;
  first.join();
  second.join();
  CHECK(first_s.ok());
  CHECK(second_s.ok());
  CHECK(pool.Run([] {}).ok());  // free again
}
