#include "web/abuse_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace regd::web {
namespace {

constexpr char kSep = '\x1f';  // between account and client in a pair key

std::string PairKey(std::string_view account, std::string_view client) {
  std::string k(account);
  k += kSep;
  k += client;
  return k;
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

AbuseGuard::AbuseGuard(AbuseOptions options) : options_(options) {}

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

// Drops entries idle(entry) says may go; if the table is still full, drops
// the half least recently used (by the time idle() reports through last).
template <typename T, typename Idle>
void AbuseGuard::MakeRoom(Table<T>& table, Idle idle) {
  auto& map = table.map;
  if (map.size() < options_.max_entries) return;
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
  if (map.size() < options_.max_entries) return;
  auto mid = ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2);
  std::nth_element(ages.begin(), mid, ages.end());
  int64_t cutoff = *mid;
  for (auto it = map.begin(); it != map.end();) {
    int64_t last = 0;
    idle(it->second, &last);
    it = last <= cutoff ? map.erase(it) : std::next(it);
  }
}

int64_t AbuseGuard::Take(Table<Bucket>& table, const RateLimit& limit, const std::string& key,
                         int64_t now_ms) {
  if (!options_.enabled || limit.per_s <= 0) return 0;
  std::lock_guard<std::mutex> lock(table.mu);
  auto it = table.map.find(key);
  if (it == table.map.end()) {
    MakeRoom(table, [&](const Bucket& b, int64_t* last) {
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
  return Take(buckets_[static_cast<int>(action)], *limit, ClientKey(client), now_ms);
}

size_t AbuseGuard::Tracked() {
  size_t n = 0;
  auto add = [&n](auto& table) {
    std::lock_guard<std::mutex> lock(table.mu);
    n += table.map.size();
  };
  for (auto& t : buckets_) add(t);
  add(pairs_);
  add(clients_);
  add(accounts_);
  add(known_good_);
  return n;
}

int64_t AbuseGuard::LockedFor(Table<Failures>& table, const std::string& key, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(table.mu);
  auto it = table.map.find(key);
  if (it == table.map.end()) return 0;
  return std::max<int64_t>(0, it->second.locked_until_ms - now_ms);
}

void AbuseGuard::Fail(Table<Failures>& table, const LockPolicy& policy, const std::string& key,
                      int64_t now_ms) {
  std::lock_guard<std::mutex> lock(table.mu);
  auto it = table.map.find(key);
  if (it == table.map.end()) {
    MakeRoom(table, [&](const Failures& f, int64_t* last) {
      *last = f.last_ms;
      return f.locked_until_ms <= now_ms && now_ms - f.last_ms >= options_.forget_after_ms;
    });
    it = table.map.emplace(key, Failures{}).first;
  }
  Failures& f = it->second;
  if (f.locked_until_ms > now_ms) return;  // refused anyway; a lock does not grow while it holds
  if (now_ms - f.last_ms >= options_.forget_after_ms) f.count = 0;
  f.count += 1;
  f.last_ms = now_ms;
  if (f.count >= policy.threshold) {
    int doublings = std::min(f.count - policy.threshold, 30);
    int64_t lock_ms = std::min(policy.max_lock_ms, policy.first_lock_ms << doublings);
    f.locked_until_ms = now_ms + lock_ms;
  }
}

int64_t AbuseGuard::LoginLockedFor(std::string_view account, std::string_view client,
                                   int64_t now_ms) {
  if (!options_.enabled || !options_.login_lockout) return 0;
  std::string c = ClientKey(client);
  std::string a(account);
  std::string pair = PairKey(account, c);
  int64_t wait = std::max(LockedFor(pairs_, pair, now_ms), LockedFor(clients_, c, now_ms));
  int64_t account_wait = LockedFor(accounts_, a, now_ms);
  if (account_wait > 0) {
    std::lock_guard<std::mutex> lock(known_good_.mu);
    if (known_good_.map.count(pair)) account_wait = 0;  // this client signed in before
  }
  return std::max(wait, account_wait);
}

void AbuseGuard::LoginFailed(std::string_view account, std::string_view client, int64_t now_ms) {
  if (!options_.enabled || !options_.login_lockout) return;
  std::string c = ClientKey(client);
  Fail(pairs_, options_.login_pair, PairKey(account, c), now_ms);
  Fail(clients_, options_.login_client, c, now_ms);
  Fail(accounts_, options_.login_account, std::string(account), now_ms);
}

void AbuseGuard::LoginSucceeded(std::string_view account, std::string_view client, int64_t now_ms) {
  if (!options_.enabled || !options_.login_lockout) return;
  std::string c = ClientKey(client);
  std::string pair = PairKey(account, c);
  {
    std::lock_guard<std::mutex> lock(pairs_.mu);
    pairs_.map.erase(pair);
  }
  {
    std::lock_guard<std::mutex> lock(accounts_.mu);
    accounts_.map.erase(std::string(account));
  }
  std::lock_guard<std::mutex> lock(known_good_.mu);
  auto it = known_good_.map.find(pair);
  if (it == known_good_.map.end()) {
    MakeRoom(known_good_, [](int64_t last_login, int64_t* last) {
      *last = last_login;
      return false;  // only the least recently used go
    });
    known_good_.map.emplace(pair, now_ms);
  } else {
    it->second = now_ms;
  }
}

}  // namespace regd::web
