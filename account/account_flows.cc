// The account by SMS, beside the sign-up flow of signup_service.cc: login by
// code, password reset and change, change of mobile, the sessions list.
// Each 200 is on disk: every SQLite change has committed and every LMDB
// change is one committed write transaction before the call returns ok.
#include <sodium.h>

#include "account/messages.h"
#include "account/rules.h"
#include "account/signup_service.h"
#include "sms/sms_job.h"

namespace regd::account {

using storage::Txn;

Status SignupService::CheckPassword(const storage::User& user, std::string_view password,
                                    std::string_view client, const Message& wrong) {
  LoginAttempt attempt;
  if (guard_ != nullptr) {
    const std::string account = "id:" + std::to_string(user.id);
    TakeUnlock(account);
    int64_t locked_ms = guard_->ReserveLogin(account, client, clock_->NowMs(), &attempt);
    if (locked_ms != 0) return Status::RateLimited(msg::kLoginLocked, (locked_ms + 999) / 1000);
  }
  if (password.size() > 128) {
    attempt.Failed(clock_->NowMs());
    return Status::Invalid(wrong);
  }
  bool match = false;
  Status hashed = hashes_->Run([&] { match = VerifyPassword(user.password_hash, password); });
  if (!hashed.ok()) return hashed;  // busy: not a guess; the attempt cancels itself
  if (!match) {
    attempt.Failed(clock_->NowMs());
    return Status::Invalid(wrong);
  }
  attempt.Succeeded(clock_->NowMs());
  return Status::Ok();
}

Result<Session> SignupService::LoginBySms(std::string_view mobile, std::string_view sms_code,
                                          bool remembered, const SessionClient& client) {
  if (mobile.empty() || sms_code.empty()) return Status::Invalid(msg::kMissingParameter);
  if (!IsValidMobile(mobile)) return Status::Invalid(msg::kBadMobile);
  if (!IsValidSmsCode(sms_code)) return Status::Invalid(msg::kBadSmsCode);
  auto user = users_->FindByMobile(mobile);
  if (!user.ok()) return user.status();
  const int64_t now = clock_->NowMs();
  LoginAttempt attempt;
  if (guard_ != nullptr) {
    std::string account =
        user->has_value() ? "id:" + std::to_string((*user)->id) : "login:" + std::string(mobile);
    TakeUnlock(account);
    int64_t locked_ms = guard_->ReserveLogin(account, client.address, now, &attempt);
    if (locked_ms != 0) return Status::RateLimited(msg::kLoginLocked, (locked_ms + 999) / 1000);
  }
  Status code = CheckSmsCode(CodePurpose::kLogin, mobile, sms_code, /*spend=*/true);
  if (code.ok() && !user->has_value()) code = Status::Invalid(msg::kSmsCodeExpired);
  if (!code.ok()) {
    if (code.code() == Status::Code::kInvalid) attempt.Failed(clock_->NowMs());
    return code;
  }
  auto session =
      OpenSession((*user)->id, [&](const storage::User& now) { return now.mobile == mobile; },
                  Status::Invalid(msg::kSmsCodeExpired), remembered, std::nullopt, client);
  if (session.ok()) attempt.Succeeded(clock_->NowMs());
  return session;
}

Result<Session> SignupService::ResetPassword(const ResetForm& f, const SessionClient& client) {
  if (f.mobile.empty() || f.sms_code.empty() || f.password.empty() || f.password2.empty()) {
    return Status::Invalid(msg::kMissingParameter);
  }
  if (!IsValidMobile(f.mobile)) return Status::Invalid(msg::kBadMobile);
  if (!IsValidPassword(f.password)) return Status::Invalid(msg::kBadPassword);
  if (f.password != f.password2) return Status::Invalid(msg::kPasswordsDiffer);
  if (!IsValidSmsCode(f.sms_code)) return Status::Invalid(msg::kBadSmsCode);
  // A wrong code counts a try before any hashing; the code is spent only
  // once the new hash is ready, in the transaction that ends the sessions.
  Status s = CheckSmsCode(CodePurpose::kReset, f.mobile, f.sms_code);
  if (!s.ok()) return s;
  auto user = users_->FindByMobile(f.mobile);
  if (!user.ok()) return user.status();
  if (!user->has_value()) return Status::Invalid(msg::kSmsCodeExpired);
  if ((*user)->disabled) return Status::Forbidden(msg::kAccountDisabled);
  Result<std::string> hash = Status::Internal("not hashed");
  Status gate = hashes_->Run([&] { hash = HashPassword(f.password, options_.pwhash); });
  if (!gate.ok()) return gate;
  if (!hash.ok()) return hash.status();
  // Spending the code and ending the sessions commit before the password
  // changes: a crash between leaves the old password and no sessions, never
  // the new password beside the old sessions.
  s = CheckSmsCode(CodePurpose::kReset, f.mobile, f.sms_code, /*spend=*/true);
  if (s.ok()) {
    s = kv_->env()->Update([&](Txn& txn) { return sessions_.EndAll(txn, (*user)->id, {}); });
  }
  if (s.ok()) {
    s = users_->SetPasswordHash((*user)->id, *hash, storage::UserEvent::kPasswordReset,
                                clock_->NowMs());
  }
  if (!s.ok()) return s;
  // Sessions opened with the old password in the meantime end with this
  // one's opening, which needs the password to be still the one just set.
  const std::string& set = *hash;
  return OpenSession(
      (*user)->id, [&](const storage::User& now) { return now.password_hash == set; },
      Status::Unauthorized(msg::kNotLoggedIn), /*remembered=*/true, std::nullopt, client,
      /*end_others=*/true);
}

Status SignupService::ChangePassword(std::string_view session_id, const PasswordChangeForm& f,
                                     std::string_view client) {
  auto caller = Caller(session_id);
  if (!caller.ok()) return caller.status();
  const storage::User& user = caller->second;
  if (f.old_password.empty() || f.new_password.empty() || f.new_password2.empty()) {
    return Status::Invalid(msg::kMissingParameter);
  }
  if (!IsValidPassword(f.new_password)) return Status::Invalid(msg::kBadNewPassword);
  if (f.new_password != f.new_password2) return Status::Invalid(msg::kNewPasswordsDiffer);
  Status s = CheckPassword(user, f.old_password, client, msg::kWrongOldPassword);
  if (!s.ok()) return s;
  Result<std::string> hash = Status::Internal("not hashed");
  Status gate = hashes_->Run([&] { hash = HashPassword(f.new_password, options_.pwhash); });
  if (!gate.ok()) return gate;
  if (!hash.ok()) return hash.status();
  s = kv_->env()->Update([&](Txn& txn) { return sessions_.EndAll(txn, user.id, {}); });
  if (s.ok()) {
    s = users_->SetPasswordHash(user.id, *hash, storage::UserEvent::kPasswordChanged,
                                clock_->NowMs());
  }
  if (s.ok()) {  // sessions opened with the old password meanwhile
    s = kv_->env()->Update([&](Txn& txn) { return sessions_.EndAll(txn, user.id, {}); });
  }
  return s;
}

Status SignupService::ChangeMobile(std::string_view session_id, const MobileChangeForm& f,
                                   std::string_view client) {
  auto caller = Caller(session_id);
  if (!caller.ok()) return caller.status();
  const storage::User& user = caller->second;
  if (f.mobile.empty() || f.sms_code.empty() || f.password.empty()) {
    return Status::Invalid(msg::kMissingParameter);
  }
  if (!IsValidMobile(f.mobile)) return Status::Invalid(msg::kBadMobile);
  if (!IsValidSmsCode(f.sms_code)) return Status::Invalid(msg::kBadSmsCode);
  auto taken = users_->MobileExists(f.mobile);
  if (!taken.ok()) return taken.status();
  if (*taken) return Status::Conflict(msg::kMobileTaken);
  Status s = CheckPassword(user, f.password, client, msg::kWrongPassword);
  if (!s.ok()) return s;
  s = CheckSmsCode(CodePurpose::kChangeMobile, f.mobile, f.sms_code, /*spend=*/true, user.id);
  if (!s.ok()) return s;
  s = users_->SetMobile(user.id, f.mobile, clock_->NowMs());  // UNIQUE decides a race
  if (s.code() == Status::Code::kConflict) return Status::Conflict(msg::kMobileTaken);
  // The notice SMS to the old mobile goes out from the change's own event
  // (events/outbox_relay), so a crash cannot keep one without the other.
  return s;
}

Result<SessionList> SignupService::ListSessions(std::string_view session_id) {
  auto caller = Caller(session_id);
  if (!caller.ok()) return caller.status();
  SessionList out;
  out.current = caller->first.handle;
  Status s = kv_->env()->View([&](Txn& txn) -> Status {
    auto list = sessions_.List(txn, caller->second.id);
    if (!list.ok()) return list.status();
    out.sessions = std::move(list).value();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<bool> SignupService::EndSession(std::string_view session_id, std::string_view handle) {
  auto caller = Caller(session_id);
  if (!caller.ok()) return caller.status();
  Status s = kv_->env()->Update(
      [&](Txn& txn) { return sessions_.EndByHandle(txn, caller->second.id, handle); });
  if (s.code() == Status::Code::kNotFound) return Status::NotFound(msg::kSessionNotFound);
  if (!s.ok()) return s;
  return caller->first.handle == handle;
}

Status SignupService::EndOtherSessions(std::string_view session_id) {
  auto caller = Caller(session_id);
  if (!caller.ok()) return caller.status();
  return kv_->env()->Update(
      [&](Txn& txn) { return sessions_.EndAll(txn, caller->second.id, caller->first.handle); });
}

}  // namespace regd::account
