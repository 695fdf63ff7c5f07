// The config file (--config, REGD_CONFIG): `key = value` lines under the
// environment and the command line, errors that name the file and the line,
// and the example deploy/regd.conf.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/config.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using regd::Status;
using regd::app::Config;
using regd::app::ParseConfig;
using regd::testing::TempDir;

namespace {

using Args = std::vector<std::string>;

std::string WriteFile(const TempDir& dir, const std::string& text) {
  std::string path = dir.Join("regd.conf");
  std::ofstream(path) << text;
  return path;
}

Config Parse(const Args& args, const Args& env = {}) {
  auto c = ParseConfig(args, env);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return c.value();
}

Status Refused(const Args& args, const Args& env = {}) {
  auto c = ParseConfig(args, env);
  REQUIRE_FALSE(c.ok());
  return c.status();
}

}  // namespace

TEST_CASE("a config file sets values by flag name, skipping comments and blank lines",
          "[config_file]") {
  TempDir dir;
  std::string file = WriteFile(dir,
                               "# regd settings\n"
                               "\n"
                               "port = 9001\n"
                               "   host=0.0.0.0   \n"
                               "  # indented comment\n"
                               "sms-provider = webhook\n"
                               "sms-webhook-url = http://127.0.0.1:9/sms?a=b#frag\n"
                               "sms-template = Code: {code} (#1 shop)\n"
                               "cookie-secure = true\r\n"
                               "log-format = json\n"
                               "log-file = /var/log/regd/regd.log\n");
  Config c = Parse({"--config", file});
  CHECK(c.port == 9001);
  CHECK(c.host == "0.0.0.0");
  CHECK(c.sms.name == "webhook");
  CHECK(c.sms.webhook_url == "http://127.0.0.1:9/sms?a=b#frag");  // '#' inside a value stays
  CHECK(c.sms.sms_template == "Code: {code} (#1 shop)");
  CHECK(c.cookie_secure);
  CHECK(c.log_format == regd::LogFormat::kJson);
  CHECK(c.log_file == "/var/log/regd/regd.log");
  CHECK(c.config_file == file);
  CHECK(c.data_dir == "./data");  // untouched settings keep their defaults
}

TEST_CASE("the environment wins over the config file and a flag wins over both", "[config_file]") {
  TempDir dir;
  std::string file = WriteFile(dir, "port = 9001\nworkers = 3\nhost = 10.0.0.1\n");
  Config c = Parse({"--config=" + file, "--port", "9003"}, {"REGD_PORT=9002", "REGD_WORKERS=4"});
  CHECK(c.port == 9003);        // flag > environment > file
  CHECK(c.workers == 4);        // environment > file
  CHECK(c.host == "10.0.0.1");  // file only
}

TEST_CASE("REGD_CONFIG names the config file; --config wins over it", "[config_file]") {
  TempDir dir;
  std::string a = dir.Join("a.conf"), b = dir.Join("b.conf");
  std::ofstream(a) << "port = 1111\n";
  std::ofstream(b) << "port = 2222\n";
  CHECK(Parse({}, {"REGD_CONFIG=" + a}).port == 1111);
  CHECK(Parse({"--config", b}, {"REGD_CONFIG=" + a}).port == 2222);
}

TEST_CASE("an unknown key in the config file is an error naming the file and the line",
          "[config_file]") {
  TempDir dir;
  std::string file = WriteFile(dir, "port = 9001\n\ncolour = blue\n");
  Status s = Refused({"--config", file});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains(file + ":3:") && Contains("colour"));
}

TEST_CASE("a bad value in the config file is an error naming the file, the line and the setting",
          "[config_file]") {
  TempDir dir;
  std::string file = WriteFile(dir, "# ports\nport = 70000\n");
  Status s = Refused({"--config", file});
  CHECK_THAT(s.message(), Contains(file + ":2:") && Contains("--port") && Contains("70000"));
  // A flag that would fix the value does not hide the broken file.
  CHECK_THAT(Refused({"--config", file, "--port", "80"}).message(), Contains(file + ":2:"));
  file = WriteFile(dir, "log-format = xml\n");
  CHECK_THAT(Refused({"--config", file}).message(), Contains(file + ":1:") && Contains("xml"));
}

TEST_CASE("a config line that is not key = value is an error", "[config_file]") {
  TempDir dir;
  std::string file = WriteFile(dir, "port 9001\n");
  CHECK_THAT(Refused({"--config", file}).message(),
             Contains(file + ":1:") && Contains("port 9001"));
  file = WriteFile(dir, "= 9001\n");
  CHECK_THAT(Refused({"--config", file}).message(), Contains(file + ":1:"));
}

TEST_CASE("a key set twice in the config file is an error naming both lines", "[config_file]") {
  TempDir dir;
  std::string file = WriteFile(dir, "port = 1\nworkers = 2\nport = 3\n");
  CHECK_THAT(Refused({"--config", file}).message(),
             Contains(file + ":3:") && Contains("already set on line 1"));
}

TEST_CASE("a config file cannot name another config file", "[config_file]") {
  TempDir dir;
  std::string file = WriteFile(dir, "config = /etc/other.conf\n");
  CHECK_THAT(Refused({"--config", file}).message(), Contains(file + ":1:"));
}

TEST_CASE("a missing config file is an error naming it", "[config_file]") {
  TempDir dir;
  CHECK_THAT(Refused({"--config", dir.Join("nope.conf")}).message(), Contains("nope.conf"));
  CHECK_THAT(Refused({}, {"REGD_CONFIG=" + dir.Join("env.conf")}).message(), Contains("env.conf"));
  CHECK_THAT(Refused({"--config", dir.path()}).message(), Contains("directory"));
  CHECK_THAT(Refused({"--config"}).message(), Contains("--config"));
}

TEST_CASE("the example deploy/regd.conf is a valid config file", "[config_file]") {
  Config c = Parse({"--config", std::string(REGD_SOURCE_DIR) + "/deploy/regd.conf"});
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 8000);
  CHECK(c.cookie_secure);
  CHECK(c.sms.name == "console");
  CHECK(c.log_format == regd::LogFormat::kText);
}

TEST_CASE("the log file and log format are settings like any other", "[config_file]") {
  Config d = Parse({});
  CHECK(d.log_file.empty());
  CHECK(d.log_format == regd::LogFormat::kText);
  Config c = Parse({"--log-format", "json"}, {"REGD_LOG_FILE=/tmp/regd.log"});
  CHECK(c.log_format == regd::LogFormat::kJson);
  CHECK(c.log_file == "/tmp/regd.log");
  CHECK_THAT(Refused({"--log-format=yaml"}).message(), Contains("--log-format"));
}

TEST_CASE("the help text lists every setting with its default", "[config_file]") {
  std::string usage = regd::app::Usage();
  for (const char* command : {"regd backup DEST", "regd restore SRC", "regd check", "regd queue"}) {
    CHECK_THAT(usage, Contains(command));
  }
  // A flag's block: its line, the lines that continue it (after a trailing
  // ',') and the indented lines that follow. Every block states a default.
  std::vector<std::string> blocks;
  std::istringstream lines(usage);
  bool continues = false;
  for (std::string line; std::getline(lines, line);) {
    bool flag_line = line.rfind("  --", 0) == 0;
    if (flag_line && !continues) {
      blocks.push_back(line);
    } else if (!blocks.empty() && (line.rfind("    ", 0) == 0 || continues)) {
      blocks.back() += "\n" + line;
    }
    continues = !line.empty() && line.back() == ',';
  }
  for (const std::string& name : regd::app::SettingNames()) {
    INFO(name);
    auto it = std::find_if(blocks.begin(), blocks.end(), [&](const std::string& b) {
      return b.find("--" + name + " ") != std::string::npos;
    });
    REQUIRE(it != blocks.end());
    CHECK_THAT(*it, Contains("default"));
  }
}

TEST_CASE("an operator command reads the server's settings as the server does and keeps its own",
          "[config]") {
  TempDir dir;
  std::string conf = WriteFile(dir, "data-dir = /srv/regd/data\nport = 9000\n");
  Args words;
  auto c = regd::app::ParseCommandConfig(
      {"show", "--config", conf, "alice", "--json", "--limit", "5"}, {}, &words);
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/srv/regd/data");
  CHECK(words == Args{"show", "alice", "--json", "--limit", "5"});

  // Flag over variable over file, in both spellings of a flag.
  c = regd::app::ParseCommandConfig({"list", "--data-dir=/a"},
                                    {"REGD_CONFIG=" + conf, "REGD_DATA_DIR=/b"}, &words);
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/a");
  CHECK(words == Args{"list"});
  c = regd::app::ParseCommandConfig({"stats"}, {"REGD_CONFIG=" + conf, "REGD_DATA_DIR=/b"}, &words);
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/b");
  c = regd::app::ParseCommandConfig({"stats", "--trust-proxy", "--data-dir", "/c"}, {}, &words);
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/c");
  CHECK(words == Args{"stats"});

  // A server setting that is wrong is refused as the server refuses it.
  CHECK_FALSE(regd::app::ParseCommandConfig({"list", "--data-dir"}, {}, &words).ok());
  CHECK_FALSE(regd::app::ParseCommandConfig({"list", "--data-dir="}, {}, &words).ok());
  CHECK_FALSE(
      regd::app::ParseCommandConfig({"list", "--config", dir.Join("none")}, {}, &words).ok());
  CHECK(regd::app::ParseConfig({"list"}, {}).status().code() == Status::Code::kInvalid);
}
