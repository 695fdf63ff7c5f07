// SignupService: the customer account flows, with no HTTP in it: the seed
// system's sign-up (captcha → SMS code → register → session; login; logout)
// here, and the account by SMS (login by code, password reset and change,
// change of mobile, the sessions list) in account_flows.cc. Routes
// (routes.h) turn requests into calls here and Status values into responses.
//
// Keys in the ExpiringKv (see DESIGN.md for the full layout):
//   cap:<uuid lower-case>   Mac("cap", uuid:ANSWER), 300 s, spent on use
//   sms:<mobile>            a register code: "<hex Mac("sms", mobile:code)>:<wrong tries>", 300 s
//   sms:<purpose>:<mobile>  a login or reset code: the same, with
//                           Mac("sms", purpose:mobile:code), so a code works
//                           only for the purpose and mobile it was sent for
//   sms:change_mobile:<mobile>:<account id>
//                           a change_mobile code, bound also to the account
//                           that asked: Mac("sms", change_mobile:mobile:id:code)
//   flag:<mobile>           "1", send_interval_ms (60 s): a code was sent
//                           recently (429 while set), whatever its purpose
//   sess:, usess:           sessions (session_book.h), 14 days or 12 h
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
#include <utility>
#include <vector>

#include "account/abuse_guard.h"
#include "account/hash_pool.h"
#include "account/password.h"
#include "account/session_book.h"
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

// What an SMS code is for (GET /sms_codes/<mobile>/?purpose=...).
enum class CodePurpose { kRegister, kLogin, kReset, kChangeMobile };
// "" and "register" -> kRegister, "login", "reset", "change_mobile";
// anything else kInvalid (msg::kBadPurpose).
Result<CodePurpose> ParseCodePurpose(std::string_view text);
const char* CodePurposeName(CodePurpose purpose);
// The key of the code for purpose sent to mobile (change_mobile: asked by
// account); the domain's own layout, for AccountAdmin's erasure.
std::string CodeKeyOf(CodePurpose purpose, std::string_view mobile, int64_t account = 0);

struct ResetForm {
  std::string mobile;
  std::string sms_code;
  std::string password;
  std::string password2;
};

struct PasswordChangeForm {
  std::string old_password;
  std::string new_password;
  std::string new_password2;
};

struct MobileChangeForm {
  std::string mobile;  // the new one
  std::string sms_code;
  std::string password;
};

// The sessions page: the account's live sessions, newest first, and which
// of them is the caller's.
struct SessionList {
  std::vector<SessionInfo> sessions;
  std::string current;  // the caller's handle
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
  // For kLogin and kReset the mobile must be an account's (else kInvalid,
  // msg::kMobileNotRegistered, after the captcha was spent); for
  // kChangeMobile session_id must be live (else kUnauthorized, before the
  // captcha) and the mobile free (else kConflict, after the captcha).
  Status SendSmsCode(std::string_view mobile, std::string_view image_code,
                     std::string_view image_code_id, CodePurpose purpose = CodePurpose::kRegister,
                     std::string_view session_id = {});
  Result<bool> UsernameTaken(std::string_view username);
  Result<bool> MobileTaken(std::string_view mobile);

  // Validates the form, checks the code (counting a wrong try), stores the
  // user, spends the code and opens a 14-day session.
  Result<Session> Register(const RegisterForm& form, const SessionClient& client = {});
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
                        std::string_view client, std::string_view user_agent = {});
  // Login by a kLogin code (POST /login/sms/), under the same locks: any
  // failed code (wrong, expired, spent) counts a try of the code and a
  // failed login of the account. The code is spent by the login.
  Result<Session> LoginBySms(std::string_view mobile, std::string_view sms_code, bool remembered,
                             const SessionClient& client);
  // Replaces the password of the mobile's account after a kReset code; every
  // session of the account ends and a new one (remembered) is opened.
  Result<Session> ResetPassword(const ResetForm& form, const SessionClient& client);
  // Changes the caller's password after checking the old one (a wrong one
  // counts for the login locks: kInvalid msg::kWrongOldPassword); every
  // session of the account ends, the caller's too.
  Status ChangePassword(std::string_view session_id, const PasswordChangeForm& form,
                        std::string_view client);
  // Moves the caller's account to form.mobile after its kChangeMobile code
  // and the password; the old mobile gets a notice SMS through the queue.
  // kConflict (msg::kMobileTaken) when another account has the mobile, also
  // when it took it a moment ago.
  Status ChangeMobile(std::string_view session_id, const MobileChangeForm& form,
                      std::string_view client);
  Result<SessionList> ListSessions(std::string_view session_id);
  // Ends one of the caller's sessions (kNotFound msg::kSessionNotFound if it
  // is not one of them); true when that was the caller's own (its cookies
  // should go, as at logout). EndOtherSessions: all but the caller's.
  Result<bool> EndSession(std::string_view session_id, std::string_view handle);
  Status EndOtherSessions(std::string_view session_id);
  // login is a username or a mobile. Unknown user and wrong password get the
  // same kWrongCredentials, after the same hashing work (a login or password
  // longer than any stored one gets it without hashing). Register and Login
  // answer kBusy when the hash pool's queue is full. gate (if set) is asked
  // first whenever the answer could be kWrongCredentials or a session; no
  // lock is applied here.
  Result<Session> Authenticate(std::string_view login, std::string_view password, bool remembered,
                               const LoginGate& gate = {}, const SessionClient& client = {});
  Status Logout(std::string_view session_id);
  // The user of a live session; kUnauthorized otherwise.
  Result<storage::User> SessionUser(std::string_view session_id);
  // SessionUser for forward auth (GET /whoami, asked for every request of
  // the shop): one LMDB read and one SQLite read, no write (last seen is
  // not touched).
  Result<storage::User> WhoAmI(std::string_view session_id);

  // ok when both stores answer.
  Status Health();

  const SignupOptions& options() const { return options_; }
  const Clock* clock() const { return clock_; }
  // Until when a global SMS budget is spent (0 if it is not): for /metrics.
  int64_t BudgetPausedUntilMs() const { return budget_paused_until_ms_.load(); }

 private:
  // Checks code against mobile's stored code for purpose in one write
  // transaction, counting a wrong try (and spending the code at
  // max_code_tries). With spend, a right code is deleted in that same
  // transaction, so of parallel requests with one code only one gets ok.
  // account: the account a change_mobile code was sent for (0 otherwise).
  Status CheckSmsCode(CodePurpose purpose, std::string_view mobile, std::string_view code,
                      bool spend = false, int64_t account = 0);
  std::string CodeMac(CodePurpose purpose, std::string_view subject, std::string_view code) const;
  // Lifts account's login locks if `regd users unlock` asked for it
  // (AccountAdmin::Unlock): one LMDB read; "id:<n>" accounts only.
  void TakeUnlock(std::string_view account);
  // The caller's session and account; kUnauthorized without one.
  Result<std::pair<SessionRef, storage::User>> Caller(std::string_view session_id);
  // Checks user's password under the login locks (as Login does): wrong is
  // kInvalid with reason wrong, and counts as a failed login.
  Status CheckPassword(const storage::User& user, std::string_view password,
                       std::string_view client, const Message& wrong);
  // Counts one more code against the budgets in txn, or sets *refused.
  Status SpendBudget(storage::Txn& txn, const std::string& mobile, int64_t now, Status* refused);
  // Opens a session for the account user_id if it still exists, is not
  // disabled (kForbidden) and holds(account) says the credential the caller
  // checked is still the account's; else stale. The account is read after
  // its epoch and the session written in a transaction that first checks
  // the epoch (SessionBook: no session outlives a change on the strength of
  // a read before it); after a change came between, all again, at most
  // three times (then kBusy). spend_code_of (if set) deletes that mobile's
  // register code in the same transaction; with end_others, every other
  // session of the account ends in it too.
  Result<Session> OpenSession(int64_t user_id,
                              const std::function<bool(const storage::User&)>& holds,
                              const Status& stale, bool remembered,
                              std::optional<std::string_view> spend_code_of,
                              const SessionClient& client, bool end_others = false);

  storage::ExpiringKv* const kv_;
  queue::JobQueue* const queue_;
  storage::UserStore* const users_;
  account::HashPool* const hashes_;
  const storage::ServerSecret* const secret_;
  const Clock* const clock_;
  AbuseGuard* const guard_;  // null: no login locks
  const SignupOptions options_;
  SessionBook sessions_;
  std::atomic<int64_t> budget_paused_until_ms_{0};
  std::atomic<int64_t> budget_logged_until_ms_{0};  // one loud log line per spent period
};

}  // namespace regd::account
