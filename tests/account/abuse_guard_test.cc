// AbuseGuard's per-client token buckets and login failure locks, on explicit
// times (no clock, no sleeping).
#include "account/abuse_guard.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using regd::account::AbuseGuard;
using regd::account::AbuseOptions;
using regd::account::Action;
using regd::account::LoginAttempt;
using regd::account::ParseRateLimit;
using regd::account::RateLimit;

namespace {

constexpr int64_t kT0 = 1'790'000'000'000;
constexpr int64_t kMinute = 60'000;

AbuseOptions Options() {
  AbuseOptions o;
  o.captcha = {3.0 / 60, 3};  // 3 per minute
  return o;
}

// One login attempt that the guard admits and that then fails (or succeeds).
void Fail(AbuseGuard& g, const std::string& account, const std::string& client, int64_t now) {
  LoginAttempt a;
  REQUIRE(g.ReserveLogin(account, client, now, &a) == 0);
  a.Failed(now);
}
void Succeed(AbuseGuard& g, const std::string& account, const std::string& client, int64_t now) {
  LoginAttempt a;
  REQUIRE(g.ReserveLogin(account, client, now, &a) == 0);
  a.Succeeded(now);
}

// Fails login for account from client n times at now.
void FailTimes(AbuseGuard& g, const std::string& account, const std::string& client, int n,
               int64_t now) {
  for (int i = 0; i < n; ++i) Fail(g, account, client, now);
}

}  // namespace

TEST_CASE("a client gets its burst, then waits for the next token", "[abuse_guard]") {
  AbuseGuard g(Options());
  for (int i = 0; i < 3; ++i) CHECK(g.Allow(Action::kCaptcha, "10.0.0.1", kT0) == 0);
  int64_t wait = g.Allow(Action::kCaptcha, "10.0.0.1", kT0);
  CHECK(wait == 20'000);  // one token per 20 s
  CHECK(g.Allow(Action::kCaptcha, "10.0.0.1", kT0 + 19'999) > 0);
  CHECK(g.Allow(Action::kCaptcha, "10.0.0.1", kT0 + 20'000) == 0);
  CHECK(g.Allow(Action::kCaptcha, "10.0.0.1", kT0 + 20'000) > 0);
}

TEST_CASE("clients and actions have separate buckets", "[abuse_guard]") {
  AbuseGuard g(Options());
  for (int i = 0; i < 3; ++i) REQUIRE(g.Allow(Action::kCaptcha, "10.0.0.1", kT0) == 0);
  CHECK(g.Allow(Action::kCaptcha, "10.0.0.1", kT0) > 0);
  CHECK(g.Allow(Action::kCaptcha, "10.0.0.2", kT0) == 0);
  CHECK(g.Allow(Action::kCount, "10.0.0.1", kT0) == 0);
}

TEST_CASE("an IPv6 client counts by its /64 and a mapped IPv4 as IPv4", "[abuse_guard]") {
  CHECK(AbuseGuard::ClientKey("2001:db8:1:2:aaaa::1") == AbuseGuard::ClientKey("2001:db8:1:2::ff"));
  CHECK(AbuseGuard::ClientKey("2001:db8:1:2::1") != AbuseGuard::ClientKey("2001:db8:1:3::1"));
  CHECK(AbuseGuard::ClientKey("::ffff:192.0.2.7") == "192.0.2.7");
  CHECK(AbuseGuard::ClientKey("192.0.2.7") == "192.0.2.7");
  AbuseGuard g(Options());
  for (int i = 0; i < 3; ++i)
    REQUIRE(g.Allow(Action::kCaptcha, "2001:db8::" + std::to_string(i + 1), kT0) == 0);
  CHECK(g.Allow(Action::kCaptcha, "2001:db8::99", kT0) > 0);
}

TEST_CASE("a limit set off, or every limit off, allows everything", "[abuse_guard]") {
  AbuseOptions o = Options();
  o.count = RateLimit{};  // off
  AbuseGuard one_off(o);
  for (int i = 0; i < 1000; ++i) REQUIRE(one_off.Allow(Action::kCount, "10.0.0.1", kT0) == 0);
  o.enabled = false;
  AbuseGuard all_off(o);
  for (int i = 0; i < 1000; ++i) REQUIRE(all_off.Allow(Action::kCaptcha, "10.0.0.1", kT0) == 0);
  FailTimes(all_off, "alice", "10.0.0.1", 100, kT0);
  CHECK(all_off.LoginLockedFor("alice", "10.0.0.1", kT0) == 0);
}

TEST_CASE("rates parse as count per unit, with the count as the burst", "[abuse_guard]") {
  RateLimit r;
  REQUIRE(ParseRateLimit("30/m", &r));
  CHECK(r.per_s == Approx(0.5));
  CHECK(r.burst == 30);
  REQUIRE(ParseRateLimit("20/h", &r));
  CHECK(r.burst == 20);
  REQUIRE(ParseRateLimit("100/d", &r));
  CHECK(r.per_s == Approx(100.0 / 86400));
  REQUIRE(ParseRateLimit("off", &r));
  CHECK(r.per_s == 0);
  for (const char* bad : {"", "30", "/m", "0/m", "-1/m", "30/x", "30/mm", "x/m", "30/ m"}) {
    INFO(bad);
    CHECK_FALSE(ParseRateLimit(bad, &r));
  }
}

TEST_CASE("five failures lock the account for that client only, 30 s doubling to 15 min",
          "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  FailTimes(g, "alice", "10.0.0.1", 4, kT0);
  CHECK(g.LoginLockedFor("alice", "10.0.0.1", kT0) == 0);
  Fail(g, "alice", "10.0.0.1", kT0);
  CHECK(g.LoginLockedFor("alice", "10.0.0.1", kT0) == 30'000);
  CHECK(g.LoginLockedFor("alice", "10.0.0.2", kT0) == 0);  // the real user elsewhere
  CHECK(g.LoginLockedFor("bob", "10.0.0.1", kT0) == 0);
  // Attempts while locked are refused, not counted: the lock does not grow.
  LoginAttempt refused;
  CHECK(g.ReserveLogin("alice", "10.0.0.1", kT0 + 1'000, &refused) == 29'000);
  CHECK(g.LoginLockedFor("alice", "10.0.0.1", kT0 + 1'000) == 29'000);
  // After it, each further failure doubles the lock, up to 15 minutes.
  int64_t t = kT0 + 30'000;
  int64_t expected = 60'000;
  for (int i = 0; i < 8; ++i) {
    CHECK(g.LoginLockedFor("alice", "10.0.0.1", t) == 0);
    Fail(g, "alice", "10.0.0.1", t);
    CHECK(g.LoginLockedFor("alice", "10.0.0.1", t) == std::min<int64_t>(expected, 15 * kMinute));
    t += std::min<int64_t>(expected, 15 * kMinute);
    expected *= 2;
  }
}

TEST_CASE("a successful login clears its pair's failures", "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  FailTimes(g, "alice", "10.0.0.1", 4, kT0);
  Succeed(g, "alice", "10.0.0.1", kT0);
  FailTimes(g, "alice", "10.0.0.1", 4, kT0);
  CHECK(g.LoginLockedFor("alice", "10.0.0.1", kT0) == 0);
}

TEST_CASE("failures are forgotten after an hour without one", "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  FailTimes(g, "alice", "10.0.0.1", 4, kT0);
  FailTimes(g, "alice", "10.0.0.1", 1, kT0 + 60 * kMinute);
  CHECK(g.LoginLockedFor("alice", "10.0.0.1", kT0 + 60 * kMinute) == 0);
}

TEST_CASE("twenty failures on different accounts lock the client", "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  for (int i = 0; i < 19; ++i) Fail(g, "user" + std::to_string(i), "10.0.0.9", kT0);
  CHECK(g.LoginLockedFor("someone", "10.0.0.9", kT0) == 0);
  Fail(g, "user19", "10.0.0.9", kT0);
  CHECK(g.LoginLockedFor("someone", "10.0.0.9", kT0) == kMinute);
  CHECK(g.LoginLockedFor("someone", "10.0.0.10", kT0) == 0);
}

TEST_CASE(
    "fifty failures from many clients lock the account, but not for a client that signed "
    "in before",
    "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  Succeed(g, "alice", "192.0.2.1", kT0);  // the real user's usual address
  for (int i = 0; i < 50; ++i) Fail(g, "alice", "10.1.0." + std::to_string(i), kT0);
  CHECK(g.LoginLockedFor("alice", "10.2.0.1", kT0) == kMinute);  // a new client waits
  CHECK(g.LoginLockedFor("alice", "192.0.2.1", kT0) == 0);       // the known one does not
  CHECK(g.LoginLockedFor("bob", "10.2.0.1", kT0) == 0);
  // The lock is temporary.
  CHECK(g.LoginLockedFor("alice", "10.2.0.1", kT0 + kMinute) == 0);
}

TEST_CASE("login lockout can be switched off alone", "[abuse_guard]") {
  AbuseOptions o;
  o.login_lockout = false;
  AbuseGuard g(o);
  FailTimes(g, "alice", "10.0.0.1", 100, kT0);
  CHECK(g.LoginLockedFor("alice", "10.0.0.1", kT0) == 0);
}

TEST_CASE("tables stay bounded: idle entries go first, then the least recently used",
          "[abuse_guard]") {
  AbuseOptions o = Options();
  o.max_table_bytes = 100 * AbuseGuard::kEntryBytes;
  AbuseGuard g(o);
  REQUIRE(g.max_entries() == 100);
  // 1000 clients each spend a token; the table never holds more than 100, and
  // a client dropped from it starts again with a full bucket (never worse).
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(g.Allow(Action::kCaptcha,
                    "10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250), kT0) == 0);
  }
  CHECK(g.Tracked() <= 100);
  // A client that is still in the table keeps its state: spend a fresh
  // client's burst and it is refused.
  for (int i = 0; i < 3; ++i) REQUIRE(g.Allow(Action::kCaptcha, "10.8.0.1", kT0) == 0);
  CHECK(g.Allow(Action::kCaptcha, "10.8.0.1", kT0) > 0);
  // Failure tables too (pairs, clients, accounts: at most 100 each).
  for (int i = 0; i < 1000; ++i) {
    Fail(g, "a" + std::to_string(i),
         "10.7." + std::to_string(i / 250) + "." + std::to_string(i % 250), kT0);
  }
  CHECK(g.Tracked() <= 100 + 3 * 100);
  // An old lock that is over gives way before a live one: alice's expired
  // entries are dropped, the new lock holds.
  FailTimes(g, "bob", "10.6.0.1", 5, kT0 + 3 * 60 * kMinute);
  for (int i = 0; i < 99; ++i) {
    Fail(g, "c" + std::to_string(i), "10.5.0." + std::to_string(i), kT0 + 3 * 60 * kMinute);
  }
  CHECK(g.LoginLockedFor("bob", "10.6.0.1", kT0 + 3 * 60 * kMinute) > 0);
}

TEST_CASE("parallel attempts are counted as they start: only the threshold's worth get through",
          "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  // Thirty attempts on one pair, all reserved before any settles (as thirty
  // requests hashing at once would be).
  std::vector<LoginAttempt> admitted;
  int refused = 0;
  for (int i = 0; i < 30; ++i) {
    LoginAttempt a;
    int64_t wait = g.ReserveLogin("id:7", "10.0.0.1", kT0, &a);
    if (wait == 0) {
      admitted.push_back(std::move(a));
    } else {
      CHECK(wait == 30'000);  // the lock the five in flight would set
      ++refused;
    }
  }
  CHECK(admitted.size() == 5);
  CHECK(refused == 25);
  for (auto& a : admitted) a.Failed(kT0);
  CHECK(g.LoginLockedFor("id:7", "10.0.0.1", kT0) == 30'000);
}

TEST_CASE("a cancelled attempt is not a failure, and an unsettled one cancels itself",
          "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  for (int round = 0; round < 10; ++round) {
    LoginAttempt a;
    REQUIRE(g.ReserveLogin("id:7", "10.0.0.1", kT0, &a) == 0);
    if (round % 2 == 0) a.Cancel();
  }  // odd rounds: destroyed unsettled
  CHECK(g.LoginLockedFor("id:7", "10.0.0.1", kT0) == 0);
  FailTimes(g, "id:7", "10.0.0.1", 4, kT0);
  CHECK(g.LoginLockedFor("id:7", "10.0.0.1", kT0) == 0);
}

TEST_CASE("after a lock ends, one attempt at a time is let through", "[abuse_guard]") {
  AbuseGuard g(AbuseOptions{});
  FailTimes(g, "id:7", "10.0.0.1", 5, kT0);
  int64_t later = kT0 + 30'000;
  LoginAttempt first, second;
  CHECK(g.ReserveLogin("id:7", "10.0.0.1", later, &first) == 0);
  CHECK(g.ReserveLogin("id:7", "10.0.0.1", later, &second) == 60'000);
  first.Failed(later);
  CHECK(g.LoginLockedFor("id:7", "10.0.0.1", later) == 60'000);
}

TEST_CASE("a login string of any length costs one fixed-size entry", "[abuse_guard]") {
  AbuseOptions o;
  o.max_table_bytes = 1000 * AbuseGuard::kEntryBytes;
  AbuseGuard g(o);
  std::string long_login(16 * 1024, 'x');
  for (int i = 0; i < 5000; ++i) {
    Fail(g, "login:" + long_login + std::to_string(i),
         "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1", kT0);
  }
  // Three login tables, each at most max_entries fixed-size entries.
  CHECK(g.Tracked() <= 3 * 1000);
}
