// GET /usernames/<name>/count/ and /mobiles/<mobile>/count/ over real HTTP:
// the counts follow registrations, and values that break the rules are a
// JSON 400.
#include <catch2/catch.hpp>
#include <string>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using regd::testing::CheckJsonError;
using regd::testing::Count;
using regd::testing::SignUp;
using regd::testing::TestServer;

TEST_CASE("username and mobile counts go from 0 to 1 when a user registers", "[api]") {
  TestServer server;
  CHECK(Count(server, "usernames", "alice") == 0);
  CHECK(Count(server, "mobiles", "13800000011") == 0);
  SignUp(server, "alice", "13800000011");
  CHECK(Count(server, "usernames", "alice") == 1);
  CHECK(Count(server, "mobiles", "13800000011") == 1);
  CHECK(Count(server, "usernames", "ALICE") == 0);  // case-sensitive
  CHECK(Count(server, "mobiles", "13800000012") == 0);
}

TEST_CASE("counts for values that break the rules are a JSON 400", "[api]") {
  TestServer server;
  auto cli = server.Client();
  for (const char* u : {"abcd", "12345", "bad.name", "abcdefghijklmnopqrstu"}) {
    INFO(u);
    CheckJsonError(cli.Get(("/usernames/" + std::string(u) + "/count/").c_str()), 400);
  }
  for (const char* m : {"12800000001", "1380000001", "abcdefghijk"}) {
    INFO(m);
    CheckJsonError(cli.Get(("/mobiles/" + std::string(m) + "/count/").c_str()), 400);
  }
}
