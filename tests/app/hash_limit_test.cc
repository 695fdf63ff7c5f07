// The bounded hashing pool seen over HTTP: with one hash worker and no
// queue, concurrent logins beyond the first are refused with a JSON 503 and
// Retry-After instead of all hashing at once.
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tests/support/test_server.h"

using regd::testing::TestServer;

TEST_CASE("logins beyond the hash pool and its queue get a JSON 503 with Retry-After",
          "[hash_pool][api]") {
  TestServer server([](regd::app::Config& c) {
    c.pwhash = "interactive";  // ~64 MiB, tens of ms: concurrent hashes overlap
    c.hash_workers = 1;
    c.hash_queue = 0;
  });
  std::vector<std::thread> threads;
  std::atomic<int> refused{0}, answered{0}, other{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto cli = server.Client();
      auto res = cli.Post("/login/", R"({"username":"nobody_here","password":"password_1"})",
                          "application/json");
      if (!res) {
        ++other;
      } else if (res->status == 503) {
        auto j = nlohmann::json::parse(res->body, nullptr, false);
        if (j.is_object() && j["code"] == 503 && res->get_header_value("Retry-After") == "1") {
          ++refused;
        } else {
          ++other;
        }
      } else if (res->status == 400) {
        ++answered;  // hashed, and the unknown user was refused as usual
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(other == 0);
  CHECK(answered >= 1);
  CHECK(refused >= 1);
}
