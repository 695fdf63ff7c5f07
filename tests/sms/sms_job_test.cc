#include "sms/sms_job.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_sms_server.h"

using regd::Status;
using regd::queue::HandlerResult;
using regd::queue::Job;
using regd::queue::JobHandler;
using regd::sms::DecodeSmsJob;
using regd::sms::EncodeSmsJob;
using regd::sms::kSmsJobType;
using regd::sms::MakeSmsJobHandler;
using regd::sms::MakeSmsProvider;
using regd::sms::SendOutcome;
using regd::sms::SmsJob;
using regd::sms::SmsMessage;
using regd::sms::SmsProvider;
using regd::sms::SmsProviderConfig;
using regd::testing::FakeClock;
using regd::testing::FakeSmsServer;
using Kind = HandlerResult::Kind;

namespace {

using namespace std::chrono_literals;

// An SmsProvider that records what it was asked to send and answers with a
// scripted outcome. SmsProvider is the designed substitution point.
class RecordingProvider : public SmsProvider {
 public:
  explicit RecordingProvider(SendOutcome outcome = {}) : outcome_(std::move(outcome)) {}
  SendOutcome Send(const SmsMessage& msg) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back(msg);
    return outcome_;
  }
  const char* name() const override { return "recording"; }
  std::vector<SmsMessage> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  const SendOutcome outcome_;
  std::vector<SmsMessage> sent_;  // guarded by mu_
};

Job SmsJobFor(const SmsJob& sms) {
  Job job;
  job.id = 1;
  job.type = kSmsJobType;
  job.payload = EncodeSmsJob(sms);
  job.attempts = 1;
  return job;
}

}  // namespace

TEST_CASE("an sms job payload round-trips", "[sms_job]") {
  SmsJob in{"+8613800138000", "000123", 1'790'000'300'000};
  auto out = DecodeSmsJob(EncodeSmsJob(in));
  REQUIRE(out.ok());
  CHECK(out->mobile == in.mobile);
  CHECK(out->code == in.code);  // leading zeros kept: the code is text
  CHECK(out->expires_at_ms == in.expires_at_ms);
}

TEST_CASE("an sms job payload is the documented JSON", "[sms_job]") {
  std::string payload = EncodeSmsJob({"13800138000", "123456", 42});
  auto j = nlohmann::json::parse(payload, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j == nlohmann::json{{"mobile", "13800138000"},
                            {"purpose", "register"},
                            {"code", "123456"},
                            {"expires_at_ms", 42}});
}

TEST_CASE("an sms job payload written before purpose existed reads as register", "[sms_job]") {
  auto old = DecodeSmsJob(R"({"mobile":"13800138000","code":"123456","expires_at_ms":42})");
  REQUIRE(old.ok());
  CHECK(old->purpose == "register");
  auto summary = regd::sms::SummarizeSmsJob(
      R"({"mobile":"13800138000","sealed_code":"AAAA","expires_at_ms":42})");
  REQUIRE(summary.ok());
  CHECK(summary->purpose == "register");
}

TEST_CASE("an sms job summary masks the mobile and holds its purpose, not the code", "[sms_job]") {
  regd::storage::ServerSecret secret = regd::storage::ServerSecret::FromBytes(std::string(32, 's'));
  SmsJob in{"15012343112", "987654", 42, "register"};
  for (const std::string& payload : {EncodeSmsJob(in), EncodeSmsJob(in, &secret)}) {
    auto summary = regd::sms::SummarizeSmsJob(payload);
    REQUIRE(summary.ok());
    CHECK(summary->masked_mobile == "150****3112");
    CHECK(summary->purpose == "register");
  }
  CHECK_FALSE(regd::sms::SummarizeSmsJob("{").ok());
  CHECK_FALSE(regd::sms::SummarizeSmsJob(
                  R"({"mobile":"13800138000","purpose":7,"code":"1","expires_at_ms":1})")
                  .ok());
}

TEST_CASE("malformed sms job payloads are rejected", "[sms_job]") {
  for (const char* payload : {
           "",
           "{",
           "null",
           "[]",
           "\"text\"",
           "{}",
           R"({"code":"123456","expires_at_ms":1})",
           R"({"mobile":"13800138000","expires_at_ms":1})",
           R"({"mobile":"13800138000","code":"123456"})",
           R"({"mobile":13800138000,"code":"123456","expires_at_ms":1})",
           R"({"mobile":"13800138000","code":123456,"expires_at_ms":1})",
           R"({"mobile":"13800138000","code":"123456","expires_at_ms":"1"})",
           R"({"mobile":"13800138000","code":"123456","expires_at_ms":1.5})",
           R"({"mobile":"13800138000","code":"123456","expires_at_ms":null})",
           R"({"mobile":"13800138000","purpose":null,"code":"123456","expires_at_ms":1})",
       }) {
    INFO("payload " << payload);
    auto r = DecodeSmsJob(payload);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalid);
  }
}

TEST_CASE("the sms handler does not send an expired code", "[sms_job]") {
  FakeClock clock;
  RecordingProvider provider;
  JobHandler handler = MakeSmsJobHandler(&provider, &clock);
  Job job = SmsJobFor({"13800138000", "123456", clock.NowMs() + 300'000});
  clock.Advance(300'000);  // the code expires at exactly this moment
  HandlerResult r = handler(job);
  CHECK(r.kind == Kind::kExpired);
  CHECK(provider.sent().empty());
  clock.Advance(1);
  CHECK(handler(job).kind == Kind::kExpired);
  CHECK(provider.sent().empty());
}

TEST_CASE("the sms handler sends a live code through the provider", "[sms_job]") {
  FakeClock clock;
  RecordingProvider provider;
  JobHandler handler = MakeSmsJobHandler(&provider, &clock);
  Job job = SmsJobFor({"13800138000", "654321", clock.NowMs() + 300'000});
  clock.Advance(299'999);
  HandlerResult r = handler(job);
  CHECK(r.kind == Kind::kDone);
  auto sent = provider.sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].mobile == "13800138000");
  CHECK(sent[0].code == "654321");
  CHECK(sent[0].ttl_minutes == 5);
}

TEST_CASE("the sms handler passes a transient failure and its delay on", "[sms_job]") {
  FakeClock clock;
  RecordingProvider provider(SendOutcome{SendOutcome::Kind::kRetry, "HTTP 429", 7000});
  JobHandler handler = MakeSmsJobHandler(&provider, &clock);
  HandlerResult r = handler(SmsJobFor({"13800138000", "123456", clock.NowMs() + 60'000}));
  CHECK(r.kind == Kind::kRetry);
  CHECK(r.retry_after_ms == 7000);
  CHECK_FALSE(r.error.empty());
  CHECK(provider.sent().size() == 1);
}

TEST_CASE("the sms handler passes a transient failure without a delay on", "[sms_job]") {
  FakeClock clock;
  RecordingProvider provider(SendOutcome{SendOutcome::Kind::kRetry, "timeout", -1});
  JobHandler handler = MakeSmsJobHandler(&provider, &clock);
  HandlerResult r = handler(SmsJobFor({"13800138000", "123456", clock.NowMs() + 60'000}));
  CHECK(r.kind == Kind::kRetry);
  CHECK(r.retry_after_ms < 0);  // the pool's backoff applies
}

TEST_CASE("the sms handler turns a rejected send into a permanent failure", "[sms_job]") {
  FakeClock clock;
  RecordingProvider provider(SendOutcome{SendOutcome::Kind::kPermanent, "HTTP 400", -1});
  JobHandler handler = MakeSmsJobHandler(&provider, &clock);
  HandlerResult r = handler(SmsJobFor({"13800138000", "123456", clock.NowMs() + 60'000}));
  CHECK(r.kind == Kind::kPermanent);
  CHECK_FALSE(r.error.empty());
}

TEST_CASE("the sms handler gives up on a malformed payload without sending", "[sms_job]") {
  FakeClock clock;
  RecordingProvider provider;
  JobHandler handler = MakeSmsJobHandler(&provider, &clock);
  Job job;
  job.id = 1;
  job.type = kSmsJobType;
  job.payload = "{not json";
  HandlerResult r = handler(job);
  CHECK(r.kind == Kind::kPermanent);
  CHECK(provider.sent().empty());
}

TEST_CASE("the sms handler delivers a live code to the webhook", "[sms_job]") {
  FakeClock clock;
  FakeSmsServer server;
  SmsProviderConfig c;
  c.name = "webhook";
  c.webhook_url = server.url();
  auto provider = MakeSmsProvider(c);
  REQUIRE(provider.ok());
  JobHandler handler = MakeSmsJobHandler(provider->get(), &clock);
  HandlerResult r = handler(SmsJobFor({"13800138000", "246810", clock.NowMs() + 300'000}));
  CHECK(r.kind == Kind::kDone);
  CHECK(server.WaitForCode("13800138000", 5s) == std::optional<std::string>("246810"));
  auto accepted = server.Accepted();
  REQUIRE(accepted.size() == 1);
  CHECK(accepted[0].ttl_minutes == 5);
}

TEST_CASE("the sms handler does not call the webhook for an expired code", "[sms_job]") {
  FakeClock clock;
  FakeSmsServer server;
  SmsProviderConfig c;
  c.name = "webhook";
  c.webhook_url = server.url();
  auto provider = MakeSmsProvider(c);
  REQUIRE(provider.ok());
  JobHandler handler = MakeSmsJobHandler(provider->get(), &clock);
  Job job = SmsJobFor({"13800138000", "246810", clock.NowMs() + 1'000});
  clock.Advance(5'000);
  CHECK(handler(job).kind == Kind::kExpired);
  CHECK(server.RequestCount() == 0);
}

TEST_CASE("the sms handler passes the job's purpose to the provider", "[sms_job]") {
  FakeClock clock;
  RecordingProvider provider;
  JobHandler handler = MakeSmsJobHandler(&provider, &clock);
  CHECK(handler(SmsJobFor({"13800138000", "654321", clock.NowMs() + 300'000, "reset"})).kind ==
        Kind::kDone);
  CHECK(handler(SmsJobFor({"13800138000", "", clock.NowMs() + 300'000, "mobile_changed"})).kind ==
        Kind::kDone);
  auto sent = provider.sent();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].purpose == "reset");
  CHECK(sent[1].purpose == "mobile_changed");
  CHECK(sent[1].code.empty());
}
