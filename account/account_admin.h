// AccountAdmin: the shop owner's operations on one customer (`regd users`):
// look up, list, show (with last login, live sessions and recent events),
// disable, enable, delete (erasure) and unlock. Runs beside a running server
// on the same data dir, in another process: every change is made in the
// stores the server reads on each request, so it takes effect there at
// once (a disabled customer's sessions are gone; a deleted customer's
// username and mobile are free), except unlock, whose locks live in the
// server's memory: it writes UnlockKey, which the server reads at the
// customer's next login attempt (SignupService) and then lifts the locks.
//
// Also the keys the domain keeps per account beside the sessions:
//   unlock:<user id>  the time of `regd users unlock` (1 h)
//   ulast:<user id>   the account's last login, ms (written with each session)
//
// Thread-safety: the stores are thread-safe; an AccountAdmin holds nothing
// else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "account/session_book.h"
#include "queue/job_queue.h"
#include "storage/clock.h"
#include "storage/expiring_kv.h"
#include "storage/server_secret.h"
#include "storage/status.h"
#include "storage/user_store.h"

namespace regd::account {

std::string UnlockKey(int64_t user_id);
std::string LastLoginKey(int64_t user_id);
inline constexpr int64_t kUnlockTtlMs = 3'600'000;
inline constexpr int64_t kLastLoginTtlMs = 400LL * 86'400'000;

struct AccountView {
  storage::User user;
  int64_t last_login_ms = 0;  // 0: none known
  size_t live_sessions = 0;
  std::vector<storage::StoredEvent> events;  // newest first
};

class AccountAdmin {
 public:
  AccountAdmin(storage::UserStore* users, storage::ExpiringKv* kv, queue::JobQueue* queue,
               const storage::ServerSecret* secret, const Clock* clock)
      : users_(users),
        kv_(kv),
        queue_(queue),
        secret_(secret),
        clock_(clock),
        sessions_(kv, clock) {}

  // The customer with this username, else this mobile; kNotFound naming it.
  Result<storage::User> Find(std::string_view username_or_mobile);
  Result<std::vector<storage::User>> List(size_t limit);
  Result<AccountView> Show(const storage::User& user, size_t events);
  // Disables the account (user.disabled) and ends every session of it;
  // false when it was disabled already (its sessions are ended anyway).
  Result<bool> Disable(const storage::User& user);
  // false when it was not disabled.
  Result<bool> Enable(const storage::User& user);
  // Erases the account (user.deleted), then its sessions, last login and
  // unsent codes, then its pending SMS. Returns how many SMS were dropped.
  Result<size_t> Delete(const storage::User& user);
  // Asks the server to lift the account's login locks.
  Status Unlock(const storage::User& user);

 private:
  storage::UserStore* const users_;
  storage::ExpiringKv* const kv_;
  queue::JobQueue* const queue_;
  const storage::ServerSecret* const secret_;
  const Clock* const clock_;
  SessionBook sessions_;
};

}  // namespace regd::account
