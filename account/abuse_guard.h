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
// The account is the user the login names ("id:<user id>"), so a username
// and its mobile share one count; a login that names no user counts under
// the string typed ("login:<typed>").
//
// Attempts are reserved, not recorded after the fact: ReserveLogin checks
// every table and counts the attempt as in flight in one critical section,
// before any password hashing. A table refuses while its failures plus the
// attempts in flight reach its threshold, so N parallel guesses are counted
// as they start: 30 at once on one pair get 5 hashes and 25 refusals. The
// LoginAttempt it hands back settles the reservation: Failed (a failure),
// Succeeded (clears the pair and the account, remembers the client as known
// good) or Cancel (storage or hash pool busy: not a guess; the destructor
// cancels an attempt never settled).
// A lock is temporary by construction (capped); failures are forgotten after
// an hour without one. Attempts while locked are refused without checking
// the password and are not counted, so a lock does not grow while it holds.
//
// Memory: every table is keyed by a 16-byte keyed BLAKE2b of what it counts
// (the key is random per process, so an attacker cannot aim at one hash
// bucket), so an entry has a fixed size whatever was typed: at most
// kEntryBytes with the map's own node and bucket. Each table holds at most
// max_table_bytes / kEntryBytes entries; when full, idle entries (full
// buckets, unlocked counters past their window, nothing in flight) are
// dropped first, then the least recently used. State is in memory: a
// restart forgets it (an attacker cannot trigger one).
//
// Thread-safety: safe from any thread (one mutex per bucket table, one for
// the login tables together, so a reservation sees and changes them at once).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace regd::account {

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
  size_t max_table_bytes = 8 << 20;      // per table (9 tables)
};

enum class Action { kCaptcha, kSms, kRegister, kLogin, kCount };

class AbuseGuard;

// A login attempt ReserveLogin counted as in flight; settle it once with
// Failed, Succeeded or Cancel (the destructor cancels). An empty attempt
// (lockout off) settles to nothing. Move-only; not thread-safe itself (one
// request owns it), its guard is.
class LoginAttempt {
 public:
  LoginAttempt() = default;
  LoginAttempt(LoginAttempt&& other) noexcept;
  LoginAttempt& operator=(LoginAttempt&& other) noexcept;
  LoginAttempt(const LoginAttempt&) = delete;
  LoginAttempt& operator=(const LoginAttempt&) = delete;
  ~LoginAttempt() { Cancel(); }

  void Failed(int64_t now_ms);
  void Succeeded(int64_t now_ms);
  void Cancel();

 private:
  friend class AbuseGuard;
  struct Key {
    uint64_t hi = 0, lo = 0;
    bool operator==(const Key& o) const { return hi == o.hi && lo == o.lo; }
  };
  AbuseGuard* guard_ = nullptr;  // null: nothing to settle
  Key pair_, client_, account_;
};

class AbuseGuard {
 public:
  // Upper bound of one table entry's memory, node and bucket included.
  static constexpr size_t kEntryBytes = 80;

  explicit AbuseGuard(AbuseOptions options);

  // Takes a token for action by client at now_ms: 0 if allowed, else the
  // milliseconds until it would be.
  int64_t Allow(Action action, std::string_view client, int64_t now_ms);

  // Reserves a login attempt on account from client: 0 and *attempt holds
  // the reservation, or the milliseconds until one would be allowed (nothing
  // counted, *attempt untouched).
  int64_t ReserveLogin(std::string_view account, std::string_view client, int64_t now_ms,
                       LoginAttempt* attempt);
  // Milliseconds until ReserveLogin would allow account from client (0:
  // now); changes nothing.
  int64_t LoginLockedFor(std::string_view account, std::string_view client, int64_t now_ms);

  // Lifts account's login locks at now_ms (`regd users unlock`): its own
  // and those of (account, any client). A client's own lock stays: it is
  // about the address, not the account.
  void UnlockAccount(std::string_view account, int64_t now_ms);

  bool enabled() const { return options_.enabled; }
  // Entries held across every table (bounded by 10 × max_entries()).
  size_t Tracked();
  // Entries one table may hold.
  size_t max_entries() const { return max_entries_; }
  const AbuseOptions& options() const { return options_; }

  // The key a client address counts under: IPv4 as is, IPv6 by its /64
  // (IPv4-mapped IPv6 as IPv4); anything unparsable as is.
  static std::string ClientKey(std::string_view address);

 private:
  friend class LoginAttempt;
  using Key = LoginAttempt::Key;
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept { return static_cast<size_t>(k.lo); }
  };
  struct Bucket {
    double tokens = 0;
    int64_t last_ms = 0;
  };
  struct Failures {
    int32_t count = 0;      // failures in the current window
    int32_t in_flight = 0;  // reserved, not yet settled
    int64_t last_ms = 0;
    int64_t locked_until_ms = 0;
  };
  template <typename T>
  using Map = std::unordered_map<Key, T, KeyHash>;
  struct BucketTable {
    std::mutex mu;
    Map<Bucket> map;  // guarded by mu
  };

  Key Hash(std::string_view a, std::string_view b = {}) const;
  int64_t Take(BucketTable& table, const RateLimit& limit, const Key& key, int64_t now_ms);
  // The wait before table would take one more attempt on key (0: now).
  int64_t Wait(const Map<Failures>& table, const LockPolicy& policy, const Key& key,
               int64_t now_ms) const;
  // The three keys of (account, client), in an attempt that settles nothing.
  LoginAttempt Keys(std::string_view account, std::string_view client) const;
  // The wait before a login with keys is allowed; login_mu_ held.
  int64_t LoginWait(const LoginAttempt& keys, int64_t now_ms) const;
  Failures& Slot(Map<Failures>& table, const Key& key, int64_t now_ms);
  // Clears the pair entry of keys if its account was unlocked after that
  // entry's last attempt; login_mu_ held.
  void ApplyUnlockLocked(const LoginAttempt& keys);
  void Settle(const LoginAttempt& a, bool failed, bool succeeded, int64_t now_ms);
  void Fail(Failures& f, const LockPolicy& policy, int64_t now_ms) const;
  template <typename T, typename Idle>
  void MakeRoom(Map<T>& map, Idle idle);

  const AbuseOptions options_;
  const size_t max_entries_;
  std::array<unsigned char, 32> hash_key_{};
  BucketTable buckets_[5];  // by Action
  std::mutex login_mu_;     // guards the five maps below
  Map<Failures> pairs_, clients_, accounts_;
  Map<int64_t> known_good_;  // (account, client) -> last successful login
  Map<int64_t> unlocked_;    // account -> when it was unlocked
};

}  // namespace regd::account
