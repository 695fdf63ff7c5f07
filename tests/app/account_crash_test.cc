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

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_client.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"

using nlohmann::json;
using regd::testing::ClientOf;
using regd::testing::CodeVia;
using regd::testing::FakeSmsServer;
using regd::testing::InfoStatus;
using regd::testing::LoginStatus;
using regd::testing::RegdProcess;
using regd::testing::RegisterVia;
using regd::testing::TempDir;
using regd::testing::TestRegdArgs;

namespace {

std::vector<std::string> Args(const TempDir& dir, const FakeSmsServer& sms) {
  return TestRegdArgs(
      dir.Join("data"), sms.url(),
      {"--abuse-limits", "off", "--sms-resend-seconds", "0", "--retry-base-ms", "100"});
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
    auto cli = ClientOf(regd);
    alice_old = RegisterVia(cli, sms, "alice", "13900005001");
    bobby_old = RegisterVia(cli, sms, "bobby", "13900005002");
    carol = RegisterVia(cli, sms, "carol", "13900005003");
    std::string code = CodeVia(cli, sms, "13900005001", "reset");
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
    auto cli = ClientOf(regd);
    CHECK(LoginStatus(cli, "alice", "reset_pass_1") == 200);
    CHECK(LoginStatus(cli, "alice", "password_1") == 400);
    CHECK(InfoStatus(cli, alice_old) == 401);
    json body = {{"old_password", "password_1"},
                 {"new_password", "change_pass_1"},
                 {"new_password2", "change_pass_1"}};
    auto res = cli.Put("/password/", {{"Cookie", bobby_old}}, body.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    regd.Kill9();
  }
  {  // The change held; a change of mobile with the provider down, then kill -9.
    RegdProcess regd(Args(dir, sms), dir.Join("regd3.log"));
    REQUIRE(regd.started());
    auto cli = ClientOf(regd);
    CHECK(LoginStatus(cli, "bobby", "change_pass_1") == 200);
    CHECK(LoginStatus(cli, "bobby", "password_1") == 400);
    CHECK(InfoStatus(cli, bobby_old) == 401);
    std::string code = CodeVia(cli, sms, "13900005004", "change_mobile", carol);
    sms.SetDefaultStatus(503);  // the notice to the old mobile stays queued
    json body = {{"mobile", "13900005004"}, {"sms_code", code}, {"password", "password_1"}};
    auto res = cli.Put("/mobile/", {{"Cookie", carol}}, body.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    regd.Kill9();
  }
  size_t notices_before = sms.AcceptedCount("13900005003");
  sms.SetDefaultStatus(200);
  RegdProcess regd(Args(dir, sms), dir.Join("regd4.log"));
  REQUIRE(regd.started());
  auto cli = ClientOf(regd);
  CHECK(LoginStatus(cli, "13900005004", "password_1") == 200);
  CHECK(LoginStatus(cli, "13900005003", "password_1") == 400);
  auto info = cli.Get("/info/", {{"Cookie", carol}});
  REQUIRE(info);
  REQUIRE(info->status == 200);
  CHECK(json::parse(info->body)["info_data"]["mobile"] == "13900005004");
  // The notice queued before the kill reaches the old mobile after it.
  CHECK(sms.WaitForCodeAfter("13900005003", notices_before, std::chrono::seconds(10)).has_value());
  CHECK(sms.AcceptedCount("13900005003") == notices_before + 1);
}
