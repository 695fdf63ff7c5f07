// A login whose password check straddles a change that ends the account's
// sessions (password change or reset, disable, erase) opens no session:
// SessionBook's epoch and the fresh look at the account in OpenSession. The
// race is made certain, not hoped for: both hash slots are held, so the
// login waits inside its password check while the change commits.
// Also the epoch itself, and AdoptAll for sessions an older regd wrote.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "account/account_admin.h"
#include "account/session_book.h"
#include "tests/support/signup_fixture.h"

using regd::Result;
using regd::Status;
using regd::account::Session;
using regd::account::SessionBook;
using regd::storage::Txn;
using Fixture = regd::testing::SignupFixture;

namespace {

// Holds every slot of f's hash pool until Release, so the next password
// check waits in the pool.
class HeldHashes {
 public:
  explicit HeldHashes(Fixture& f) : f_(f) {
    for (int i = 0; i < f.hashes.workers(); ++i) {
      // No Catch assertion here (not the test's thread): a refused slot is
      // counted as held so the wait below ends, and the login that should
      // wait then does not (AwaitWaiting says so on the test's thread).
      holders_.emplace_back([this] {
        Status s = f_.hashes.Run([this] {
          std::unique_lock<std::mutex> lock(mu_);
          ++held_;
          cv_.notify_all();
          cv_.wait(lock, [this] { return released_; });
        });
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          ++held_;
          cv_.notify_all();
        }
      });
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return held_ == f.hashes.workers(); });
  }
  ~HeldHashes() { Release(); }
  // Waits until n callers wait for a slot (at most 2 s); whether they do.
  bool AwaitWaiting(int n) {
    for (int i = 0; i < 2000 && f_.hashes.waiting() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return f_.hashes.waiting() == n;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    for (auto& t : holders_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  Fixture& f_;
  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0;
  bool released_ = false;
  std::vector<std::thread> holders_;
};

int64_t IdOf(Fixture& f, const std::string& username) {
  auto u = f.users->FindByUsername(username);
  REQUIRE(u.ok());
  REQUIRE(u->has_value());
  return (*u)->id;
}

size_t LiveSessions(Fixture& f, int64_t user_id) {
  SessionBook book(f.kv.get(), &f.clock);
  size_t n = 0;
  REQUIRE(f.env
              ->View([&](Txn& txn) -> Status {
                auto list = book.List(txn, user_id);
                if (!list.ok()) return list.status();
                n = list->size();
                return Status::Ok();
              })
              .ok());
  return n;
}

// A login of username with its right password that has read the account
// and waits inside its password check while change() runs; its answer.
Result<Session> LoginAcross(Fixture& f, const std::string& username,
                            const std::function<void()>& change) {
  Result<Session> raced = Status::Internal("not run");
  std::exception_ptr failed;
  bool waited = false;
  {
    HeldHashes held(f);
    std::thread login([&] { raced = f.service->Login(username, "password_1", true, "127.0.0.2"); });
    waited = held.AwaitWaiting(1);
    if (waited) {
      try {
        change();
      } catch (...) {  // a failed REQUIRE: rethrown once the login has ended
        failed = std::current_exception();
      }
    }
    held.Release();
    login.join();
  }
  if (failed) std::rethrow_exception(failed);
  REQUIRE(waited);
  return raced;
}

}  // namespace

TEST_CASE("a login checking the old password while the password changes opens no session",
          "[session_race]") {
  Fixture f;
  f.SignUp("alice", "13800005001");
  const int64_t id = IdOf(f, "alice");
  REQUIRE(f.service->Login("alice", "password_1", true, "127.0.0.1").ok());
  auto new_hash = regd::account::HashPassword("password_2", regd::account::PwhashCost::Minimum());
  REQUIRE(new_hash.ok());

  // What PUT /password/ writes once its hashing is done: the new hash, then
  // the end of every session.
  auto raced = LoginAcross(f, "alice", [&] {
    REQUIRE(f.users
                ->SetPasswordHash(id, *new_hash, regd::storage::UserEvent::kPasswordChanged,
                                  f.clock.NowMs())
                .ok());
    SessionBook book(f.kv.get(), &f.clock);
    REQUIRE(f.env->Update([&](Txn& txn) { return book.EndAll(txn, id, {}); }).ok());
  });
  CHECK(raced.status().code() == Status::Code::kWrongCredentials);
  CHECK(LiveSessions(f, id) == 0);
  CHECK(f.service->Login("alice", "password_2", true, "127.0.0.1").ok());
}

TEST_CASE("a login racing a disable gets 403 and enable brings no session back", "[session_race]") {
  Fixture f;
  f.SignUp("bobby", "13800005002");
  const int64_t id = IdOf(f, "bobby");
  regd::account::AccountAdmin admin(f.users.get(), f.kv.get(), f.queue.get(), &f.secret, &f.clock);
  auto bobby = admin.Find("bobby");
  REQUIRE(bobby.ok());

  auto raced = LoginAcross(f, "bobby", [&] { REQUIRE(admin.Disable(*bobby).ok()); });
  CHECK(raced.status().code() == Status::Code::kForbidden);
  REQUIRE(admin.Enable(*bobby).ok());
  CHECK(LiveSessions(f, id) == 0);
}

TEST_CASE("a login racing the erasure of its account opens no session", "[session_race]") {
  Fixture f;
  f.SignUp("carol", "13800005003");
  const int64_t id = IdOf(f, "carol");
  regd::account::AccountAdmin admin(f.users.get(), f.kv.get(), f.queue.get(), &f.secret, &f.clock);
  auto carol = admin.Find("carol");
  REQUIRE(carol.ok());

  auto raced = LoginAcross(f, "carol", [&] { REQUIRE(admin.Delete(*carol).ok()); });
  CHECK(raced.status().code() == Status::Code::kWrongCredentials);
  CHECK(LiveSessions(f, id) == 0);
}

TEST_CASE("a change's epoch refuses a session opened on an earlier read", "[session_race]") {
  Fixture f;
  SessionBook book(f.kv.get(), &f.clock);
  auto before = book.Epoch(7);
  REQUIRE(before.ok());
  CHECK(before->empty());  // no change yet
  REQUIRE(f.env->Update([&](Txn& txn) { return book.EndAll(txn, 7, {}); }).ok());
  const std::string after = book.Epoch(7).value();
  CHECK(after.size() == 16);
  auto now = book.Epoch(7);
  REQUIRE(now.ok());
  CHECK(*now == after);
  Status stale = f.env->Update([&](Txn& txn) { return book.CheckEpoch(txn, 7, *before); });
  CHECK(stale.code() == Status::Code::kConflict);
  CHECK(f.env->Update([&](Txn& txn) { return book.CheckEpoch(txn, 7, after); }).ok());
  // Each EndAll is a new epoch; another account's is its own.
  REQUIRE(f.env->Update([&](Txn& txn) { return book.EndAll(txn, 7, {}); }).ok());
  const std::string again = book.Epoch(7).value();
  CHECK(again != after);
  auto other = book.Epoch(8);
  REQUIRE(other.ok());
  CHECK(other->empty());
}

TEST_CASE("sessions an older regd wrote without a handle get one at start and end with the rest",
          "[session_race]") {
  Fixture f;
  SessionBook book(f.kv.get(), &f.clock);
  // The old format: sess:<hex BLAKE2b-256 of the cookie id> = "<user id>".
  // More than one batch of AdoptAll, over three accounts.
  std::vector<std::pair<std::string, int64_t>> cookies;
  REQUIRE(f.env
              ->Update([&](Txn& txn) -> Status {
                cookies.clear();
                for (int i = 0; i < 300; ++i) {
                  std::string id = SessionBook::NewId();
                  unsigned char h[32];
                  crypto_generichash(h, sizeof(h),
                                     reinterpret_cast<const unsigned char*>(id.data()), id.size(),
                                     nullptr, 0);
                  char hex[65];
                  sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
                  const int64_t user = 1 + i % 3;
                  Status s = f.kv->Put(txn, std::string("sess:") + hex, std::to_string(user),
                                       f.clock.NowMs() + 3'600'000);
                  if (!s.ok()) return s;
                  cookies.emplace_back(id, user);
                }
                return Status::Ok();
              })
              .ok());
  auto found = book.Find(cookies[0].first, /*touch=*/false);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->handle.empty());  // not yet adopted

  auto adopted = book.AdoptAll();
  REQUIRE(adopted.ok());
  CHECK(*adopted == 300);
  // An account keeps at most kMaxPerUser, as Open keeps: the rest ended.
  size_t live = 0;
  for (const auto& [cookie, user] : cookies) {
    auto ref = book.Find(cookie, /*touch=*/false);
    REQUIRE(ref.ok());
    if (!ref->has_value()) continue;
    ++live;
    CHECK((*ref)->user_id == user);
    CHECK_FALSE((*ref)->handle.empty());
  }
  CHECK(live == 3 * SessionBook::kMaxPerUser);
  for (int64_t user = 1; user <= 3; ++user)
    CHECK(LiveSessions(f, user) == SessionBook::kMaxPerUser);
  auto none = book.AdoptAll();  // nothing is left to adopt
  REQUIRE(none.ok());
  CHECK(*none == 0);

  REQUIRE(f.env->Update([&](Txn& txn) { return book.EndAll(txn, 2, {}); }).ok());
  for (const auto& [cookie, user] : cookies) {
    auto ref = book.Find(cookie, /*touch=*/false);
    REQUIRE(ref.ok());
    if (user == 2) CHECK_FALSE(ref->has_value());
  }
}
