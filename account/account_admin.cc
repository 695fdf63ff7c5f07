#include "account/account_admin.h"

#include "account/rules.h"
#include "account/signup_service.h"
#include "sms/sms_job.h"

namespace regd::account {

using storage::Txn;

std::string UnlockKey(int64_t user_id) { return "unlock:" + std::to_string(user_id); }
std::string LastLoginKey(int64_t user_id) { return "ulast:" + std::to_string(user_id); }

Result<storage::User> AccountAdmin::Find(std::string_view username_or_mobile) {
  auto user = users_->FindByUsername(username_or_mobile);
  if (!user.ok()) return user.status();
  if (!user->has_value() && IsValidMobile(username_or_mobile)) {
    user = users_->FindByMobile(username_or_mobile);
    if (!user.ok()) return user.status();
  }
  if (!user->has_value()) {
    return Status::NotFound("no customer with username or mobile '" +
                            std::string(username_or_mobile) + "'");
  }
  return std::move(**user);
}

Result<std::vector<storage::User>> AccountAdmin::List(size_t limit) { return users_->List(limit); }

Result<AccountView> AccountAdmin::Show(const storage::User& user, size_t events) {
  AccountView view;
  view.user = user;
  const int64_t now = clock_->NowMs();
  Status s = kv_->env()->View([&](Txn& txn) -> Status {
    auto last = kv_->Get(txn, LastLoginKey(user.id), now);
    if (!last.ok()) return last.status();
    if (last->has_value()) view.last_login_ms = std::atoll((*last)->value.c_str());
    auto live = sessions_.List(txn, user.id);
    if (!live.ok()) return live.status();
    view.live_sessions = live->size();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  auto recent = users_->EventsOf(user.id, events);
  if (!recent.ok()) return recent.status();
  view.events = std::move(recent).value();
  return view;
}

Result<bool> AccountAdmin::Disable(const storage::User& user) {
  auto changed = users_->SetDisabled(user.id, true, clock_->NowMs());
  if (!changed.ok()) return changed.status();
  // After the commit: a login racing the command reads disabled, or opened
  // its session before this ends it, or finds the epoch this gives the
  // account changed and reads it again (SessionBook).
  Status s = kv_->env()->Update([&](Txn& txn) { return sessions_.EndAll(txn, user.id, {}); });
  if (!s.ok()) return s;
  return *changed;
}

Result<bool> AccountAdmin::Enable(const storage::User& user) {
  return users_->SetDisabled(user.id, false, clock_->NowMs());
}

Result<size_t> AccountAdmin::Delete(const storage::User& user) {
  Status s = users_->Delete(user.id, clock_->NowMs());
  if (!s.ok()) return s;
  s = kv_->env()->Update([&](Txn& txn) -> Status {
    Status e = sessions_.EndAll(txn, user.id, {});
    for (CodePurpose p : {CodePurpose::kRegister, CodePurpose::kLogin, CodePurpose::kReset}) {
      if (e.ok()) e = kv_->Delete(txn, CodeKeyOf(p, user.mobile));
    }
    if (e.ok()) e = kv_->Delete(txn, LastLoginKey(user.id));
    if (e.ok()) e = kv_->Delete(txn, UnlockKey(user.id));
    return e;
  });
  if (!s.ok()) return s;
  // The SMS still queued for the mobile (codes, a notice): not sent now.
  auto pending = queue_->List(std::nullopt, SIZE_MAX);
  if (!pending.ok()) return pending.status();
  size_t dropped = 0;
  for (const auto& [job, state] : *pending) {
    if (job.type != sms::kSmsJobType || state == queue::JobState::kDead) continue;
    auto sms = sms::DecodeSmsJob(job.payload, secret_);
    if (!sms.ok() || sms->mobile != user.mobile) continue;
    Status c = queue_->Cancel(job.id);
    if (c.ok())
      ++dropped;
    else if (c.code() != Status::Code::kNotFound)
      return c;  // sent meanwhile: fine
  }
  return dropped;
}

Status AccountAdmin::Unlock(const storage::User& user) {
  const int64_t now = clock_->NowMs();
  return kv_->env()->Update([&](Txn& txn) {
    return kv_->Put(txn, UnlockKey(user.id), std::to_string(now), now + kUnlockTtlMs);
  });
}

}  // namespace regd::account
