#include "account/signup_service.h"

#include <sodium.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "account/messages.h"
#include "queue/job_queue.h"
#include "sms/sms_job.h"
#include "storage/expiring_kv.h"
#include "storage/lmdb_env.h"
#include "storage/user_store.h"
#include "tests/support/signup_fixture.h"

using regd::Status;
using regd::account::PwhashCost;
using regd::account::RegisterForm;
using regd::account::Session;
using regd::account::SignupOptions;
using regd::account::SignupService;
using regd::queue::JobQueue;
using regd::storage::ExpiringKv;
using regd::storage::LmdbEnv;
using regd::storage::Txn;
using regd::storage::UserStore;
using regd::testing::FakeClock;
using regd::testing::TempDir;

namespace {

using Fixture = regd::testing::SignupFixture;
using regd::testing::kDay;
using regd::testing::kHour;
using regd::testing::kSecond;
using regd::testing::kUuid;
using regd::testing::WrongCode;

}  // namespace

// --- captcha ---

TEST_CASE("captcha image is a PNG and needs a UUID", "[signup_service]") {
  Fixture f;
  auto png = f.service->NewCaptcha(kUuid);
  REQUIRE(png.ok());
  REQUIRE(png->size() > 8);
  CHECK(png->compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  auto bad = f.service->NewCaptcha("not-a-uuid");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Status::Code::kInvalid);
}

TEST_CASE("captcha is usable until just before 300 s", "[signup_service]") {
  Fixture f;
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  f.clock.Advance(300 * kSecond - 1);
  CHECK(f.service->SendSmsCode("13800138000", "ABCD", kUuid).ok());
}

TEST_CASE("captcha expires after 300 s", "[signup_service]") {
  Fixture f;
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  f.clock.Advance(300 * kSecond);
  Status s = f.service->SendSmsCode("13800138000", "ABCD", kUuid);
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK(f.Depth() == 0);
}

TEST_CASE("captcha answer and uuid are compared case-insensitively", "[signup_service]") {
  Fixture f;
  std::string upper = "123E4567-E89B-12D3-A456-426614174000";
  REQUIRE(f.service->NewCaptcha(upper).ok());
  CHECK(f.service->SendSmsCode("13800138000", "abcd", kUuid).ok());
}

TEST_CASE("captcha is spent by a wrong answer", "[signup_service]") {
  Fixture f;
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  CHECK(f.service->SendSmsCode("13800138000", "WXYZ", kUuid).code() == Status::Code::kInvalid);
  CHECK(f.service->SendSmsCode("13800138000", "ABCD", kUuid).code() == Status::Code::kInvalid);
  CHECK(f.Depth() == 0);
}

TEST_CASE("captcha is spent by a right answer", "[signup_service]") {
  Fixture f;
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  REQUIRE(f.service->SendSmsCode("13800138000", "ABCD", kUuid).ok());
  CHECK(f.service->SendSmsCode("13900139000", "ABCD", kUuid).code() == Status::Code::kInvalid);
  CHECK(f.Depth() == 1);
}

TEST_CASE("sms code request with a missing parameter or bad mobile is invalid",
          "[signup_service]") {
  Fixture f;
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  CHECK(f.service->SendSmsCode("13800138000", "", kUuid).code() == Status::Code::kInvalid);
  CHECK(f.service->SendSmsCode("13800138000", "ABCD", "").code() == Status::Code::kInvalid);
  CHECK(f.service->SendSmsCode("12800138000", "ABCD", kUuid).code() == Status::Code::kInvalid);
  CHECK(f.service->SendSmsCode("13800138000", "ABCD", "nope").code() == Status::Code::kInvalid);
  CHECK(f.Depth() == 0);
}

// --- sending a code ---

TEST_CASE("sending a code stores the code and the send flag and queues exactly one job",
          "[signup_service]") {
  Fixture f;
  REQUIRE(f.Send("13800138000").ok());
  CHECK(f.Depth() == 1);
  CHECK(f.KeyExists("sms:13800138000"));
  CHECK(f.KeyExists("flag:13800138000"));
  CHECK_FALSE(f.KeyExists("cap:" + std::string(kUuid)));

  auto job = f.queue->Lease(60'000);
  REQUIRE(job.ok());
  REQUIRE(job->has_value());
  CHECK((*job)->type == regd::sms::kSmsJobType);
  auto sms = regd::sms::DecodeSmsJob((*job)->payload, &f.secret);
  REQUIRE(sms.ok());
  CHECK(sms->mobile == "13800138000");
  CHECK(sms->code.size() == 6);
  CHECK(sms->expires_at_ms == f.clock.NowMs() + 300 * kSecond);
  // The queued code is the stored one: it registers.
  auto s = f.service->Register(Fixture::Form("alice", "13800138000", sms->code));
  INFO(s.status().ToString());
  CHECK(s.ok());
}

// Regression (found by make test-asan): the key was a view of a temporary
// string, so the job could be stored under whatever the stack held by then.
TEST_CASE("a queued SMS job carries its mobile's dedup key, so a new code replaces it",
          "[signup_service]") {
  Fixture f;
  REQUIRE(f.Send("13800138000").ok());
  f.clock.Advance(60 * kSecond);  // the send flag lifts; the first job is still queued
  REQUIRE(f.Send("13800138000").ok());
  CHECK(f.Depth() == 1);
  auto job = f.queue->Lease(60'000);
  REQUIRE(job.ok());
  REQUIRE(job->has_value());
  CHECK((*job)->dedup_key == "sms:13800138000");
}

TEST_CASE("a refused code request writes no code, no flag and no job", "[signup_service]") {
  Fixture f;
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  REQUIRE_FALSE(f.service->SendSmsCode("13800138000", "WXYZ", kUuid).ok());
  CHECK(f.Depth() == 0);
  CHECK_FALSE(f.KeyExists("sms:13800138000"));
  CHECK_FALSE(f.KeyExists("flag:13800138000"));
}

TEST_CASE("a second code within 60 s is rate limited and queues nothing", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  Status s = f.Send("13800138000");
  CHECK(s.code() == Status::Code::kRateLimited);
  CHECK(s.retry_after_s() == 60);
  f.clock.Advance(59 * kSecond + 500);
  s = f.Send("13800138000");
  CHECK(s.code() == Status::Code::kRateLimited);
  CHECK(s.retry_after_s() == 1);
  CHECK(f.Depth() == 0);
  // The first code is untouched by the refused requests.
  CHECK(f.service->Register(Fixture::Form("alice", "13800138000", code)).ok());
}

TEST_CASE("the send flag lifts after 60 s", "[signup_service]") {
  Fixture f;
  std::string first = f.CodeFor("13800138000");
  f.clock.Advance(60 * kSecond - 1);
  CHECK(f.Send("13800138000").code() == Status::Code::kRateLimited);
  f.clock.Advance(1);
  REQUIRE(f.Send("13800138000").ok());
  CHECK(f.Depth() == 1);
  std::string second = f.TakeCode("13800138000");
  // The new code replaces the old one.
  if (second != first) {
    CHECK(f.service->Register(Fixture::Form("alice", "13800138000", first)).status().code() ==
          Status::Code::kInvalid);
  }
  CHECK(f.service->Register(Fixture::Form("alice", "13800138000", second)).ok());
}

TEST_CASE("the send flag of one mobile does not limit another", "[signup_service]") {
  Fixture f;
  REQUIRE(f.Send("13800138000").ok());
  CHECK(f.Send("13900139000").ok());
  CHECK(f.Depth() == 2);
}

// --- codes ---

TEST_CASE("sms code works until just before 300 s", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  f.clock.Advance(300 * kSecond - 1);
  CHECK(f.service->Register(Fixture::Form("alice", "13800138000", code)).ok());
}

TEST_CASE("sms code expires after 300 s", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  f.clock.Advance(300 * kSecond);
  auto s = f.service->Register(Fixture::Form("alice", "13800138000", code));
  CHECK(s.status().code() == Status::Code::kInvalid);
  auto exists = f.users->UsernameExists("alice");
  REQUIRE(exists.ok());
  CHECK_FALSE(*exists);
}

TEST_CASE("registering spends the sms code", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  REQUIRE(f.service->Register(Fixture::Form("alice", "13800138000", code)).ok());
  CHECK_FALSE(f.KeyExists("sms:13800138000"));
}

TEST_CASE("four wrong tries leave the right code usable", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  for (int i = 0; i < 4; ++i) {
    auto s = f.service->Register(Fixture::Form("alice", "13800138000", WrongCode(code)));
    CHECK(s.status().code() == Status::Code::kInvalid);
  }
  CHECK(f.service->Register(Fixture::Form("alice", "13800138000", code)).ok());
}

TEST_CASE("five wrong tries spend the code", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  for (int i = 0; i < 5; ++i) {
    auto s = f.service->Register(Fixture::Form("alice", "13800138000", WrongCode(code)));
    CHECK(s.status().code() == Status::Code::kInvalid);
  }
  auto s = f.service->Register(Fixture::Form("alice", "13800138000", code));
  CHECK(s.status().code() == Status::Code::kInvalid);
  auto exists = f.users->UsernameExists("alice");
  REQUIRE(exists.ok());
  CHECK_FALSE(*exists);
}

TEST_CASE("parallel wrong guesses never get more than five tries", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&f, &ok, &code] {
      auto s = f.service->Register(Fixture::Form("alice", "13800138000", WrongCode(code)));
      if (s.ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 0);
  auto s = f.service->Register(Fixture::Form("alice", "13800138000", code));
  CHECK(s.status().code() == Status::Code::kInvalid);
}

TEST_CASE("wrong tries of one mobile do not count against another", "[signup_service]") {
  Fixture f;
  std::string a = f.CodeFor("13800138000");
  std::string b = f.CodeFor("13900139000");
  for (int i = 0; i < 5; ++i) {
    (void)f.service->Register(Fixture::Form("alice", "13800138000", WrongCode(a)));
  }
  CHECK(f.service->Register(Fixture::Form("bobby", "13900139000", b)).ok());
}

TEST_CASE("a code for one mobile does not register another", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  auto s = f.service->Register(Fixture::Form("alice", "13900139000", code));
  CHECK(s.status().code() == Status::Code::kInvalid);
}

// --- register ---

TEST_CASE("register refuses a broken rule before touching the code", "[signup_service]") {
  Fixture f;
  std::string code = f.CodeFor("13800138000");
  auto form = [&] { return Fixture::Form("alice", "13800138000", code); };
  auto with = [&](auto change) {
    RegisterForm r = form();
    change(r);
    return r;
  };
  std::vector<RegisterForm> bad = {
      with([](RegisterForm& r) { r.username = "abcd"; }),
      with([](RegisterForm& r) { r.username = "123456"; }),
      with([](RegisterForm& r) { r.username = "al ice"; }),
      with([](RegisterForm& r) { r.username = ""; }),
      with([](RegisterForm& r) { r.password = r.password2 = "short"; }),
      with([](RegisterForm& r) { r.password2 = "password_2"; }),
      with([](RegisterForm& r) { r.mobile = "12800138000"; }),
      with([](RegisterForm& r) { r.sms_code = "12345"; }),
      with([](RegisterForm& r) { r.allow = false; }),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    INFO("case " << i);
    CHECK(f.service->Register(bad[i]).status().code() == Status::Code::kInvalid);
  }
  // None of them counted a try (more than 5 were made).
  CHECK(f.service->Register(form()).ok());
}

TEST_CASE("register of a taken username or mobile is a conflict", "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  f.clock.Advance(61 * kSecond);
  std::string code = f.CodeFor("13900139000");
  CHECK(f.service->Register(Fixture::Form("alice", "13900139000", code)).status().code() ==
        Status::Code::kConflict);
  f.clock.Advance(61 * kSecond);
  code = f.CodeFor("13800138000");
  CHECK(f.service->Register(Fixture::Form("bobby", "13800138000", code)).status().code() ==
        Status::Code::kConflict);
}

TEST_CASE("sign-up treats usernames case-sensitively", "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  auto taken = f.service->UsernameTaken("ALICE");
  REQUIRE(taken.ok());
  CHECK_FALSE(*taken);
  Session s = f.SignUp("ALICE", "13900139000");
  CHECK(s.username == "ALICE");
}

TEST_CASE("username and mobile counts follow registration and check the rules",
          "[signup_service]") {
  Fixture f;
  CHECK_FALSE(*f.service->UsernameTaken("alice"));
  CHECK_FALSE(*f.service->MobileTaken("13800138000"));
  f.SignUp("alice", "13800138000");
  CHECK(*f.service->UsernameTaken("alice"));
  CHECK(*f.service->MobileTaken("13800138000"));
  CHECK(f.service->UsernameTaken("abc").status().code() == Status::Code::kInvalid);
  CHECK(f.service->MobileTaken("1380013800").status().code() == Status::Code::kInvalid);
}

// --- sessions ---

TEST_CASE("a registration session is remembered for 14 days", "[signup_service]") {
  Fixture f;
  Session s = f.SignUp("alice", "13800138000");
  CHECK(s.username == "alice");
  CHECK(s.max_age_s == 1209600);
  f.clock.Advance(14 * kDay - 1);
  auto user = f.service->SessionUser(s.id);
  REQUIRE(user.ok());
  CHECK(user->username == "alice");
  CHECK(user->mobile == "13800138000");
  f.clock.Advance(1);
  CHECK(f.service->SessionUser(s.id).status().code() == Status::Code::kUnauthorized);
}

TEST_CASE("a remembered login session lasts 14 days", "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  auto s = f.service->Authenticate("alice", "password_1", /*remembered=*/true);
  REQUIRE(s.ok());
  CHECK(s->max_age_s == 1209600);
  f.clock.Advance(14 * kDay - 1);
  CHECK(f.service->SessionUser(s->id).ok());
  f.clock.Advance(1);
  CHECK(f.service->SessionUser(s->id).status().code() == Status::Code::kUnauthorized);
}

TEST_CASE("a login session that is not remembered ends after 12 hours", "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  auto s = f.service->Authenticate("alice", "password_1", /*remembered=*/false);
  REQUIRE(s.ok());
  CHECK(s->max_age_s == 0);  // a browser-session cookie
  f.clock.Advance(12 * kHour - 1);
  CHECK(f.service->SessionUser(s->id).ok());
  f.clock.Advance(1);
  CHECK(f.service->SessionUser(s->id).status().code() == Status::Code::kUnauthorized);
}

TEST_CASE("login works with the mobile in place of the username", "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  auto s = f.service->Authenticate("13800138000", "password_1", true);
  REQUIRE(s.ok());
  CHECK(s->username == "alice");
  auto user = f.service->SessionUser(s->id);
  REQUIRE(user.ok());
  CHECK(user->username == "alice");
}

TEST_CASE("login gives the same error for an unknown user and a wrong password",
          "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  auto wrong = f.service->Authenticate("alice", "password_2", true);
  auto unknown = f.service->Authenticate("nobody", "password_1", true);
  auto unknown_mobile = f.service->Authenticate("13900139000", "password_1", true);
  REQUIRE_FALSE(wrong.ok());
  REQUIRE_FALSE(unknown.ok());
  REQUIRE_FALSE(unknown_mobile.ok());
  CHECK(wrong.status().code() == Status::Code::kWrongCredentials);
  CHECK(unknown.status().code() == Status::Code::kWrongCredentials);
  CHECK(unknown_mobile.status().code() == Status::Code::kWrongCredentials);
  CHECK(wrong.status().message() == unknown.status().message());
  CHECK(unknown_mobile.status().message() == unknown.status().message());
}

TEST_CASE("the login gate is asked once, before hashing, with the account the login names",
          "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  std::vector<std::string> asked;
  auto record = [&](std::string_view account) {
    asked.emplace_back(account);
    return Status::Ok();
  };
  CHECK(f.service->Authenticate("alice", "password_1", true, record).ok());
  CHECK(f.service->Authenticate("13800138000", "password_2", true, record).status().code() ==
        Status::Code::kWrongCredentials);
  CHECK_FALSE(f.service->Authenticate("nobody", "password_1", true, record).ok());
  CHECK_FALSE(f.service->Authenticate(std::string(100, 'x'), "password_1", true, record).ok());
  // A username and its mobile name one account; other logins count as typed.
  REQUIRE(asked.size() == 4);
  CHECK(asked[0].rfind("id:", 0) == 0);
  CHECK(asked[1] == asked[0]);
  CHECK(asked[2] == "login:nobody");
  CHECK(asked[3] == "login:" + std::string(100, 'x'));
  // A refusal is the answer, and nothing is hashed or opened.
  auto refused = f.service->Authenticate("alice", "password_1", true, [](std::string_view) {
    return Status::RateLimited("locked", 30);
  });
  CHECK(refused.status().code() == Status::Code::kRateLimited);
  CHECK(refused.status().retry_after_s() == 30);
}

TEST_CASE(
    "with a guard, login locks the account after five failures from one client, whatever "
    "name it is typed by",
    "[signup_service]") {
  Fixture f;
  f.SignUp("alice", "13800138000");
  regd::account::AbuseGuard guard(regd::account::AbuseOptions{});
  SignupOptions options;
  options.fixed_captcha = "ABCD";
  options.pwhash = PwhashCost::Minimum();
  f.Reopen(options, &guard);
  for (const char* login : {"alice", "13800138000", "alice", "13800138000", "alice"}) {
    CHECK(f.service->Login(login, "password_2", true, "10.0.0.1").status().code() ==
          Status::Code::kWrongCredentials);
  }
  auto locked = f.service->Login("13800138000", "password_1", true, "10.0.0.1");
  CHECK(locked.status().code() == Status::Code::kRateLimited);
  CHECK(locked.status().reason() == &regd::account::msg::kLoginLocked);
  CHECK(locked.status().retry_after_s() == 30);
  // Another client is not held, and its success does not unlock the first.
  CHECK(f.service->Login("alice", "password_1", true, "10.0.0.2").ok());
  CHECK(f.service->Login("alice", "password_1", true, "10.0.0.1").status().code() ==
        Status::Code::kRateLimited);
}

TEST_CASE("each login opens a new session id", "[signup_service]") {
  Fixture f;
  Session reg = f.SignUp("alice", "13800138000");
  auto a = f.service->Authenticate("alice", "password_1", true);
  auto b = f.service->Authenticate("alice", "password_1", true);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->id != b->id);
  CHECK(a->id != reg.id);
}

TEST_CASE("logout ends only its own session", "[signup_service]") {
  Fixture f;
  Session one = f.SignUp("alice", "13800138000");
  auto two = f.service->Authenticate("alice", "password_1", true);
  REQUIRE(two.ok());
  REQUIRE(f.service->Logout(one.id).ok());
  CHECK(f.service->SessionUser(one.id).status().code() == Status::Code::kUnauthorized);
  CHECK(f.service->SessionUser(two->id).ok());
}

TEST_CASE("logout without a session or with garbage is ok", "[signup_service]") {
  Fixture f;
  CHECK(f.service->Logout("").ok());
  CHECK(f.service->Logout("garbage").ok());
}

TEST_CASE("an unknown or garbage session id is unauthorized", "[signup_service]") {
  Fixture f;
  CHECK(f.service->SessionUser("").status().code() == Status::Code::kUnauthorized);
  CHECK(f.service->SessionUser("garbage").status().code() == Status::Code::kUnauthorized);
  CHECK(f.service->SessionUser(std::string(43, 'A')).status().code() ==
        Status::Code::kUnauthorized);
}

TEST_CASE("health is ok when both stores answer", "[signup_service]") {
  Fixture f;
  CHECK(f.service->Health().ok());
}

// --- secrets at rest ---

// Every value stored in the LMDB env, raw.
std::string AllStoredBytes(Fixture& f) {
  std::string all;
  for (const char* name : {"kv", "jobs"}) {
    auto dbi = f.env->OpenDb(name);
    REQUIRE(dbi.ok());
    REQUIRE(f.env
                ->View([&](Txn& t) -> Status {
                  auto cur = regd::storage::Cursor::Open(t, *dbi);
                  if (!cur.ok()) return cur.status();
                  for (auto more = cur->First(); more.ok() && *more; more = cur->Next()) {
                    all += std::string(cur->key()) + "=" + std::string(cur->value()) + "\n";
                  }
                  return Status::Ok();
                })
                .ok());
  }
  return all;
}

TEST_CASE("captcha answers, codes and queued codes are never stored in plain text",
          "[signup_service]") {
  Fixture f;
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  CHECK(AllStoredBytes(f).find("ABCD") == std::string::npos);
  REQUIRE(f.service->SendSmsCode("13800138000", "ABCD", kUuid).ok());
  auto job = f.queue->Lease(60'000);
  REQUIRE(job.ok());
  REQUIRE(job->has_value());
  auto sms = regd::sms::DecodeSmsJob((*job)->payload, &f.secret);
  REQUIRE(sms.ok());
  std::string stored = AllStoredBytes(f);
  CHECK(stored.find(sms->code) == std::string::npos);
  CHECK((*job)->payload.find(sms->code) == std::string::npos);
  // Without the secret the queued code cannot be read.
  CHECK_FALSE(regd::sms::DecodeSmsJob((*job)->payload).ok());
  auto other = regd::storage::ServerSecret::FromBytes("another secret, 32 bytes long...");
  CHECK_FALSE(regd::sms::DecodeSmsJob((*job)->payload, &other).ok());
  // And the hashed code still checks.
  CHECK(f.service->Register(Fixture::Form("alice", "13800138000", sms->code)).ok());
}

// --- SMS budgets ---

TEST_CASE("a mobile gets at most its daily cap of codes, until the next UTC day",
          "[signup_service]") {
  Fixture f;
  SignupOptions o = f.service->options();
  o.sms_per_mobile_day = 3;
  f.Reopen(o);
  constexpr int64_t kDay = 86'400'000;
  // Start early in a day so three codes 60 s apart stay within it.
  f.clock.Advance(kDay - f.clock.NowMs() % kDay + 1'000);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.Send("13800138000").ok());
    f.clock.Advance(60 * kSecond);
  }
  Status s = f.Send("13800138000");
  CHECK(s.code() == Status::Code::kRateLimited);
  CHECK(s.message() == regd::account::msg::kSmsMobileDailyCap.en);
  int64_t to_midnight = kDay - f.clock.NowMs() % kDay;
  CHECK(s.retry_after_s() == (to_midnight + 999) / 1000);
  CHECK(f.Send("13900139000").ok());  // another mobile is not capped
  // The cap outlives the service (it is on disk), and ends with the day.
  f.Reopen(o);
  CHECK(f.Send("13800138000").code() == Status::Code::kRateLimited);
  f.clock.Advance(to_midnight);
  CHECK(f.Send("13800138000").ok());
}

TEST_CASE("the shop's hourly SMS budget stops every code until the next hour", "[signup_service]") {
  Fixture f;
  SignupOptions o = f.service->options();
  o.sms_budget_hour = 2;
  f.Reopen(o);
  constexpr int64_t kHour = 3'600'000;
  f.clock.Advance(kHour - f.clock.NowMs() % kHour + 1'000);
  REQUIRE(f.Send("13800138001").ok());
  REQUIRE(f.Send("13800138002").ok());
  CHECK(f.service->BudgetPausedUntilMs() == 0);
  Status s = f.Send("13800138003");
  CHECK(s.code() == Status::Code::kRateLimited);
  CHECK(s.message() == regd::account::msg::kSmsBudgetSpent.en);
  CHECK(s.retry_after_s() == (kHour - 1'000) / 1000);
  CHECK(f.service->BudgetPausedUntilMs() > f.clock.NowMs());
  CHECK(f.Depth() == 2);  // nothing queued for the refused one
  f.clock.Advance(kHour);
  CHECK(f.Send("13800138003").ok());
}

TEST_CASE("the shop's daily SMS budget holds across hours", "[signup_service]") {
  Fixture f;
  SignupOptions o = f.service->options();
  o.sms_budget_day = 2;
  f.Reopen(o);
  constexpr int64_t kDay = 86'400'000;
  f.clock.Advance(kDay - f.clock.NowMs() % kDay + 1'000);
  REQUIRE(f.Send("13800138001").ok());
  f.clock.Advance(3'600'000);
  REQUIRE(f.Send("13800138002").ok());
  f.clock.Advance(3'600'000);
  Status s = f.Send("13800138003");
  CHECK(s.code() == Status::Code::kRateLimited);
  CHECK(s.message() == regd::account::msg::kSmsBudgetSpent.en);
}

TEST_CASE("a refused captcha or a 60 s repeat does not spend budget", "[signup_service]") {
  Fixture f;
  SignupOptions o = f.service->options();
  o.sms_per_mobile_day = 2;
  f.Reopen(o);
  REQUIRE(f.service->NewCaptcha(kUuid).ok());
  CHECK_FALSE(f.service->SendSmsCode("13800138000", "ZZZZ", kUuid).ok());
  REQUIRE(f.Send("13800138000").ok());
  CHECK(f.Send("13800138000").code() == Status::Code::kRateLimited);  // the 60 s flag
  f.clock.Advance(60 * kSecond);
  CHECK(f.Send("13800138000").ok());  // the second of two
}
