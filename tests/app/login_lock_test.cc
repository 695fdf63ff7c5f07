// Login locks over real HTTP, as an attacker would meet them: parallel
// guesses are counted as they start (not after their hashes), the lock is
// on the account whatever name it was typed by, and the lock tables cost a
// fixed amount per entry however long the login string is.
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/proc_status.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::ProcStatusKb;
using regd::testing::RegdProcess;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

constexpr const char* kPassword = "password_1";

// Limits on, behind a trusted proxy (X-Forwarded-For names the client), with
// the real password hashing, so parallel logins overlap in their hashes.
void RealHashingLimitsOn(regd::app::Config& c) {
  c.abuse_limits = true;
  c.trust_proxy = true;
  c.pwhash = "interactive";
  c.hash_queue = 200;  // no 503s: every admitted guess is hashed
}

int LoginStatus(int port, const std::string& login, const std::string& password,
                const std::string& client) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(std::chrono::seconds(60));
  json body = {{"username", login}, {"password", password}};
  auto res = cli.Post("/login/", {{"X-Forwarded-For", client}}, body.dump(), "application/json");
  return res ? res->status : -1;
}

struct Tally {
  std::atomic<int> wrong{0}, locked{0}, other{0};
  void Count(int status) {
    if (status == 400) {
      ++wrong;
    } else if (status == 429) {
      ++locked;
    } else {
      ++other;
    }
  }
};

// Runs n logins at once (thread i logs in from client_of(i)).
void LoginsAtOnce(int n, int port, const std::string& login,
                  const std::function<std::string(int)>& client_of, Tally* tally) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      tally->Count(LoginStatus(port, login, "wrong_pass_" + std::to_string(i), client_of(i)));
    });
  }
  for (auto& t : threads) t.join();
}

// Sanitizers keep freed memory in quarantine and map shadow memory, so RSS
// says nothing about regd's own tables there; the plain build checks it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

}  // namespace

TEST_CASE("thirty parallel wrong passwords from one address get five hashes and 25 locks",
          "[login_lock]") {
  TestServer s(RealHashingLimitsOn);
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  Tally tally;
  LoginsAtOnce(
      30, s.port(), "alice_1", [](int) { return "203.0.113.66"; }, &tally);
  CHECK(tally.wrong == 5);
  CHECK(tally.locked == 25);
  CHECK(tally.other == 0);
  // The pair is locked now, for the right password too.
  CHECK(LoginStatus(s.port(), "alice_1", kPassword, "203.0.113.66") == 429);
  CHECK(LoginStatus(s.port(), "alice_1", kPassword, "198.51.100.7") == 200);
}

TEST_CASE(
    "eighty parallel guesses on one account from forty addresses: only the account's 50 "
    "are hashed",
    "[login_lock]") {
  TestServer s(RealHashingLimitsOn);
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  Tally tally;
  LoginsAtOnce(
      80, s.port(), "alice_1", [](int i) { return "10.1.0." + std::to_string(i % 40); }, &tally);
  CHECK(tally.wrong == 50);  // no pair (5) nor client (20) is reached: the account's cap is
  CHECK(tally.locked == 30);
  CHECK(tally.other == 0);
}

TEST_CASE("a username and its mobile are one account to the login lock", "[login_lock]") {
  TestServer s([](regd::app::Config& c) {
    c.abuse_limits = true;
    c.trust_proxy = true;
  });
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  const std::string attacker = "203.0.113.66";
  for (int i = 0; i < 3; ++i) CHECK(LoginStatus(s.port(), "alice_1", "wrong_1", attacker) == 400);
  for (int i = 0; i < 2; ++i) {
    CHECK(LoginStatus(s.port(), "13800138001", "wrong_1", attacker) == 400);
  }
  CHECK(LoginStatus(s.port(), "13800138001", kPassword, attacker) == 429);
  CHECK(LoginStatus(s.port(), "alice_1", kPassword, attacker) == 429);
  // A name nobody has is still counted under what was typed.
  for (int i = 0; i < 5; ++i) CHECK(LoginStatus(s.port(), "nobody_1", "wrong_1", attacker) == 400);
  CHECK(LoginStatus(s.port(), "nobody_1", "wrong_1", attacker) == 429);
}

TEST_CASE("regd's memory stays flat under 10,000 failed logins with 16 KB login strings",
          "[login_lock]") {
  TempDir dir;
  RegdProcess regd({"--port", "0", "--data-dir", dir.Join("data"), "--pwhash", "min",
                    "--access-log", "false", "--trust-proxy", "true"},
                   dir.Join("regd.log"));
  REQUIRE(regd.started());
  // Each request: a new login string of 16 KB from a new address, so every
  // lock table gains an entry per request.
  auto fail_logins = [&](int first, int count) {
    constexpr int kThreads = 4;
    std::atomic<int> not_400{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client cli("127.0.0.1", regd.port());
        cli.set_read_timeout(std::chrono::seconds(30));
        for (int i = first + t; i < first + count; i += kThreads) {
          // Just under the 16 KiB body limit with the JSON around it.
          std::string login = std::string(16 * 1024 - 128, 'x') + std::to_string(i);
          json body = {{"username", login}, {"password", "wrong_1"}};
          std::string client = "10." + std::to_string(i >> 16) + "." +
                               std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255);
          auto res =
              cli.Post("/login/", {{"X-Forwarded-For", client}}, body.dump(), "application/json");
          if (!res || res->status != 400) ++not_400;
        }
      });
    }
    for (auto& t : threads) t.join();
    return not_400.load();
  };
  REQUIRE(fail_logins(0, 1000) == 0);  // warm up: buffers, arenas, maps
  long before = ProcStatusKb(regd.pid(), "VmRSS");
  REQUIRE(fail_logins(1000, 10000) == 0);
  long after = ProcStatusKb(regd.pid(), "VmRSS");
  INFO("VmRSS " << before << " KiB -> " << after << " KiB");
  REQUIRE(before > 0);
  // The strings alone would be 10,000 × 16 KB × 2 tables = 320 MB; fixed-size
  // entries are 10,000 × 80 B per table.
  if (kSanitized) {
    WARN("sanitized build: the RSS bound is checked by the plain build only");
  } else {
    CHECK(after - before < 16 * 1024);
  }
}
