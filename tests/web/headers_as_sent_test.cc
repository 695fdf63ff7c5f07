// Security-relevant headers are read as the client sent them
// (web/event_server.h RawHeaders, web/routes.cc ClientAddress): httplib 0.11
// percent-decodes header values and stops at a NUL, and reads only the first
// of repeated lines, which let a client behind --trust-proxy choose its own
// address, and smuggle a cookie or an Origin past an exact comparison.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::TestServer;

namespace {

// Behind a trusted proxy, with one captcha per client a minute: a second
// captcha from the same client is 429, from another client 200.
std::function<void(regd::app::Config&)> OneCaptchaPerClient() {
  return [](regd::app::Config& c) {
    c.abuse_limits = true;
    c.trust_proxy = true;
    c.abuse.captcha = {1.0 / 60, 1};
  };
}

int Captcha(TestServer& s, const httplib::Headers& headers) {
  auto r = s.Client().Get("/image_codes/" + TestServer::NewUuid() + "/", headers);
  REQUIRE(r);
  return r->status;
}

}  // namespace

TEST_CASE("a %00 in X-Forwarded-For does not hide the proxy's entry", "[headers]") {
  TestServer s(OneCaptchaPerClient());
  // The proxy appended 198.51.100.1; the client wrote the rest.
  CHECK(Captcha(s, {{"X-Forwarded-For", "10.9.9.1%00, 198.51.100.1"}}) == 200);
  CHECK(Captcha(s, {{"X-Forwarded-For", "10.9.9.2%00, 198.51.100.1"}}) == 429);
  CHECK(Captcha(s, {{"X-Forwarded-For", "198.51.100.1"}}) == 429);
}

TEST_CASE("a second X-Forwarded-For line, as HAProxy appends it, holds the client", "[headers]") {
  TestServer s(OneCaptchaPerClient());
  CHECK(Captcha(s, {{"X-Forwarded-For", "10.0.0.1"}, {"X-Forwarded-For", "198.51.100.1"}}) == 200);
  CHECK(Captcha(s, {{"X-Forwarded-For", "10.0.0.2"}, {"X-Forwarded-For", "198.51.100.1"}}) == 429);
  // Another client behind the same proxy is not held back.
  CHECK(Captcha(s, {{"X-Forwarded-For", "10.0.0.1"}, {"X-Forwarded-For", "198.51.100.2"}}) == 200);
}

TEST_CASE("an X-Forwarded-For whose last entry is not an address counts as the proxy",
          "[headers]") {
  TestServer s(OneCaptchaPerClient());
  CHECK(Captcha(s, {{"X-Forwarded-For", "unknown-1"}}) == 200);
  CHECK(Captcha(s, {{"X-Forwarded-For", "unknown-2"}}) == 429);
  CHECK(Captcha(s, {{"X-Forwarded-For", "1.2.3.4, 198.51.100.1:443"}}) == 429);
  CHECK(Captcha(s, {{"X-Forwarded-For", "[::1]"}}) == 429);
  CHECK(Captcha(s, {}) == 429);  // the proxy itself (the loopback peer)
  // A plain IPv6 address is a client of its own.
  CHECK(Captcha(s, {{"X-Forwarded-For", "2001:db8::7"}}) == 200);
}

TEST_CASE("a session cookie with %00 after the id is not that session", "[headers]") {
  TestServer s;
  std::string sid = s.SignUp("alice_1", "13800138001");
  REQUIRE_FALSE(sid.empty());
  auto cli = s.Client();
  auto good = cli.Get("/info/", {{"Cookie", "sessionid=" + sid}});
  REQUIRE(good);
  REQUIRE(good->status == 200);
  for (const std::string& cookie :
       {"sessionid=" + sid + "%00", "sessionid=" + sid + "%00junk", "sessionid=%" + sid}) {
    INFO(cookie);
    auto r = cli.Get("/info/", {{"Cookie", cookie}});
    REQUIRE(r);
    CHECK(r->status != 200);
    CHECK(r->body.find("alice_1") == std::string::npos);
    CHECK(json::parse(r->body, nullptr, false).is_object());
  }
}

TEST_CASE("cookies on several Cookie lines are all read", "[headers]") {
  TestServer s;
  std::string sid = s.SignUp("alice_1", "13800138001");
  REQUIRE_FALSE(sid.empty());
  auto r = s.Client().Get("/info/", {{"Cookie", "theme=dark"}, {"Cookie", "sessionid=" + sid}});
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("an Origin percent-encoded to look like an allowed one is cross-site", "[headers]") {
  TestServer s([](auto& c) { c.allowed_origins = {"https://shop.example"}; });
  REQUIRE_FALSE(s.SignUp("alice_1", "13800138001").empty());
  json body = {{"username", "alice_1"}, {"password", "password_1"}};
  auto cli = s.Client();
  auto spoofed =
      cli.Post("/login/", {{"Origin", "https://shop%2Eexample"}}, body.dump(), "application/json");
  REQUIRE(spoofed);
  CHECK(spoofed->status == 403);
  CHECK(spoofed->get_header_value("Access-Control-Allow-Origin").empty());
  CHECK(regd::testing::SetCookieValue(*spoofed, "sessionid").empty());
  auto pre = cli.Options(
      "/login/", {{"Origin", "https://shop%2Eexample"}, {"Access-Control-Request-Method", "POST"}});
  REQUIRE(pre);
  CHECK(pre->get_header_value("Access-Control-Allow-Origin").empty());
  // The origin as the browser sends it still works.
  auto real =
      cli.Post("/login/", {{"Origin", "https://shop.example"}}, body.dump(), "application/json");
  REQUIRE(real);
  CHECK(real->status == 200);
}
