// PUT /mobile/ over real HTTP: with the session, the password and a
// change_mobile code sent to the new mobile for this account, the account
// moves to the new mobile (login by it works, by the old one not), the code
// is spent and the old mobile gets a notice SMS through the queue. The
// database decides a race for one free mobile.
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::ErrorField;
using regd::testing::InfoStatus;
using regd::testing::kPassword;
using regd::testing::Login;
using regd::testing::NoResendWait;
using regd::testing::SessionHeaders;
using regd::testing::SignUp;
using regd::testing::TestServer;
using regd::testing::WithSession;
using regd::testing::WrongCode;

namespace {

std::string MobileBody(const std::string& mobile, const std::string& code,
                       const std::string& password = kPassword) {
  return json{{"mobile", mobile}, {"sms_code", code}, {"password", password}}.dump();
}

// The change_mobile code session's account gets at mobile; fails the test
// if none arrives.
std::string MoveCode(TestServer& server, const std::string& mobile, const std::string& session) {
  std::string code = server.RequestAndReadCode(mobile, "change_mobile", session);
  INFO("no change_mobile code for " << mobile);
  REQUIRE(!code.empty());
  return code;
}

}  // namespace

TEST_CASE("a change of mobile moves the account and tells the old mobile", "[account_api]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800003001");
  std::string code = MoveCode(server, "13800003002", session);
  CheckOk(WithSession(server, "PUT", "/mobile/", session, MobileBody("13800003002", code)));

  json info = CheckOk(server.Client().Get("/info/", SessionHeaders(session)));
  CHECK(info["info_data"]["mobile"] == "13800003002");
  CheckOk(Login(server, "13800003002", kPassword));
  CheckJsonError(Login(server, "13800003001", kPassword), 400);
  CHECK(regd::testing::Count(server, "mobiles", "13800003001") == 0);
  CHECK(regd::testing::Count(server, "mobiles", "13800003002") == 1);

  // The notice reaches the old mobile through the queue, with no code in it.
  bool noticed = false;
  for (int i = 0; i < 200 && !noticed; ++i) {
    for (const auto& m : server.sms().Accepted()) {
      noticed = noticed || (m.mobile == "13800003001" && m.code.empty());
    }
    if (!noticed) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CHECK(noticed);
  // The code is spent.
  CheckJsonError(WithSession(server, "PUT", "/mobile/", session, MobileBody("13800003003", code)),
                 400);
}

TEST_CASE("a change of mobile answers each failure on its field", "[account_api]") {
  TestServer server(NoResendWait);
  std::string alice = SignUp(server, "alice", "13800003004");
  SignUp(server, "bobby", "13800003005");
  std::string code = MoveCode(server, "13800003006", alice);

  auto wrong_pw = WithSession(server, "PUT", "/mobile/", alice,
                              MobileBody("13800003006", code, "wrong_pass_1"));
  CheckJsonError(wrong_pw, 400);
  CHECK(ErrorField(wrong_pw) == "password");
  auto wrong_code =
      WithSession(server, "PUT", "/mobile/", alice, MobileBody("13800003006", WrongCode(code)));
  CheckJsonError(wrong_code, 400);
  CHECK(ErrorField(wrong_code) == "sms_code");
  auto taken = WithSession(server, "PUT", "/mobile/", alice, MobileBody("13800003005", code));
  CheckJsonError(taken, 409);
  CHECK(ErrorField(taken) == "mobile");
  auto bad = WithSession(server, "PUT", "/mobile/", alice, MobileBody("1380000300", code));
  CheckJsonError(bad, 400);
  CHECK(ErrorField(bad) == "mobile");
  for (const char* body : {"", "[]", "{\"mobile\":\"13800003006\"}",
                           "{\"mobile\":\"13800003006\",\"sms_code\":123456,\"password\":\"x\"}"}) {
    INFO(body);
    CheckJsonError(WithSession(server, "PUT", "/mobile/", alice, body), 400);
  }
  CheckJsonError(WithSession(server, "PUT", "/mobile/", "", MobileBody("13800003006", code)), 401);
  // Nothing moved, and the code (one wrong try) still works.
  CHECK(regd::testing::Count(server, "mobiles", "13800003004") == 1);
  CheckOk(WithSession(server, "PUT", "/mobile/", alice, MobileBody("13800003006", code)));
}

TEST_CASE("a change_mobile code works only in the account that asked for it", "[account_api]") {
  TestServer server(NoResendWait);
  std::string alice = SignUp(server, "alice", "13800003007");
  std::string bobby = SignUp(server, "bobby", "13800003008");
  std::string code = MoveCode(server, "13800003009", alice);
  auto res = WithSession(server, "PUT", "/mobile/", bobby, MobileBody("13800003009", code));
  CheckJsonError(res, 400);
  CHECK(ErrorField(res) == "sms_code");
  CheckOk(WithSession(server, "PUT", "/mobile/", alice, MobileBody("13800003009", code)));
}

TEST_CASE("two accounts moving to one free mobile: one 200, one 409", "[account_api]") {
  TestServer server(NoResendWait);
  for (int round = 0; round < 4; ++round) {
    INFO("round " << round);
    std::string a =
        SignUp(server, "alice" + std::to_string(round), "1380000311" + std::to_string(round));
    std::string b =
        SignUp(server, "bobby" + std::to_string(round), "1380000312" + std::to_string(round));
    std::string target = "1380000313" + std::to_string(round);
    std::string code_a = MoveCode(server, target, a);
    std::string code_b = MoveCode(server, target, b);
    std::atomic<int> ok{0}, conflict{0}, other{0};
    auto move = [&](const std::string& session, const std::string& code) {
      auto res = WithSession(server, "PUT", "/mobile/", session, MobileBody(target, code));
      int st = res ? res->status : -1;
      (st == 200 ? ok : st == 409 ? conflict : other)++;
    };
    std::thread ta(move, a, code_a), tb(move, b, code_b);
    ta.join();
    tb.join();
    CHECK(ok == 1);
    CHECK(conflict == 1);
    CHECK(other == 0);
    CHECK(regd::testing::Count(server, "mobiles", target) == 1);
  }
}

TEST_CASE("a change_mobile code is not sent for a taken mobile or without a session",
          "[account_api]") {
  TestServer server(NoResendWait);
  std::string alice = SignUp(server, "alice", "13800003010");
  SignUp(server, "bobby", "13800003011");
  size_t before = server.sms().Accepted().size();
  CHECK(server.RequestCode("13800003011", "change_mobile", alice) == 409);
  CHECK(server.RequestCode("13800003012", "change_mobile") == 401);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(server.sms().Accepted().size() == before);
}
