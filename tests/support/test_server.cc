#include "tests/support/test_server.h"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace regd::testing {

TestServer::TestServer(std::function<void(app::Config&)> tweak) {
  app::Config c;
  c.host = "127.0.0.1";
  c.port = 0;
  c.data_dir = dir_.Join("data");
  c.sms.name = "webhook";
  c.sms.webhook_url = sms_.url();
  c.dev_fixed_captcha = kCaptcha;
  c.pwhash = "min";
  c.access_log = false;
  c.abuse_limits = false;  // tests of a limit switch it back on
  if (tweak) tweak(c);
  auto app = app::App::Start(c);
  if (!app.ok()) throw std::runtime_error("regd did not start: " + app.status().ToString());
  app_ = std::move(app).value();
}

TestServer::~TestServer() {
  if (app_) app_->Shutdown();
}

httplib::Client TestServer::Client() const {
  httplib::Client cli("127.0.0.1", app_->port());
  cli.set_connection_timeout(std::chrono::seconds(5));
  cli.set_read_timeout(std::chrono::seconds(20));
  return cli;
}

std::string TestServer::NewUuid() {
  unsigned char b[16];
  randombytes_buf(b, sizeof(b));
  char hex[33];
  sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
  std::string h(hex);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

int TestServer::RequestCode(const std::string& mobile, const std::string& purpose,
                            const std::string& session) {
  auto cli = Client();
  std::string uuid = NewUuid();
  auto img = cli.Get("/image_codes/" + uuid + "/");
  if (!img || img->status != 200) return img ? img->status : -1;
  httplib::Headers headers;
  if (!session.empty()) headers.emplace("Cookie", "sessionid=" + session);
  auto res = cli.Get("/sms_codes/" + mobile + "/?image_code=" + kCaptcha +
                         "&image_code_id=" + uuid + (purpose.empty() ? "" : "&purpose=" + purpose),
                     headers);
  return res ? res->status : -1;
}

std::string TestServer::RequestAndReadCode(const std::string& mobile, const std::string& purpose,
                                           const std::string& session) {
  size_t before = 0;
  for (const auto& m : sms_.Accepted()) before += m.mobile == mobile;
  if (RequestCode(mobile, purpose, session) != 200) return "";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    size_t n = 0;
    std::string code;
    for (const auto& m : sms_.Accepted()) {
      if (m.mobile == mobile) {
        ++n;
        code = m.code;
      }
    }
    if (n > before) return code;
    sms_.WaitForAccepted(sms_.Accepted().size() + 1, std::chrono::milliseconds(100));
  }
  return "";
}

httplib::Result TestServer::Register(const std::string& username, const std::string& mobile,
                                     const std::string& code, const std::string& password) {
  nlohmann::json body = {{"username", username}, {"password", password}, {"password2", password},
                         {"mobile", mobile},     {"sms_code", code},     {"allow", true}};
  return Client().Post("/register/", body.dump(), "application/json");
}

std::string TestServer::SignUp(const std::string& username, const std::string& mobile,
                               const std::string& password) {
  std::string code = RequestAndReadCode(mobile);
  if (code.empty()) return "";
  auto res = Register(username, mobile, code, password);
  if (!res || res->status != 200) return "";
  return SetCookieValue(*res, "sessionid");
}

std::string SetCookieHeader(const httplib::Response& res, const std::string& name) {
  auto range = res.headers.equal_range("Set-Cookie");
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.rfind(name + "=", 0) == 0) return it->second;
  }
  return "";
}

std::string SetCookieValue(const httplib::Response& res, const std::string& name) {
  std::string h = SetCookieHeader(res, name);
  if (h.empty()) return "";
  size_t start = name.size() + 1;
  return h.substr(start, h.find(';', start) - start);
}

}  // namespace regd::testing
