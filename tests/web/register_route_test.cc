// POST /register/ over real HTTP: a valid form answers 200 with the session
// and username cookies and spends the SMS code; broken rules and bodies that
// are not a JSON object are a JSON 400 that cost no code try; five wrong
// codes spend the code, however parallel; a taken username or mobile is a
// 409, also when two registrations race.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/raw_http.h"
#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::CheckRememberedCookies;
using regd::testing::CodeFor;
using regd::testing::ConnectLoopback;
using regd::testing::Count;
using regd::testing::Exchange;
using regd::testing::PostJson;
using regd::testing::RawPost;
using regd::testing::RawResponse;
using regd::testing::RegisterForm;
using regd::testing::SessionHeaders;
using regd::testing::SetCookieValue;
using regd::testing::SignUp;
using regd::testing::TestServer;
using regd::testing::WrongCode;

TEST_CASE("register answers 200 with the session and username cookies", "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000013");
  auto res = PostJson(server, "/register/", RegisterForm("alice", "13800000013", code).dump());
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
  // The session cookie is a live session.
  json info =
      CheckOk(server.Client().Get("/info/", SessionHeaders(SetCookieValue(*res, "sessionid"))));
  CHECK(info["info_data"]["username"] == "alice");
  CHECK(info["info_data"]["mobile"] == "13800000013");
}

TEST_CASE("a username with '-' and '_' registers", "[api]") {
  TestServer server;
  SignUp(server, "shop-user_1", "13800000014");
  CHECK(Count(server, "usernames", "shop-user_1") == 1);
}

TEST_CASE("register spends the sms code", "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000015");
  CheckOk(PostJson(server, "/register/", RegisterForm("alice", "13800000015", code).dump()));
  // The same code does not register another user, for this mobile or another.
  CheckJsonError(PostJson(server, "/register/", RegisterForm("bobby", "13800000015", code).dump()),
                 409);  // the mobile is taken now
  CheckJsonError(PostJson(server, "/register/", RegisterForm("bobby", "13800000016", code).dump()),
                 400);
  CHECK(Count(server, "usernames", "bobby") == 0);
}

TEST_CASE("register with a body that is not a JSON object is a JSON 400", "[api]") {
  TestServer server;
  for (const std::string& body :
       {std::string(""), std::string("username=alice&password=password_1"),
        std::string("{\"username\": \"alice\""), std::string("[]"),
        std::string("[") + RegisterForm("alice", "13800000017", "123456").dump() + "]",
        std::string("\"alice\""), std::string("null"), std::string("42")}) {
    INFO(body);
    CheckJsonError(PostJson(server, "/register/", body), 400);
  }
}

TEST_CASE("register with a broken rule is a JSON 400 and costs no code try", "[api]") {
  TestServer server;
  const std::string mobile = "13800000018";
  std::string code = CodeFor(server, mobile);
  json good = RegisterForm("alice", mobile, code);

  std::vector<json> bad;
  for (const char* field : {"username", "password", "password2", "mobile", "sms_code", "allow"}) {
    json j = good;
    j.erase(field);
    bad.push_back(j);
  }
  auto with = [&](const char* field, json value) {
    json j = good;
    j[field] = std::move(value);
    bad.push_back(j);
  };
  with("username", "abcd");                   // 4 characters
  with("username", "abcdefghijklmnopqrstu");  // 21
  with("username", "123456789");              // all digits
  with("username", "ali ce");
  with("username", "alice.b");
  with("username", "用户名五个字");
  with("username", 123);
  with("username", nullptr);
  with("password", "short_1");  // 7, with password2 equal
  with("password2", "short_1");
  with("password2", "password_2");  // mismatch
  with("password", json::array({"password_1"}));
  with("mobile", "12800000018");
  with("mobile", "1380000001");
  with("mobile", 13800000018LL);
  with("sms_code", "12345");
  with("sms_code", "1234567");
  with("sms_code", "12345a");
  with("sms_code", 123456);
  with("allow", false);
  with("allow", "true");
  with("allow", 1);
  with("allow", nullptr);
  {
    json j = good;
    j["password"] = "short_1";
    j["password2"] = "short_1";
    bad.push_back(j);
  }
  for (const json& j : bad) {
    INFO(j.dump());
    CheckJsonError(PostJson(server, "/register/", j.dump()), 400);
  }
  CHECK(Count(server, "usernames", "alice") == 0);
  // More than five bad requests, yet the code still works.
  CheckOk(PostJson(server, "/register/", good.dump()));
}

TEST_CASE("register with a wrong sms code is a JSON 400", "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000019");
  CheckJsonError(
      PostJson(server, "/register/", RegisterForm("alice", "13800000019", WrongCode(code)).dump()),
      400);
  CHECK(Count(server, "usernames", "alice") == 0);
}

TEST_CASE("register without a code ever sent for the mobile is a JSON 400", "[api]") {
  TestServer server;
  CheckJsonError(
      PostJson(server, "/register/", RegisterForm("alice", "13800000020", "123456").dump()), 400);
}

TEST_CASE("five wrong codes spend the code so the right one then fails", "[api]") {
  TestServer server;
  const std::string mobile = "13800000021";
  std::string code = CodeFor(server, mobile);
  for (int i = 0; i < 5; ++i) {
    CheckJsonError(
        PostJson(server, "/register/", RegisterForm("alice", mobile, WrongCode(code)).dump()), 400);
  }
  // The sixth try, with the right code, is refused: the fifth wrong one spent it.
  CheckJsonError(PostJson(server, "/register/", RegisterForm("alice", mobile, code).dump()), 400);
  CHECK(Count(server, "usernames", "alice") == 0);
}

TEST_CASE("four wrong codes leave the right code usable", "[api]") {
  TestServer server;
  const std::string mobile = "13800000022";
  std::string code = CodeFor(server, mobile);
  for (int i = 0; i < 4; ++i) {
    CheckJsonError(
        PostJson(server, "/register/", RegisterForm("alice", mobile, WrongCode(code)).dump()), 400);
  }
  CheckOk(PostJson(server, "/register/", RegisterForm("alice", mobile, code).dump()));
}

TEST_CASE("parallel wrong guesses over HTTP never get more than five tries", "[api]") {
  TestServer server;
  const std::string mobile = "13800000023";
  std::string code = CodeFor(server, mobile);
  const std::string guess =
      RawPost("/register/", RegisterForm("alice", mobile, WrongCode(code)).dump());
  // Connect first, one at a time, so that the requests (not the connects)
  // arrive together.
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    int fd = ConnectLoopback(server.port());
    REQUIRE(fd >= 0);
    fds.push_back(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<RawResponse>> guesses;
  for (int fd : fds) {
    guesses.push_back(std::async(std::launch::async, [fd, &guess, start] {
      start.wait();
      return Exchange(fd, guess);
    }));
  }
  go.set_value();
  for (auto& g : guesses) {
    RawResponse r = g.get();
    INFO(r.head << "\n" << r.body);
    CHECK(r.status == 400);
  }
  CheckJsonError(PostJson(server, "/register/", RegisterForm("alice", mobile, code).dump()), 400);
  CHECK(Count(server, "usernames", "alice") == 0);
}

TEST_CASE("register with a taken username is a JSON 409", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000024");
  std::string code = CodeFor(server, "13800000025");
  CheckJsonError(PostJson(server, "/register/", RegisterForm("alice", "13800000025", code).dump()),
                 409);
  CHECK(Count(server, "mobiles", "13800000025") == 0);
}

TEST_CASE("register with a taken mobile is a JSON 409", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000026");
  // A new code for the same mobile needs the 60 s send interval; the code
  // already spent still gets a 409 before anything else about it.
  CheckJsonError(
      PostJson(server, "/register/", RegisterForm("bobby", "13800000026", "123456").dump()), 409);
  CHECK(Count(server, "usernames", "bobby") == 0);
}

TEST_CASE("two racing registrations of one username get one 200 and one 409", "[api]") {
  TestServer server;
  for (int round = 0; round < 3; ++round) {
    std::string username = "racer" + std::to_string(round);
    std::string m1 = "1390000010" + std::to_string(round);
    std::string m2 = "1390000020" + std::to_string(round);
    std::string c1 = CodeFor(server, m1);
    std::string c2 = CodeFor(server, m2);
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto racer = [&server, &username, start](std::string mobile, std::string code) {
      start.wait();
      auto res = PostJson(server, "/register/", RegisterForm(username, mobile, code).dump());
      return res ? res->status : -1;
    };
    auto a = std::async(std::launch::async, racer, m1, c1);
    auto b = std::async(std::launch::async, racer, m2, c2);
    go.set_value();
    std::multiset<int> statuses = {a.get(), b.get()};
    INFO("round " << round);
    CHECK(statuses == std::multiset<int>{200, 409});
    CHECK(Count(server, "usernames", username) == 1);
    CHECK(Count(server, "mobiles", m1) + Count(server, "mobiles", m2) == 1);
  }
}
