#include "sms/sms_provider.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/failing_endpoints.h"
#include "tests/support/fake_sms_server.h"
#include "tests/support/require_ok.h"

using regd::Status;
using regd::sms::ClassifyHttpStatus;
using regd::sms::MakeSmsProvider;
using regd::sms::SendOutcome;
using regd::sms::SmsMessage;
using regd::sms::SmsProvider;
using regd::sms::SmsProviderConfig;
using regd::testing::FakeSmsServer;
using regd::testing::RefusingPort;
using regd::testing::RequireOk;
using Kind = SendOutcome::Kind;

namespace {

using namespace std::chrono_literals;

std::unique_ptr<SmsProvider> Webhook(const std::string& url, int read_timeout_ms = 5000) {
  SmsProviderConfig c;
  c.name = "webhook";
  c.webhook_url = url;
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = read_timeout_ms;
  return RequireOk(MakeSmsProvider(c));
}

SmsMessage Message() { return SmsMessage{"13800138000", "123456", 5}; }

}  // namespace

TEST_CASE("the console provider is available and sends", "[sms_provider]") {
  SmsProviderConfig c;
  c.name = "console";
  auto p = MakeSmsProvider(c);
  REQUIRE(p.ok());
  CHECK(std::string((*p)->name()) == "console");
  CHECK((*p)->Send(Message()).kind == Kind::kSent);
}

TEST_CASE("the default provider config is the console provider", "[sms_provider]") {
  auto p = MakeSmsProvider(SmsProviderConfig{});
  REQUIRE(p.ok());
  CHECK(std::string((*p)->name()) == "console");
}

TEST_CASE("an unknown provider name is invalid", "[sms_provider]") {
  for (const char* name : {"carrier-pigeon", "", "Console", "twilio"}) {
    INFO("name '" << name << "'");
    SmsProviderConfig c;
    c.name = name;
    auto p = MakeSmsProvider(c);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Status::Code::kInvalid);
  }
}

TEST_CASE("the webhook provider without a URL is invalid", "[sms_provider]") {
  SmsProviderConfig c;
  c.name = "webhook";
  auto p = MakeSmsProvider(c);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Status::Code::kInvalid);
}

TEST_CASE("the webhook provider with a malformed URL is invalid", "[sms_provider]") {
  for (const char* url :
       {"not a url", "127.0.0.1:8080/sms", "ftp://127.0.0.1/sms", "http://", "http:///sms"}) {
    INFO("url '" << url << "'");
    SmsProviderConfig c;
    c.name = "webhook";
    c.webhook_url = url;
    auto p = MakeSmsProvider(c);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Status::Code::kInvalid);
  }
}

TEST_CASE("the webhook provider POSTs the message as JSON and a 2xx is sent", "[sms_provider]") {
  FakeSmsServer server;
  auto p = Webhook(server.url());
  CHECK(std::string(p->name()) == "webhook");
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kSent);
  CHECK(out.error.empty());
  auto accepted = server.Accepted();
  REQUIRE(accepted.size() == 1);
  CHECK(accepted[0].content_type.rfind("application/json", 0) == 0);
  auto body = nlohmann::json::parse(accepted[0].raw_body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body == nlohmann::json{{"mobile", "13800138000"},
                               {"code", "123456"},
                               {"ttl_minutes", 5},
                               {"purpose", "register"}});
}

TEST_CASE("the webhook provider treats any 2xx as sent", "[sms_provider]") {
  FakeSmsServer server;
  server.ScriptStatuses({201, 202, 204});
  auto p = Webhook(server.url());
  for (int i = 0; i < 3; ++i) CHECK(p->Send(Message()).kind == Kind::kSent);
  CHECK(server.RequestCount() == 3);
}

TEST_CASE("the webhook provider retries on 5xx, 408 and 429", "[sms_provider]") {
  FakeSmsServer server;
  auto p = Webhook(server.url());
  for (int status : {500, 502, 503, 504, 408, 429}) {
    INFO("HTTP " << status);
    server.ScriptStatuses({status});
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kRetry);
    CHECK_FALSE(out.error.empty());
    CHECK(out.retry_after_ms < 0);  // the server did not say when
  }
  CHECK(server.RequestCount() == 6);
  CHECK(server.Accepted().empty());
}

TEST_CASE("a 429 with Retry-After passes the delay back", "[sms_provider]") {
  FakeSmsServer server;
  server.SetRetryAfter("7");
  server.ScriptStatuses({429});
  auto p = Webhook(server.url());
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK(out.retry_after_ms == 7000);
}

TEST_CASE("the webhook provider gives up on other 4xx", "[sms_provider]") {
  FakeSmsServer server;
  auto p = Webhook(server.url());
  for (int status : {400, 401, 403, 404, 422}) {
    INFO("HTTP " << status);
    server.ScriptStatuses({status});
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kPermanent);
    CHECK_FALSE(out.error.empty());
  }
}

TEST_CASE("a refused connection is retried", "[sms_provider]") {
  RefusingPort port;
  auto p = Webhook("http://127.0.0.1:" + std::to_string(port.port()) + "/sms");
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK_FALSE(out.error.empty());
}

TEST_CASE("a server slower than the read timeout is retried", "[sms_provider]") {
  FakeSmsServer server;
  server.SetDelay(600ms);
  auto p = Webhook(server.url(), /*read_timeout_ms=*/100);
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK_FALSE(out.error.empty());
}

TEST_CASE("http statuses are classified as sent, retry or permanent", "[sms_provider]") {
  for (int s : {200, 201, 202, 204, 299}) {
    INFO("HTTP " << s);
    CHECK(ClassifyHttpStatus(s) == Kind::kSent);
  }
  for (int s : {408, 429, 500, 501, 502, 503, 504, 599}) {
    INFO("HTTP " << s);
    CHECK(ClassifyHttpStatus(s) == Kind::kRetry);
  }
  for (int s : {400, 401, 402, 403, 404, 405, 409, 410, 413, 422, 451, 499}) {
    INFO("HTTP " << s);
    CHECK(ClassifyHttpStatus(s) == Kind::kPermanent);
  }
}
