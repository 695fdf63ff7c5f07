#include "account/abuse_guard.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace regd::account {
namespace {

// Failures on n attempts lock for this long (n >= policy.threshold).
int64_t LockMs(const LockPolicy& policy, int n) {
  int doublings = std::clamp(n - policy.threshold, 0, 30);
  return std::min(policy.max_lock_ms, policy.first_lock_ms << doublings);
}

}  // namespace

bool ParseRateLimit(const std::string& text, RateLimit* out) {
  if (text == "off") {
    *out = RateLimit{};
    return true;
  }
  size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 2 != text.size()) return false;
  char* end = nullptr;
  long n = std::strtol(text.c_str(), &end, 10);
  if (end != text.c_str() + slash || n <= 0 || n > 1000000) return false;
  double period_s = 0;
  switch (text[slash + 1]) {
    case 's':
      period_s = 1;
      break;
    case 'm':
      period_s = 60;
      break;
    case 'h':
      period_s = 3600;
      break;
    case 'd':
      period_s = 86400;
      break;
    default:
      return false;
  }
  out->per_s = static_cast<double>(n) / period_s;
  out->burst = static_cast<double>(n);
  return true;
}

AbuseGuard::AbuseGuard(AbuseOptions options)
    : options_(options), max_entries_(std::max<size_t>(1, options.max_table_bytes / kEntryBytes)) {
  // A node is its next pointer, key and value in one malloc chunk (16-byte
  // granules, 8 bytes of header); the bucket array holds at most two
  // pointers per entry (it doubles when the load factor passes 1).
  constexpr auto node_bytes = [](size_t value) {
    return (sizeof(void*) + sizeof(Key) + value + 8 + 15) / 16 * 16 + 2 * sizeof(void*);
  };
  static_assert(node_bytes(sizeof(Failures)) <= kEntryBytes);
  static_assert(node_bytes(sizeof(Bucket)) <= kEntryBytes);
  static_assert(node_bytes(sizeof(int64_t)) <= kEntryBytes);
  if (sodium_init() < 0) std::abort();
  randombytes_buf(hash_key_.data(), hash_key_.size());
}

AbuseGuard::Key AbuseGuard::Hash(std::string_view a, std::string_view b) const {
  crypto_generichash_state st;
  crypto_generichash_init(&st, hash_key_.data(), hash_key_.size(), 16);
  uint64_t len = a.size();  // a's length first: (a, b) splits one way only
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&len), sizeof len);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(a.data()), a.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(b.data()), b.size());
  unsigned char out[16];
  crypto_generichash_final(&st, out, sizeof out);
  Key k;
  std::memcpy(&k.hi, out, 8);
  std::memcpy(&k.lo, out + 8, 8);
  return k;
}

std::string AbuseGuard::ClientKey(std::string_view address) {
  std::string a(address);
  unsigned char bytes[16];
  if (a.find(':') == std::string::npos || inet_pton(AF_INET6, a.c_str(), bytes) != 1) return a;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[64];
  if (std::equal(kMapped, kMapped + 12, bytes)) {
    std::snprintf(out, sizeof out, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
  } else {
    std::snprintf(out, sizeof out, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", bytes[0], bytes[1],
                  bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]);
  }
  return out;
}

// Drops entries idle(entry) says may go; if the map is still full, drops
// the half least recently used (by the time idle() reports through last;
// an entry that must stay reports INT64_MAX).
template <typename T, typename Idle>
void AbuseGuard::MakeRoom(Map<T>& map, Idle idle) {
  if (map.size() < max_entries_) return;
  std::vector<int64_t> ages;
  for (auto it = map.begin(); it != map.end();) {
    int64_t last = 0;
    if (idle(it->second, &last)) {
      it = map.erase(it);
    } else {
      ages.push_back(last);
      ++it;
    }
  }
  if (map.size() < max_entries_) return;
  auto mid = ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2);
  std::nth_element(ages.begin(), mid, ages.end());
  int64_t cutoff = std::min<int64_t>(*mid, INT64_MAX - 1);
  for (auto it = map.begin(); it != map.end();) {
    int64_t last = 0;
    idle(it->second, &last);
    it = last <= cutoff ? map.erase(it) : std::next(it);
  }
}

int64_t AbuseGuard::Take(BucketTable& table, const RateLimit& limit, const Key& key,
                         int64_t now_ms) {
  if (!options_.enabled || limit.per_s <= 0) return 0;
  std::lock_guard<std::mutex> lock(table.mu);
  auto it = table.map.find(key);
  if (it == table.map.end()) {
    MakeRoom(table.map, [&](const Bucket& b, int64_t* last) {
      *last = b.last_ms;
      return b.tokens + (now_ms - b.last_ms) / 1000.0 * limit.per_s >= limit.burst;
    });
    it = table.map.emplace(key, Bucket{limit.burst, now_ms}).first;
  }
  Bucket& b = it->second;
  if (now_ms > b.last_ms) {
    b.tokens = std::min(limit.burst, b.tokens + (now_ms - b.last_ms) / 1000.0 * limit.per_s);
    b.last_ms = now_ms;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return static_cast<int64_t>(std::ceil((1 - b.tokens) / limit.per_s * 1000.0));
}

int64_t AbuseGuard::Allow(Action action, std::string_view client, int64_t now_ms) {
  const RateLimit* limit = nullptr;
  switch (action) {
    case Action::kCaptcha:
      limit = &options_.captcha;
      break;
    case Action::kSms:
      limit = &options_.sms;
      break;
    case Action::kRegister:
      limit = &options_.registration;
      break;
    case Action::kLogin:
      limit = &options_.login;
      break;
    case Action::kCount:
      limit = &options_.count;
      break;
  }
  if (!options_.enabled || limit->per_s <= 0) return 0;
  return Take(buckets_[static_cast<int>(action)], *limit, Hash(ClientKey(client)), now_ms);
}

size_t AbuseGuard::Tracked() {
  size_t n = 0;
  for (auto& t : buckets_) {
    std::lock_guard<std::mutex> lock(t.mu);
    n += t.map.size();
  }
  std::lock_guard<std::mutex> lock(login_mu_);
  return n + pairs_.size() + clients_.size() + accounts_.size() + known_good_.size() +
         unlocked_.size();
}

int64_t AbuseGuard::Wait(const Map<Failures>& table, const LockPolicy& policy, const Key& key,
                         int64_t now_ms) const {
  auto it = table.find(key);
  if (it == table.end()) return 0;
  const Failures& f = it->second;
  if (f.locked_until_ms > now_ms) return f.locked_until_ms - now_ms;
  int count = now_ms - f.last_ms >= options_.forget_after_ms ? 0 : f.count;
  // Attempts in flight that would reach the threshold if they all failed:
  // the next waits for them (after a lock ends, one attempt at a time).
  if (f.in_flight > 0 && count + f.in_flight >= policy.threshold) {
    return LockMs(policy, count + f.in_flight);
  }
  return 0;
}

AbuseGuard::Failures& AbuseGuard::Slot(Map<Failures>& table, const Key& key, int64_t now_ms) {
  auto it = table.find(key);
  if (it == table.end()) {
    MakeRoom(table, [&](const Failures& f, int64_t* last) {
      *last = f.in_flight > 0 ? INT64_MAX : f.last_ms;
      return f.in_flight == 0 && f.locked_until_ms <= now_ms &&
             now_ms - f.last_ms >= options_.forget_after_ms;
    });
    it = table.emplace(key, Failures{}).first;
  }
  return it->second;
}

LoginAttempt AbuseGuard::Keys(std::string_view account, std::string_view client) const {
  std::string c = ClientKey(client);
  LoginAttempt keys;
  keys.pair_ = Hash(account, c);
  keys.client_ = Hash(c);
  keys.account_ = Hash(account);
  return keys;
}

int64_t AbuseGuard::LoginWait(const LoginAttempt& keys, int64_t now_ms) const {
  int64_t wait = std::max(Wait(pairs_, options_.login_pair, keys.pair_, now_ms),
                          Wait(clients_, options_.login_client, keys.client_, now_ms));
  if (known_good_.count(keys.pair_) == 0) {  // a client that signed in before is not held
    wait = std::max(wait, Wait(accounts_, options_.login_account, keys.account_, now_ms));
  }
  return wait;
}

int64_t AbuseGuard::LoginLockedFor(std::string_view account, std::string_view client,
                                   int64_t now_ms) {
  if (!options_.enabled || !options_.login_lockout) return 0;
  LoginAttempt keys = Keys(account, client);
  std::lock_guard<std::mutex> lock(login_mu_);
  ApplyUnlockLocked(keys);
  return LoginWait(keys, now_ms);
}

void AbuseGuard::UnlockAccount(std::string_view account, int64_t now_ms) {
  Key key = Hash(account);
  std::lock_guard<std::mutex> lock(login_mu_);
  auto it = accounts_.find(key);
  if (it != accounts_.end()) {
    it->second.count = 0;
    it->second.locked_until_ms = 0;
  }
  if (unlocked_.count(key) == 0) {
    // Pair entries older than forget_after_ms are forgotten anyway.
    MakeRoom(unlocked_, [&](int64_t at, int64_t* last) {
      *last = at;
      return now_ms - at >= options_.forget_after_ms;
    });
  }
  unlocked_[key] = now_ms;
}

void AbuseGuard::ApplyUnlockLocked(const LoginAttempt& keys) {
  auto unlocked = unlocked_.find(keys.account_);
  if (unlocked == unlocked_.end()) return;
  auto pair = pairs_.find(keys.pair_);
  if (pair != pairs_.end() && pair->second.last_ms <= unlocked->second) {
    pair->second.count = 0;
    pair->second.locked_until_ms = 0;
  }
}

int64_t AbuseGuard::ReserveLogin(std::string_view account, std::string_view client, int64_t now_ms,
                                 LoginAttempt* attempt) {
  if (!options_.enabled || !options_.login_lockout) return 0;
  LoginAttempt reserved = Keys(account, client);
  {
    std::lock_guard<std::mutex> lock(login_mu_);
    ApplyUnlockLocked(reserved);
    int64_t wait = LoginWait(reserved, now_ms);
    if (wait > 0) return wait;
    for (auto [table, key] :
         {std::pair{&pairs_, reserved.pair_}, std::pair{&clients_, reserved.client_},
          std::pair{&accounts_, reserved.account_}}) {
      Failures& f = Slot(*table, key, now_ms);
      if (f.locked_until_ms <= now_ms && now_ms - f.last_ms >= options_.forget_after_ms) {
        f.count = 0;
      }
      f.in_flight += 1;
      f.last_ms = now_ms;
    }
    reserved.guard_ = this;
  }
  *attempt = std::move(reserved);  // settles an earlier one, outside the lock
  return 0;
}

void AbuseGuard::Fail(Failures& f, const LockPolicy& policy, int64_t now_ms) const {
  f.count += 1;
  f.last_ms = now_ms;
  // A lock does not grow while it holds: only an unlocked entry locks.
  if (f.count >= policy.threshold && f.locked_until_ms <= now_ms) {
    f.locked_until_ms = now_ms + LockMs(policy, f.count);
  }
}

void AbuseGuard::Settle(const LoginAttempt& a, bool failed, bool succeeded, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(login_mu_);
  struct Part {
    Map<Failures>* table;
    const Key* key;
    const LockPolicy* policy;
    bool cleared_by_success;
  };
  for (Part p : {Part{&pairs_, &a.pair_, &options_.login_pair, true},
                 Part{&clients_, &a.client_, &options_.login_client, false},
                 Part{&accounts_, &a.account_, &options_.login_account, true}}) {
    auto it = p.table->find(*p.key);
    if (it == p.table->end()) continue;  // in-flight entries are never dropped; defensive
    Failures& f = it->second;
    f.in_flight = std::max(0, f.in_flight - 1);
    if (failed) Fail(f, *p.policy, now_ms);
    if (succeeded && p.cleared_by_success) {
      if (f.in_flight == 0) {
        p.table->erase(it);
      } else {
        f.count = 0;
        f.locked_until_ms = 0;
      }
    }
  }
  if (!succeeded) return;
  auto it = known_good_.find(a.pair_);
  if (it != known_good_.end()) {
    it->second = now_ms;
    return;
  }
  MakeRoom(known_good_, [](int64_t last_login, int64_t* last) {
    *last = last_login;
    return false;  // only the least recently used go
  });
  known_good_.emplace(a.pair_, now_ms);
}

LoginAttempt::LoginAttempt(LoginAttempt&& other) noexcept { *this = std::move(other); }

LoginAttempt& LoginAttempt::operator=(LoginAttempt&& other) noexcept {
  if (this != &other) {
    Cancel();
    guard_ = other.guard_;
    pair_ = other.pair_;
    client_ = other.client_;
    account_ = other.account_;
    other.guard_ = nullptr;
  }
  return *this;
}

void LoginAttempt::Failed(int64_t now_ms) {
  if (guard_ == nullptr) return;
  guard_->Settle(*this, /*failed=*/true, /*succeeded=*/false, now_ms);
  guard_ = nullptr;
}

void LoginAttempt::Succeeded(int64_t now_ms) {
  if (guard_ == nullptr) return;
  guard_->Settle(*this, /*failed=*/false, /*succeeded=*/true, now_ms);
  guard_ = nullptr;
}

void LoginAttempt::Cancel() {
  if (guard_ == nullptr) return;
  guard_->Settle(*this, /*failed=*/false, /*succeeded=*/false, 0);
  guard_ = nullptr;
}

}  // namespace regd::account
