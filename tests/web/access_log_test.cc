// The access log of a real regd process (web/http_server.cc): one line per
// request with method, path, status and duration, in text or JSON; the query
// string (where the captcha answer travels) never appears, mobiles are
// masked, and a path cannot forge a log line.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using Catch::Matchers::Contains;
using regd::testing::FakeSmsServer;
using regd::testing::RegdProcess;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

constexpr const char* kMobile = "13800138000";
constexpr const char* kSecret = "QZ7K";  // the captcha answer, sent in the query

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Args(const TempDir& dir, const FakeSmsServer& sms,
                              const std::string& format) {
  // Real password hashing (no --pwhash min), so a login takes measurable time.
  return {"--port",         "0",       "--data-dir",          dir.Join("data"),
          "--sms-provider", "webhook", "--sms-webhook-url",   sms.url(),
          "--log-format",   format,    "--dev-fixed-captcha", kSecret,
          "--hash-workers", "1"};
}

// The requests every test makes: a captcha, a code (answer in the query), a
// login that hashes, and a path holding a newline.
void MakeRequests(const RegdProcess& regd) {
  httplib::Client cli("127.0.0.1", regd.port());
  std::string uuid = TestServer::NewUuid();
  REQUIRE(cli.Get("/image_codes/" + uuid + "/"));
  auto code = cli.Get(std::string("/sms_codes/") + kMobile + "/?image_code=" + kSecret +
                      "&image_code_id=" + uuid);
  REQUIRE(code);
  REQUIRE(code->status == 200);
  auto login = cli.Post("/login/", R"({"username":"nobody_here","password":"password_1"})",
                        "application/json");
  REQUIRE(login);
  REQUIRE(cli.Get("/nothing%0A2026-01-01T00:00:00.000Z INFO forged/"));
}

// Waits until the log holds n request lines matching pattern (5 s at most).
bool WaitForLines(const std::string& log, const std::regex& pattern, size_t n) {
  for (int i = 0; i < 500; ++i) {
    size_t found = 0;
    for (const auto& line : Lines(log)) found += std::regex_search(line, pattern) ? 1 : 0;
    if (found >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("the JSON access log has method, path without query, status and duration per request",
          "[access_log]") {
  TempDir dir;
  FakeSmsServer sms;
  std::string log = dir.Join("regd.log");
  RegdProcess regd(Args(dir, sms, "json"), log);
  REQUIRE(regd.started());
  MakeRequests(regd);
  REQUIRE(WaitForLines(log, std::regex("\"method\":"), 4));

  std::map<std::string, nlohmann::json> by_path;
  for (const auto& line : Lines(log)) {
    INFO(line);
    auto j = nlohmann::json::parse(line, nullptr, false);
    REQUIRE(j.is_object());  // every line, not only the request lines
    CHECK(j["ts"].is_string());
    CHECK(j["level"].is_string());
    CHECK(j["msg"].is_string());
    if (j.contains("method")) {
      CHECK(j["status"].is_number_integer());
      CHECK(j["duration_ms"].is_number());
      CHECK(j["duration_ms"].get<double>() >= 0);
      by_path[j["path"].get<std::string>()] = j;
    }
  }
  REQUIRE(by_path.count("/sms_codes/138****8000/") == 1);
  auto code = by_path["/sms_codes/138****8000/"];
  CHECK(code["method"] == "GET");
  CHECK(code["status"] == 200);
  REQUIRE(by_path.count("/login/") == 1);
  CHECK(by_path["/login/"]["method"] == "POST");
  CHECK(by_path["/login/"]["status"] == 400);
  CHECK(by_path["/login/"]["duration_ms"].get<double>() > 5);  // an Argon2id hash was timed
  CHECK(by_path.count("/nothing\n2026-01-01T00:00:00.000Z INFO forged/") == 1);

  std::string all = Read(log);
  CHECK(all.find("image_code=") == std::string::npos);
  CHECK(all.find(kMobile) == std::string::npos);
}

TEST_CASE("the text access log line is method, path without query, status and duration",
          "[access_log]") {
  TempDir dir;
  FakeSmsServer sms;
  std::string log = dir.Join("regd.log");
  RegdProcess regd(Args(dir, sms, "text"), log);
  REQUIRE(regd.started());
  MakeRequests(regd);
  std::regex request(R"(^\S+Z INFO (GET|POST) /.* \d{3} \d+\.\d ms$)");
  REQUIRE(WaitForLines(log, request, 4));
  std::string all = Read(log);
  CHECK(
      std::regex_search(all, std::regex(R"(INFO GET /sms_codes/138\*\*\*\*8000/ 200 \d+\.\d ms)")));
  CHECK(std::regex_search(all, std::regex(R"(INFO POST /login/ 400 \d+\.\d ms)")));
  CHECK(all.find("image_code=") == std::string::npos);
  CHECK(all.find(kMobile) == std::string::npos);
  // The newline in the path is escaped: no line starts with the forged text.
  CHECK_THAT(all, Contains("/nothing\\x0a2026-01-01T00:00:00.000Z INFO forged/ 404"));
  for (const auto& line : Lines(log)) CHECK(line.rfind("2026-01-01T00:00:00.000Z", 0) != 0);
}
