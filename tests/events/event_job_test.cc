// The "event" job: its payload, and its handler POSTing to a real loopback
// receiver with the Standard Webhooks headers, checked as a receiver would.
#include "events/event_job.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/fake_clock.h"
#include "tests/support/recording_server.h"
#include "tests/support/webhook_check.h"

using regd::events::DecodeEventJob;
using regd::events::EncodeEventJob;
using regd::events::EventSinkConfig;
using regd::events::MakeEventJob;
using regd::events::MakeEventJobHandler;
using regd::events::WebhookSecret;
using regd::queue::HandlerResult;
using regd::queue::Job;
using regd::testing::FakeClock;
using regd::testing::HeaderValues;
using regd::testing::RecordingServer;

namespace {

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

regd::storage::StoredEvent Alice() {
  return {42, "user.mobile_changed", 7, "alice", "13900139000", 1'790'000'000'000, "13800138000"};
}

Job EventJobFor(const regd::storage::StoredEvent& e) {
  Job j;
  j.id = 1;
  j.type = regd::events::kEventJobType;
  j.payload = EncodeEventJob(MakeEventJob(e));
  j.attempts = 1;
  return j;
}

regd::queue::JobHandler Handler(const std::string& url, const FakeClock& clock) {
  auto secret = WebhookSecret::Parse(kSecret);
  REQUIRE(secret.ok());
  EventSinkConfig sink;
  sink.url = url;
  sink.read_timeout_ms = 2000;
  auto h = MakeEventJobHandler(sink, *secret, &clock);
  REQUIRE(h.ok());
  return *h;
}

}  // namespace

TEST_CASE("an event's body is its type, time and the account", "[event_job]") {
  auto job = MakeEventJob(Alice());
  CHECK(job.webhook_id == "evt_42");
  auto body = nlohmann::json::parse(job.body);
  CHECK(body == nlohmann::json{
                    {"type", "user.mobile_changed"},
                    {"timestamp", "2026-09-21T14:13:20Z"},
                    {"data", {{"user_id", 7}, {"username", "alice"}, {"mobile", "13900139000"}}}});
  auto back = DecodeEventJob(EncodeEventJob(job));
  REQUIRE(back.ok());
  CHECK(back->webhook_id == job.webhook_id);
  CHECK(back->body == job.body);
  CHECK_FALSE(DecodeEventJob("no newline").ok());
  CHECK_FALSE(DecodeEventJob("\n{}").ok());
}

TEST_CASE("an event is POSTed signed as Standard Webhooks receivers verify", "[event_job]") {
  RecordingServer receiver(204, "");
  FakeClock clock;
  auto handler = Handler(receiver.base_url() + "/hooks/regd?shop=1", clock);
  HandlerResult r = handler(EventJobFor(Alice()));
  CHECK(r.kind == HandlerResult::Kind::kDone);
  auto got = receiver.Requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].target == "/hooks/regd?shop=1");
  const std::string id = HeaderValues(got[0].headers, "webhook-id").at(0);
  const std::string ts = HeaderValues(got[0].headers, "webhook-timestamp").at(0);
  const std::string sig = HeaderValues(got[0].headers, "webhook-signature").at(0);
  CHECK(id == "evt_42");
  CHECK(ts == std::to_string(clock.NowMs() / 1000));
  CHECK(HeaderValues(got[0].headers, "Content-Type").at(0) == "application/json");
  CHECK(regd::testing::WebhookSignatureValid(kSecret, id, ts, got[0].body, sig));
  CHECK_FALSE(regd::testing::WebhookSignatureValid(kSecret, id, ts, got[0].body + " ", sig));
  CHECK(nlohmann::json::parse(got[0].body)["data"]["username"] == "alice");
}

TEST_CASE("a retried event keeps its webhook-id and is signed afresh", "[event_job]") {
  RecordingServer receiver;
  receiver.Script(500, "");
  receiver.Script(429, "", "7");
  FakeClock clock;
  auto handler = Handler(receiver.base_url() + "/e", clock);
  HandlerResult first = handler(EventJobFor(Alice()));
  CHECK(first.kind == HandlerResult::Kind::kRetry);
  CHECK(first.error == "events: HTTP 500");
  clock.Advance(5000);
  HandlerResult second = handler(EventJobFor(Alice()));
  CHECK(second.kind == HandlerResult::Kind::kRetry);
  CHECK(second.retry_after_ms == 7000);
  clock.Advance(7000);
  CHECK(handler(EventJobFor(Alice())).kind == HandlerResult::Kind::kDone);
  auto got = receiver.Requests();
  REQUIRE(got.size() == 3);
  CHECK(HeaderValues(got[0].headers, "webhook-id") == HeaderValues(got[2].headers, "webhook-id"));
  CHECK(HeaderValues(got[0].headers, "webhook-timestamp") !=
        HeaderValues(got[2].headers, "webhook-timestamp"));
  for (const auto& req : got) {
    CHECK(regd::testing::WebhookSignatureValid(
        kSecret, HeaderValues(req.headers, "webhook-id").at(0),
        HeaderValues(req.headers, "webhook-timestamp").at(0), req.body,
        HeaderValues(req.headers, "webhook-signature").at(0)));
  }
}

TEST_CASE("an unreachable receiver is retried, a bad payload is not", "[event_job]") {
  FakeClock clock;
  auto handler = Handler("http://127.0.0.1:1/e", clock);  // nothing listens on port 1
  HandlerResult r = handler(EventJobFor(Alice()));
  CHECK(r.kind == HandlerResult::Kind::kRetry);
  CHECK(r.error.rfind("events: ", 0) == 0);
  Job bad = EventJobFor(Alice());
  bad.payload = "garbage";
  CHECK(handler(bad).kind == HandlerResult::Kind::kPermanent);
}

TEST_CASE("an events URL that is not http(s) is refused naming the flag", "[event_job]") {
  FakeClock clock;
  auto secret = WebhookSecret::Parse(kSecret);
  REQUIRE(secret.ok());
  for (const char* url : {"", "ftp://127.0.0.1/e", "127.0.0.1:9000"}) {
    EventSinkConfig sink;
    sink.url = url;
    auto h = MakeEventJobHandler(sink, *secret, &clock);
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().message().find("--events-url") != std::string::npos);
  }
}

TEST_CASE("an operator sees an event job's type and masked mobile, nothing more", "[event_job]") {
  auto summary = regd::events::SummarizeEventJob(EncodeEventJob(MakeEventJob(Alice())));
  REQUIRE(summary.ok());
  CHECK(summary->type == "user.mobile_changed");
  CHECK(summary->masked_mobile == "139****9000");
  CHECK_FALSE(regd::events::SummarizeEventJob("evt_1\nnot json").ok());
  CHECK_FALSE(regd::events::SummarizeEventJob("evt_1\n{\"type\":1}").ok());
}
