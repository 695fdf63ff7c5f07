#include "tests/support/regd_client.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "tests/support/test_server.h"

namespace regd::testing {

httplib::Client ClientOf(const RegdProcess& regd) {
  httplib::Client cli("127.0.0.1", regd.port());
  cli.set_connection_timeout(std::chrono::seconds(2));
  cli.set_read_timeout(std::chrono::seconds(10));
  return cli;
}

int AskCode(httplib::Client& cli, const std::string& mobile, const std::string& purpose) {
  std::string uuid = TestServer::NewUuid();
  auto img = cli.Get("/image_codes/" + uuid + "/");
  if (!img || img->status != 200) return -1;
  std::string path = "/sms_codes/" + mobile + "/?image_code=ABCD&image_code_id=" + uuid;
  if (!purpose.empty()) path += "&purpose=" + purpose;
  auto res = cli.Get(path);
  return res ? res->status : -1;
}

std::string RegisterVia(httplib::Client& cli, FakeSmsServer& sms, const std::string& username,
                        const std::string& mobile) {
  size_t before = 0;
  for (const auto& m : sms.Accepted()) before += m.mobile == mobile;
  REQUIRE(AskCode(cli, mobile) == 200);
  std::optional<std::string> code;
  for (int i = 0; i < 400; ++i) {
    size_t now = 0;
    for (const auto& m : sms.Accepted()) {
      if (m.mobile == mobile && ++now > before) code = m.code;
    }
    if (code) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(code);
  nlohmann::json body = {{"username", username},      {"password", "password_1"},
                         {"password2", "password_1"}, {"mobile", mobile},
                         {"sms_code", *code},         {"allow", true}};
  auto reg = cli.Post("/register/", body.dump(), "application/json");
  REQUIRE(reg);
  INFO(reg->body);
  REQUIRE(reg->status == 200);
  std::string cookie = reg->get_header_value("Set-Cookie");
  return cookie.substr(0, cookie.find(';'));
}

int LoginStatus(httplib::Client& cli, const std::string& login, const std::string& password) {
  nlohmann::json body = {{"username", login}, {"password", password}, {"remembered", true}};
  auto res = cli.Post("/login/", body.dump(), "application/json");
  return res ? res->status : -1;
}

}  // namespace regd::testing
