// The log sink (storage/log.h): text and JSON lines, escaping, reopening the
// file after it was moved. The sink is process-wide; each test puts it back
// on stderr in text format when done.
#include "storage/log.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using regd::LogFormat;
using regd::LogLevel;
using regd::testing::TempDir;

namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Puts the sink back on stderr, text, however the test ends.
struct RestoreSink {
  ~RestoreSink() { regd::ConfigureLog(LogFormat::kText, ""); }
};

}  // namespace

TEST_CASE("every JSON log line is one valid JSON object with ts, level, msg and its fields",
          "[log]") {
  TempDir dir;
  RestoreSink restore;
  std::string file = dir.Join("regd.log");
  REQUIRE(regd::ConfigureLog(LogFormat::kJson, file).ok());
  regd::LogEvent(LogLevel::kInfo, "GET /a\nb\"c\\ \xff\xfe caf\xc3\xa9",
                 {{"method", std::string_view("GET")},
                  {"path", std::string_view("/x\ty")},
                  {"status", int64_t{200}},
                  {"duration_ms", 12.5}});
  regd::LogWarn("warned %d times", 3);
  regd::LogError("%s", std::string(10000, 'z').c_str());

  auto lines = Lines(file);
  REQUIRE(lines.size() == 3);
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["ts"].is_string());
    CHECK(j["level"].is_string());
    CHECK(j["msg"].is_string());
  }
  auto first = nlohmann::json::parse(lines[0]);
  CHECK(first["level"] == "info");
  CHECK(first["msg"] == "GET /a\nb\"c\\ \xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9");  // U+FFFD twice
  CHECK(first["method"] == "GET");
  CHECK(first["path"] == "/x\ty");
  CHECK(first["status"] == 200);
  CHECK(first["duration_ms"].get<double>() == Approx(12.5));
  CHECK(nlohmann::json::parse(lines[1])["level"] == "warn");
  CHECK(nlohmann::json::parse(lines[1])["msg"] == "warned 3 times");
  CHECK(nlohmann::json::parse(lines[2])["msg"].get<std::string>().size() == 8192);  // cut
}

TEST_CASE("a text log line escapes control characters so it stays one line", "[log]") {
  TempDir dir;
  RestoreSink restore;
  std::string file = dir.Join("regd.log");
  REQUIRE(regd::ConfigureLog(LogFormat::kText, file).ok());
  regd::LogEvent(LogLevel::kInfo, "GET /a\nFAKE 2026 INFO forged",
                 {{"method", std::string_view("GET")}});
  auto lines = Lines(file);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains(" INFO GET /a\\x0aFAKE 2026 INFO forged"));
  CHECK_THAT(lines[0], !Contains("method"));  // fields are JSON-only
}

TEST_CASE("after the log file was moved, reopening writes to a new file of the same name",
          "[log]") {
  TempDir dir;
  RestoreSink restore;
  std::string file = dir.Join("regd.log");
  REQUIRE(regd::ConfigureLog(LogFormat::kText, file).ok());
  CHECK(regd::LogFilePath() == file);
  regd::LogInfo("before rotation");
  REQUIRE(std::rename(file.c_str(), (file + ".1").c_str()) == 0);
  regd::LogInfo("still the old file");
  REQUIRE(regd::ReopenLog().ok());
  regd::LogInfo("after rotation");
  auto old_lines = Lines(file + ".1");
  auto new_lines = Lines(file);
  REQUIRE(old_lines.size() == 2);
  CHECK_THAT(old_lines[1], Contains("still the old file"));
  REQUIRE(new_lines.size() == 1);
  CHECK_THAT(new_lines[0], Contains("after rotation"));
}

TEST_CASE("a log file that cannot be opened is an error and changes nothing", "[log]") {
  TempDir dir;
  RestoreSink restore;
  std::string file = dir.Join("regd.log");
  REQUIRE(regd::ConfigureLog(LogFormat::kText, file).ok());
  auto s = regd::ConfigureLog(LogFormat::kJson, dir.Join("no/such/dir/regd.log"));
  CHECK(s.code() == regd::Status::Code::kUnavailable);
  regd::LogInfo("kept");
  auto lines = Lines(file);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains(" INFO kept"));  // still text, still this file
}

TEST_CASE("reopening while logging to stderr does nothing", "[log]") {
  RestoreSink restore;
  REQUIRE(regd::ConfigureLog(LogFormat::kText, "").ok());
  CHECK(regd::ReopenLog().ok());
  CHECK(regd::LogFilePath().empty());
}
