// TestServer: a real regd App in this process, on an ephemeral loopback port,
// with real SQLite and LMDB in a TempDir, the webhook provider pointed at a
// FakeSmsServer, captcha answers fixed to kCaptcha and the cheapest password
// hashing. Tests talk HTTP to it with Client().
//
// Helpers run the common steps of the flow (captcha, code, register, login)
// through HTTP and return what a browser would get.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "app/app.h"
#include "tests/support/fake_sms_server.h"
#include "tests/support/temp_dir.h"

namespace regd::testing {

class TestServer {
 public:
  static constexpr const char* kCaptcha = "ABCD";

  // Optionally adjust the config (workers, provider, ...) before Start.
  explicit TestServer(std::function<void(app::Config&)> tweak = nullptr);
  ~TestServer();

  httplib::Client Client() const;
  int port() const { return app_->port(); }
  FakeSmsServer& sms() { return sms_; }
  app::App& app() { return *app_; }
  const TempDir& dir() const { return dir_; }

  // GET /image_codes/<uuid>/ and then /sms_codes/<mobile>/ with the fixed
  // answer (and &purpose=purpose unless empty, with session as the
  // sessionid cookie unless empty); returns the /sms_codes/ response status.
  int RequestCode(const std::string& mobile, const std::string& purpose = "",
                  const std::string& session = "");
  // RequestCode, then waits for the fake phone; "" if nothing arrived.
  std::string RequestAndReadCode(const std::string& mobile, const std::string& purpose = "",
                                 const std::string& session = "");
  // POST /register/ with a valid form; returns the response.
  httplib::Result Register(const std::string& username, const std::string& mobile,
                           const std::string& code, const std::string& password = "password_1");
  // Full flow: code, register. Returns the sessionid cookie ("" on failure).
  std::string SignUp(const std::string& username, const std::string& mobile,
                     const std::string& password = "password_1");

  static std::string NewUuid();

 private:
  TempDir dir_;
  FakeSmsServer sms_;
  std::unique_ptr<app::App> app_;
};

// The value of cookie name from a response's Set-Cookie headers ("" if none).
std::string SetCookieValue(const httplib::Response& res, const std::string& name);
// The whole Set-Cookie header for cookie name ("" if none).
std::string SetCookieHeader(const httplib::Response& res, const std::string& name);

}  // namespace regd::testing
