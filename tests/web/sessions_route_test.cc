// GET /sessions/, DELETE /sessions/<id>/ and DELETE /sessions/ over real
// HTTP: an account's live sessions newest first, each with a public handle
// (never the cookie or its hash), masked address, user agent and ISO 8601
// UTC times; ending one makes its next request a 401; another account's
// handle is a 404; an account holds at most 64 sessions.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::InfoStatus;
using regd::testing::kPassword;
using regd::testing::NoResendWait;
using regd::testing::SessionHeaders;
using regd::testing::SetCookieValue;
using regd::testing::SignUp;
using regd::testing::TestServer;
using regd::testing::WithSession;

namespace {

// POST /login/ as alice with user_agent; returns the session cookie.
std::string LoginAs(TestServer& server, const std::string& login, const std::string& user_agent) {
  json body = {{"username", login}, {"password", kPassword}, {"remembered", true}};
  auto res = server.Client().Post("/login/", {{"User-Agent", user_agent}}, body.dump(),
                                  "application/json");
  CheckOk(res);
  return SetCookieValue(*res, "sessionid");
}

json Sessions(TestServer& server, const std::string& session) {
  json j = CheckOk(WithSession(server, "GET", "/sessions/", session));
  REQUIRE(j["sessions"].is_array());
  return j["sessions"];
}

}  // namespace

TEST_CASE("the sessions list shows each session without its secret", "[account_api]") {
  TestServer server;
  SignUp(server, "alice", "13800004001");
  std::string phone = LoginAs(server, "alice", "Phone/1.0");
  // Logged in right after: listed newer even within the same millisecond.
  std::string laptop = LoginAs(server, "alice", "Laptop/2.0");

  auto res = WithSession(server, "GET", "/sessions/", laptop);
  json j = CheckOk(res);
  CHECK(res->get_header_value("Cache-Control") == "no-store");
  json list = j["sessions"];
  REQUIRE(list.size() == 3);
  CHECK(list[0]["user_agent"] == "Laptop/2.0");  // newest first
  CHECK(list[0]["current"] == true);
  CHECK(list[1]["user_agent"] == "Phone/1.0");
  CHECK(list[1]["current"] == false);
  CHECK(list[2]["current"] == false);
  std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  std::set<std::string> ids;
  for (const json& s : list) {
    INFO(s.dump());
    std::string id = s["id"];
    ids.insert(id);
    CHECK(std::regex_match(id, std::regex("[0-9a-f]{24}")));
    CHECK(laptop.find(id) == std::string::npos);
    CHECK(phone.find(id) == std::string::npos);
    CHECK(s["ip"] == "127.0.0.*");
    CHECK(std::regex_match(s["created_at"].get<std::string>(), iso));
    CHECK(std::regex_match(s["last_seen_at"].get<std::string>(), iso));
  }
  CHECK(ids.size() == 3);
  // The other client sees the same sessions, itself as current.
  json seen = Sessions(server, phone);
  REQUIRE(seen.size() == 3);
  CHECK(seen[1]["current"] == true);
  CHECK(seen[1]["id"] == list[1]["id"]);
}

TEST_CASE("ending a session from another client makes its next request a 401", "[account_api]") {
  TestServer server;
  std::string first = SignUp(server, "alice", "13800004002");
  std::string phone = LoginAs(server, "alice", "Phone/1.0");
  json list = Sessions(server, first);
  REQUIRE(list.size() == 2);
  const json& phone_entry = list[0]["user_agent"] == "Phone/1.0" ? list[0] : list[1];
  REQUIRE(phone_entry["user_agent"] == "Phone/1.0");
  std::string phone_id = phone_entry["id"];

  CheckOk(WithSession(server, "DELETE", "/sessions/" + phone_id + "/", first));
  CHECK(InfoStatus(server, phone) == 401);
  CHECK(InfoStatus(server, first) == 200);
  CHECK(Sessions(server, first).size() == 1);
  // Gone now: a second end is a 404.
  CheckJsonError(WithSession(server, "DELETE", "/sessions/" + phone_id + "/", first), 404);
}

TEST_CASE("ending this client's own session clears its cookies as logout does", "[account_api]") {
  TestServer server;
  std::string first = SignUp(server, "alice", "13800004009");
  json list = Sessions(server, first);
  REQUIRE(list.size() == 1);
  REQUIRE(list[0]["current"] == true);
  auto res =
      WithSession(server, "DELETE", "/sessions/" + list[0]["id"].get<std::string>() + "/", first);
  CheckOk(res);
  CHECK(regd::testing::CookieOf(*res, "sessionid").value.empty());
  CHECK(regd::testing::CookieOf(*res, "sessionid").attributes.count("Max-Age=0") == 1);
  CHECK(regd::testing::CookieOf(*res, "username").value.empty());
  CHECK(InfoStatus(server, first) == 401);
}

TEST_CASE("another account's session handle is a 404 and stays alive", "[account_api]") {
  TestServer server;
  std::string alice = SignUp(server, "alice", "13800004003");
  std::string bobby = SignUp(server, "bobby", "13800004004");
  std::string bobby_id = Sessions(server, bobby)[0]["id"];
  CheckJsonError(WithSession(server, "DELETE", "/sessions/" + bobby_id + "/", alice), 404);
  CHECK(InfoStatus(server, bobby) == 200);
  for (const std::string& id :
       std::vector<std::string>{"0", "zzzzzzzzzzzzzzzzzzzzzzzz", std::string(4000, 'a'), "%00"}) {
    INFO(id.substr(0, 40));
    auto res = WithSession(server, "DELETE", "/sessions/" + id + "/", alice);
    REQUIRE(res);
    CHECK((res->status == 404 || res->status == 400 || res->status == 414));
    CHECK(res->get_header_value("Content-Type").find("application/json") == 0);
  }
  CHECK(InfoStatus(server, alice) == 200);
}

TEST_CASE("signing out everywhere else keeps only this session", "[account_api]") {
  TestServer server;
  std::string first = SignUp(server, "alice", "13800004005");
  std::string b = LoginAs(server, "alice", "B/1");
  std::string c = LoginAs(server, "alice", "C/1");
  std::string bobby = SignUp(server, "bobby", "13800004006");
  CheckOk(WithSession(server, "DELETE", "/sessions/", b));
  CHECK(InfoStatus(server, b) == 200);
  CHECK(InfoStatus(server, first) == 401);
  CHECK(InfoStatus(server, c) == 401);
  CHECK(InfoStatus(server, bobby) == 200);  // another account's are untouched
  json list = Sessions(server, b);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["current"] == true);
}

TEST_CASE("the sessions routes need a session", "[account_api]") {
  TestServer server;
  std::string alice = SignUp(server, "alice", "13800004007");
  std::string id = Sessions(server, alice)[0]["id"];
  for (const std::string& cookie : {std::string(), std::string("not-a-session")}) {
    CheckJsonError(WithSession(server, "GET", "/sessions/", cookie), 401);
    CheckJsonError(WithSession(server, "DELETE", "/sessions/", cookie), 401);
    CheckJsonError(WithSession(server, "DELETE", "/sessions/" + id + "/", cookie), 401);
  }
  CHECK(InfoStatus(server, alice) == 200);
}

TEST_CASE("a cross-site DELETE /sessions/ is refused", "[account_api]") {
  TestServer server;
  std::string first = SignUp(server, "alice", "13800004008");
  std::string other = LoginAs(server, "alice", "B/1");
  auto res = WithSession(server, "DELETE", "/sessions/", first, "",
                         {{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}});
  CheckJsonError(res, 403);
  CHECK(InfoStatus(server, other) == 200);
}

TEST_CASE("an account keeps at most 64 sessions, ending the oldest", "[account_api]") {
  TestServer server;
  std::string oldest = SignUp(server, "alice", "13800004009");
  std::string newest;
  for (int i = 0; i < 64; ++i) newest = LoginAs(server, "alice", "UA/" + std::to_string(i));
  CHECK(InfoStatus(server, oldest) == 401);
  CHECK(InfoStatus(server, newest) == 200);
  json list = Sessions(server, newest);
  CHECK(list.size() == 64);
}

TEST_CASE("a long user agent is stored cut to 256 bytes", "[account_api]") {
  TestServer server;
  SignUp(server, "alice", "13800004010");
  std::string session = LoginAs(server, "alice", std::string(6000, 'u'));
  json list = Sessions(server, session);
  CHECK(list[0]["user_agent"].get<std::string>() == std::string(256, 'u'));
}
