// Abuse limits over real HTTP (issue: safe to put on the internet): per-IP
// token buckets, SMS budgets, login locks, the cross-origin (CSRF) policy and
// CORS, each answered as the contract says and counted in /metrics.
//
// TestServer runs with --abuse-limits off; each test here switches on what
// it is about, with limits small enough to hit in a few requests.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::TestServer;

namespace {

constexpr const char* kPassword = "password_1";

// On: the defaults, then whatever tweak changes.
std::function<void(regd::app::Config&)> LimitsOn(std::function<void(regd::app::Config&)> tweak) {
  return [tweak](regd::app::Config& c) {
    c.abuse_limits = true;
    if (tweak) tweak(c);
  };
}

// A 429 with Retry-After (seconds > 0) and the JSON error shape.
int Check429(const httplib::Result& res) {
  REQUIRE(res);
  INFO("status " << res->status << " body: " << res->body);
  REQUIRE(res->status == 429);
  CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  json j = json::parse(res->body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["code"] == 429);
  CHECK_FALSE(j["errmsg"].get<std::string>().empty());
  int retry = std::atoi(res->get_header_value("Retry-After").c_str());
  CHECK(retry > 0);
  return retry;
}

// The value of regd_limited_total{limit="name"} on /metrics.
long Limited(TestServer& s, const std::string& name) {
  auto res = s.Client().Get("/metrics");
  REQUIRE(res);
  std::smatch m;
  std::regex re("regd_limited_total\\{limit=\"" + name + "\"\\} ([0-9]+)");
  REQUIRE(std::regex_search(res->body, m, re));
  return std::stol(m[1]);
}

httplib::Result Login(TestServer& s, const std::string& user, const std::string& password,
                      const httplib::Headers& headers = {}) {
  json body = {{"username", user}, {"password", password}};
  return s.Client().Post("/login/", headers, body.dump(), "application/json");
}

}  // namespace

TEST_CASE("captchas beyond the per-IP rate get 429 with Retry-After", "[abuse]") {
  TestServer s(LimitsOn([](auto& c) { c.abuse.captcha = {3.0 / 60, 3}; }));
  auto cli = s.Client();
  for (int i = 0; i < 3; ++i) {
    auto r = cli.Get("/image_codes/" + TestServer::NewUuid() + "/");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(Check429(cli.Get("/image_codes/" + TestServer::NewUuid() + "/")) == 20);
  CHECK(Limited(s, "ip_captcha") == 1);
}

TEST_CASE("SMS code requests beyond the per-IP rate get 429, even with wrong captchas", "[abuse]") {
  TestServer s(LimitsOn([](auto& c) { c.abuse.sms = {2.0 / 3600, 2}; }));
  auto cli = s.Client();
  CHECK(s.RequestCode("13800138001") == 200);
  auto wrong =
      cli.Get("/sms_codes/13800138002/?image_code=ZZZZ&image_code_id=" + TestServer::NewUuid());
  REQUIRE(wrong);
  CHECK(wrong->status == 400);
  CHECK(s.RequestCode("13800138003") == 429);
  CHECK(Check429(cli.Get("/sms_codes/13800138003/?image_code=ABCD&image_code_id=" +
                         TestServer::NewUuid())) > 1000);
  CHECK(Limited(s, "ip_sms") == 2);
}

TEST_CASE("count lookups beyond the per-IP rate get 429 (enumeration)", "[abuse]") {
  TestServer s(LimitsOn([](auto& c) { c.abuse.count = {5.0 / 60, 5}; }));
  auto cli = s.Client();
  for (int i = 0; i < 5; ++i) {
    auto r = cli.Get(i % 2 ? "/usernames/alice_" + std::to_string(i) + "/count/"
                           : "/mobiles/1380013800" + std::to_string(i) + "/count/");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  Check429(cli.Get("/usernames/someone/count/"));
  Check429(cli.Get("/mobiles/13800138000/count/"));
  CHECK(Limited(s, "ip_count") == 2);
}

TEST_CASE("registrations and logins beyond the per-IP rate get 429", "[abuse]") {
  TestServer s(LimitsOn([](auto& c) {
    c.abuse.registration = {1.0 / 3600, 1};
    c.abuse.login = {2.0 / 60, 2};
  }));
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  std::string code = s.RequestAndReadCode("13800138002");
  REQUIRE_FALSE(code.empty());
  Check429(s.Register("bob_22", "13800138002", code));
  CHECK(Limited(s, "ip_register") == 1);
  REQUIRE(Login(s, "alice_1", kPassword)->status == 200);
  REQUIRE(Login(s, "alice_1", kPassword)->status == 200);
  Check429(Login(s, "alice_1", kPassword));
  CHECK(Limited(s, "ip_login") == 1);
}

TEST_CASE("behind --trust-proxy the client is the last X-Forwarded-For entry", "[abuse]") {
  TestServer s(LimitsOn([](auto& c) {
    c.trust_proxy = true;
    c.abuse.captcha = {1.0 / 60, 1};
  }));
  auto cli = s.Client();
  auto get = [&](const std::string& xff) {
    auto r = cli.Get("/image_codes/" + TestServer::NewUuid() + "/", {{"X-Forwarded-For", xff}});
    REQUIRE(r);
    return r->status;
  };
  CHECK(get("203.0.113.9, 198.51.100.1") == 200);
  CHECK(get("1.1.1.1, 198.51.100.1") == 429);  // the client cannot spoof the first entry
  CHECK(get("198.51.100.2") == 200);
}

TEST_CASE("without --trust-proxy X-Forwarded-For is ignored", "[abuse]") {
  TestServer s(LimitsOn([](auto& c) { c.abuse.captcha = {1.0 / 60, 1}; }));
  auto cli = s.Client();
  auto r1 =
      cli.Get("/image_codes/" + TestServer::NewUuid() + "/", {{"X-Forwarded-For", "1.1.1.1"}});
  auto r2 =
      cli.Get("/image_codes/" + TestServer::NewUuid() + "/", {{"X-Forwarded-For", "2.2.2.2"}});
  REQUIRE(r1);
  CHECK(r1->status == 200);
  Check429(r2);
}

TEST_CASE("five wrong passwords lock the account for that client only, before any hashing",
          "[abuse]") {
  TestServer s(LimitsOn([](auto& c) { c.trust_proxy = true; }));
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  httplib::Headers attacker = {{"X-Forwarded-For", "203.0.113.66"}};
  for (int i = 0; i < 5; ++i) {
    auto r = Login(s, "alice_1", "wrong_pass_" + std::to_string(i), attacker);
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  // Locked for the attacker, even with the right password.
  CHECK(Check429(Login(s, "alice_1", kPassword, attacker)) == 30);
  CHECK(Limited(s, "login_locked") == 1);
  // The real user, elsewhere, signs in.
  auto ok = Login(s, "alice_1", kPassword, {{"X-Forwarded-For", "198.51.100.7"}});
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("a spent SMS budget stops codes, shows in /metrics and is logged", "[abuse]") {
  TestServer s(LimitsOn([](auto& c) { c.sms_budget_hour = 2; }));
  CHECK(s.RequestCode("13800138001") == 200);
  CHECK(s.RequestCode("13800138002") == 200);
  auto cli = s.Client();
  std::string uuid = TestServer::NewUuid();
  REQUIRE(cli.Get("/image_codes/" + uuid + "/"));
  auto r = cli.Get("/sms_codes/13800138003/?image_code=ABCD&image_code_id=" + uuid);
  Check429(r);
  json j = json::parse(r->body);
  CHECK(j["field"] == "sms_code");
  CHECK(Limited(s, "sms_budget") == 1);
  auto metrics = cli.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("regd_sms_budget_spent 1") != std::string::npos);
}

TEST_CASE("abuse limits switched off lift every limit", "[abuse]") {
  TestServer s([](auto& c) {
    c.abuse.captcha = {1.0 / 60, 1};
    c.sms_budget_hour = 1;
  });
  auto cli = s.Client();
  for (int i = 0; i < 5; ++i) {
    CHECK(s.RequestCode("1380013800" + std::to_string(i)) == 200);
  }
  for (int i = 0; i < 7; ++i) {
    auto r = Login(s, "nobody_1", "wrong_pass_1");
    REQUIRE(r);
    CHECK(r->status == 400);
  }
}

// --- cross-origin requests (CSRF) and CORS ---

TEST_CASE("a cross-site browser POST is refused 403 before it is handled", "[abuse]") {
  TestServer s;  // the origin check is not an abuse limit: always on
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  json body = {{"username", "alice_1"}, {"password", kPassword}};
  auto cli = s.Client();
  auto evil =
      cli.Post("/login/", {{"Origin", "https://evil.example"}}, body.dump(), "application/json");
  REQUIRE(evil);
  CHECK(evil->status == 403);
  CHECK(json::parse(evil->body)["code"] == 403);
  CHECK(regd::testing::SetCookieValue(*evil, "sessionid").empty());
  auto fetch_meta =
      cli.Post("/login/", {{"Sec-Fetch-Site", "cross-site"}}, body.dump(), "application/json");
  REQUIRE(fetch_meta);
  CHECK(fetch_meta->status == 403);
  auto sms =
      cli.Get("/sms_codes/13800138009/?image_code=ABCD&image_code_id=" + TestServer::NewUuid(),
              {{"Sec-Fetch-Site", "cross-site"}});
  REQUIRE(sms);
  CHECK(sms->status == 403);
  auto logout = cli.Delete("/logout/", {{"Origin", "https://evil.example"}});
  REQUIRE(logout);
  CHECK(logout->status == 403);
  CHECK(Limited(s, "cross_origin") == 4);
}

TEST_CASE("same-origin requests and clients that are not browsers pass", "[abuse]") {
  TestServer s;
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  json body = {{"username", "alice_1"}, {"password", kPassword}};
  auto cli = s.Client();
  std::string host = "127.0.0.1:" + std::to_string(s.port());
  auto same = cli.Post("/login/", {{"Origin", "http://" + host}}, body.dump(), "application/json");
  REQUIRE(same);
  CHECK(same->status == 200);
  auto meta = cli.Post("/login/", {{"Sec-Fetch-Site", "same-origin"}, {"Origin", "http://" + host}},
                       body.dump(), "application/json");
  REQUIRE(meta);
  CHECK(meta->status == 200);
  auto plain = cli.Post("/login/", body.dump(), "application/json");  // curl, a server
  REQUIRE(plain);
  CHECK(plain->status == 200);
  // A cross-site GET of a page or a read is fine.
  auto page = cli.Get("/register.html", {{"Sec-Fetch-Site", "cross-site"}});
  REQUIRE(page);
  CHECK(page->status == 200);
}

TEST_CASE("an allowed origin gets CORS headers with credentials and its preflight", "[abuse]") {
  TestServer s([](auto& c) { c.allowed_origins = {"https://shop.example"}; });
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  auto cli = s.Client();
  auto pre = cli.Options("/login/", {{"Origin", "https://shop.example"},
                                     {"Access-Control-Request-Method", "POST"},
                                     {"Access-Control-Request-Headers", "content-type"}});
  REQUIRE(pre);
  CHECK(pre->status == 204);
  CHECK(pre->get_header_value("Access-Control-Allow-Origin") == "https://shop.example");
  CHECK(pre->get_header_value("Access-Control-Allow-Credentials") == "true");
  CHECK(pre->get_header_value("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  json body = {{"username", "alice_1"}, {"password", kPassword}};
  auto login =
      cli.Post("/login/", {{"Origin", "https://shop.example"}, {"Sec-Fetch-Site", "cross-site"}},
               body.dump(), "application/json");
  REQUIRE(login);
  CHECK(login->status == 200);
  CHECK(login->get_header_value("Access-Control-Allow-Origin") == "https://shop.example");
  CHECK(login->get_header_value("Vary") == "Origin");
  // Another origin gets neither.
  auto other = cli.Options(
      "/login/", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  REQUIRE(other);
  CHECK(other->status == 403);
  CHECK(other->get_header_value("Access-Control-Allow-Origin").empty());
}

TEST_CASE("behind --trust-proxy, X-Forwarded-Proto: https makes cookies Secure", "[abuse]") {
  TestServer s([](auto& c) { c.trust_proxy = true; });
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  json body = {{"username", "alice_1"}, {"password", kPassword}};
  auto cli = s.Client();
  auto tls = cli.Post("/login/", {{"X-Forwarded-Proto", "https"}}, body.dump(), "application/json");
  REQUIRE(tls);
  CHECK(regd::testing::SetCookieHeader(*tls, "sessionid").find("; Secure") != std::string::npos);
  auto plain = cli.Post("/login/", body.dump(), "application/json");
  REQUIRE(plain);
  CHECK(regd::testing::SetCookieHeader(*plain, "sessionid").find("Secure") == std::string::npos);
}
