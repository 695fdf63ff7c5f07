// The session routes over real HTTP: POST /login/ (by username or mobile,
// remembered or not, the same 400 for a wrong password and an unknown user),
// GET /info/ (the session cookie among others; 401 without one) and
// DELETE /logout/ (clears both cookies, ends that one session), and the
// attributes of every cookie they set, as sent.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/raw_http.h"
#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::BodyJson;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::CheckRememberedCookies;
using regd::testing::CodeFor;
using regd::testing::CookieOf;
using regd::testing::HasLifetime;
using regd::testing::kPassword;
using regd::testing::kTwoWeeks;
using regd::testing::Login;
using regd::testing::PostJson;
using regd::testing::RawPost;
using regd::testing::RawRequest;
using regd::testing::RawResponse;
using regd::testing::RegisterForm;
using regd::testing::SessionHeaders;
using regd::testing::SetCookie;
using regd::testing::SetCookieCount;
using regd::testing::SetCookieValue;
using regd::testing::SignUp;
using regd::testing::TestServer;

TEST_CASE("login with the username answers 200 with remembered cookies", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000027");
  auto res = Login(server, "alice", kPassword, true);
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
  json info =
      CheckOk(server.Client().Get("/info/", SessionHeaders(SetCookieValue(*res, "sessionid"))));
  CHECK(info["info_data"]["username"] == "alice");
}

TEST_CASE("login with the mobile answers 200 with the username cookie", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000028");
  auto res = Login(server, "13800000028", kPassword, true);
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
}

TEST_CASE("login not remembered sets cookies without Max-Age or Expires", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000029");
  auto res = Login(server, "alice", kPassword, false);
  CheckOk(res);
  SetCookie session = CookieOf(*res, "sessionid");
  CHECK_FALSE(HasLifetime(session));
  CHECK(session.attributes == std::set<std::string>{"HttpOnly", "SameSite=Lax", "Path=/"});
  SetCookie user = CookieOf(*res, "username");
  CHECK(user.value == "alice");
  CHECK_FALSE(HasLifetime(user));
  CHECK(user.attributes == std::set<std::string>{"SameSite=Lax", "Path=/"});
  CheckOk(server.Client().Get("/info/", SessionHeaders(session.value)));
}

namespace {

// The Set-Cookie lines of a raw answer head for cookie name, as sent.
std::vector<std::string> RawSetCookies(const std::string& head, const std::string& name) {
  std::vector<std::string> out;
  std::regex line("(^|\r\n)Set-Cookie: (" + name + "=[^\r]*)", std::regex::icase);
  for (std::sregex_iterator it(head.begin(), head.end(), line), end; it != end; ++it) {
    out.push_back((*it)[2]);
  }
  return out;
}

}  // namespace

TEST_CASE("the username cookie is sent SameSite=Lax and readable by script (had no SameSite)",
          "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000037");
  json form = {{"username", "alice"}, {"password", kPassword}, {"remembered", true}};
  RawResponse login = RawRequest(server.port(), RawPost("/login/", form.dump()));
  REQUIRE(login.status == 200);
  std::vector<std::string> set = RawSetCookies(login.head, "username");
  REQUIRE(set.size() == 1);
  CHECK(set[0] == "username=alice; SameSite=Lax; Path=/; Max-Age=" + std::to_string(kTwoWeeks));

  std::string sid = RawSetCookies(login.head, "sessionid").at(0);
  sid = sid.substr(0, sid.find(';'));
  RawResponse out =
      RawRequest(server.port(), "DELETE /logout/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + sid +
                                    "\r\nConnection: close\r\n\r\n");
  REQUIRE(out.status == 200);
  set = RawSetCookies(out.head, "username");
  REQUIRE(set.size() == 1);
  CHECK(set[0] == "username=; SameSite=Lax; Path=/; Max-Age=0");
}

TEST_CASE("login with a wrong password or an unknown user is a 400 with the same message",
          "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000030");
  auto wrong = Login(server, "alice", "password_2");
  auto unknown = Login(server, "nobody", kPassword);
  auto unknown_mobile = Login(server, "13900000030", kPassword);
  auto wrong_case = Login(server, "ALICE", kPassword);
  CheckJsonError(wrong, 400);
  CheckJsonError(unknown, 400);
  CheckJsonError(unknown_mobile, 400);
  CheckJsonError(wrong_case, 400);
  CHECK(BodyJson(*wrong)["errmsg"] == BodyJson(*unknown)["errmsg"]);
  CHECK(BodyJson(*unknown_mobile)["errmsg"] == BodyJson(*unknown)["errmsg"]);
  CHECK(SetCookieCount(*wrong) == 0);
  CHECK(SetCookieCount(*unknown) == 0);
}

TEST_CASE("login with a body that is not a JSON object or wrong types is a JSON 400", "[api]") {
  TestServer server;
  for (const std::string& body :
       {std::string(""), std::string("[]"), std::string("username=alice"),
        std::string(R"({"username": 1, "password": "password_1"})"),
        std::string(R"({"username": "alice", "password": ["password_1"]})"),
        std::string(R"({"password": "password_1"})"), std::string(R"({"username": "alice"})")}) {
    INFO(body);
    CheckJsonError(PostJson(server, "/login/", body), 400);
  }
}

// ---------------------------------------------------------------- info, logout

TEST_CASE("info without a session or with a garbage session is a JSON 401", "[api]") {
  TestServer server;
  auto cli = server.Client();
  CheckJsonError(cli.Get("/info/"), 401);
  CheckJsonError(cli.Get("/info/", SessionHeaders("garbage")), 401);
  CheckJsonError(cli.Get("/info/", SessionHeaders(std::string(43, 'A'))), 401);
  CheckJsonError(cli.Get("/info/", SessionHeaders("")), 401);
  CheckJsonError(cli.Get("/info/", {{"Cookie", "username=alice"}}), 401);
}

TEST_CASE("info finds the session cookie among other cookies", "[api]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800000031");
  json info = CheckOk(server.Client().Get(
      "/info/", {{"Cookie", "csrftoken=x; sessionid=" + session + "; username=alice"}}));
  CHECK(info["info_data"]["username"] == "alice");
  CHECK(info["info_data"]["mobile"] == "13800000031");
}

TEST_CASE("logout answers 200, clears both cookies and ends the session", "[api]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800000032");
  CheckOk(server.Client().Get("/info/", SessionHeaders(session)));
  auto res = server.Client().Delete("/logout/", SessionHeaders(session));
  CheckOk(res);
  SetCookie sid = CookieOf(*res, "sessionid");
  CHECK(sid.value.empty());
  CHECK(sid.attributes.count("Max-Age=0") == 1);
  CHECK(sid.attributes.count("Path=/") == 1);
  SetCookie user = CookieOf(*res, "username");
  CHECK(user.value.empty());
  CHECK(user.attributes.count("Max-Age=0") == 1);
  CHECK(user.attributes.count("Path=/") == 1);
  CheckJsonError(server.Client().Get("/info/", SessionHeaders(session)), 401);
}

TEST_CASE("with --cookie-secure every cookie regd sets or clears is Secure", "[api]") {
  TestServer server([](auto& c) { c.cookie_secure = true; });
  std::string code = CodeFor(server, "13800000036");
  auto reg = PostJson(server, "/register/", RegisterForm("alice", "13800000036", code).dump());
  CheckOk(reg);
  CHECK(CookieOf(*reg, "sessionid").attributes.count("Secure") == 1);
  CHECK(CookieOf(*reg, "username").attributes.count("Secure") == 1);
  json form = {{"username", "alice"}, {"password", RegisterForm("alice", "", "")["password"]}};
  auto login = PostJson(server, "/login/", form.dump());
  CheckOk(login);
  CHECK(CookieOf(*login, "sessionid").attributes.count("Secure") == 1);
  CHECK(CookieOf(*login, "username").attributes.count("Secure") == 1);
  auto out =
      server.Client().Delete("/logout/", SessionHeaders(SetCookieValue(*login, "sessionid")));
  CheckOk(out);
  CHECK(CookieOf(*out, "sessionid").attributes.count("Secure") == 1);
  CHECK(CookieOf(*out, "username").attributes.count("Secure") == 1);
}

TEST_CASE("logout without a session answers 200", "[api]") {
  TestServer server;
  auto res = server.Client().Delete("/logout/");
  CheckOk(res);
  CHECK(CookieOf(*res, "sessionid").attributes.count("Max-Age=0") == 1);
  CheckOk(server.Client().Delete("/logout/", SessionHeaders("garbage")));
}

TEST_CASE("logout ends one session and leaves the user's other sessions", "[api]") {
  TestServer server;
  std::string first = SignUp(server, "alice", "13800000033");
  auto login = Login(server, "alice", kPassword);
  CheckOk(login);
  std::string second = SetCookieValue(*login, "sessionid");
  CHECK(second != first);
  CheckOk(server.Client().Delete("/logout/", SessionHeaders(first)));
  CheckJsonError(server.Client().Get("/info/", SessionHeaders(first)), 401);
  CheckOk(server.Client().Get("/info/", SessionHeaders(second)));
}
