// AbuseGuard: the limits that keep a public sign-up endpoint from being
// abused by one client (captcha farming, SMS pumping, account enumeration,
// password guessing). Routes asks it before doing the work, so a refused
// request costs no captcha rendering, no disk write and no password hash.
//
// Per client (IP address; an IPv6 address counts by its /64, since one host
// usually has the whole /64), one token bucket per action: `burst` requests
// at once, refilled at `per_s`. A refusal says how long until the next token
// (Retry-After).
//
// Login failures, counted in three tables:
//   (account, client)  5 failures lock that pair: 30 s, doubling, at most
//                      15 min. A guesser is stopped without touching the
//                      real user, who signs in from elsewhere.
//   client             20 failures on any accounts lock the client: 1 min,
//                      doubling, at most 1 h (credential stuffing).
//   account            50 failures from all clients lock the account: 1 min,
//                      doubling, at most 15 min (a botnet on one account) --
//                      except for clients that signed in to that account
//                      before, so a distributed attacker cannot keep the real
//                      user out.
// A lock is temporary by construction (capped); failures are forgotten after
// an hour without one; a successful login clears its pair and its account.
// Attempts while locked are refused without checking the password and are
// not counted, so a lock does not grow while it holds.
//
// State is in memory: a restart forgets it (an attacker cannot trigger one).
// Each table holds at most max_entries keys; when full, idle entries (full
// buckets, unlocked counters past their window) are dropped first, then the
// least recently used.
//
// Thread-safety: safe from any thread (one mutex per table).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace regd::web {

// A rate: `burst` events at once, `per_s` events per second on average.
// per_s == 0 means unlimited.
struct RateLimit {
  double per_s = 0;
  double burst = 0;
};

// Parses "20/s", "30/m", "10/h", "100/d" (burst = the count) or "off".
bool ParseRateLimit(const std::string& text, RateLimit* out);

// A lock policy for one failure table.
struct LockPolicy {
  int threshold = 5;              // failures before the first lock
  int64_t first_lock_ms = 30000;  // then doubling per further failure
  int64_t max_lock_ms = 15 * 60000;
};

struct AbuseOptions {
  bool enabled = true;  // false: every method allows everything
  RateLimit captcha{30.0 / 60, 30};
  RateLimit sms{20.0 / 3600, 20};
  RateLimit registration{20.0 / 3600, 20};
  RateLimit login{30.0 / 60, 30};
  RateLimit count{120.0 / 60, 120};
  bool login_lockout = true;  // false: the three failure tables are off
  LockPolicy login_pair{5, 30000, 15 * 60000};
  LockPolicy login_client{20, 60000, 60 * 60000};
  LockPolicy login_account{50, 60000, 15 * 60000};
  int64_t forget_after_ms = 60 * 60000;  // failures idle this long are forgotten
  size_t max_entries = 100000;           // per table
};

enum class Action { kCaptcha, kSms, kRegister, kLogin, kCount };

class AbuseGuard {
 public:
  explicit AbuseGuard(AbuseOptions options);

  // Takes a token for action by client at now_ms: 0 if allowed, else the
  // milliseconds until it would be.
  int64_t Allow(Action action, std::string_view client, int64_t now_ms);

  // Milliseconds until login to account from client is allowed (0: now).
  int64_t LoginLockedFor(std::string_view account, std::string_view client, int64_t now_ms);
  void LoginFailed(std::string_view account, std::string_view client, int64_t now_ms);
  void LoginSucceeded(std::string_view account, std::string_view client, int64_t now_ms);

  bool enabled() const { return options_.enabled; }
  // Entries held across every table (bounded by 9 × max_entries).
  size_t Tracked();
  const AbuseOptions& options() const { return options_; }

  // The key a client address counts under: IPv4 as is, IPv6 by its /64
  // (IPv4-mapped IPv6 as IPv4); anything unparsable as is.
  static std::string ClientKey(std::string_view address);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ms = 0;
  };
  struct Failures {
    int count = 0;
    int64_t last_ms = 0;
    int64_t locked_until_ms = 0;
  };
  template <typename T>
  struct Table {
    std::mutex mu;
    std::unordered_map<std::string, T> map;  // guarded by mu
  };

  int64_t Take(Table<Bucket>& table, const RateLimit& limit, const std::string& key,
               int64_t now_ms);
  int64_t LockedFor(Table<Failures>& table, const std::string& key, int64_t now_ms);
  void Fail(Table<Failures>& table, const LockPolicy& policy, const std::string& key,
            int64_t now_ms);
  template <typename T, typename Idle>
  void MakeRoom(Table<T>& table, Idle idle);

  const AbuseOptions options_;
  Table<Bucket> buckets_[5];  // by Action
  Table<Failures> pairs_, clients_, accounts_;
  Table<int64_t> known_good_;  // (account, client) -> last successful login
};

}  // namespace regd::web
