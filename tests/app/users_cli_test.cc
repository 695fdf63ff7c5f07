// `regd users` against a live server on the same data dir: each command is
// run as the real binary beside a running regd, and the test asserts what
// the server then does for the customer.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_client.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"

using nlohmann::json;
using regd::testing::AskCode;
using regd::testing::ClientOf;
using regd::testing::FakeSmsServer;
using regd::testing::InfoStatus;
using regd::testing::LoginStatus;
using regd::testing::RegdProcess;
using regd::testing::RegisterVia;
using regd::testing::RunRegd;
using regd::testing::RunRegdCapturing;
using regd::testing::TempDir;
using regd::testing::TestRegdArgs;

namespace {

// A live regd with its limits on (the login locks are what unlock lifts).
struct LiveShop {
  TempDir dir;
  FakeSmsServer sms;
  RegdProcess regd{
      TestRegdArgs(dir.Join("data"), sms.url(),
                   {"--sms-rate", "off", "--sms-resend-seconds", "0", "--retry-base-ms", "60000"}),
      dir.Join("regd.log")};

  regd::testing::CommandResult Users(std::vector<std::string> args) {
    args.insert(args.begin(), "users");
    args.push_back("--data-dir");
    args.push_back(dir.Join("data"));
    return RunRegd(args);
  }
};

json ErrorBody(const httplib::Result& res) {
  REQUIRE(res);
  return json::parse(res->body);
}

}  // namespace

TEST_CASE("users list and show tell the owner who the customers are", "[users_cli]") {
  LiveShop shop;
  REQUIRE(shop.regd.started());
  auto cli = ClientOf(shop.regd);
  RegisterVia(cli, shop.sms, "first_one", "13600000001");
  RegisterVia(cli, shop.sms, "second_one", "13600000002");

  auto list = shop.Users({"list", "--json"});
  REQUIRE(list.exit_code == 0);
  json users = json::parse(list.out);
  REQUIRE(users.size() == 2);
  CHECK(users[0]["username"] == "second_one");  // newest first
  CHECK(users[1]["mobile"] == "13600000001");
  CHECK(users[1]["disabled"] == false);
  CHECK(json::parse(shop.Users({"list", "--json", "--limit", "1"}).out).size() == 1);
  CHECK(shop.Users({"list"}).out.find("first_one") != std::string::npos);

  auto show = shop.Users({"show", "13600000001", "--json"});  // by mobile
  REQUIRE(show.exit_code == 0);
  json one = json::parse(show.out);
  CHECK(one["username"] == "first_one");
  CHECK(one["live_sessions"] == 1);
  CHECK(one["last_login_at"].is_string());
  REQUIRE(one["events"].size() == 1);
  CHECK(one["events"][0]["type"] == "user.registered");
  CHECK(shop.Users({"show", "first_one"}).out.find("user.registered") != std::string::npos);

  // The server's --config names the data as well as --data-dir does.
  std::string conf = shop.dir.Join("regd.conf");
  std::ofstream(conf) << "data-dir = " << shop.dir.Join("data") << "\n";
  auto by_config = RunRegd({"users", "show", "first_one", "--config", conf, "--json"});
  REQUIRE(by_config.exit_code == 0);
  CHECK(json::parse(by_config.out)["mobile"] == "13600000001");

  auto missing =
      RunRegdCapturing({"users", "show", "nobody_here", "--data-dir", shop.dir.Join("data")});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no customer") != std::string::npos);
  CHECK(shop.Users({"frobnicate", "x"}).exit_code == 2);
  CHECK(shop.Users({"disable"}).exit_code == 2);
  CHECK(shop.Users({"list", "--limit", "0"}).exit_code == 2);
}

TEST_CASE("a disabled customer's open session is 401 and every way in is 403", "[users_cli]") {
  LiveShop shop;
  REQUIRE(shop.regd.started());
  auto cli = ClientOf(shop.regd);
  std::string session = RegisterVia(cli, shop.sms, "blocked_one", "13600000011");
  REQUIRE(InfoStatus(cli, session) == 200);

  REQUIRE(shop.Users({"disable", "blocked_one"}).exit_code == 0);
  CHECK(InfoStatus(cli, session) == 401);  // the next request, no wait
  auto who = cli.Get("/whoami", {{"Cookie", session}});
  REQUIRE(who);
  CHECK(who->status == 401);
  json body = {{"username", "blocked_one"}, {"password", "password_1"}, {"remembered", true}};
  auto login = cli.Post("/login/", body.dump(), "application/json");
  REQUIRE(login);
  CHECK(login->status == 403);
  CHECK(ErrorBody(login)["errmsg"] == "account disabled");
  CHECK(LoginStatus(cli, "blocked_one", "wrong_pass1") == 400);  // no hint without the password
  size_t sent = shop.sms.Accepted().size();
  CHECK(AskCode(cli, "13600000011", "login") == 403);  // no SMS spent on it
  CHECK(AskCode(cli, "13600000011", "reset") == 403);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(shop.sms.Accepted().size() == sent);

  auto again = shop.Users({"disable", "13600000011"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already") != std::string::npos);
  REQUIRE(shop.Users({"enable", "blocked_one"}).exit_code == 0);
  CHECK(LoginStatus(cli, "blocked_one", "password_1") == 200);
  json shown = json::parse(shop.Users({"show", "blocked_one", "--json"}).out);
  REQUIRE(shown["events"].size() == 3);
  CHECK(shown["events"][0]["type"] == "user.enabled");
  CHECK(shown["events"][1]["type"] == "user.disabled");
}

TEST_CASE("a deleted customer is erased and the mobile can register again", "[users_cli]") {
  LiveShop shop;
  REQUIRE(shop.regd.started());
  auto cli = ClientOf(shop.regd);
  std::string session = RegisterVia(cli, shop.sms, "leaving_one", "13600000021");
  auto first = cli.Get("/whoami", {{"Cookie", session}});
  REQUIRE(first);
  const auto erased_id = json::parse(first->body)["user"]["id"].get<int64_t>();
  // A login code that cannot be sent yet (the provider is down): queued.
  shop.sms.SetDefaultStatus(503);
  REQUIRE(AskCode(cli, "13600000021", "login") == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  auto deleted = shop.Users({"delete", "leaving_one"});
  REQUIRE(deleted.exit_code == 0);
  CHECK(deleted.out.find("1 queued SMS dropped") != std::string::npos);
  CHECK(InfoStatus(cli, session) == 401);
  CHECK(LoginStatus(cli, "leaving_one", "password_1") == 400);
  CHECK(shop.Users({"show", "leaving_one"}).exit_code == 1);
  auto queued = RunRegd({"queue", "list", "--json", "--data-dir", shop.dir.Join("data")});
  REQUIRE(queued.exit_code == 0);
  CHECK(json::parse(queued.out).empty());

  shop.sms.SetDefaultStatus(0);
  std::string again = RegisterVia(cli, shop.sms, "leaving_one", "13600000021");  // both free again
  CHECK(LoginStatus(cli, "13600000021", "password_1") == 200);
  // The new customer is a new id: the erased one's session stays a 401, and
  // the shop (by X-Regd-User-Id) cannot take one for the other.
  CHECK(InfoStatus(cli, session) == 401);
  auto who = cli.Get("/whoami", {{"Cookie", again}});
  REQUIRE(who);
  REQUIRE(who->status == 200);
  CHECK(json::parse(who->body)["user"]["id"] != erased_id);
  auto shown = json::parse(shop.Users({"show", "leaving_one", "--json"}).out);
  for (const auto& e : shown["events"]) CHECK(e["type"] == "user.registered");  // not the old one's
}

TEST_CASE("unlock lifts a locked customer's login locks in the running server", "[users_cli]") {
  LiveShop shop;
  REQUIRE(shop.regd.started());
  auto cli = ClientOf(shop.regd);
  RegisterVia(cli, shop.sms, "forgetful", "13600000031");
  int status = 0;
  for (int i = 0; i < 10 && status != 429; ++i)
    status = LoginStatus(cli, "forgetful", "wrong_pass1");
  REQUIRE(status == 429);
  REQUIRE(LoginStatus(cli, "forgetful", "password_1") == 429);

  auto unlocked = shop.Users({"unlock", "forgetful"});
  REQUIRE(unlocked.exit_code == 0);
  CHECK(LoginStatus(cli, "forgetful", "password_1") == 200);
}
