// SignupService: the sign-up flow of the seed system (captcha → SMS code →
// register → session; login; logout), with no HTTP in it. Routes (routes.h)
// turn requests into calls here and Status values into responses.
//
// Keys in the ExpiringKv (see DESIGN.md for the full layout):
//   cap:<uuid lower-case>   Mac("cap", uuid:ANSWER), 300 s, spent on use
//   sms:<mobile>            "<hex Mac("sms", mobile:code)>:<wrong tries>", 300 s
//   flag:<mobile>           "1", 60 s: a code was sent recently (429 while set)
//   sess:<hex hash of id>   user id, 14 days or 12 h (browser session)
//   budget:h:<hour>, budget:d:<day>, budget:m:<mobile>:<day>
//                           SMS codes issued in that UTC hour / day (decimal)
// Captcha answers and codes are stored only as keyed hashes (ServerSecret),
// and the code inside the queued SMS job is sealed with it.
//
// SMS budget (toll-fraud defence): at most sms_budget_hour and
// sms_budget_day codes in a UTC hour / day for the whole shop, and
// sms_per_mobile_day per mobile per UTC day (beyond the 60 s flag); 0 means
// no cap. The counters are written in the same transaction that issues the
// code, so they survive a crash and never undercount. Hitting a global cap
// is logged loudly once per period and reported by BudgetPausedUntilMs.
// Session ids are 32 random bytes (base64url); only their hash is stored, so
// a copy of the data dir does not hand out live sessions.
//
// Atomicity and durability: every state change is one LMDB write transaction
// that has committed (and so is on disk) before the call returns ok. Issuing
// a code writes the code, the send flag, the spent captcha and the SMS job in
// ONE transaction. Checking a code and counting a wrong try is one write
// transaction, so parallel guesses never get more than max_code_tries.
// Secrets are compared in constant time (sodium_memcmp).
//
// Thread-safety: safe to call from any number of request threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "account/abuse_guard.h"
#include "account/hash_pool.h"
#include "account/password.h"
#include "queue/job_queue.h"
#include "storage/clock.h"
#include "storage/expiring_kv.h"
#include "storage/server_secret.h"
#include "storage/status.h"
#include "storage/user_store.h"

namespace regd::account {

struct SignupOptions {
  int64_t captcha_ttl_ms = 300'000;
  int64_t sms_code_ttl_ms = 300'000;
  int64_t send_interval_ms = 60'000;
  int64_t session_ttl_ms = 14LL * 24 * 3600 * 1000;     // "remember me"
  int64_t browser_session_ttl_ms = 12LL * 3600 * 1000;  // cookie without Max-Age
  int max_code_tries = 5;
  std::string fixed_captcha;       // non-empty: every captcha's answer (tests only)
  int64_t sms_budget_hour = 0;     // 0: no cap
  int64_t sms_budget_day = 0;      // 0: no cap
  int64_t sms_per_mobile_day = 0;  // 0: no cap
  account::PwhashCost pwhash = account::PwhashCost::Interactive();
};

struct RegisterForm {
  std::string username;
  std::string password;
  std::string password2;
  std::string mobile;
  std::string sms_code;
  bool allow = false;
};

struct Session {
  std::string id;  // the cookie value
  std::string username;
  int64_t max_age_s = 0;  // 0: a browser session (no Max-Age on the cookie)
};

class SignupService {
 public:
  // hashes bounds the concurrent password hashing (register and login).
  // secret keys the stored captcha answers and codes and seals the queued
  // code; it must be the one the SMS job handler opens codes with.
  // guard (may be null: no login locks) holds the login lock tables.
  SignupService(storage::ExpiringKv* kv, queue::JobQueue* queue, storage::UserStore* users,
                account::HashPool* hashes, const storage::ServerSecret* secret, const Clock* clock,
                SignupOptions options, AbuseGuard* guard = nullptr);

  // Makes a captcha for uuid (replacing any earlier one) and returns the PNG.
  Result<std::string> NewCaptcha(std::string_view uuid);
  // Checks and spends the captcha, then issues a code for mobile and queues
  // its SMS. kRateLimited (retry_after_s) while the 60 s send flag is set,
  // and when a budget is spent (kSmsBudgetSpent, kSmsMobileDailyCap).
  Status SendSmsCode(std::string_view mobile, std::string_view image_code,
                     std::string_view image_code_id);
  Result<bool> UsernameTaken(std::string_view username);
  Result<bool> MobileTaken(std::string_view mobile);

  // Validates the form, checks the code (counting a wrong try), stores the
  // user, spends the code and opens a 14-day session.
  Result<Session> Register(const RegisterForm& form);
  // Asked once per login, before any password hashing, with the account
  // the login counts against: "id:<user id>" when it names a user (by
  // username or by mobile: one account), else "login:<typed>". A non-ok
  // status is returned as the login's answer (nothing hashed).
  using LoginGate = std::function<Status(std::string_view account)>;

  // A login by client (its address), under the login locks: the attempt is
  // reserved in the guard before any hashing (kRateLimited with reason
  // msg::kLoginLocked and retry_after_s while locked) and settled by the
  // outcome -- a failure for kWrongCredentials, a success for a session,
  // nothing for busy or storage failures. Otherwise as Authenticate.
  Result<Session> Login(std::string_view login, std::string_view password, bool remembered,
                        std::string_view client);
  // login is a username or a mobile. Unknown user and wrong password get the
  // same kWrongCredentials, after the same hashing work (a login or password
  // longer than any stored one gets it without hashing). Register and Login
  // answer kBusy when the hash pool's queue is full. gate (if set) is asked
  // first whenever the answer could be kWrongCredentials or a session; no
  // lock is applied here.
  Result<Session> Authenticate(std::string_view login, std::string_view password, bool remembered,
                               const LoginGate& gate = {});
  Status Logout(std::string_view session_id);
  // The user of a live session; kUnauthorized otherwise.
  Result<storage::User> SessionUser(std::string_view session_id);

  // ok when both stores answer.
  Status Health();

  const SignupOptions& options() const { return options_; }
  const Clock* clock() const { return clock_; }
  // Until when a global SMS budget is spent (0 if it is not): for /metrics.
  int64_t BudgetPausedUntilMs() const { return budget_paused_until_ms_.load(); }

 private:
  // Checks form.sms_code against the stored code in one write transaction,
  // counting a wrong try (and spending the code at max_code_tries).
  Status CheckSmsCode(std::string_view mobile, std::string_view code);
  std::string CodeMac(std::string_view mobile, std::string_view code) const;
  // Counts one more code against the budgets in txn, or sets *refused.
  Status SpendBudget(storage::Txn& txn, const std::string& mobile, int64_t now, Status* refused);
  // Opens a session for user; spend_code_of (if set) deletes that mobile's
  // code in the same transaction.
  Result<Session> OpenSession(const storage::User& user, bool remembered,
                              std::optional<std::string_view> spend_code_of);

  storage::ExpiringKv* const kv_;
  queue::JobQueue* const queue_;
  storage::UserStore* const users_;
  account::HashPool* const hashes_;
  const storage::ServerSecret* const secret_;
  const Clock* const clock_;
  AbuseGuard* const guard_;  // null: no login locks
  const SignupOptions options_;
  std::atomic<int64_t> budget_paused_until_ms_{0};
  std::atomic<int64_t> budget_logged_until_ms_{0};  // one loud log line per spent period
};

}  // namespace regd::account
