// Methods over real HTTP: a wrong method on a known path (TRACE included) is
// a JSON 405 naming the allowed ones; HEAD is a GET without the body on the
// routes that only read, and a 405 that changes nothing on the routes that
// create (a captcha, a code).
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/raw_http.h"
#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::GetCaptcha;
using regd::testing::RawRequest;
using regd::testing::RawResponse;
using regd::testing::TestServer;
using regd::testing::Uuid;

TEST_CASE("a wrong method on a known path is a JSON 405", "[api]") {
  TestServer server;
  auto cli = server.Client();
  std::string uuid = Uuid();
  auto get_register = cli.Get("/register/");
  CheckJsonError(get_register, 405);
  CHECK(get_register->get_header_value("Allow").find("POST") != std::string::npos);
  CheckJsonError(cli.Post("/info/", "{}", "application/json"), 405);
  CheckJsonError(cli.Put("/login/", "{}", "application/json"), 405);
  CheckJsonError(cli.Get("/login/"), 405);
  CheckJsonError(cli.Get("/logout/"), 405);
  CheckJsonError(cli.Post("/logout/", "", "application/json"), 405);
  CheckJsonError(cli.Delete("/info/"), 405);
  CheckJsonError(cli.Patch("/register/", "{}", "application/json"), 405);
  CheckJsonError(cli.Post(("/image_codes/" + uuid + "/").c_str(), "", "text/plain"), 405);
  CheckJsonError(cli.Delete("/usernames/alice/count/"), 405);
  CheckJsonError(cli.Post("/healthz", "", "text/plain"), 405);
  CheckJsonError(cli.Options("/register/"), 405);
}

TEST_CASE("HEAD on /sms_codes/ sends no code and spends no captcha (it sent a code)", "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  GetCaptcha(server, uuid);
  std::string path = "/sms_codes/13800000038/?image_code=" + std::string(TestServer::kCaptcha) +
                     "&image_code_id=" + uuid;
  auto head = server.Client().Head(path.c_str());
  REQUIRE(head);
  CHECK(head->status == 405);
  CHECK(head->get_header_value("Allow") == "GET");
  CHECK(head->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  CHECK(head->body.empty());
  // The captcha is still unused and nothing was queued: the GET sends the
  // one and only code.
  CheckOk(server.Client().Get(path.c_str()));
  REQUIRE(server.sms().WaitForAccepted(1, std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(server.sms().Accepted().size() == 1);
}

TEST_CASE("HEAD on /image_codes/ creates no captcha (it made one)", "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  auto head = server.Client().Head(("/image_codes/" + uuid + "/").c_str());
  REQUIRE(head);
  CHECK(head->status == 405);
  CHECK(head->get_header_value("Allow") == "GET");
  CHECK(head->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  // No answer was stored under the uuid, so it cannot be used for a code.
  auto sms = server.Client().Get(("/sms_codes/13800000039/?image_code=" +
                                  std::string(TestServer::kCaptcha) + "&image_code_id=" + uuid)
                                     .c_str());
  CheckJsonError(sms, 400);
  CHECK(server.sms().RequestCount() == 0);
}

TEST_CASE("HEAD is a GET without the body on routes that only read", "[api]") {
  TestServer server;
  auto cli = server.Client();
  for (const char* path :
       {"/usernames/alice/count/", "/rules.json", "/healthz", "/register.html"}) {
    INFO(path);
    auto head = cli.Head(path);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->body.empty());
  }
  auto post = cli.Post("/sms_codes/13800000039/", "", "text/plain");
  CheckJsonError(post, 405);
  CHECK(post->get_header_value("Allow") == "GET");
  auto del = cli.Delete("/rules.json");
  CheckJsonError(del, 405);
  CHECK(del->get_header_value("Allow") == "GET, HEAD");
}

TEST_CASE("a TRACE request is a JSON 405 like any other wrong method", "[api]") {
  TestServer server;
  for (const char* path : {"/register/", "/info/", "/register.html"}) {
    INFO(path);
    RawResponse r = RawRequest(server.port(), std::string("TRACE ") + path +
                                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                  "Connection: close\r\n\r\n");
    INFO(r.head << "\n" << r.body);
    CHECK(r.status == 405);
    json j = json::parse(r.body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["code"] == r.status);
  }
}
