#include "account/signup_service.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "account/account_admin.h"
#include "account/captcha.h"
#include "account/messages.h"
#include "account/rules.h"
#include "sms/sms_job.h"
#include "storage/log.h"

namespace regd::account {

using storage::Txn;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// What a code is bound to beside its purpose: the mobile, and for
// change_mobile also the account that asked (so each account moving to a
// mobile holds its own code, and none works in another account).
std::string CodeSubject(std::string_view mobile, int64_t account) {
  std::string subject(mobile);
  if (account != 0) subject += ":" + std::to_string(account);
  return subject;
}

// Where a code for purpose and subject is kept (register keeps the seed's key).
std::string CodeKey(CodePurpose purpose, std::string_view subject) {
  if (purpose == CodePurpose::kRegister) return "sms:" + std::string(subject);
  return std::string("sms:") + CodePurposeName(purpose) + ":" + std::string(subject);
}

std::string NewSmsCode() {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%06u", randombytes_uniform(1000000));
  return buf;
}

// "code:tries" <-> (code, tries)
std::string EncodeCode(std::string_view code, int tries) {
  return std::string(code) + ":" + std::to_string(tries);
}
bool DecodeCode(std::string_view v, std::string* code, int* tries) {
  size_t colon = v.find(':');
  if (colon == std::string_view::npos) return false;
  *code = std::string(v.substr(0, colon));
  *tries = std::atoi(std::string(v.substr(colon + 1)).c_str());
  return true;
}

int64_t CeilSeconds(int64_t ms) { return std::max<int64_t>(1, (ms + 999) / 1000); }

}  // namespace

std::string CodeKeyOf(CodePurpose purpose, std::string_view mobile, int64_t account) {
  return CodeKey(purpose, CodeSubject(mobile, account));
}

Result<CodePurpose> ParseCodePurpose(std::string_view text) {
  for (CodePurpose p : {CodePurpose::kRegister, CodePurpose::kLogin, CodePurpose::kReset,
                        CodePurpose::kChangeMobile}) {
    if (text == CodePurposeName(p)) return p;
  }
  if (text.empty()) return CodePurpose::kRegister;
  return Status::Invalid(msg::kBadPurpose);
}

const char* CodePurposeName(CodePurpose purpose) {
  switch (purpose) {
    case CodePurpose::kLogin:
      return sms::kSmsPurposeLogin;
    case CodePurpose::kReset:
      return sms::kSmsPurposeReset;
    case CodePurpose::kChangeMobile:
      return sms::kSmsPurposeChangeMobile;
    case CodePurpose::kRegister:
    default:
      return sms::kSmsPurposeRegister;
  }
}

SignupService::SignupService(storage::ExpiringKv* kv, queue::JobQueue* queue,
                             storage::UserStore* users, account::HashPool* hashes,
                             const storage::ServerSecret* secret, const Clock* clock,
                             SignupOptions options, AbuseGuard* guard)
    : kv_(kv),
      queue_(queue),
      users_(users),
      hashes_(hashes),
      secret_(secret),
      clock_(clock),
      guard_(guard),
      options_(std::move(options)),
      sessions_(kv, clock) {}

Result<std::string> SignupService::NewCaptcha(std::string_view uuid) {
  if (!IsValidUuid(uuid)) return Status::Invalid(msg::kBadUuid);
  std::string text = options_.fixed_captcha.empty() ? RandomCaptchaText() : options_.fixed_captcha;
  int64_t expires = clock_->NowMs() + options_.captcha_ttl_ms;
  std::string id = Lower(uuid);
  Status s = kv_->env()->Update([&](Txn& txn) {
    return kv_->Put(txn, "cap:" + id, secret_->Mac("cap", id + ":" + Upper(text)), expires);
  });
  if (!s.ok()) return s;
  return RenderCaptchaPng(text);
}

Status SignupService::SendSmsCode(std::string_view mobile, std::string_view image_code,
                                  std::string_view image_code_id, CodePurpose purpose,
                                  std::string_view session_id) {
  int64_t account = 0;  // the asking account, for change_mobile
  if (purpose == CodePurpose::kChangeMobile) {
    auto caller = Caller(session_id);
    if (!caller.ok()) return caller.status();
    account = caller->second.id;
  }
  if (image_code.empty() || image_code_id.empty()) {
    return Status::Invalid(msg::kMissingImageCode);
  }
  if (!IsValidMobile(mobile)) return Status::Invalid(msg::kBadMobile);
  if (!IsValidUuid(image_code_id)) return Status::Invalid(msg::kBadUuid);
  // Whether the mobile suits the purpose, read before the LMDB write (no
  // SQLite read while holding the writer) and told only once the captcha
  // passed, so each answer costs a captcha.
  Status unsuitable;
  if (purpose != CodePurpose::kRegister) {
    auto user = users_->FindByMobile(mobile);
    if (!user.ok()) return user.status();
    if (purpose == CodePurpose::kChangeMobile) {
      if (user->has_value()) unsuitable = Status::Conflict(msg::kMobileTaken);
    } else if (!user->has_value()) {
      unsuitable = Status::Invalid(msg::kMobileNotRegistered);
    } else if ((*user)->disabled) {
      unsuitable = Status::Forbidden(msg::kAccountDisabled);  // no SMS spent on it
    }
  }

  int64_t now = clock_->NowMs();
  Status outcome;  // what the client is told; the transaction commits either way
  std::string mobile_s(mobile);
  Status s = kv_->env()->Update([&](Txn& txn) -> Status {
    std::string cap_key = "cap:" + Lower(image_code_id);
    auto answer = kv_->Get(txn, cap_key, now);
    if (!answer.ok()) return answer.status();
    if (!answer->has_value()) {
      outcome = Status::Invalid(msg::kImageCodeExpired);
      return Status::Ok();
    }
    Status d = kv_->Delete(txn, cap_key);  // usable once, right or wrong
    if (!d.ok()) return d;
    if (!SecretEquals((*answer)->value,
                      secret_->Mac("cap", Lower(image_code_id) + ":" + Upper(image_code)))) {
      outcome = Status::Invalid(msg::kImageCodeWrong);
      return Status::Ok();
    }
    if (!unsuitable.ok()) {
      outcome = unsuitable;
      return Status::Ok();
    }
    auto flag = kv_->Get(txn, "flag:" + mobile_s, now);
    if (!flag.ok()) return flag.status();
    if (flag->has_value()) {
      outcome = Status::RateLimited(msg::kSendTooSoon, CeilSeconds((*flag)->expires_at_ms - now));
      return Status::Ok();
    }
    Status spent = SpendBudget(txn, mobile_s, now, &outcome);
    if (!spent.ok() || !outcome.ok()) return spent;
    std::string code = NewSmsCode();
    int64_t code_expires = now + options_.sms_code_ttl_ms;
    const std::string subject = CodeSubject(mobile_s, account);
    Status w = kv_->Put(txn, CodeKey(purpose, subject),
                        EncodeCode(CodeMac(purpose, subject, code), 0), code_expires);
    if (w.ok() && options_.send_interval_ms > 0) {
      w = kv_->Put(txn, "flag:" + mobile_s, "1", now + options_.send_interval_ms);
    }
    if (!w.ok()) return w;
    // EnqueueOptions holds a view: the key must outlive the Enqueue call.
    const std::string dedup_key = sms::SmsDedupKey(mobile_s);
    queue::EnqueueOptions dedup{dedup_key, /*replace_pending=*/true};
    auto job = queue_->Enqueue(
        txn, sms::kSmsJobType,
        sms::EncodeSmsJob({mobile_s, code, code_expires, CodePurposeName(purpose)}, secret_), now,
        dedup);
    return job.ok() ? Status::Ok() : job.status();
  });
  if (!s.ok()) return s;
  if (outcome.ok()) queue_->NotifyEnqueued();
  return outcome;
}

// The stored form of a code: hex of its keyed hash, bound to the subject
// (CodeSubject) and (but for register, whose form predates purposes) the
// purpose.
std::string SignupService::CodeMac(CodePurpose purpose, std::string_view subject,
                                   std::string_view code) const {
  std::string bound = std::string(subject) + ":" + std::string(code);
  if (purpose != CodePurpose::kRegister) bound = CodePurposeName(purpose) + (":" + bound);
  std::string mac = secret_->Mac("sms", bound);
  std::string hex(mac.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(mac.data()),
                 mac.size());
  hex.pop_back();
  return hex;
}

Status SignupService::SpendBudget(Txn& txn, const std::string& mobile, int64_t now,
                                  Status* refused) {
  constexpr int64_t kHour = 3600'000, kDay = 24 * kHour;
  struct Cap {
    std::string key;
    int64_t limit;
    int64_t period_end;
    bool global;
  };
  const int64_t hour_end = (now / kHour + 1) * kHour, day_end = (now / kDay + 1) * kDay;
  const Cap caps[] = {
      {"budget:h:" + std::to_string(now / kHour), options_.sms_budget_hour, hour_end, true},
      {"budget:d:" + std::to_string(now / kDay), options_.sms_budget_day, day_end, true},
      {"budget:m:" + mobile + ":" + std::to_string(now / kDay), options_.sms_per_mobile_day,
       day_end, false},
  };
  int64_t counts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (caps[i].limit <= 0) continue;
    auto entry = kv_->Get(txn, caps[i].key, now);
    if (!entry.ok()) return entry.status();
    if (entry->has_value()) counts[i] = std::atoll((*entry)->value.c_str());
    if (counts[i] < caps[i].limit) continue;
    int64_t wait_s = CeilSeconds(caps[i].period_end - now);
    if (!caps[i].global) {
      *refused = Status::RateLimited(msg::kSmsMobileDailyCap, wait_s);
      return Status::Ok();
    }
    *refused = Status::RateLimited(msg::kSmsBudgetSpent, wait_s);
    budget_paused_until_ms_.store(caps[i].period_end);
    if (budget_logged_until_ms_.exchange(caps[i].period_end) != caps[i].period_end) {
      LogError(
          "SMS BUDGET SPENT: %lld codes this %s (the cap); no code is sent until %lld s from "
          "now. Raise --sms-budget-%s if this is real demand; otherwise this is likely SMS "
          "pumping (toll fraud).",
          static_cast<long long>(counts[i]), i == 0 ? "hour" : "day",
          static_cast<long long>(wait_s), i == 0 ? "hour" : "day");
    }
    return Status::Ok();
  }
  for (int i = 0; i < 3; ++i) {
    if (caps[i].limit <= 0) continue;
    // Kept a little past the period so a clock step back does not reset it.
    Status s =
        kv_->Put(txn, caps[i].key, std::to_string(counts[i] + 1), caps[i].period_end + kHour);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<bool> SignupService::UsernameTaken(std::string_view username) {
  if (!IsValidUsername(username)) {
    return Status::Invalid(msg::kBadUsername);
  }
  return users_->UsernameExists(username);
}

Result<bool> SignupService::MobileTaken(std::string_view mobile) {
  if (!IsValidMobile(mobile)) return Status::Invalid(msg::kBadMobile);
  return users_->MobileExists(mobile);
}

Status SignupService::CheckSmsCode(CodePurpose purpose, std::string_view mobile,
                                   std::string_view code, bool spend, int64_t account) {
  int64_t now = clock_->NowMs();
  Status outcome;
  const std::string subject = CodeSubject(mobile, account);
  std::string key = CodeKey(purpose, subject);
  Status s = kv_->env()->Update([&](Txn& txn) -> Status {
    auto entry = kv_->Get(txn, key, now);
    if (!entry.ok()) return entry.status();
    std::string stored;
    int tries = 0;
    if (!entry->has_value() || !DecodeCode((*entry)->value, &stored, &tries) ||
        tries >= options_.max_code_tries) {
      outcome = Status::Invalid(msg::kSmsCodeExpired);
      return Status::Ok();
    }
    if (SecretEquals(stored, CodeMac(purpose, subject, code))) {
      return spend ? kv_->Delete(txn, key) : Status::Ok();
    }
    ++tries;
    if (tries >= options_.max_code_tries) {
      outcome = Status::Invalid(msg::kSmsCodeTooManyTries);
      return kv_->Delete(txn, key);
    }
    outcome = Status::Invalid(msg::kSmsCodeWrong);
    return kv_->Put(txn, key, EncodeCode(stored, tries), (*entry)->expires_at_ms);
  });
  return s.ok() ? outcome : s;
}

Result<Session> SignupService::Register(const RegisterForm& f, const SessionClient& client) {
  if (f.username.empty() || f.password.empty() || f.password2.empty() || f.mobile.empty() ||
      f.sms_code.empty()) {
    return Status::Invalid(msg::kMissingParameter);
  }
  if (!IsValidUsername(f.username)) {
    return Status::Invalid(msg::kBadUsername);
  }
  if (!IsValidPassword(f.password)) {
    return Status::Invalid(msg::kBadPassword);
  }
  if (f.password != f.password2) return Status::Invalid(msg::kPasswordsDiffer);
  if (!IsValidMobile(f.mobile)) return Status::Invalid(msg::kBadMobile);
  if (!IsValidSmsCode(f.sms_code)) return Status::Invalid(msg::kBadSmsCode);
  if (!f.allow) return Status::Invalid(msg::kNotAgreed);

  // Cheap checks first, so a taken name costs no code try and no hashing;
  // the database's UNIQUE constraints still decide races.
  auto taken = users_->UsernameExists(f.username);
  if (!taken.ok()) return taken.status();
  if (*taken) return Status::Conflict(msg::kUsernameTaken);
  taken = users_->MobileExists(f.mobile);
  if (!taken.ok()) return taken.status();
  if (*taken) return Status::Conflict(msg::kMobileTaken);

  Status s = CheckSmsCode(CodePurpose::kRegister, f.mobile, f.sms_code);
  if (!s.ok()) return s;
  Result<std::string> hash = Status::Internal("not hashed");
  Status gate = hashes_->Run([&] { hash = account::HashPassword(f.password, options_.pwhash); });
  if (!gate.ok()) return gate;
  if (!hash.ok()) return hash.status();
  int64_t now = clock_->NowMs();
  storage::UserStore::Taken collided = storage::UserStore::Taken::kUsername;
  auto id = users_->Create(f.username, f.mobile, *hash, now, &collided);
  if (!id.ok()) {
    if (id.status().code() != Status::Code::kConflict) return id.status();
    return Status::Conflict(collided == storage::UserStore::Taken::kMobile ? msg::kMobileTaken
                                                                           : msg::kUsernameTaken);
  }
  return OpenSession(
      *id, [](const storage::User&) { return true; }, Status::Unauthorized(msg::kNotLoggedIn),
      /*remembered=*/true, f.mobile, client);
}

Result<Session> SignupService::Login(std::string_view login, std::string_view password,
                                     bool remembered, std::string_view client,
                                     std::string_view user_agent) {
  const SessionClient session_client{std::string(client), std::string(user_agent)};
  if (guard_ == nullptr) return Authenticate(login, password, remembered, {}, session_client);
  const int64_t now = clock_->NowMs();
  LoginAttempt attempt;
  auto reserve = [&](std::string_view account) -> Status {
    TakeUnlock(account);
    int64_t locked_ms = guard_->ReserveLogin(account, client, now, &attempt);
    if (locked_ms == 0) return Status::Ok();
    return Status::RateLimited(msg::kLoginLocked, (locked_ms + 999) / 1000);
  };
  auto session = Authenticate(login, password, remembered, reserve, session_client);
  if (session.ok()) {
    attempt.Succeeded(clock_->NowMs());
  } else if (session.status().code() == Status::Code::kWrongCredentials) {
    attempt.Failed(clock_->NowMs());
  }  // else (locked, busy, storage): not a guess; the attempt cancels itself
  return session;
}

Result<Session> SignupService::Authenticate(std::string_view login, std::string_view password,
                                            bool remembered, const LoginGate& gate,
                                            const SessionClient& client) {
  const Status kWrong = Status::WrongCredentials(msg::kWrongLogin);
  if (login.empty() || password.empty()) return Status::Invalid(msg::kMissingParameter);
  auto ask = [&](std::string_view account) { return gate ? gate(account) : Status::Ok(); };
  if (login.size() > 64 || password.size() > 128) {
    Status s = ask("login:" + std::string(login));
    return s.ok() ? kWrong : s;
  }
  auto user = users_->FindByUsername(login);
  if (!user.ok()) return user.status();
  if (!user->has_value() && IsValidMobile(login)) {
    user = users_->FindByMobile(login);
    if (!user.ok()) return user.status();
  }
  Status admitted =
      ask(user->has_value() ? "id:" + std::to_string((*user)->id) : "login:" + std::string(login));
  if (!admitted.ok()) return admitted;
  // An unknown user costs the same hashing work as a known one.
  const std::string& stored =
      user->has_value() ? (*user)->password_hash : account::DummyPasswordHash();
  bool match = false;
  Status hashed = hashes_->Run([&] { match = account::VerifyPassword(stored, password); });
  if (!hashed.ok()) return hashed;
  if (!user->has_value() || !match) return kWrong;
  // The session opens only if the hash just verified is still the account's.
  return OpenSession((*user)->id,
                     [&](const storage::User& now) { return now.password_hash == stored; }, kWrong,
                     remembered, std::nullopt, client);
}

Result<Session> SignupService::OpenSession(int64_t user_id,
                                           const std::function<bool(const storage::User&)>& holds,
                                           const Status& stale, bool remembered,
                                           std::optional<std::string_view> spend_code_of,
                                           const SessionClient& client, bool end_others) {
  const int64_t ttl = remembered ? options_.session_ttl_ms : options_.browser_session_ttl_ms;
  for (int round = 0; round < 3; ++round) {
    auto epoch = sessions_.Epoch(user_id);  // before the account: see SessionBook
    if (!epoch.ok()) return epoch.status();
    auto user = users_->FindById(user_id);
    if (!user.ok()) return user.status();
    if (!user->has_value() || !holds(**user)) return stale;
    if ((*user)->disabled) return Status::Forbidden(msg::kAccountDisabled);
    Session session{SessionBook::NewId(), (*user)->username,
                    remembered ? options_.session_ttl_ms / 1000 : 0};
    const int64_t now = clock_->NowMs();
    Status s = kv_->env()->Update([&](Txn& txn) -> Status {
      Status e = sessions_.CheckEpoch(txn, user_id, *epoch);
      if (!e.ok()) return e;
      if (spend_code_of) {
        Status d = kv_->Delete(txn, CodeKey(CodePurpose::kRegister, *spend_code_of));
        if (!d.ok()) return d;
      }
      if (end_others) {
        e = sessions_.EndAll(txn, user_id, {});
        if (!e.ok()) return e;
      }
      Status l = kv_->Put(txn, LastLoginKey(user_id), std::to_string(now), now + kLastLoginTtlMs);
      if (!l.ok()) return l;
      return sessions_.Open(txn, user_id, session.id, now + ttl, client);
    });
    if (s.ok()) return session;
    if (s.code() != Status::Code::kConflict) return s;
  }
  return Status::Busy(msg::kBusy);
}

Status SignupService::Logout(std::string_view session_id) {
  return kv_->env()->Update([&](Txn& txn) { return sessions_.End(txn, session_id); });
}

Result<storage::User> SignupService::SessionUser(std::string_view session_id) {
  auto caller = Caller(session_id);
  if (!caller.ok()) return caller.status();
  return std::move(caller->second);
}

Result<storage::User> SignupService::WhoAmI(std::string_view session_id) {
  auto ref = sessions_.Find(session_id, /*touch=*/false);
  if (!ref.ok()) return ref.status();
  if (!ref->has_value()) return Status::Unauthorized(msg::kNotLoggedIn);
  auto user = users_->FindById((*ref)->user_id);
  if (!user.ok()) return user.status();
  if (!user->has_value() || (*user)->disabled) return Status::Unauthorized(msg::kNotLoggedIn);
  return std::move(user->value());
}

Result<std::pair<SessionRef, storage::User>> SignupService::Caller(std::string_view session_id) {
  const Status kNoSession = Status::Unauthorized(msg::kNotLoggedIn);
  auto ref = sessions_.Find(session_id, /*touch=*/true);
  if (!ref.ok()) return ref.status();
  if (!ref->has_value()) return kNoSession;
  auto user = users_->FindById((*ref)->user_id);
  if (!user.ok()) return user.status();
  if (!user->has_value() || (*user)->disabled) return kNoSession;
  return std::make_pair(std::move(**ref), std::move(**user));
}

void SignupService::TakeUnlock(std::string_view account) {
  if (guard_ == nullptr || account.rfind("id:", 0) != 0) return;
  const int64_t id = std::atoll(std::string(account.substr(3)).c_str());
  const std::string key = UnlockKey(id);
  const int64_t now = clock_->NowMs();
  bool asked = false;
  Status s = kv_->env()->View([&](Txn& txn) -> Status {
    auto e = kv_->Get(txn, key, now);
    if (!e.ok()) return e.status();
    asked = e->has_value();
    return Status::Ok();
  });
  if (!s.ok() || !asked) return;  // a failed read leaves the locks as they are
  guard_->UnlockAccount(account, now);
  kv_->env()->Update([&](Txn& txn) { return kv_->Delete(txn, key); });
}

Status SignupService::Health() {
  Status s = users_->Ping();
  if (!s.ok()) return s;
  auto depth = queue_->Depth();
  return depth.ok() ? Status::Ok() : depth.status();
}

}  // namespace regd::account
