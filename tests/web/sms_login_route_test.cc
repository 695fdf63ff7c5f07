// Codes with a purpose and POST /login/sms/ over real HTTP: a code works only
// for the purpose and mobile it was sent for, login and reset codes go only
// to registered mobiles, change_mobile codes only to a live session and a
// free mobile, the 60 s throttle spans purposes, and a login by code sets
// the cookies /login/ sets, counts failed codes for the login locks and
// gives parallel guessers 5 tries in all.
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::CheckRememberedCookies;
using regd::testing::ErrorField;
using regd::testing::InfoStatus;
using regd::testing::NoResendWait;
using regd::testing::PostJson;
using regd::testing::ResetPassword;
using regd::testing::SessionHeaders;
using regd::testing::SetCookieValue;
using regd::testing::SignUp;
using regd::testing::TestServer;
using regd::testing::WrongCode;

namespace {

httplib::Result LoginByCode(TestServer& server, const std::string& mobile, const std::string& code,
                            json remembered = true, const std::string& client = "") {
  httplib::Headers h;
  if (!client.empty()) h.emplace("X-Forwarded-For", client);
  return regd::testing::SmsLogin(server, mobile, code, remembered, h);
}

}  // namespace

TEST_CASE("a login code logs in with the cookies /login/ sets", "[account_api]") {
  TestServer server(NoResendWait);
  SignUp(server, "alice", "13800001001");
  std::string code = server.RequestAndReadCode("13800001001", "login");
  REQUIRE(code.size() == 6);
  auto res = LoginByCode(server, "13800001001", code);
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
  json info =
      CheckOk(server.Client().Get("/info/", SessionHeaders(SetCookieValue(*res, "sessionid"))));
  CHECK(info["info_data"]["username"] == "alice");
  // Spent by the login.
  CheckJsonError(LoginByCode(server, "13800001001", code), 400);
}

TEST_CASE("a code works only for the purpose it was sent for", "[account_api]") {
  TestServer server(NoResendWait);
  SignUp(server, "alice", "13800001002");
  // A register code may be sent to a registered mobile (the seed's request
  // does not ask); it neither logs in nor resets.
  std::string reg = server.RequestAndReadCode("13800001002");
  REQUIRE(!reg.empty());
  CheckJsonError(LoginByCode(server, "13800001002", reg), 400);
  CheckJsonError(ResetPassword(server, "13800001002", reg, "password_2"), 400);
  // A login code does not reset, a reset code does not log in.
  std::string login = server.RequestAndReadCode("13800001002", "login");
  std::string reset = server.RequestAndReadCode("13800001002", "reset");
  REQUIRE(!login.empty());
  REQUIRE(!reset.empty());
  CheckJsonError(ResetPassword(server, "13800001002", login, "password_2"), 400);
  CheckJsonError(LoginByCode(server, "13800001002", reset), 400);
  // Each still works for its own purpose: the failures above spent nothing
  // of the other code but a try.
  CheckOk(LoginByCode(server, "13800001002", login));
  CheckOk(ResetPassword(server, "13800001002", reset, "password_2"));
  CheckOk(regd::testing::Login(server, "alice", "password_2"));
}

TEST_CASE("a code works only for the mobile it was sent to", "[account_api]") {
  TestServer server(NoResendWait);
  SignUp(server, "alice", "13800001004");
  SignUp(server, "bobby", "13800001005");
  std::string code = server.RequestAndReadCode("13800001004", "login");
  REQUIRE(!code.empty());
  CheckJsonError(LoginByCode(server, "13800001005", code), 400);
  CheckOk(LoginByCode(server, "13800001004", code));
}

TEST_CASE("login and reset codes go only to a registered mobile", "[account_api]") {
  TestServer server(NoResendWait);
  for (const char* purpose : {"login", "reset"}) {
    INFO(purpose);
    std::string uuid = TestServer::NewUuid();
    REQUIRE(server.Client().Get("/image_codes/" + uuid + "/")->status == 200);
    auto res = server.Client().Get("/sms_codes/13800001006/?image_code=ABCD&image_code_id=" + uuid +
                                   "&purpose=" + purpose);
    CheckJsonError(res, 400);
    CHECK(ErrorField(res) == "mobile");
  }
  CHECK(server.sms().Accepted().empty());
}

TEST_CASE("an unknown purpose is a 400 on the purpose field", "[account_api]") {
  TestServer server(NoResendWait);
  for (const char* purpose : {"admin", "REGISTER", "login%00", "x"}) {
    INFO(purpose);
    auto res =
        server.Client().Get(std::string("/sms_codes/13800001007/?image_code=ABCD&image_code_id=") +
                            TestServer::NewUuid() + "&purpose=" + purpose);
    CheckJsonError(res, 400);
    CHECK(ErrorField(res) == "purpose");
  }
  CHECK(server.sms().Accepted().empty());
}

TEST_CASE("change_mobile codes need a session and a free mobile", "[account_api]") {
  TestServer server(NoResendWait);
  std::string alice = SignUp(server, "alice", "13800001008");
  SignUp(server, "bobby", "13800001009");
  CHECK(server.RequestCode("13800001010", "change_mobile") == 401);
  CHECK(server.RequestCode("13800001010", "change_mobile", "not-a-session") == 401);
  CHECK(server.RequestCode("13800001009", "change_mobile", alice) == 409);
  CHECK(!server.RequestAndReadCode("13800001010", "change_mobile", alice).empty());
}

TEST_CASE("the 60 s resend throttle is per mobile across purposes", "[account_api]") {
  TestServer server;
  SignUp(server, "alice", "13800001011");  // its register code set the flag
  CHECK(server.RequestCode("13800001011", "login") == 429);
  CHECK(server.RequestCode("13800001011", "reset") == 429);
}

TEST_CASE("5 wrong tries spend a login code, even in parallel", "[account_api]") {
  TestServer server(NoResendWait);
  SignUp(server, "alice", "13800001012");
  std::string code = server.RequestAndReadCode("13800001012", "login");
  REQUIRE(!code.empty());
  std::atomic<int> wrong{0}, other{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < 20; ++i) {
    guessers.emplace_back([&, i] {
      char guess[8];
      std::snprintf(guess, sizeof(guess), "%06d", (std::stoi(code) + 1 + i) % 1000000);
      auto res = LoginByCode(server, "13800001012", guess);
      (res && res->status == 400 ? wrong : other)++;
    });
  }
  for (auto& t : guessers) t.join();
  CHECK(wrong == 20);
  CHECK(other == 0);
  // The right code is spent after the fifth wrong try.
  CheckJsonError(LoginByCode(server, "13800001012", code), 400);
}

TEST_CASE("failed login codes count for the login locks", "[account_api]") {
  TestServer server([](regd::app::Config& c) {
    c.abuse_limits = true;
    c.trust_proxy = true;
    c.sms_resend_s = 0;
  });
  SignUp(server, "alice", "13800001013");
  std::string code = server.RequestAndReadCode("13800001013", "login");
  REQUIRE(!code.empty());
  // The (account, address) lock closes after 5 failures; the code is spent
  // after 5 wrong tries too, so the sixth is locked whatever it carries.
  for (int i = 0; i < 5; ++i)
    CheckJsonError(LoginByCode(server, "13800001013", WrongCode(code), true, "203.0.113.9"), 400);
  auto locked = LoginByCode(server, "13800001013", code, true, "203.0.113.9");
  CheckJsonError(locked, 429);
  CHECK(!locked->get_header_value("Retry-After").empty());
  // The password login of the same account from that address is locked too.
  json body = {{"username", "alice"}, {"password", "password_1"}};
  auto pw = server.Client().Post("/login/", {{"X-Forwarded-For", "203.0.113.9"}}, body.dump(),
                                 "application/json");
  CheckJsonError(pw, 429);
}

TEST_CASE("bad /login/sms/ bodies are JSON 400s", "[account_api]") {
  TestServer server(NoResendWait);
  for (const char* body :
       {"", "[]", "{\"mobile\":1,\"sms_code\":\"123456\"}",
        "{\"mobile\":\"13800001014\",\"sms_code\":123456}",
        "{\"mobile\":\"13800001014\",\"sms_code\":\"12345\"}",
        "{\"mobile\":\"1380000101\",\"sms_code\":\"123456\"}", "{\"mobile\":\"13800001014\"}",
        "{\"mobile\":\"13800001014\",\"sms_code\":\"123456\",\"remembered\":1}"}) {
    INFO(body);
    CheckJsonError(PostJson(server, "/login/sms/", body), 400);
  }
  // An unknown mobile with a well-formed code: the same 400 as a wrong code.
  CheckJsonError(LoginByCode(server, "13800001014", "123456"), 400);
}
