// `regd backup` and `regd restore` (app/backup_cli.h) with real regd
// processes: a backup taken while requests and SMS jobs flow restores every
// acknowledged user and pending job; and each refusal that keeps an
// operator's data safe.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "storage/data_dir.h"
#include "storage/files.h"
#include "storage/lmdb_env.h"
#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_client.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using regd::testing::AskCode;
using regd::testing::ClientOf;
using regd::testing::CommandOutput;
using regd::testing::Describe;
using regd::testing::FakeSmsServer;
using regd::testing::LoginStatus;
using regd::testing::NumberedMobile;
using regd::testing::RegdProcess;
using regd::testing::RunRegdCapturing;
using regd::testing::TempDir;
using regd::testing::TestRegdArgs;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kPassword = "password_1";

std::vector<std::string> ServerArgs(const std::string& data, const FakeSmsServer& sms) {
  // Failed sends are retried within a second, up to 100 times: a job for an
  // unreachable phone stays pending for the whole test.
  return TestRegdArgs(data, sms.url(),
                      {"--sms-rate", "off", "--retry-base-ms", "200", "--retry-max-ms", "1000",
                       "--max-attempts", "100", "--abuse-limits", "off"});
}

int Register(httplib::Client& cli, const std::string& username, const std::string& mobile,
             const std::string& code) {
  nlohmann::json body = {{"username", username}, {"password", kPassword}, {"password2", kPassword},
                         {"mobile", mobile},     {"sms_code", code},      {"allow", true}};
  auto res = cli.Post("/register/", body.dump(), "application/json");
  return res ? res->status : -1;
}

// A user registered from scratch through HTTP; false if any step failed.
bool SignUp(httplib::Client& cli, FakeSmsServer& sms, const std::string& username,
            const std::string& mobile) {
  if (AskCode(cli, mobile) != 200) return false;
  auto code = sms.WaitForCode(mobile, std::chrono::seconds(10));
  return code && Register(cli, username, mobile, *code) == 200;
}

unsigned Mode(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// A stopped data dir holding the given users.
void MakeDataDir(const TempDir& dir, const std::string& data,
                 const std::vector<std::string>& usernames, int first_mobile) {
  FakeSmsServer sms;
  RegdProcess regd(ServerArgs(data, sms), dir.Join("make.log"));
  REQUIRE(regd.started());
  auto cli = ClientOf(regd);
  for (size_t i = 0; i < usernames.size(); ++i) {
    REQUIRE(
        SignUp(cli, sms, usernames[i], NumberedMobile("139", first_mobile + static_cast<int>(i))));
  }
}

int CountUsername(const RegdProcess& p, const std::string& username) {
  auto cli = ClientOf(p);
  auto res = cli.Get("/usernames/" + username + "/count/");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return nlohmann::json::parse(res->body)["count"].get<int>();
}

}  // namespace

TEST_CASE("a backup taken under load restores every acknowledged user and pending job",
          "[backup_cli]") {
  TempDir dir;
  FakeSmsServer sms;
  sms.RejectMobilesStartingWith("137", 503);  // these phones are unreachable: jobs stay pending
  std::string live = dir.Join("live");
  RegdProcess regd(ServerArgs(live, sms), dir.Join("live.log"));
  REQUIRE(regd.started());

  // Load: two threads register users (139...), two request codes for
  // unreachable phones (137...). Each success is recorded with its time.
  std::mutex mu;
  std::vector<std::pair<std::string, SteadyClock::time_point>> users, pending;
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  auto registrar = [&] {
    auto cli = ClientOf(regd);
    while (!stop) {
      int i = next++;
      std::string username = "user_" + std::to_string(100000 + i);
      if (SignUp(cli, sms, username, NumberedMobile("139", i))) {
        std::lock_guard<std::mutex> lock(mu);
        users.emplace_back(username, SteadyClock::now());
      }
    }
  };
  auto requester = [&] {
    auto cli = ClientOf(regd);
    while (!stop) {
      std::string mobile = NumberedMobile("137", next++);
      if (AskCode(cli, mobile) == 200) {
        std::lock_guard<std::mutex> lock(mu);
        pending.emplace_back(mobile, SteadyClock::now());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  std::vector<std::thread> load;
  for (int i = 0; i < 2; ++i) load.emplace_back(registrar);
  for (int i = 0; i < 2; ++i) load.emplace_back(requester);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  SteadyClock::time_point started = SteadyClock::now();
  std::string backup = dir.Join("backup");
  CommandOutput made = RunRegdCapturing({"backup", backup, "--data-dir", live});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // load goes on after it
  stop = true;
  for (auto& t : load) t.join();
  INFO(Describe(made));
  REQUIRE(made.exit_code == 0);
  CHECK_THAT(made.out, Contains("backup of " + live + " written to " + backup));
  CHECK_FALSE(regd::storage::PathExists(backup + ".partial"));

  std::vector<std::string> acked_users, acked_pending;
  for (const auto& [name, at] : users) {
    if (at < started) acked_users.push_back(name);
  }
  for (const auto& [mobile, at] : pending) {
    if (at < started) acked_pending.push_back(mobile);
  }
  INFO(acked_users.size() << " users and " << acked_pending.size()
                          << " pending codes acknowledged before the backup");
  REQUIRE(acked_users.size() >= 3);
  REQUIRE(acked_pending.size() >= 3);
  CHECK(users.size() > acked_users.size());  // writes went on during and after the backup

  // Restore into a fresh dir and start a server there; every phone is
  // reachable now.
  std::string restored = dir.Join("restored");
  CommandOutput put = RunRegdCapturing({"restore", backup, "--data-dir", restored});
  INFO(Describe(put));
  REQUIRE(put.exit_code == 0);
  CommandOutput checked = RunRegdCapturing({"check", "--data-dir", restored});
  INFO(Describe(checked));
  CHECK(checked.exit_code == 0);

  FakeSmsServer phones;
  RegdProcess again(ServerArgs(restored, phones), dir.Join("restored.log"));
  REQUIRE(again.started());
  auto cli = ClientOf(again);
  for (const std::string& username : acked_users) {
    INFO(username);
    CHECK(LoginStatus(cli, username, kPassword) == 200);
  }
  std::set<std::string> delivered;
  for (int i = 0; i < 200; ++i) {
    delivered.clear();
    for (const auto& m : phones.Accepted()) delivered.insert(m.mobile);
    if (std::all_of(acked_pending.begin(), acked_pending.end(),
                    [&](const std::string& m) { return delivered.count(m); })) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const std::string& mobile : acked_pending) {
    INFO(mobile);
    CHECK(delivered.count(mobile) == 1);
  }
}

TEST_CASE("a backup is a whole directory readable by its owner only, with a manifest",
          "[backup_cli]") {
  TempDir dir;
  std::string data = dir.Join("data");
  MakeDataDir(dir, data, {"alice_01"}, 1);
  std::string backup = dir.Join("b");
  REQUIRE(regd::storage::MakeDir(backup).ok());  // an empty directory may be the destination
  CommandOutput made = RunRegdCapturing({"backup", backup, "--data-dir", data});
  INFO(Describe(made));
  REQUIRE(made.exit_code == 0);
  CHECK(Mode(backup) == 0700);
  CHECK(Mode(backup + "/users.sqlite3") == 0600);
  CHECK(Mode(backup + "/lmdb/data.mdb") == 0600);
  std::ifstream in(backup + "/backup.json");
  auto manifest = nlohmann::json::parse(in, nullptr, false);
  REQUIRE(manifest.is_object());
  CHECK(manifest["kind"] == "regd-backup");
  CHECK(manifest["users"] == 1);
  CHECK(manifest["regd_version"] == REGD_PROJECT_VERSION);
  // A backup can be checked like a data dir, and checking adds nothing to it.
  CommandOutput checked = RunRegdCapturing({"check", "--data-dir", backup});
  INFO(Describe(checked));
  CHECK(checked.exit_code == 0);
  CHECK_THAT(checked.out, Contains("1 users"));
  CHECK(regd::storage::ListDir(backup + "/lmdb").value() == std::vector<std::string>{"data.mdb"});
  CHECK_FALSE(regd::storage::PathExists(backup + "/users.sqlite3-wal"));
}

TEST_CASE("a backup refuses a destination that is not empty and leaves nothing behind on failure",
          "[backup_cli]") {
  TempDir dir;
  std::string data = dir.Join("data");
  MakeDataDir(dir, data, {}, 0);
  std::string dest = dir.Join("dest");
  REQUIRE(regd::storage::MakeDir(dest).ok());
  std::ofstream(dest + "/keep") << "keep";
  CommandOutput r = RunRegdCapturing({"backup", dest, "--data-dir", data});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("not empty"));
  CHECK(regd::storage::ListDir(dest).value() == std::vector<std::string>{"keep"});

  r = RunRegdCapturing({"backup", dir.Join("other"), "--data-dir", dir.Join("no-data")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("no regd data"));
  CHECK_FALSE(regd::storage::PathExists(dir.Join("other")));
  CHECK_FALSE(regd::storage::PathExists(dir.Join("other.partial")));

  REQUIRE(regd::storage::MakeDir(dir.Join("late.partial")).ok());  // an interrupted backup
  r = RunRegdCapturing({"backup", dir.Join("late"), "--data-dir", data});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("late.partial exists"));
  CHECK_FALSE(regd::storage::PathExists(dir.Join("late")));

  CHECK(RunRegdCapturing({"backup"}).exit_code == 2);
  CHECK(RunRegdCapturing({"backup", "a", "b"}).exit_code == 2);
  CHECK(RunRegdCapturing({"backup", "a", "--bogus"}).exit_code == 2);
}

TEST_CASE("a restore refuses a data dir a server is running on", "[backup_cli]") {
  TempDir dir;
  std::string data = dir.Join("data"), other = dir.Join("other");
  MakeDataDir(dir, other, {"bob_0001"}, 50);
  REQUIRE(RunRegdCapturing({"backup", dir.Join("b"), "--data-dir", other}).exit_code == 0);

  FakeSmsServer sms;
  RegdProcess regd(ServerArgs(data, sms), dir.Join("live.log"));
  REQUIRE(regd.started());
  CommandOutput r = RunRegdCapturing({"restore", dir.Join("b"), "--data-dir", data, "--force"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("in use by regd (pid " + std::to_string(regd.pid()) + ")") &&
                        Contains("stop the server"));
  CHECK(CountUsername(regd, "bob_0001") == 0);  // untouched
  auto cli = ClientOf(regd);
  CHECK(AskCode(cli, NumberedMobile("139", 7)) == 200);  // and serving
}

TEST_CASE("a restore refuses a data dir another process has open", "[backup_cli]") {
  TempDir dir;
  std::string data = dir.Join("data");
  MakeDataDir(dir, data, {}, 0);
  REQUIRE(RunRegdCapturing({"backup", dir.Join("b"), "--data-dir", data}).exit_code == 0);
  // This test process opens the env, as `regd queue` beside it would.
  regd::storage::LmdbEnv::Options o;
  o.path = regd::storage::LmdbDirPath(data);
  auto env = regd::storage::LmdbEnv::Open(o);
  REQUIRE(env.ok());
  CommandOutput r = RunRegdCapturing({"restore", dir.Join("b"), "--data-dir", data, "--force"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("is open in process " + std::to_string(getpid())));
}

TEST_CASE("a restore refuses a data dir that is not empty unless --force, which replaces its data",
          "[backup_cli]") {
  TempDir dir;
  std::string data = dir.Join("data");
  {
    FakeSmsServer sms;
    RegdProcess regd(ServerArgs(data, sms), dir.Join("1.log"));
    REQUIRE(regd.started());
    auto cli = ClientOf(regd);
    REQUIRE(SignUp(cli, sms, "before_backup", NumberedMobile("139", 1)));
    REQUIRE(RunRegdCapturing({"backup", dir.Join("b"), "--data-dir", data}).exit_code == 0);
    REQUIRE(SignUp(cli, sms, "after_backup", NumberedMobile("139", 2)));
  }
  std::ofstream(data + "/notes.txt") << "the operator's";

  CommandOutput r = RunRegdCapturing({"restore", dir.Join("b"), "--data-dir", data});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("not empty") && Contains("--force"));

  r = RunRegdCapturing({"restore", dir.Join("b"), "--data-dir", data, "--force"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("1 users"));
  CHECK(regd::storage::PathExists(data + "/notes.txt"));  // not regd's: left alone
  CHECK_FALSE(regd::storage::PathExists(data + "/.restore.partial"));

  FakeSmsServer sms;
  RegdProcess regd(ServerArgs(data, sms), dir.Join("2.log"));
  REQUIRE(regd.started());
  CHECK(CountUsername(regd, "before_backup") == 1);
  CHECK(CountUsername(regd, "after_backup") == 0);
  auto cli = ClientOf(regd);
  CHECK(LoginStatus(cli, "before_backup", kPassword) == 200);
}

TEST_CASE("a restore refuses what is not a backup, or a damaged one, and changes nothing",
          "[backup_cli]") {
  TempDir dir;
  std::string data = dir.Join("data");
  MakeDataDir(dir, data, {"carol_001"}, 9);
  CommandOutput r = RunRegdCapturing({"restore", data, "--data-dir", dir.Join("new")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("not a regd backup"));

  REQUIRE(RunRegdCapturing({"backup", dir.Join("b"), "--data-dir", data}).exit_code == 0);
  {
    std::fstream f(dir.Join("b/users.sqlite3"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << "this is no longer an SQLite database header";
  }
  std::string target = dir.Join("target");
  r = RunRegdCapturing({"restore", dir.Join("b"), "--data-dir", target});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("fails its check") && Contains("users.sqlite3"));
  CHECK(regd::storage::ListDir(target).value() == std::vector<std::string>{"regd.lock"});

  CHECK(RunRegdCapturing({"restore"}).exit_code == 2);
  CHECK(RunRegdCapturing({"restore", "b", "--data-dir"}).exit_code == 2);
}
