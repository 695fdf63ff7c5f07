// SignupFixture: the account domain on real stores in a TempDir (LMDB for
// the ExpiringKv and the queue, SQLite for users) and a FakeClock, with the
// REQUIRE-checked steps the account tests share (captcha + code, taking the
// queued code as a consumer would, sign-up). No consumers run, so queued SMS
// jobs stay in the queue where a test can read them.
#pragma once

#include <sodium.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "account/hash_pool.h"
#include "account/signup_service.h"
#include "queue/job_queue.h"
#include "sms/sms_job.h"
#include "storage/expiring_kv.h"
#include "storage/lmdb_env.h"
#include "storage/server_secret.h"
#include "storage/user_store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace regd::testing {

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

inline constexpr int64_t kSecond = 1000;
inline constexpr int64_t kHour = 3600 * kSecond;
inline constexpr int64_t kDay = 24 * kHour;

inline constexpr const char* kUuid = "123e4567-e89b-12d3-a456-426614174000";

// Real stores in a TempDir, the service on a FakeClock. No consumers run, so
// queued SMS jobs stay in the queue where the test can read them.
struct SignupFixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<LmdbEnv> env;
  std::unique_ptr<ExpiringKv> kv;
  std::unique_ptr<JobQueue> queue;
  std::unique_ptr<UserStore> users;
  regd::account::HashPool hashes{2, 8};
  regd::storage::ServerSecret secret =
      regd::storage::ServerSecret::FromBytes("0123456789abcdef0123456789abcdef");
  std::unique_ptr<SignupService> service;

  SignupFixture() {
    REQUIRE(sodium_init() >= 0);
    auto e = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto k = ExpiringKv::Open(env.get());
    REQUIRE(k.ok());
    kv = std::move(k).value();
    auto q = JobQueue::Open(env.get(), &clock);
    REQUIRE(q.ok());
    queue = std::move(q).value();
    auto u = UserStore::Open(dir.Join("users.sqlite3"));
    REQUIRE(u.ok());
    users = std::move(u).value();
    SignupOptions options;
    options.fixed_captcha = "ABCD";
    options.pwhash = PwhashCost::Minimum();
    Reopen(options);
  }
  void Reopen(const SignupOptions& options, regd::account::AbuseGuard* guard = nullptr) {
    service = std::make_unique<SignupService>(kv.get(), queue.get(), users.get(), &hashes, &secret,
                                              &clock, options, guard);
  }

  // A fresh captcha for uuid, then a code for mobile with the right answer.
  Status Send(const std::string& mobile, const std::string& uuid = kUuid,
              regd::account::CodePurpose purpose = regd::account::CodePurpose::kRegister,
              const std::string& session = "") {
    REQUIRE(service->NewCaptcha(uuid).ok());
    return service->SendSmsCode(mobile, "ABCD", uuid, purpose, session);
  }

  // Takes the next queued SMS job (as a consumer would) and returns its code.
  std::string TakeCode(const std::string& mobile) {
    auto job = queue->Lease(60'000);
    REQUIRE(job.ok());
    REQUIRE(job->has_value());
    auto sms = regd::sms::DecodeSmsJob((*job)->payload, &secret);
    REQUIRE(sms.ok());
    CHECK(sms->mobile == mobile);
    REQUIRE(queue->Ack(**job).ok());
    return sms->code;
  }

  // Send + TakeCode.
  std::string CodeFor(const std::string& mobile,
                      regd::account::CodePurpose purpose = regd::account::CodePurpose::kRegister,
                      const std::string& session = "") {
    Status s = Send(mobile, kUuid, purpose, session);
    INFO(s.ToString());
    REQUIRE(s.ok());
    return TakeCode(mobile);
  }

  bool KeyExists(const std::string& key) {
    bool found = false;
    REQUIRE(env->View([&](Txn& t) {
                 auto r = kv->Get(t, key, clock.NowMs());
                 if (!r.ok()) return r.status();
                 found = r->has_value();
                 return Status::Ok();
               })
                .ok());
    return found;
  }

  size_t Depth() {
    auto d = queue->Depth();
    REQUIRE(d.ok());
    return *d;
  }

  static RegisterForm Form(const std::string& username, const std::string& mobile,
                           const std::string& code) {
    RegisterForm f;
    f.username = username;
    f.password = "password_1";
    f.password2 = "password_1";
    f.mobile = mobile;
    f.sms_code = code;
    f.allow = true;
    return f;
  }

  // Registers username/mobile with a fresh code; returns the session.
  Session SignUp(const std::string& username, const std::string& mobile) {
    auto s = service->Register(Form(username, mobile, CodeFor(mobile)));
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    return s.value();
  }
};

// A 6-digit code that differs from code.
inline std::string WrongCode(const std::string& code) {
  return code == "000000" ? "111111" : "000000";
}

}  // namespace regd::testing
