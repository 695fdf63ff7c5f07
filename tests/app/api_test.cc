// The public contract over real HTTP: a regd App on an ephemeral port (see
// tests/support/test_server.h), talked to with httplib::Client or, where the
// exact bytes matter (path traversal, TRACE, chunked bodies, requests that
// must arrive together on connections opened beforehand), a raw socket.
//
// Each test starts its own server with empty stores. A mobile gets at most
// one code per test unless the test is about the 60 s send interval, so no
// test waits for it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/raw_http.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::ConnectLoopback;
using regd::testing::Exchange;
using regd::testing::RawRequest;
using regd::testing::RawResponse;
using regd::testing::SetCookieHeader;
using regd::testing::SetCookieValue;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

constexpr const char* kPassword = "password_1";
constexpr int kTwoWeeks = 1209600;

std::string Uuid() { return TestServer::NewUuid(); }

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

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

struct SetCookie {
  std::string name;
  std::string value;
  std::set<std::string> attributes;  // "HttpOnly", "Path=/", ...
};

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
                      json remembered = true) {
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

RawResponse RawGet(int port, const std::string& target) {
  return RawRequest(port,
                    "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// body in Transfer-Encoding: chunked, 4 KiB a chunk.
std::string Chunked(const std::string& body) {
  std::string out;
  char size[16];
  for (size_t i = 0; i < body.size(); i += 4096) {
    std::string chunk = body.substr(i, 4096);
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    out += size + chunk + "\r\n";
  }
  return out + "0\r\n\r\n";
}

// A traversal attempt was refused: a JSON 400 or 404, and none of the secret.
void CheckRefused(const RawResponse& r, const std::string& secret) {
  INFO("head: " << r.head << "\nbody: " << r.body);
  CHECK((r.status == 400 || r.status == 404));
  CHECK(r.body.find(secret) == std::string::npos);
  CHECK(r.body.find("root:") == std::string::npos);
  json j = json::parse(r.body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["code"] == r.status);
}

std::vector<std::string> TraversalTargets(const std::string& file) {
  return {
      "/../" + file,
      "/../../../../../../" + file,
      "/%2e%2e/" + file,
      "/%2E%2E/%2e%2e/" + file,
      "/..%2f" + file,
      "/%2e%2e%2f%2e%2e%2f" + file,
      "/css/../../" + file,
      "/css/%2e%2e/%2e%2e/" + file,
      "/css/..%5c..%5c" + file,
      "/.%2e/" + file,
      "//" + file,
      "/register.html/../../" + file,
      "/register.html%00/../../" + file,
  };
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out);
  out << data;
}

// The value of a sample line "name value" (or "name{...} value") in metrics
// text; -1 when absent.
double MetricValue(const std::string& text, const std::string& sample) {
  size_t pos = 0;
  while ((pos = text.find(sample + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      return std::atof(text.c_str() + pos + sample.size() + 1);
    }
    pos += sample.size();
  }
  return -1;
}

// Polls /metrics until sample reaches at least min; returns the last value.
double WaitForMetric(TestServer& server, const std::string& sample, double min) {
  double v = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    auto res = server.Client().Get("/metrics");
    if (res && res->status == 200) v = MetricValue(res->body, sample);
    if (v >= min) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return v;
}

}  // namespace

// ---------------------------------------------------------------- page files

TEST_CASE("GET / redirects to /register.html with a 302", "[api]") {
  TestServer server;
  auto res = server.Client().Get("/");
  REQUIRE(res);
  CHECK(res->status == 302);
  std::string location = res->get_header_value("Location");
  CHECK((location == "/register.html" ||
         location == "http://127.0.0.1:" + std::to_string(server.port()) + "/register.html"));
}

TEST_CASE("GET /register.html is the page as text/html with CSP and nosniff", "[api]") {
  TestServer server;
  auto res = server.Client().Get("/register.html");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/html", 0) == 0);
  CHECK_FALSE(res->get_header_value("Content-Security-Policy").empty());
  CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(res->body.find("<html") != std::string::npos);
}

TEST_CASE("every local asset the pages link to is served with its type", "[api]") {
  TestServer server;
  auto cli = server.Client();
  std::regex link("(?:src|href)=\"(/[^\"]*)\"");
  std::set<std::string> assets;
  for (const char* page : {"/register.html", "/login.html", "/user.html"}) {
    auto res = cli.Get(page);
    REQUIRE(res);
    INFO(page);
    REQUIRE(res->status == 200);
    CHECK(res->get_header_value("Content-Type").rfind("text/html", 0) == 0);
    for (std::sregex_iterator it(res->body.begin(), res->body.end(), link), end; it != end; ++it) {
      assets.insert((*it)[1].str());
    }
  }
  CHECK(assets.count("/js/register.js") == 1);
  for (const std::string& asset : assets) {
    INFO(asset);
    auto res = cli.Get(asset.c_str());
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK_FALSE(res->body.empty());
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
    std::string type = res->get_header_value("Content-Type");
    if (asset.size() > 3 && asset.substr(asset.size() - 3) == ".js") {
      CHECK(type.find("javascript") != std::string::npos);
    } else if (asset.size() > 4 && asset.substr(asset.size() - 4) == ".css") {
      CHECK(type.rfind("text/css", 0) == 0);
    }
  }
}

TEST_CASE("an unknown file is a JSON 404", "[api]") {
  TestServer server;
  auto cli = server.Client();
  for (const char* path : {"/nope.html", "/css/nope.css", "/js/", "/image_codes/",
                           "/usernames/alice/", "/api/v1/users", "/favicon.ico"}) {
    INFO(path);
    CheckJsonError(cli.Get(path), 404);
  }
}

TEST_CASE("path traversal never serves a file outside the built-in page", "[api]") {
  TestServer server;
  for (const std::string& target : TraversalTargets("etc/passwd")) {
    INFO(target);
    CheckRefused(RawGet(server.port(), target), "root:x:0:0");
  }
}

TEST_CASE("path traversal never serves a file outside --web-root", "[api]") {
  TempDir site;
  REQUIRE(mkdir(site.Join("www").c_str(), 0700) == 0);
  REQUIRE(mkdir(site.Join("www/css").c_str(), 0700) == 0);
  WriteFile(site.Join("www/register.html"), "<html>the shop's own page</html>");
  WriteFile(site.Join("secret.txt"), "SECRET-OUTSIDE-THE-ROOT");
  REQUIRE(symlink(site.Join("secret.txt").c_str(), site.Join("www/link.txt").c_str()) == 0);
  TestServer server([&](regd::app::Config& c) { c.web_root = site.Join("www"); });

  auto page = server.Client().Get("/register.html");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body == "<html>the shop's own page</html>");
  for (const std::string& target : TraversalTargets("secret.txt")) {
    INFO(target);
    CheckRefused(RawGet(server.port(), target), "SECRET-OUTSIDE-THE-ROOT");
  }
  CheckRefused(RawGet(server.port(), "/link.txt"), "SECRET-OUTSIDE-THE-ROOT");
}

TEST_CASE("a malformed request line gets a JSON error, not HTML", "[api]") {
  TestServer server;
  RawResponse r = RawGet(server.port(), "no-leading-slash HTTP/1.1 extra");
  INFO(r.head << "\n" << r.body);
  CHECK(r.status >= 400);
  CHECK(r.status < 500);
  CHECK(json::parse(r.body, nullptr, false).is_object());
}

// ---------------------------------------------------------------- captcha

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

// ---------------------------------------------------------------- sms_codes

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

// ---------------------------------------------------------------- counts

TEST_CASE("username and mobile counts go from 0 to 1 when a user registers", "[api]") {
  TestServer server;
  CHECK(Count(server, "usernames", "alice") == 0);
  CHECK(Count(server, "mobiles", "13800000011") == 0);
  SignUp(server, "alice", "13800000011");
  CHECK(Count(server, "usernames", "alice") == 1);
  CHECK(Count(server, "mobiles", "13800000011") == 1);
  CHECK(Count(server, "usernames", "ALICE") == 0);  // case-sensitive
  CHECK(Count(server, "mobiles", "13800000012") == 0);
}

TEST_CASE("counts for values that break the rules are a JSON 400", "[api]") {
  TestServer server;
  auto cli = server.Client();
  for (const char* u : {"abcd", "12345", "bad.name", "abcdefghijklmnopqrstu"}) {
    INFO(u);
    CheckJsonError(cli.Get(("/usernames/" + std::string(u) + "/count/").c_str()), 400);
  }
  for (const char* m : {"12800000001", "1380000001", "abcdefghijk"}) {
    INFO(m);
    CheckJsonError(cli.Get(("/mobiles/" + std::string(m) + "/count/").c_str()), 400);
  }
}

// ---------------------------------------------------------------- register

TEST_CASE("register answers 200 with the session and username cookies", "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000013");
  auto res = PostJson(server, "/register/", RegisterForm("alice", "13800000013", code).dump());
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
  // The session cookie is a live session.
  json info =
      CheckOk(server.Client().Get("/info/", SessionHeaders(SetCookieValue(*res, "sessionid"))));
  CHECK(info["info_data"]["username"] == "alice");
  CHECK(info["info_data"]["mobile"] == "13800000013");
}

TEST_CASE("a username with '-' and '_' registers", "[api]") {
  TestServer server;
  SignUp(server, "shop-user_1", "13800000014");
  CHECK(Count(server, "usernames", "shop-user_1") == 1);
}

TEST_CASE("register spends the sms code", "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000015");
  CheckOk(PostJson(server, "/register/", RegisterForm("alice", "13800000015", code).dump()));
  // The same code does not register another user, for this mobile or another.
  CheckJsonError(PostJson(server, "/register/", RegisterForm("bobby", "13800000015", code).dump()),
                 409);  // the mobile is taken now
  CheckJsonError(PostJson(server, "/register/", RegisterForm("bobby", "13800000016", code).dump()),
                 400);
  CHECK(Count(server, "usernames", "bobby") == 0);
}

TEST_CASE("register with a body that is not a JSON object is a JSON 400", "[api]") {
  TestServer server;
  for (const std::string& body :
       {std::string(""), std::string("username=alice&password=password_1"),
        std::string("{\"username\": \"alice\""), std::string("[]"),
        std::string("[") + RegisterForm("alice", "13800000017", "123456").dump() + "]",
        std::string("\"alice\""), std::string("null"), std::string("42")}) {
    INFO(body);
    CheckJsonError(PostJson(server, "/register/", body), 400);
  }
}

TEST_CASE("register with a broken rule is a JSON 400 and costs no code try", "[api]") {
  TestServer server;
  const std::string mobile = "13800000018";
  std::string code = CodeFor(server, mobile);
  json good = RegisterForm("alice", mobile, code);

  std::vector<json> bad;
  for (const char* field : {"username", "password", "password2", "mobile", "sms_code", "allow"}) {
    json j = good;
    j.erase(field);
    bad.push_back(j);
  }
  auto with = [&](const char* field, json value) {
    json j = good;
    j[field] = std::move(value);
    bad.push_back(j);
  };
  with("username", "abcd");                   // 4 characters
  with("username", "abcdefghijklmnopqrstu");  // 21
  with("username", "123456789");              // all digits
  with("username", "ali ce");
  with("username", "alice.b");
  with("username", "用户名五个字");
  with("username", 123);
  with("username", nullptr);
  with("password", "short_1");  // 7, with password2 equal
  with("password2", "short_1");
  with("password2", "password_2");  // mismatch
  with("password", json::array({"password_1"}));
  with("mobile", "12800000018");
  with("mobile", "1380000001");
  with("mobile", 13800000018LL);
  with("sms_code", "12345");
  with("sms_code", "1234567");
  with("sms_code", "12345a");
  with("sms_code", 123456);
  with("allow", false);
  with("allow", "true");
  with("allow", 1);
  with("allow", nullptr);
  {
    json j = good;
    j["password"] = "short_1";
    j["password2"] = "short_1";
    bad.push_back(j);
  }
  for (const json& j : bad) {
    INFO(j.dump());
    CheckJsonError(PostJson(server, "/register/", j.dump()), 400);
  }
  CHECK(Count(server, "usernames", "alice") == 0);
  // More than five bad requests, yet the code still works.
  CheckOk(PostJson(server, "/register/", good.dump()));
}

TEST_CASE("register with a wrong sms code is a JSON 400", "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000019");
  CheckJsonError(
      PostJson(server, "/register/", RegisterForm("alice", "13800000019", WrongCode(code)).dump()),
      400);
  CHECK(Count(server, "usernames", "alice") == 0);
}

TEST_CASE("register without a code ever sent for the mobile is a JSON 400", "[api]") {
  TestServer server;
  CheckJsonError(
      PostJson(server, "/register/", RegisterForm("alice", "13800000020", "123456").dump()), 400);
}

TEST_CASE("five wrong codes spend the code so the right one then fails", "[api]") {
  TestServer server;
  const std::string mobile = "13800000021";
  std::string code = CodeFor(server, mobile);
  for (int i = 0; i < 5; ++i) {
    CheckJsonError(
        PostJson(server, "/register/", RegisterForm("alice", mobile, WrongCode(code)).dump()), 400);
  }
  // The sixth try, with the right code, is refused: the fifth wrong one spent it.
  CheckJsonError(PostJson(server, "/register/", RegisterForm("alice", mobile, code).dump()), 400);
  CHECK(Count(server, "usernames", "alice") == 0);
}

TEST_CASE("four wrong codes leave the right code usable", "[api]") {
  TestServer server;
  const std::string mobile = "13800000022";
  std::string code = CodeFor(server, mobile);
  for (int i = 0; i < 4; ++i) {
    CheckJsonError(
        PostJson(server, "/register/", RegisterForm("alice", mobile, WrongCode(code)).dump()), 400);
  }
  CheckOk(PostJson(server, "/register/", RegisterForm("alice", mobile, code).dump()));
}

TEST_CASE("parallel wrong guesses over HTTP never get more than five tries", "[api]") {
  TestServer server;
  const std::string mobile = "13800000023";
  std::string code = CodeFor(server, mobile);
  const std::string guess =
      RawPost("/register/", RegisterForm("alice", mobile, WrongCode(code)).dump());
  // Connect first, one at a time, so that the requests (not the connects)
  // arrive together.
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    int fd = ConnectLoopback(server.port());
    REQUIRE(fd >= 0);
    fds.push_back(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<RawResponse>> guesses;
  for (int fd : fds) {
    guesses.push_back(std::async(std::launch::async, [fd, &guess, start] {
      start.wait();
      return Exchange(fd, guess);
    }));
  }
  go.set_value();
  for (auto& g : guesses) {
    RawResponse r = g.get();
    INFO(r.head << "\n" << r.body);
    CHECK(r.status == 400);
  }
  CheckJsonError(PostJson(server, "/register/", RegisterForm("alice", mobile, code).dump()), 400);
  CHECK(Count(server, "usernames", "alice") == 0);
}

TEST_CASE("register with a taken username is a JSON 409", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000024");
  std::string code = CodeFor(server, "13800000025");
  CheckJsonError(PostJson(server, "/register/", RegisterForm("alice", "13800000025", code).dump()),
                 409);
  CHECK(Count(server, "mobiles", "13800000025") == 0);
}

TEST_CASE("register with a taken mobile is a JSON 409", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000026");
  // A new code for the same mobile needs the 60 s send interval; the code
  // already spent still gets a 409 before anything else about it.
  CheckJsonError(
      PostJson(server, "/register/", RegisterForm("bobby", "13800000026", "123456").dump()), 409);
  CHECK(Count(server, "usernames", "bobby") == 0);
}

TEST_CASE("two racing registrations of one username get one 200 and one 409", "[api]") {
  TestServer server;
  for (int round = 0; round < 3; ++round) {
    std::string username = "racer" + std::to_string(round);
    std::string m1 = "1390000010" + std::to_string(round);
    std::string m2 = "1390000020" + std::to_string(round);
    std::string c1 = CodeFor(server, m1);
    std::string c2 = CodeFor(server, m2);
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto racer = [&server, &username, start](std::string mobile, std::string code) {
      start.wait();
      auto res = PostJson(server, "/register/", RegisterForm(username, mobile, code).dump());
      return res ? res->status : -1;
    };
    auto a = std::async(std::launch::async, racer, m1, c1);
    auto b = std::async(std::launch::async, racer, m2, c2);
    go.set_value();
    std::multiset<int> statuses = {a.get(), b.get()};
    INFO("round " << round);
    CHECK(statuses == std::multiset<int>{200, 409});
    CHECK(Count(server, "usernames", username) == 1);
    CHECK(Count(server, "mobiles", m1) + Count(server, "mobiles", m2) == 1);
  }
}

// ---------------------------------------------------------------- login

TEST_CASE("login with the username answers 200 with remembered cookies", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000027");
  auto res = Login(server, "alice", kPassword, true);
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
  json info =
      CheckOk(server.Client().Get("/info/", SessionHeaders(SetCookieValue(*res, "sessionid"))));
  CHECK(info["info_data"]["username"] == "alice");
}

TEST_CASE("login with the mobile answers 200 with the username cookie", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000028");
  auto res = Login(server, "13800000028", kPassword, true);
  CheckOk(res);
  CheckRememberedCookies(*res, "alice");
}

TEST_CASE("login not remembered sets cookies without Max-Age or Expires", "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000029");
  auto res = Login(server, "alice", kPassword, false);
  CheckOk(res);
  SetCookie session = CookieOf(*res, "sessionid");
  CHECK_FALSE(HasLifetime(session));
  CHECK(session.attributes == std::set<std::string>{"HttpOnly", "SameSite=Lax", "Path=/"});
  SetCookie user = CookieOf(*res, "username");
  CHECK(user.value == "alice");
  CHECK_FALSE(HasLifetime(user));
  CHECK(user.attributes == std::set<std::string>{"SameSite=Lax", "Path=/"});
  CheckOk(server.Client().Get("/info/", SessionHeaders(session.value)));
}

namespace {

// The Set-Cookie lines of a raw answer head for cookie name, as sent.
std::vector<std::string> RawSetCookies(const std::string& head, const std::string& name) {
  std::vector<std::string> out;
  std::regex line("(^|\r\n)Set-Cookie: (" + name + "=[^\r]*)", std::regex::icase);
  for (std::sregex_iterator it(head.begin(), head.end(), line), end; it != end; ++it) {
    out.push_back((*it)[2]);
  }
  return out;
}

}  // namespace

TEST_CASE("the username cookie is sent SameSite=Lax and readable by script (had no SameSite)",
          "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000037");
  json form = {{"username", "alice"}, {"password", kPassword}, {"remembered", true}};
  RawResponse login = RawRequest(server.port(), RawPost("/login/", form.dump()));
  REQUIRE(login.status == 200);
  std::vector<std::string> set = RawSetCookies(login.head, "username");
  REQUIRE(set.size() == 1);
  CHECK(set[0] == "username=alice; SameSite=Lax; Path=/; Max-Age=" + std::to_string(kTwoWeeks));

  std::string sid = RawSetCookies(login.head, "sessionid").at(0);
  sid = sid.substr(0, sid.find(';'));
  RawResponse out =
      RawRequest(server.port(), "DELETE /logout/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + sid +
                                    "\r\nConnection: close\r\n\r\n");
  REQUIRE(out.status == 200);
  set = RawSetCookies(out.head, "username");
  REQUIRE(set.size() == 1);
  CHECK(set[0] == "username=; SameSite=Lax; Path=/; Max-Age=0");
}

TEST_CASE("login with a wrong password or an unknown user is a 400 with the same message",
          "[api]") {
  TestServer server;
  SignUp(server, "alice", "13800000030");
  auto wrong = Login(server, "alice", "password_2");
  auto unknown = Login(server, "nobody", kPassword);
  auto unknown_mobile = Login(server, "13900000030", kPassword);
  auto wrong_case = Login(server, "ALICE", kPassword);
  CheckJsonError(wrong, 400);
  CheckJsonError(unknown, 400);
  CheckJsonError(unknown_mobile, 400);
  CheckJsonError(wrong_case, 400);
  CHECK(BodyJson(*wrong)["errmsg"] == BodyJson(*unknown)["errmsg"]);
  CHECK(BodyJson(*unknown_mobile)["errmsg"] == BodyJson(*unknown)["errmsg"]);
  CHECK(SetCookieCount(*wrong) == 0);
  CHECK(SetCookieCount(*unknown) == 0);
}

TEST_CASE("login with a body that is not a JSON object or wrong types is a JSON 400", "[api]") {
  TestServer server;
  for (const std::string& body :
       {std::string(""), std::string("[]"), std::string("username=alice"),
        std::string(R"({"username": 1, "password": "password_1"})"),
        std::string(R"({"username": "alice", "password": ["password_1"]})"),
        std::string(R"({"password": "password_1"})"), std::string(R"({"username": "alice"})")}) {
    INFO(body);
    CheckJsonError(PostJson(server, "/login/", body), 400);
  }
}

// ---------------------------------------------------------------- info, logout

TEST_CASE("info without a session or with a garbage session is a JSON 401", "[api]") {
  TestServer server;
  auto cli = server.Client();
  CheckJsonError(cli.Get("/info/"), 401);
  CheckJsonError(cli.Get("/info/", SessionHeaders("garbage")), 401);
  CheckJsonError(cli.Get("/info/", SessionHeaders(std::string(43, 'A'))), 401);
  CheckJsonError(cli.Get("/info/", SessionHeaders("")), 401);
  CheckJsonError(cli.Get("/info/", {{"Cookie", "username=alice"}}), 401);
}

TEST_CASE("info finds the session cookie among other cookies", "[api]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800000031");
  json info = CheckOk(server.Client().Get(
      "/info/", {{"Cookie", "csrftoken=x; sessionid=" + session + "; username=alice"}}));
  CHECK(info["info_data"]["username"] == "alice");
  CHECK(info["info_data"]["mobile"] == "13800000031");
}

TEST_CASE("logout answers 200, clears both cookies and ends the session", "[api]") {
  TestServer server;
  std::string session = SignUp(server, "alice", "13800000032");
  CheckOk(server.Client().Get("/info/", SessionHeaders(session)));
  auto res = server.Client().Delete("/logout/", SessionHeaders(session));
  CheckOk(res);
  SetCookie sid = CookieOf(*res, "sessionid");
  CHECK(sid.value.empty());
  CHECK(sid.attributes.count("Max-Age=0") == 1);
  CHECK(sid.attributes.count("Path=/") == 1);
  SetCookie user = CookieOf(*res, "username");
  CHECK(user.value.empty());
  CHECK(user.attributes.count("Max-Age=0") == 1);
  CHECK(user.attributes.count("Path=/") == 1);
  CheckJsonError(server.Client().Get("/info/", SessionHeaders(session)), 401);
}

TEST_CASE("with --cookie-secure every cookie regd sets or clears is Secure", "[api]") {
  TestServer server([](auto& c) { c.cookie_secure = true; });
  std::string code = CodeFor(server, "13800000036");
  auto reg = PostJson(server, "/register/", RegisterForm("alice", "13800000036", code).dump());
  CheckOk(reg);
  CHECK(CookieOf(*reg, "sessionid").attributes.count("Secure") == 1);
  CHECK(CookieOf(*reg, "username").attributes.count("Secure") == 1);
  json form = {{"username", "alice"}, {"password", RegisterForm("alice", "", "")["password"]}};
  auto login = PostJson(server, "/login/", form.dump());
  CheckOk(login);
  CHECK(CookieOf(*login, "sessionid").attributes.count("Secure") == 1);
  CHECK(CookieOf(*login, "username").attributes.count("Secure") == 1);
  auto out =
      server.Client().Delete("/logout/", SessionHeaders(SetCookieValue(*login, "sessionid")));
  CheckOk(out);
  CHECK(CookieOf(*out, "sessionid").attributes.count("Secure") == 1);
  CHECK(CookieOf(*out, "username").attributes.count("Secure") == 1);
}

TEST_CASE("logout without a session answers 200", "[api]") {
  TestServer server;
  auto res = server.Client().Delete("/logout/");
  CheckOk(res);
  CHECK(CookieOf(*res, "sessionid").attributes.count("Max-Age=0") == 1);
  CheckOk(server.Client().Delete("/logout/", SessionHeaders("garbage")));
}

TEST_CASE("logout ends one session and leaves the user's other sessions", "[api]") {
  TestServer server;
  std::string first = SignUp(server, "alice", "13800000033");
  auto login = Login(server, "alice", kPassword);
  CheckOk(login);
  std::string second = SetCookieValue(*login, "sessionid");
  CHECK(second != first);
  CheckOk(server.Client().Delete("/logout/", SessionHeaders(first)));
  CheckJsonError(server.Client().Get("/info/", SessionHeaders(first)), 401);
  CheckOk(server.Client().Get("/info/", SessionHeaders(second)));
}

// ---------------------------------------------------------------- HTTP edge

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

TEST_CASE("a burst of 50 simultaneous POSTs is answered, none dropped", "[api]") {
  // Every request gets its JSON answer: here a 400 (no code was sent), or a
  // 503 when the server is overloaded. None is reset or left unanswered.
  TestServer server;
  const std::string form = RegisterForm("alice", "13800000040", "000000").dump();
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<std::string>> answers;
  for (int i = 0; i < 50; ++i) {
    answers.push_back(std::async(std::launch::async, [&server, &form, start] {
      start.wait();
      auto res = PostJson(server, "/register/", form);
      if (!res) return "no answer: " + httplib::to_string(res.error());
      return std::to_string(res->status);
    }));
  }
  go.set_value();
  std::map<std::string, int> outcomes;
  for (auto& a : answers) ++outcomes[a.get()];
  for (const auto& [outcome, n] : outcomes) {
    INFO(n << " x " << outcome);
    CHECK((outcome == "400" || outcome == "503"));
  }
}

TEST_CASE("a body over 16 KiB is a JSON 413", "[api]") {
  TestServer server;
  json big = RegisterForm(std::string(17 * 1024, 'a'), "13800000034", "123456");
  CheckJsonError(PostJson(server, "/register/", big.dump()), 413);
  json big_login = {{"username", std::string(17 * 1024, 'a')}, {"password", kPassword}};
  CheckJsonError(PostJson(server, "/login/", big_login.dump()), 413);
}

TEST_CASE("a chunked body over 16 KiB is a JSON 413", "[api]") {
  // No Content-Length to check up front: the limit must hold while reading.
  TestServer server;
  json big_login = {{"username", std::string(64 * 1024, 'a')}, {"password", kPassword}};
  for (const char* path : {"/login/", "/register/"}) {
    INFO(path);
    RawResponse r = RawRequest(server.port(), std::string("POST ") + path +
                                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                  "Connection: close\r\n"
                                                  "Content-Type: application/json\r\n"
                                                  "Transfer-Encoding: chunked\r\n\r\n" +
                                                  Chunked(big_login.dump()));
    INFO(r.head << "\n" << r.body);
    CHECK(r.status == 413);
    json j = json::parse(r.body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["code"] == 413);
  }
}

TEST_CASE("a body just under 16 KiB is read, not refused as too large", "[api]") {
  TestServer server;
  json form = RegisterForm("alice", "13800000035", "123456");
  form["padding"] = std::string(15 * 1024, 'x');
  REQUIRE(form.dump().size() < 16 * 1024);
  CheckJsonError(PostJson(server, "/register/", form.dump()), 400);  // no code was sent
}

TEST_CASE("deeply nested JSON is a JSON 400", "[api]") {
  TestServer server;
  std::string deep_array = std::string(5000, '[') + std::string(5000, ']');
  std::string deep_field =
      R"({"username": )" + std::string(5000, '[') + std::string(5000, ']') + "}";
  std::string deep_object;
  for (int i = 0; i < 1000; ++i) deep_object += R"({"a":)";
  deep_object += "1" + std::string(1000, '}');
  for (const std::string& body : {deep_array, deep_field, deep_object}) {
    CheckJsonError(PostJson(server, "/register/", body), 400);
    CheckJsonError(PostJson(server, "/login/", body), 400);
  }
  // The server is still fine.
  CHECK(server.Client().Get("/healthz")->status == 200);
}

TEST_CASE("healthz answers 200 {\"status\":\"ok\"}", "[api]") {
  TestServer server;
  auto res = server.Client().Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  CHECK(BodyJson(*res) == json{{"status", "ok"}});
}

TEST_CASE("metrics is Prometheus text with requests, queue depth, sent, retried and dead",
          "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000036");
  auto res = server.Client().Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  for (const char* name : {"regd_http_requests_total", "regd_queue_depth", "regd_sms_sent_total",
                           "regd_sms_retried_total", "regd_sms_dead_total"}) {
    INFO(name);
    CHECK(res->body.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
  CHECK(WaitForMetric(server, "regd_http_requests_total{code=\"200\"}", 1) >= 1);
  CHECK(WaitForMetric(server, "regd_sms_sent_total", 1) >= 1);
  CHECK(MetricValue(server.Client().Get("/metrics")->body, "regd_queue_depth") >= 0);
  CHECK(MetricValue(server.Client().Get("/metrics")->body, "regd_sms_dead_total") == 0);
}

TEST_CASE("an SMS the provider first answers 503 still arrives after a retry", "[api]") {
  TestServer server;
  server.sms().ScriptStatuses({503});
  REQUIRE(server.RequestCode("13800000037") == 200);
  auto code = server.sms().WaitForCode("13800000037", std::chrono::seconds(15));
  REQUIRE(code.has_value());
  CHECK(server.sms().RequestCount() >= 2);
  CHECK(server.sms().Accepted().size() == 1);
  CHECK(WaitForMetric(server, "regd_sms_retried_total", 1) >= 1);
  // The delivered code registers.
  CheckOk(PostJson(server, "/register/", RegisterForm("alice", "13800000037", *code).dump()));
}
