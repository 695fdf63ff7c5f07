// GET /image_codes/<uuid>/ over real HTTP: a PNG for a UUID in either case
// (the answer never in its bytes), a JSON 400 for anything else, and the
// captcha stored under the lower-case id.
#include <catch2/catch.hpp>
#include <cctype>
#include <string>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using regd::testing::CheckJsonError;
using regd::testing::CheckOk;
using regd::testing::GetCaptcha;
using regd::testing::SmsCodes;
using regd::testing::TestServer;
using regd::testing::Uuid;

namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TEST_CASE("image_codes answers a PNG for a lower-case and an upper-case UUID", "[api]") {
  TestServer server;
  auto cli = server.Client();
  for (const std::string& uuid : {Uuid(), Upper(Uuid())}) {
    INFO(uuid);
    auto res = cli.Get(("/image_codes/" + uuid + "/").c_str());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "image/png");
    REQUIRE(res->body.size() > 8);
    CHECK(res->body.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    CHECK(res->body.find(TestServer::kCaptcha) == std::string::npos);  // no answer in the bytes
  }
}

TEST_CASE("image_codes for something that is not a UUID is a JSON 400", "[api]") {
  TestServer server;
  auto cli = server.Client();
  std::string uuid = Uuid();
  for (const std::string& bad : {std::string("not-a-uuid"), std::string("123"), uuid.substr(1),
                                 uuid + "0", std::string("g") + uuid.substr(1),
                                 uuid.substr(0, 8) + "_" + uuid.substr(9), std::string(32, 'a')}) {
    INFO(bad);
    CheckJsonError(cli.Get(("/image_codes/" + bad + "/").c_str()), 400);
  }
}

TEST_CASE("a captcha fetched with an upper-case UUID is answered with the lower-case one",
          "[api]") {
  TestServer server;
  std::string uuid = Uuid();
  GetCaptcha(server, Upper(uuid));
  CheckOk(SmsCodes(server, "13800000001", "?image_code=abcd&image_code_id=" + uuid));
}
