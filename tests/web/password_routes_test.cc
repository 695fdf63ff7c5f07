// POST /password/reset/ and PUT /password/ over real HTTP: a reset by SMS
// code replaces the password, ends every session of the account and signs
// in anew; a change needs the session and the current password (a wrong one
// counts for the login locks), ends every session (this one too) and clears
// both cookies. Both follow the register page's password rules, answer each
// broken rule on its field, and give parallel guessers of a reset code 5
// tries in all.
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
using regd::testing::CookieOf;
using regd::testing::ErrorField;
using regd::testing::InfoStatus;
using regd::testing::kPassword;
using regd::testing::Login;
using regd::testing::NoResendWait;
using regd::testing::PostJson;
using regd::testing::ResetPassword;
using regd::testing::SessionHeaders;
using regd::testing::SetCookieValue;
using regd::testing::SignUp;
using regd::testing::TestServer;
using regd::testing::WithSession;
using regd::testing::WrongCode;

namespace {

std::string ChangeBody(const std::string& old_pw, const std::string& new_pw,
                       const std::string& new_pw2) {
  return json{{"old_password", old_pw}, {"new_password", new_pw}, {"new_password2", new_pw2}}
      .dump();
}

// A cookie cleared the way /logout/ clears it: empty, expired at once.
void CheckCleared(const httplib::Response& res, const std::string& name) {
  auto c = CookieOf(res, name);
  INFO(name);
  CHECK(c.value.empty());
  CHECK(c.attributes.count("Max-Age=0") == 1);
}

}  // namespace

TEST_CASE("a reset replaces the password, ends every session and signs in", "[account_api]") {
  TestServer server(NoResendWait);
  std::string first = SignUp(server, "alice", "13800002001");
  auto other = Login(server, "alice", kPassword);
  CheckOk(other);
  std::string second = SetCookieValue(*other, "sessionid");
  std::string code = server.RequestAndReadCode("13800002001", "reset");
  REQUIRE(!code.empty());

  auto res = ResetPassword(server, "13800002001", code, "new_pass_2");
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
  CHECK(InfoStatus(server, first) == 401);
  CHECK(InfoStatus(server, second) == 401);
  CHECK(InfoStatus(server, SetCookieValue(*res, "sessionid")) == 200);
  CheckJsonError(Login(server, "alice", kPassword), 400);
  CheckOk(Login(server, "13800002001", "new_pass_2"));
  // The code is spent by the reset.
  CheckJsonError(ResetPassword(server, "13800002001", code, "new_pass_3"), 400);
}

TEST_CASE("a reset follows the register page's password rules", "[account_api]") {
  TestServer server(NoResendWait);
  SignUp(server, "alice", "13800002002");
  std::string code = server.RequestAndReadCode("13800002002", "reset");
  REQUIRE(!code.empty());
  struct Case {
    json body;
    const char* field;
  } cases[] = {
      {{{"mobile", "13800002002"},
        {"sms_code", code},
        {"password", "short"},
        {"password2", "short"}},
       "password"},
      {{{"mobile", "13800002002"},
        {"sms_code", code},
        {"password", "new_pass_2"},
        {"password2", "new_pass_3"}},
       "password2"},
      {{{"mobile", "1380000200"},
        {"sms_code", code},
        {"password", "new_pass_2"},
        {"password2", "new_pass_2"}},
       "mobile"},
      {{{"mobile", "13800002002"},
        {"sms_code", "12345"},
        {"password", "new_pass_2"},
        {"password2", "new_pass_2"}},
       "sms_code"},
  };
  for (const Case& c : cases) {
    INFO(c.body.dump());
    auto res = PostJson(server, "/password/reset/", c.body.dump());
    CheckJsonError(res, 400);
    CHECK(ErrorField(res) == c.field);
  }
  for (const char* body : {"", "[]", "{\"mobile\":\"13800002002\"}",
                           "{\"mobile\":13800002002,\"sms_code\":\"1\",\"password\":\"a\","
                           "\"password2\":\"a\"}"}) {
    INFO(body);
    CheckJsonError(PostJson(server, "/password/reset/", body), 400);
  }
  // None of that spent the code or changed the password.
  CheckOk(Login(server, "alice", kPassword));
  CheckOk(ResetPassword(server, "13800002002", code, "new_pass_2"));
}

TEST_CASE("a reset with a wrong code, or for an unknown mobile, changes nothing", "[account_api]") {
  TestServer server(NoResendWait);
  SignUp(server, "alice", "13800002003");
  std::string code = server.RequestAndReadCode("13800002003", "reset");
  REQUIRE(!code.empty());
  auto wrong = ResetPassword(server, "13800002003", WrongCode(code), "new_pass_2");
  CheckJsonError(wrong, 400);
  CHECK(ErrorField(wrong) == "sms_code");
  CheckJsonError(ResetPassword(server, "13800002004", code, "new_pass_2"), 400);
  CheckOk(Login(server, "alice", kPassword));
}

TEST_CASE("parallel guesses on a reset code get 5 tries in all", "[account_api]") {
  TestServer server(NoResendWait);
  SignUp(server, "alice", "13800002005");
  std::string code = server.RequestAndReadCode("13800002005", "reset");
  REQUIRE(!code.empty());
  std::atomic<int> refused{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < 16; ++i) {
    guessers.emplace_back([&, i] {
      char guess[8];
      std::snprintf(guess, sizeof(guess), "%06d", (std::stoi(code) + 1 + i) % 1000000);
      auto res = ResetPassword(server, "13800002005", guess, "new_pass_2");
      if (res && res->status == 400) refused++;
    });
  }
  for (auto& t : guessers) t.join();
  CHECK(refused == 16);
  CheckJsonError(ResetPassword(server, "13800002005", code, "new_pass_2"), 400);
  CheckOk(Login(server, "alice", kPassword));
}

TEST_CASE("a password change ends every session and clears both cookies", "[account_api]") {
  TestServer server;
  std::string first = SignUp(server, "alice", "13800002006");
  auto other = Login(server, "alice", kPassword);
  CheckOk(other);
  std::string second = SetCookieValue(*other, "sessionid");

  auto res = WithSession(server, "PUT", "/password/", first,
                         ChangeBody(kPassword, "new_pass_2", "new_pass_2"));
  CheckOk(res);
  CheckCleared(*res, "sessionid");
  CheckCleared(*res, "username");
  CHECK(InfoStatus(server, first) == 401);
  CHECK(InfoStatus(server, second) == 401);
  CheckJsonError(Login(server, "alice", kPassword), 400);
  CheckOk(Login(server, "alice", "new_pass_2"));
}

TEST_CASE("a password change answers each broken rule on its field", "[account_api]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800002007");
  struct Case {
    std::string body;
    const char* field;
  } cases[] = {
      {ChangeBody("wrong_pass_1", "new_pass_2", "new_pass_2"), "old_password"},
      {ChangeBody(kPassword, "short", "short"), "new_password"},
      {ChangeBody(kPassword, "new_pass_2", "new_pass_3"), "new_password2"},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    auto res = WithSession(server, "PUT", "/password/", session, c.body);
    CheckJsonError(res, 400);
    CHECK(ErrorField(res) == c.field);
  }
  for (const char* body : {"", "null", "[1]", "{\"old_password\":\"password_1\"}",
                           "{\"old_password\":1,\"new_password\":\"a\",\"new_password2\":\"a\"}"}) {
    INFO(body);
    CheckJsonError(WithSession(server, "PUT", "/password/", session, body), 400);
  }
  // The session lives on and the password is the old one.
  CHECK(InfoStatus(server, session) == 200);
  CheckOk(Login(server, "alice", kPassword));
}

TEST_CASE("a password change needs a session", "[account_api]") {
  TestServer server;
  SignUp(server, "alice", "13800002008");
  std::string body = ChangeBody(kPassword, "new_pass_2", "new_pass_2");
  CheckJsonError(WithSession(server, "PUT", "/password/", "", body), 401);
  CheckJsonError(WithSession(server, "PUT", "/password/", "not-a-session", body), 401);
  CheckJsonError(
      WithSession(server, "PUT", "/password/", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", body),
      401);
  CheckOk(Login(server, "alice", kPassword));
}

TEST_CASE("wrong current passwords count for the login locks", "[account_api]") {
  TestServer server([](regd::app::Config& c) {
    c.abuse_limits = true;
    c.trust_proxy = true;
  });
  std::string session = SignUp(server, "alice", "13800002009");
  httplib::Headers from = {{"X-Forwarded-For", "203.0.113.10"}};
  for (int i = 0; i < 5; ++i) {
    auto res = WithSession(server, "PUT", "/password/", session,
                           ChangeBody("wrong_pass_1", "new_pass_2", "new_pass_2"), from);
    CheckJsonError(res, 400);
  }
  auto locked = WithSession(server, "PUT", "/password/", session,
                            ChangeBody(kPassword, "new_pass_2", "new_pass_2"), from);
  CheckJsonError(locked, 429);
  CHECK(!locked->get_header_value("Retry-After").empty());
  json body = {{"username", "alice"}, {"password", kPassword}};
  CheckJsonError(server.Client().Post("/login/", from, body.dump(), "application/json"), 429);
}

TEST_CASE("a cross-site password change is refused before it runs", "[account_api]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800002010");
  auto res = WithSession(server, "PUT", "/password/", session,
                         ChangeBody(kPassword, "new_pass_2", "new_pass_2"),
                         {{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}});
  CheckJsonError(res, 403);
  CHECK(InfoStatus(server, session) == 200);
  CheckOk(Login(server, "alice", kPassword));
}
