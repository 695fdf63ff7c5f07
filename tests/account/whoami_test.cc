// SignupService::WhoAmI, the forward-auth lookup a reverse proxy makes for
// every request of the shop: it names the session's account and writes
// nothing (unlike SessionUser, which records the session as seen).
#include <catch2/catch.hpp>

#include "account/session_book.h"
#include "tests/support/signup_fixture.h"

using regd::account::SessionBook;
using Fixture = regd::testing::SignupFixture;
using regd::testing::kSecond;

namespace {

int64_t LastSeen(Fixture& f, int64_t user_id) {
  SessionBook book(f.kv.get(), &f.clock);
  int64_t seen = -1;
  REQUIRE(f.env
              ->View([&](regd::storage::Txn& txn) -> regd::Status {
                auto list = book.List(txn, user_id);
                if (!list.ok()) return list.status();
                REQUIRE(list->size() == 1);
                seen = (*list)[0].last_seen_ms;
                return regd::Status::Ok();
              })
              .ok());
  return seen;
}

}  // namespace

TEST_CASE("whoami names the session's account and writes nothing", "[whoami]") {
  Fixture f;
  auto session = f.SignUp("alice", "13800005001");
  const int64_t opened = f.clock.NowMs();
  f.clock.Advance(120 * kSecond);  // past the once-a-minute touch

  for (int i = 0; i < 3; ++i) {
    auto user = f.service->WhoAmI(session.id);
    REQUIRE(user.ok());
    CHECK(user->username == "alice");
    CHECK(user->mobile == "13800005001");
  }
  auto alice = f.users->FindByMobile("13800005001");
  REQUIRE(alice.ok());
  REQUIRE(alice->has_value());
  CHECK(LastSeen(f, (*alice)->id) == opened);
  // /info/ (SessionUser) does record the visit.
  REQUIRE(f.service->SessionUser(session.id).ok());
  CHECK(LastSeen(f, (*alice)->id) == f.clock.NowMs());
}

TEST_CASE("whoami refuses a missing, unknown, ended or expired session", "[whoami]") {
  Fixture f;
  auto session = f.SignUp("alice", "13800005002");
  for (const std::string& id : {std::string(), std::string("x"), std::string(43, 'A')}) {
    auto r = f.service->WhoAmI(id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == regd::Status::Code::kUnauthorized);
  }
  auto other = f.SignUp("bobby", "13800005003");
  REQUIRE(f.service->Logout(other.id).ok());
  CHECK(f.service->WhoAmI(other.id).status().code() == regd::Status::Code::kUnauthorized);
  f.clock.Advance(15 * regd::testing::kDay);  // past the remembered 14 days
  CHECK(f.service->WhoAmI(session.id).status().code() == regd::Status::Code::kUnauthorized);
}
