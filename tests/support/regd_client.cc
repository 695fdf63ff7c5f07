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

std::string NumberedMobile(const std::string& prefix, int i) {
  std::string n = std::to_string(i);
  return prefix + std::string(11 - prefix.size() - n.size(), '0') + n;
}

int AskCode(httplib::Client& cli, const std::string& mobile, const std::string& purpose,
            const std::string& cookie) {
  httplib::Headers headers;
  if (!cookie.empty()) headers.emplace("Cookie", cookie);
  std::string uuid = TestServer::NewUuid();
  auto img = cli.Get("/image_codes/" + uuid + "/", headers);
  if (!img || img->status != 200) return -1;
  std::string path = "/sms_codes/" + mobile + "/?image_code=ABCD&image_code_id=" + uuid;
  if (!purpose.empty()) path += "&purpose=" + purpose;
  auto res = cli.Get(path, headers);
  return res ? res->status : -1;
}

std::string CodeVia(httplib::Client& cli, FakeSmsServer& sms, const std::string& mobile,
                    const std::string& purpose, const std::string& cookie) {
  size_t before = sms.AcceptedCount(mobile);
  REQUIRE(AskCode(cli, mobile, purpose, cookie) == 200);
  auto code = sms.WaitForCodeAfter(mobile, before, std::chrono::seconds(10));
  REQUIRE(code);
  return *code;
}

std::string RegisterVia(httplib::Client& cli, FakeSmsServer& sms, const std::string& username,
                        const std::string& mobile) {
  std::string code = CodeVia(cli, sms, mobile);
  nlohmann::json body = {{"username", username},      {"password", "password_1"},
                         {"password2", "password_1"}, {"mobile", mobile},
                         {"sms_code", code},          {"allow", true}};
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

int InfoStatus(httplib::Client& cli, const std::string& cookie) {
  auto res = cli.Get("/info/", {{"Cookie", cookie}});
  return res ? res->status : -1;
}

}  // namespace regd::testing
