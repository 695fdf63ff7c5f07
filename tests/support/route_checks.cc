#include "tests/support/route_checks.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <iterator>

namespace regd::testing {

using nlohmann::json;

std::string Uuid() { return TestServer::NewUuid(); }

// --- response checks ---

json BodyJson(const httplib::Response& res) { return json::parse(res.body, nullptr, false); }

// The response exists, has status `status` and the contract's error shape:
// a JSON object {"code": status, "errmsg": "<non-empty>"} served as
// application/json (never HTML, never a 500).
void CheckJsonError(const httplib::Result& res, int status) {
  REQUIRE(res);
  INFO("status " << res->status << " body: " << res->body);
  CHECK(res->status != 500);
  REQUIRE(res->status == status);
  CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  json j = BodyJson(*res);
  REQUIRE(j.is_object());
  REQUIRE(j.contains("code"));
  CHECK(j["code"] == status);
  REQUIRE(j.contains("errmsg"));
  REQUIRE(j["errmsg"].is_string());
  CHECK_FALSE(j["errmsg"].get<std::string>().empty());
}

// The response is 200 {"code":0,"errmsg":"ok", ...}; returns the body.
json CheckOk(const httplib::Result& res) {
  REQUIRE(res);
  INFO("status " << res->status << " body: " << res->body);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  json j = BodyJson(*res);
  REQUIRE(j.is_object());
  CHECK(j["code"] == 0);
  CHECK(j["errmsg"] == "ok");
  return j;
}

// --- cookies ---

SetCookie ParseSetCookie(const std::string& header) {
  SetCookie c;
  size_t pos = 0;
  bool first = true;
  while (pos <= header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (first) {
      size_t eq = part.find('=');
      c.name = part.substr(0, eq);
      c.value = eq == std::string::npos ? "" : part.substr(eq + 1);
      first = false;
    } else if (!part.empty()) {
      c.attributes.insert(part);
    }
    pos = end + 1;
  }
  return c;
}

SetCookie CookieOf(const httplib::Response& res, const std::string& name) {
  std::string header = SetCookieHeader(res, name);
  INFO("no Set-Cookie for " << name);
  REQUIRE_FALSE(header.empty());
  return ParseSetCookie(header);
}

size_t SetCookieCount(const httplib::Response& res) {
  auto range = res.headers.equal_range("Set-Cookie");
  return static_cast<size_t>(std::distance(range.first, range.second));
}

bool HasLifetime(const SetCookie& c) {
  for (const std::string& a : c.attributes) {
    std::string lower = a;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.rfind("max-age", 0) == 0 || lower.rfind("expires", 0) == 0) return true;
  }
  return false;
}

// The cookies a remembered session sets, attribute for attribute.
void CheckRememberedCookies(const httplib::Response& res, const std::string& username) {
  CHECK(SetCookieCount(res) == 2);
  SetCookie session = CookieOf(res, "sessionid");
  CHECK_FALSE(session.value.empty());
  CHECK(session.attributes == std::set<std::string>{"HttpOnly", "SameSite=Lax", "Path=/",
                                                    "Max-Age=" + std::to_string(kTwoWeeks)});
  SetCookie user = CookieOf(res, "username");
  CHECK(user.value == username);
  CHECK(user.attributes ==
        std::set<std::string>{"SameSite=Lax", "Path=/", "Max-Age=" + std::to_string(kTwoWeeks)});
}

httplib::Headers SessionHeaders(const std::string& session_id) {
  return {{"Cookie", "sessionid=" + session_id}};
}

// --- requests ---

httplib::Result PostJson(TestServer& server, const std::string& path, const std::string& body) {
  return server.Client().Post(path.c_str(), body, "application/json");
}

json RegisterForm(const std::string& username, const std::string& mobile, const std::string& code) {
  return {{"username", username}, {"password", kPassword}, {"password2", kPassword},
          {"mobile", mobile},     {"sms_code", code},      {"allow", true}};
}

httplib::Result Login(TestServer& server, const std::string& login, const std::string& password,
                      json remembered) {
  json body = {{"username", login}, {"password", password}, {"remembered", remembered}};
  return PostJson(server, "/login/", body.dump());
}

// GET /image_codes/<uuid>/ and require a 200.
void GetCaptcha(TestServer& server, const std::string& uuid) {
  auto res = server.Client().Get(("/image_codes/" + uuid + "/").c_str());
  REQUIRE(res);
  REQUIRE(res->status == 200);
}

httplib::Result SmsCodes(TestServer& server, const std::string& mobile, const std::string& query) {
  return server.Client().Get(("/sms_codes/" + mobile + "/" + query).c_str());
}

// A code for mobile, read from the fake phone; fails the test if none arrives.
std::string CodeFor(TestServer& server, const std::string& mobile) {
  std::string code = server.RequestAndReadCode(mobile);
  INFO("no SMS code arrived for " << mobile);
  REQUIRE(code.size() == 6);
  return code;
}

std::string SignUp(TestServer& server, const std::string& username, const std::string& mobile) {
  std::string session = server.SignUp(username, mobile);
  INFO("sign-up failed for " << username);
  REQUIRE_FALSE(session.empty());
  return session;
}

// A 6-digit code that differs from code.
std::string WrongCode(const std::string& code) { return code == "000000" ? "111111" : "000000"; }

void NoResendWait(app::Config& c) { c.sms_resend_s = 0; }

int InfoStatus(TestServer& server, const std::string& session) {
  auto res = server.Client().Get("/info/", SessionHeaders(session));
  return res ? res->status : -1;
}

std::string ErrorField(const httplib::Result& res) {
  if (!res) return "";
  json j = json::parse(res->body, nullptr, false);
  return j.is_object() && j.contains("field") && j["field"].is_string()
             ? j["field"].get<std::string>()
             : "";
}

httplib::Result SmsLogin(TestServer& server, const std::string& mobile, const std::string& code,
                         json remembered, const httplib::Headers& headers) {
  json body = {{"mobile", mobile}, {"sms_code", code}, {"remembered", remembered}};
  return server.Client().Post("/login/sms/", headers, body.dump(), "application/json");
}

httplib::Result ResetPassword(TestServer& server, const std::string& mobile,
                              const std::string& code, const std::string& password) {
  json body = {
      {"mobile", mobile}, {"sms_code", code}, {"password", password}, {"password2", password}};
  return PostJson(server, "/password/reset/", body.dump());
}

httplib::Result WithSession(TestServer& server, const std::string& method, const std::string& path,
                            const std::string& session, const std::string& body,
                            httplib::Headers headers) {
  if (!session.empty()) headers.emplace("Cookie", "sessionid=" + session);
  auto cli = server.Client();
  if (method == "GET") return cli.Get(path, headers);
  if (method == "PUT") return cli.Put(path, headers, body, "application/json");
  if (method == "DELETE") return cli.Delete(path, headers, body, "application/json");
  return cli.Post(path, headers, body, "application/json");
}

int Count(TestServer& server, const std::string& what, const std::string& value) {
  json j = CheckOk(server.Client().Get(("/" + what + "/" + value + "/count/").c_str()));
  REQUIRE(j["count"].is_number_integer());
  return j["count"].get<int>();
}

// --- raw HTTP, for request lines httplib::Client would rewrite ---

// A complete POST of a JSON body that asks the server to close afterwards.
std::string RawPost(const std::string& path, const std::string& body) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace regd::testing
