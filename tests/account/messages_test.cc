#include "account/messages.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/support/test_server.h"

using regd::account::FindMessage;
using regd::account::Lang;
using regd::account::PreferredLanguage;
namespace msg = regd::account::msg;

TEST_CASE("Accept-Language picks Chinese or English by preference", "[messages]") {
  CHECK(PreferredLanguage("") == Lang::kEn);
  CHECK(PreferredLanguage("zh-CN,zh;q=0.9,en;q=0.8") == Lang::kZh);
  CHECK(PreferredLanguage("en-US,en;q=0.9,zh-CN;q=0.8") == Lang::kEn);
  CHECK(PreferredLanguage("fr-FR, zh;q=0.5, en;q=0.3") == Lang::kZh);
  CHECK(PreferredLanguage("en;q=0.2, ZH-TW;q=0.7") == Lang::kZh);
  CHECK(PreferredLanguage("zh;q=0, en") == Lang::kEn);
  CHECK(PreferredLanguage("de, fr") == Lang::kEn);
  CHECK(PreferredLanguage(",,;q=,zh-Hans") == Lang::kZh);
}

TEST_CASE("every message is found by its English text and has a Chinese one", "[messages]") {
  for (const auto* m : {&msg::kWrongLogin, &msg::kImageCodeWrong, &msg::kSendTooSoon,
                        &msg::kUsernameTaken, &msg::kBodyTooLarge, &msg::kUnavailable}) {
    REQUIRE(FindMessage(m->en) == m);
    CHECK(std::string(m->zh).size() > 0);
    CHECK(std::string(m->zh) != m->en);
  }
  CHECK(FindMessage("no such message") == nullptr);
}

TEST_CASE("a JSON error follows Accept-Language and names its field", "[messages][api]") {
  regd::testing::TestServer server;
  auto cli = server.Client();
  httplib::Headers zh = {{"Accept-Language", "zh-CN,zh;q=0.9"}};
  auto res = cli.Get("/usernames/abc/count/", zh);
  REQUIRE(res);
  CHECK(res->status == 400);
  auto j = nlohmann::json::parse(res->body);
  CHECK(j["code"] == 400);
  CHECK(j["errmsg"] == msg::kBadUsername.zh);
  CHECK(j["field"] == "username");

  auto en = cli.Get("/usernames/abc/count/");
  REQUIRE(en);
  CHECK(nlohmann::json::parse(en->body)["errmsg"] == msg::kBadUsername.en);

  // Also through gzip, and for httplib's own errors.
  httplib::Headers zh_gzip = {{"Accept-Language", "zh"}, {"Accept-Encoding", "gzip"}};
  auto nf = cli.Get("/no/such/thing", zh_gzip);
  REQUIRE(nf);
  CHECK(nf->status == 404);
  CHECK(nlohmann::json::parse(nf->body)["errmsg"] == msg::kNotFound.zh);
  auto login = cli.Post("/login/", zh, R"({"username":"nobody_1","password":"password_1"})",
                        "application/json");
  REQUIRE(login);
  auto lj = nlohmann::json::parse(login->body);
  CHECK(lj["errmsg"] == msg::kWrongLogin.zh);
  CHECK_FALSE(lj.contains("field"));  // login never says which field was wrong
}
