// The regd process as main runs it: --version and --help, the config file
// and the log file at start, SIGHUP (reopen the log, keep serving), and the
// claim on the data dir (a second server on it does not start).
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "app/config.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using Catch::Matchers::Contains;
using regd::testing::RegdProcess;
using regd::testing::RunRegd;
using regd::testing::RunRegdCapturing;
using regd::testing::TempDir;

namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls until the file at path contains text (2 s at most).
bool WaitFor(const std::string& path, const std::string& text) {
  for (int i = 0; i < 200; ++i) {
    if (Read(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int Get(const RegdProcess& p, const std::string& path) {
  httplib::Client cli("127.0.0.1", p.port());
  auto res = cli.Get(path);
  return res ? res->status : -1;
}

}  // namespace

TEST_CASE("regd --version prints the project version and the commit it was built from", "[main]") {
  auto r = RunRegd({"--version"});
  CHECK(r.exit_code == 0);
  std::string want = std::string("regd ") + REGD_PROJECT_VERSION;
  CHECK(r.out.rfind(want, 0) == 0);
  CHECK(std::regex_match(
      r.out, std::regex(R"(regd [0-9]+\.[0-9]+\.[0-9]+( \(git [0-9a-f]{12}(-dirty)?\))?\n)")));
  // Built from a git checkout (as here), the commit is known.
  std::string git_dir = std::string(REGD_SOURCE_DIR) + "/.git";
  if (std::ifstream(git_dir).good() || std::ifstream(git_dir + "/HEAD").good()) {
    CHECK_THAT(r.out, Contains("(git "));
  }
}

TEST_CASE("regd --help prints every setting", "[main]") {
  auto r = RunRegd({"--help"});
  CHECK(r.exit_code == 0);
  for (const std::string& name : regd::app::SettingNames()) {
    INFO(name);
    CHECK_THAT(r.out, Contains("--" + name));
  }
}

TEST_CASE("a bad config file stops regd before it serves, naming the file and the line", "[main]") {
  TempDir dir;
  std::string conf = dir.Join("regd.conf");
  std::ofstream(conf) << "port = 0\nworkers = many\n";
  auto r = RunRegdCapturing({"--config", conf, "--data-dir", dir.Join("data")});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(conf + ":2:") && Contains("--workers"));
  CHECK(r.out.find("listening") == std::string::npos);
}

TEST_CASE("regd serves with the settings of its config file", "[main]") {
  TempDir dir;
  std::string conf = dir.Join("regd.conf");
  std::ofstream(conf) << "# test\nport = 0\ndata-dir = " << dir.Join("data")
                      << "\nlog-format = json\naccess-log = false\n";
  RegdProcess regd({"--config", conf}, dir.Join("regd.log"));
  REQUIRE(regd.started());
  CHECK(Get(regd, "/healthz") == 200);
  CHECK(WaitFor(dir.Join("regd.log"), "{\"ts\":"));  // JSON, as the file says
  CHECK(Read(dir.Join("regd.log")).find("/healthz") == std::string::npos);  // no access log
}

TEST_CASE("a log file that cannot be opened stops regd with a message", "[main]") {
  TempDir dir;
  auto r = RunRegdCapturing({"--port", "0", "--data-dir", dir.Join("data"), "--log-file",
                             dir.Join("no/such/dir/regd.log")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("cannot open log file"));
}

TEST_CASE("SIGHUP reopens the log file and regd keeps serving", "[main]") {
  TempDir dir;
  std::string log = dir.Join("regd.log");
  RegdProcess regd({"--port", "0", "--data-dir", dir.Join("data"), "--log-file", log},
                   dir.Join("stderr.log"));
  REQUIRE(regd.started());
  REQUIRE(Get(regd, "/healthz") == 200);
  REQUIRE(WaitFor(log, "GET /healthz 200"));

  // logrotate: move the file away, then SIGHUP.
  REQUIRE(std::rename(log.c_str(), (log + ".1").c_str()) == 0);
  regd.Send(SIGHUP);
  REQUIRE(WaitFor(log, "received SIGHUP: reopened the log file " + log));
  REQUIRE(Get(regd, "/rules.json") == 200);
  CHECK(WaitFor(log, "GET /rules.json 200"));
  CHECK(Read(log + ".1").find("/rules.json") == std::string::npos);
  CHECK(Read(log + ".1").find("GET /healthz 200") != std::string::npos);
  CHECK(regd.Running());
  CHECK(Read(dir.Join("stderr.log")).empty());  // everything went to the file

  int status = regd.Signal(SIGTERM);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("SIGHUP without a log file is logged and does not stop regd", "[main]") {
  TempDir dir;
  RegdProcess regd({"--port", "0", "--data-dir", dir.Join("data"), "--access-log", "false"},
                   dir.Join("regd.log"));
  REQUIRE(regd.started());
  regd.Send(SIGHUP);
  REQUIRE(WaitFor(dir.Join("regd.log"), "received SIGHUP: nothing to reload"));
  regd.Send(SIGHUP);  // and again
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(regd.Running());
  CHECK(Get(regd, "/healthz") == 200);
}

TEST_CASE("a second server on the same data dir does not start and names the first", "[main]") {
  TempDir dir;
  std::string data = dir.Join("data");
  RegdProcess first({"--port", "0", "--data-dir", data, "--access-log", "false"},
                    dir.Join("first.log"));
  REQUIRE(first.started());
  RegdProcess second({"--port", "0", "--data-dir", data, "--access-log", "false"},
                     dir.Join("second.log"));
  CHECK_FALSE(second.started());
  CHECK_THAT(second.Log(), Contains("in use by regd (pid " + std::to_string(first.pid()) + ")"));
  CHECK(Get(first, "/healthz") == 200);
}
