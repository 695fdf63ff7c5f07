// GET /sms_codes/<mobile>/ over real HTTP: a right captcha answer sends one
// 6-digit code through the provider; a missing, wrong, reused or unknown
// captcha, or a mobile that breaks the rule, is a JSON 400 and sends none; a
// second code within 60 s is a 429 with Retry-After.
#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <string>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::GetCaptcha;
using regd::testing::SmsCodes;
using regd::testing::TestServer;
using regd::testing::Uuid;

TEST_CASE("sms_codes answers 200 and the phone receives a 6-digit code", "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  GetCaptcha(server, uuid);
  CheckOk(SmsCodes(server, "13800000001", "?image_code=ABCD&image_code_id=" + uuid));
  auto code = server.sms().WaitForCode("13800000001", std::chrono::seconds(5));
  REQUIRE(code.has_value());
  CHECK(std::regex_match(*code, std::regex("[0-9]{6}")));
  auto all = server.sms().Accepted();
  REQUIRE(all.size() == 1);
  CHECK(all[0].mobile == "13800000001");
  CHECK(all[0].ttl_minutes == 5);
  CHECK(all[0].content_type.rfind("application/json", 0) == 0);
}

TEST_CASE("sms_codes accepts uuid= as another name for image_code_id", "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  GetCaptcha(server, uuid);
  CheckOk(SmsCodes(server, "13800000002", "?image_code=ABCD&uuid=" + uuid));
  CHECK(server.sms().WaitForCode("13800000002", std::chrono::seconds(5)).has_value());
}

TEST_CASE("sms_codes without image_code or image_code_id is a JSON 400", "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  GetCaptcha(server, uuid);
  CheckJsonError(SmsCodes(server, "13800000003", "?image_code_id=" + uuid), 400);
  CheckJsonError(SmsCodes(server, "13800000003", "?image_code=ABCD"), 400);
  CheckJsonError(SmsCodes(server, "13800000003", ""), 400);
  CheckJsonError(SmsCodes(server, "13800000003", "?image_code=&image_code_id=" + uuid), 400);
  CHECK(server.sms().RequestCount() == 0);
}

TEST_CASE("sms_codes with an id that is not a UUID is a JSON 400", "[api]") {
  TestServer server;
  CheckJsonError(SmsCodes(server, "13800000004", "?image_code=ABCD&image_code_id=123"), 400);
}

TEST_CASE("sms_codes for a mobile that breaks the rule is a JSON 400", "[api]") {
  TestServer server;
  for (const char* mobile : {"12800000001", "1380000000", "138000000012", "1380000000a"}) {
    INFO(mobile);
    std::string uuid = Uuid();
    GetCaptcha(server, uuid);
    CheckJsonError(SmsCodes(server, mobile, "?image_code=ABCD&image_code_id=" + uuid), 400);
  }
  CHECK(server.sms().RequestCount() == 0);
}

TEST_CASE("a wrong captcha answer is a JSON 400 and spends the captcha", "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  GetCaptcha(server, uuid);
  CheckJsonError(SmsCodes(server, "13800000005", "?image_code=WXYZ&image_code_id=" + uuid), 400);
  // The right answer no longer helps: a captcha is usable once.
  CheckJsonError(SmsCodes(server, "13800000005", "?image_code=ABCD&image_code_id=" + uuid), 400);
  CHECK(server.sms().RequestCount() == 0);
}

TEST_CASE("a right captcha answer cannot be used twice", "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  GetCaptcha(server, uuid);
  CheckOk(SmsCodes(server, "13800000006", "?image_code=ABCD&image_code_id=" + uuid));
  CheckJsonError(SmsCodes(server, "13800000007", "?image_code=ABCD&image_code_id=" + uuid), 400);
}

TEST_CASE("a captcha id that was never issued is a JSON 400", "[api]") {
  TestServer server;
  CheckJsonError(SmsCodes(server, "13800000008", "?image_code=ABCD&image_code_id=" + Uuid()), 400);
  CHECK(server.sms().RequestCount() == 0);
}

TEST_CASE("a second code for the same mobile within 60 s is a 429 with Retry-After", "[api]") {
  TestServer server;
  REQUIRE(server.RequestCode("13800000009") == 200);
  std::string uuid = Uuid();
  GetCaptcha(server, uuid);
  auto res = SmsCodes(server, "13800000009", "?image_code=ABCD&image_code_id=" + uuid);
  CheckJsonError(res, 429);
  std::string retry = res->get_header_value("Retry-After");
  INFO("Retry-After: " << retry);
  REQUIRE(std::regex_match(retry, std::regex("[0-9]+")));
  int seconds = std::stoi(retry);
  CHECK(seconds >= 1);
  CHECK(seconds <= 60);
  // Another mobile is not limited.
  CHECK(server.RequestCode("13800000010") == 200);
}
