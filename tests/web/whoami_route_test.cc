// GET /whoami over real HTTP, as nginx auth_request, Caddy forward_auth and
// Traefik ForwardAuth call it: 200 with the user in JSON and in
// X-Regd-User-Id / X-Regd-Username for a live session, a JSON 401 without
// one, never cached, and no per-address limit.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::SessionHeaders;
using regd::testing::SignUp;
using regd::testing::TestServer;

namespace {

size_t HeaderCount(const httplib::Response& res, const std::string& name) {
  return res.headers.count(name);
}

}  // namespace

TEST_CASE("whoami answers a live session's user in JSON and headers", "[whoami]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800006001");
  auto res = server.Client().Get("/whoami", SessionHeaders(session));
  json j = CheckOk(res);
  REQUIRE(j["user"].is_object());
  CHECK(j["user"]["username"] == "alice");
  CHECK(j["user"]["mobile"] == "13800006001");
  REQUIRE(j["user"]["id"].is_number_integer());
  CHECK(res->get_header_value("X-Regd-User-Id") == std::to_string(j["user"]["id"].get<int64_t>()));
  CHECK(res->get_header_value("X-Regd-Username") == "alice");
  CHECK(HeaderCount(*res, "Cache-Control") == 1);
  CHECK(res->get_header_value("Cache-Control") == "no-store");
  // HEAD, which some proxies send, is the same without the body.
  auto head = server.Client().Head("/whoami", SessionHeaders(session));
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("X-Regd-Username") == "alice");
}

TEST_CASE("whoami without a live session is a JSON 401 with no identity headers", "[whoami]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800006002");
  REQUIRE(server.Client().Delete("/logout/", SessionHeaders(session))->status == 200);
  for (const std::string& cookie : {std::string(), std::string("junk"), session}) {
    INFO(cookie);
    httplib::Headers h;
    if (!cookie.empty()) h = SessionHeaders(cookie);
    auto res = server.Client().Get("/whoami", h);
    CheckJsonError(res, 401);
    CHECK(res->get_header_value("X-Regd-User-Id").empty());
    CHECK(res->get_header_value("X-Regd-Username").empty());
    CHECK(res->get_header_value("Cache-Control") == "no-store");
  }
  // Identity headers a client sends are not echoed back.
  auto forged = server.Client().Get("/whoami", {{"X-Regd-User-Id", "1"}, {"X-User-Id", "1"}});
  CheckJsonError(forged, 401);
  CHECK(forged->get_header_value("X-Regd-User-Id").empty());
}

TEST_CASE("whoami has no per-address limit: a proxy asks it for every request", "[whoami]") {
  TestServer server([](regd::app::Config& c) { c.abuse_limits = true; });
  std::string session = SignUp(server, "alice", "13800006003");
  auto cli = server.Client();
  int ok = 0;
  for (int i = 0; i < 500; ++i) {
    auto res = cli.Get("/whoami", SessionHeaders(session));
    ok += res && res->status == 200;
  }
  CHECK(ok == 500);
  // The same address is still limited where limits apply.
  int limited = 0;
  for (int i = 0; i < 200; ++i) {
    auto res = cli.Get("/usernames/alice/count/");
    limited += res && res->status == 429;
  }
  CHECK(limited > 0);
}
