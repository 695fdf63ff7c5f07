// `regd queue ...` against the data dir of a live server (a real regd
// process), as an operator would use it.
#include <chrono>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::FakeSmsServer;
using regd::testing::RegdProcess;
using regd::testing::RunRegd;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

int RequestCode(const RegdProcess& p, const std::string& mobile) {
  httplib::Client cli("127.0.0.1", p.port());
  std::string uuid = TestServer::NewUuid();
  if (!cli.Get("/image_codes/" + uuid + "/")) return -1;
  auto res = cli.Get("/sms_codes/" + mobile + "/?image_code=ABCD&image_code_id=" + uuid);
  return res ? res->status : -1;
}

json Stats(const std::string& data_dir) {
  auto r = RunRegd({"queue", "stats", "--json", "--data-dir", data_dir});
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out, nullptr, false);
  REQUIRE(j.is_object());
  return j;
}

}  // namespace

TEST_CASE("regd queue inspects and repairs a running server's queue", "[queue_cli]") {
  TempDir dir;
  FakeSmsServer sms;
  sms.SetDefaultStatus(400);  // the provider rejects everything: jobs die at once
  std::string data = dir.Join("data");
  RegdProcess regd(
      {"--port", "0", "--data-dir", data, "--sms-provider", "webhook", "--sms-webhook-url",
       sms.url(), "--dev-fixed-captcha", "ABCD", "--access-log", "false", "--abuse-limits", "off"},
      dir.Join("regd.log"));
  REQUIRE(regd.started());
  REQUIRE(RequestCode(regd, "13700000001") == 200);
  REQUIRE(RequestCode(regd, "13700000002") == 200);

  // Both jobs fail permanently and land among the dead letters.
  json st;
  for (int i = 0; i < 100; ++i) {
    st = Stats(data);
    if (st["dead"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(st["dead"] == 2);
  CHECK(st["ready"] == 0);

  auto list = RunRegd({"queue", "list", "--state", "dead", "--json", "--data-dir", data});
  REQUIRE(list.exit_code == 0);
  json jobs = json::parse(list.out, nullptr, false);
  REQUIRE(jobs.is_array());
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0]["type"] == "sms");
  CHECK(jobs[0]["last_error"].get<std::string>().find("400") != std::string::npos);
  CHECK(list.out.find("13700000001") == std::string::npos);  // payloads are not shown

  auto table = RunRegd({"queue", "list", "--data-dir", data});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("dead") != std::string::npos);

  // The provider is fixed; the operator revives one job by id, then the rest.
  sms.SetDefaultStatus(200);
  uint64_t first = jobs[0]["id"];
  auto retry = RunRegd({"queue", "retry", std::to_string(first), "--data-dir", data});
  REQUIRE(retry.exit_code == 0);
  auto retry_dead = RunRegd({"queue", "retry-dead", "--json", "--data-dir", data});
  REQUIRE(retry_dead.exit_code == 0);
  CHECK(json::parse(retry_dead.out)["retried"] == 1);
  // The running server may already be delivering them: what holds is that
  // none is dead any more and both reach the provider.
  CHECK(Stats(data)["dead"] == 0);
  REQUIRE(sms.WaitForAccepted(2, std::chrono::seconds(20)));
  std::set<std::string> delivered;
  for (const auto& m : sms.Accepted()) delivered.insert(m.mobile);
  CHECK(delivered == std::set<std::string>{"13700000001", "13700000002"});

  auto unknown = RunRegd({"queue", "retry", "424242", "--data-dir", data});
  CHECK(unknown.exit_code == 1);
}

TEST_CASE("regd queue purge-dead empties the dead letters", "[queue_cli]") {
  TempDir dir;
  FakeSmsServer sms;
  sms.SetDefaultStatus(422);
  std::string data = dir.Join("data");
  {
    RegdProcess regd({"--port", "0", "--data-dir", data, "--sms-provider", "webhook",
                      "--sms-webhook-url", sms.url(), "--dev-fixed-captcha", "ABCD", "--access-log",
                      "false", "--abuse-limits", "off"},
                     dir.Join("regd.log"));
    REQUIRE(regd.started());
    REQUIRE(RequestCode(regd, "13700000003") == 200);
    for (int i = 0; i < 100 && Stats(data)["dead"] != 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }  // the server is gone: the CLI also works on a stopped server's data
  auto purge = RunRegd({"queue", "purge-dead", "--json", "--data-dir", data});
  REQUIRE(purge.exit_code == 0);
  CHECK(json::parse(purge.out)["purged"] == 1);
  CHECK(Stats(data)["dead"] == 0);
}

TEST_CASE("regd queue refuses bad usage and a dir without data", "[queue_cli]") {
  TempDir dir;
  CHECK(RunRegd({"queue"}).exit_code == 2);
  CHECK(RunRegd({"queue", "explode"}).exit_code == 2);
  CHECK(RunRegd({"queue", "list", "--state", "sideways"}).exit_code == 2);
  CHECK(RunRegd({"queue", "stats", "--data-dir", dir.Join("nothing")}).exit_code == 1);
}

TEST_CASE("regd queue list shows whom a dead SMS was for, masked, and its purpose, never the code",
          "[queue_cli]") {
  TempDir dir;
  FakeSmsServer sms;
  sms.SetDefaultStatus(400);  // the provider rejects the SMS: the job dies at once
  std::string data = dir.Join("data");
  RegdProcess regd(
      {"--port", "0", "--data-dir", data, "--sms-provider", "webhook", "--sms-webhook-url",
       sms.url(), "--dev-fixed-captcha", "ABCD", "--access-log", "false", "--abuse-limits", "off"},
      dir.Join("regd.log"));
  REQUIRE(regd.started());
  REQUIRE(RequestCode(regd, "15012343112") == 200);
  for (int i = 0; i < 100 && Stats(data)["dead"] != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(sms.Received().size() == 1);
  const std::string code = sms.Received()[0].code;  // what the customer would have got
  REQUIRE(code.size() == 6);

  auto list = RunRegd({"queue", "list", "--state", "dead", "--json", "--data-dir", data});
  REQUIRE(list.exit_code == 0);
  json jobs = json::parse(list.out, nullptr, false);
  REQUIRE(jobs.is_array());
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["mobile"] == "150****3112");
  CHECK(jobs[0]["purpose"] == "register");
  CHECK(list.out.find(code) == std::string::npos);
  CHECK(list.out.find("15012343112") == std::string::npos);

  auto table = RunRegd({"queue", "list", "--data-dir", data});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("MOBILE") != std::string::npos);
  CHECK(table.out.find("PURPOSE") != std::string::npos);
  CHECK(table.out.find("150****3112") != std::string::npos);
  CHECK(table.out.find("register") != std::string::npos);
  CHECK(table.out.find(code) == std::string::npos);
}

TEST_CASE("a job revived by regd queue beside a running server is sent within 2 s", "[queue_cli]") {
  TempDir dir;
  FakeSmsServer sms;
  sms.SetDefaultStatus(400);
  std::string data = dir.Join("data");
  RegdProcess regd(
      {"--port", "0", "--data-dir", data, "--sms-provider", "webhook", "--sms-webhook-url",
       sms.url(), "--dev-fixed-captcha", "ABCD", "--access-log", "false", "--abuse-limits", "off"},
      dir.Join("regd.log"));
  REQUIRE(regd.started());
  REQUIRE(RequestCode(regd, "13700000011") == 200);
  REQUIRE(RequestCode(regd, "13700000012") == 200);
  for (int i = 0; i < 100 && Stats(data)["dead"] != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(Stats(data)["dead"] == 2);
  // The consumers have gone idle with nothing due. The operator fixes the
  // provider and revives one job by id, then the other with retry-dead.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  sms.SetDefaultStatus(200);
  auto list = RunRegd({"queue", "list", "--state", "dead", "--json", "--data-dir", data});
  json jobs = json::parse(list.out, nullptr, false);
  REQUIRE(jobs.size() == 2);
  auto revived = std::chrono::steady_clock::now();
  REQUIRE(
      RunRegd({"queue", "retry", std::to_string(jobs[0]["id"].get<uint64_t>()), "--data-dir", data})
          .exit_code == 0);
  CHECK(sms.WaitForAccepted(1, std::chrono::milliseconds(2000)));
  CHECK(std::chrono::steady_clock::now() - revived < std::chrono::milliseconds(2000));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // idle again
  revived = std::chrono::steady_clock::now();
  REQUIRE(RunRegd({"queue", "retry-dead", "--data-dir", data}).exit_code == 0);
  CHECK(sms.WaitForAccepted(2, std::chrono::milliseconds(2000)));
  CHECK(std::chrono::steady_clock::now() - revived < std::chrono::milliseconds(2000));
}
