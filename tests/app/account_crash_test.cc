// Crash tests for the account writes beyond sign-up: the real regd binary is
// killed with SIGKILL right after a 200 of a password reset, a password
// change or a change of mobile, then restarted on the same data dir. What
// was acknowledged holds: the new password logs in and the old does not,
// ended sessions stay ended, the account is on its new mobile, and the
// notice SMS to the old mobile is still sent.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::FakeSmsServer;
using regd::testing::RegdProcess;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

std::vector<std::string> Args(const TempDir& dir, const FakeSmsServer& sms) {
  return {"--port",
          "0",
          "--data-dir",
          dir.Join("data"),
          "--sms-provider",
          "webhook",
          "--sms-webhook-url",
          sms.url(),
          "--pwhash",
          "min",
          "--dev-fixed-captcha",
          "ABCD",
          "--access-log",
          "false",
          "--abuse-limits",
          "off",
          "--sms-resend-seconds",
          "0",
          "--retry-base-ms",
          "100"};
}

httplib::Client ClientFor(const RegdProcess& p) {
  httplib::Client cli("127.0.0.1", p.port());
  cli.set_connection_timeout(std::chrono::seconds(2));
  cli.set_read_timeout(std::chrono::seconds(10));
  return cli;
}

size_t MessagesTo(FakeSmsServer& sms, const std::string& mobile) {
  size_t n = 0;
  for (const auto& m : sms.Accepted()) n += m.mobile == mobile;
  return n;
}

// Asks for a code for purpose (with session's cookie) and returns it from
// the fake phone; fails the test if none arrives.
std::string NewCode(httplib::Client& cli, FakeSmsServer& sms, const std::string& mobile,
                    const std::string& purpose, const std::string& session = "") {
  size_t before = MessagesTo(sms, mobile);
  std::string uuid = TestServer::NewUuid();
  REQUIRE(cli.Get("/image_codes/" + uuid + "/")->status == 200);
  httplib::Headers h;
  if (!session.empty()) h.emplace("Cookie", "sessionid=" + session);
  auto res = cli.Get(
      "/sms_codes/" + mobile + "/?image_code=ABCD&image_code_id=" + uuid + "&purpose=" + purpose,
      h);
  REQUIRE(res);
  REQUIRE(res->status == 200);
  for (int i = 0; i < 400 && MessagesTo(sms, mobile) == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(MessagesTo(sms, mobile) > before);
  std::string code;
  for (const auto& m : sms.Accepted()) {
    if (m.mobile == mobile) code = m.code;
  }
  return code;
}

std::string CookieValue(const httplib::Response& res, const std::string& name) {
  for (const auto& [key, value] : res.headers) {
    if (key == "Set-Cookie" && value.rfind(name + "=", 0) == 0) {
      return value.substr(name.size() + 1, value.find(';') - name.size() - 1);
    }
  }
  return "";
}

std::string Register(httplib::Client& cli, FakeSmsServer& sms, const std::string& username,
                     const std::string& mobile) {
  std::string code = NewCode(cli, sms, mobile, "register");
  json body = {{"username", username}, {"password", "password_1"}, {"password2", "password_1"},
               {"mobile", mobile},     {"sms_code", code},         {"allow", true}};
  auto res = cli.Post("/register/", body.dump(), "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return CookieValue(*res, "sessionid");
}

int LoginStatus(httplib::Client& cli, const std::string& login, const std::string& password) {
  json body = {{"username", login}, {"password", password}};
  auto res = cli.Post("/login/", body.dump(), "application/json");
  return res ? res->status : -1;
}

int InfoStatus(httplib::Client& cli, const std::string& session) {
  auto res = cli.Get("/info/", {{"Cookie", "sessionid=" + session}});
  return res ? res->status : -1;
}

}  // namespace

TEST_CASE("kill -9 right after the 200 of a reset or password or mobile change loses nothing",
          "[crash]") {
  TempDir dir;
  FakeSmsServer sms;
  std::string alice_old, bobby_old, carol;

  {  // A reset, then kill -9 right after its 200.
    RegdProcess regd(Args(dir, sms), dir.Join("regd1.log"));
    REQUIRE(regd.started());
    auto cli = ClientFor(regd);
    alice_old = Register(cli, sms, "alice", "13900005001");
    bobby_old = Register(cli, sms, "bobby", "13900005002");
    carol = Register(cli, sms, "carol", "13900005003");
    std::string code = NewCode(cli, sms, "13900005001", "reset");
    json body = {{"mobile", "13900005001"},
                 {"sms_code", code},
                 {"password", "reset_pass_1"},
                 {"password2", "reset_pass_1"}};
    auto res = cli.Post("/password/reset/", body.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    regd.Kill9();
  }
  {  // The reset held; a password change, then kill -9.
    RegdProcess regd(Args(dir, sms), dir.Join("regd2.log"));
    REQUIRE(regd.started());
    auto cli = ClientFor(regd);
    CHECK(LoginStatus(cli, "alice", "reset_pass_1") == 200);
    CHECK(LoginStatus(cli, "alice", "password_1") == 400);
    CHECK(InfoStatus(cli, alice_old) == 401);
    json body = {{"old_password", "password_1"},
                 {"new_password", "change_pass_1"},
                 {"new_password2", "change_pass_1"}};
    auto res = cli.Put("/password/", {{"Cookie", "sessionid=" + bobby_old}}, body.dump(),
                       "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    regd.Kill9();
  }
  {  // The change held; a change of mobile with the provider down, then kill -9.
    RegdProcess regd(Args(dir, sms), dir.Join("regd3.log"));
    REQUIRE(regd.started());
    auto cli = ClientFor(regd);
    CHECK(LoginStatus(cli, "bobby", "change_pass_1") == 200);
    CHECK(LoginStatus(cli, "bobby", "password_1") == 400);
    CHECK(InfoStatus(cli, bobby_old) == 401);
    std::string code = NewCode(cli, sms, "13900005004", "change_mobile", carol);
    sms.SetDefaultStatus(503);  // the notice to the old mobile stays queued
    json body = {{"mobile", "13900005004"}, {"sms_code", code}, {"password", "password_1"}};
    auto res =
        cli.Put("/mobile/", {{"Cookie", "sessionid=" + carol}}, body.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    regd.Kill9();
  }
  size_t notices_before = MessagesTo(sms, "13900005003");
  sms.SetDefaultStatus(200);
  RegdProcess regd(Args(dir, sms), dir.Join("regd4.log"));
  REQUIRE(regd.started());
  auto cli = ClientFor(regd);
  CHECK(LoginStatus(cli, "13900005004", "password_1") == 200);
  CHECK(LoginStatus(cli, "13900005003", "password_1") == 400);
  auto info = cli.Get("/info/", {{"Cookie", "sessionid=" + carol}});
  REQUIRE(info);
  REQUIRE(info->status == 200);
  CHECK(json::parse(info->body)["info_data"]["mobile"] == "13900005004");
  // The notice queued before the kill reaches the old mobile after it.
  for (int i = 0; i < 400 && MessagesTo(sms, "13900005003") == notices_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CHECK(MessagesTo(sms, "13900005003") == notices_before + 1);
}
