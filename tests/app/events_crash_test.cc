// The delivery guarantee for account events: the real regd binary is
// killed with SIGKILL right after registrations and a password change were
// acknowledged, while its receiver is too slow to have answered any event;
// restarted against a receiver that answers, every acknowledged change's
// event arrives, correctly signed, at least once.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "tests/support/fake_sms_server.h"
#include "tests/support/recording_server.h"
#include "tests/support/regd_client.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_check.h"

using nlohmann::json;
using regd::testing::ClientOf;
using regd::testing::FakeSmsServer;
using regd::testing::HeaderValues;
using regd::testing::NumberedMobile;
using regd::testing::RecordingServer;
using regd::testing::RegdProcess;
using regd::testing::RegisterVia;
using regd::testing::TempDir;
using regd::testing::TestRegdArgs;

namespace {

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::vector<std::string> Args(const TempDir& dir, const FakeSmsServer& sms,
                              const std::string& events_url) {
  return TestRegdArgs(dir.Join("data"), sms.url(),
                      {"--abuse-limits", "off", "--sms-rate", "off", "--events-url", events_url,
                       "--events-secret", kSecret});
}

}  // namespace

TEST_CASE("kill -9 right after account changes loses none of their events", "[events_crash]") {
  TempDir dir;
  FakeSmsServer sms;
  std::set<std::string> registered;  // usernames acknowledged
  {
    // A receiver that holds every delivery past the kill: no event is
    // answered before it, so each is in the outbox, the queue or in flight.
    RecordingServer stuck;
    stuck.SetDelay(std::chrono::seconds(20));
    RegdProcess regd(Args(dir, sms, stuck.base_url() + "/events"), dir.Join("regd1.log"));
    REQUIRE(regd.started());
    auto cli = ClientOf(regd);
    std::string session;
    for (int i = 0; i < 6; ++i) {
      std::string username = "shopper_" + std::to_string(i);
      session = RegisterVia(cli, sms, username, NumberedMobile("137", i));
      registered.insert(username);
    }
    json change = {{"old_password", "password_1"},
                   {"new_password", "password_2"},
                   {"new_password2", "password_2"}};
    httplib::Headers h = {{"Cookie", session}};
    auto res = cli.Put("/password/", h, change.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    regd.Kill9();  // right after the 200
  }

  RecordingServer receiver(200, "");
  RegdProcess regd(Args(dir, sms, receiver.base_url() + "/events"), dir.Join("regd2.log"));
  REQUIRE(regd.started());
  std::set<std::string> got_registered;
  bool got_password_changed = false;
  std::set<std::string> ids;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    got_registered.clear();
    got_password_changed = false;
    for (const auto& req : receiver.Requests()) {
      const std::string id = HeaderValues(req.headers, "webhook-id").at(0);
      const std::string ts = HeaderValues(req.headers, "webhook-timestamp").at(0);
      INFO(req.body);
      REQUIRE(regd::testing::WebhookSignatureValid(
          kSecret, id, ts, req.body, HeaderValues(req.headers, "webhook-signature").at(0)));
      ids.insert(id);
      json e = json::parse(req.body);
      if (e["type"] == "user.registered") got_registered.insert(e["data"]["username"]);
      if (e["type"] == "user.password_changed" && e["data"]["username"] == "shopper_5") {
        got_password_changed = true;
      }
    }
    if (got_registered == registered && got_password_changed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(got_registered == registered);
  CHECK(got_password_changed);
  CHECK(ids.size() == registered.size() + 1);  // one webhook-id per event, repeats share it
}
