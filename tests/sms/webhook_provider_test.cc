// The webhook provider's own tests (the original behaviour is also covered in
// sms_provider_test.cc), plus the helpers it shares with twilio and ccp.
#include "sms/webhook_provider.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "sms/http_provider_util.h"
#include "sms/mobile_mask.h"
#include "tests/support/failing_endpoints.h"
#include "tests/support/fake_sms_server.h"
#include "tests/support/require_ok.h"

using regd::Status;
using regd::sms::MakeWebhookProvider;
using regd::sms::MaskMobile;
using regd::sms::ScrubProviderText;
using regd::sms::SendOutcome;
using regd::sms::SmsMessage;
using regd::sms::SmsProvider;
using regd::sms::SmsProviderConfig;
using regd::sms::SplitBaseUrl;
using regd::testing::FakeSmsServer;
using regd::testing::HangUpServer;
using regd::testing::RequireOk;
using Kind = SendOutcome::Kind;

namespace {

std::unique_ptr<SmsProvider> Webhook(const std::string& url, int read_timeout_ms = 5000) {
  SmsProviderConfig c;
  c.name = "webhook";
  c.webhook_url = url;
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = read_timeout_ms;
  return RequireOk(MakeWebhookProvider(c));
}

SmsMessage Message() { return SmsMessage{"13800138000", "123456", 5}; }

}  // namespace

TEST_CASE("the webhook provider is built from its own factory and named webhook", "[webhook]") {
  FakeSmsServer server;
  auto p = Webhook(server.url());
  CHECK(std::string(p->name()) == "webhook");
  CHECK(p->Send(Message()).kind == Kind::kSent);
  REQUIRE(server.Accepted().size() == 1);
  CHECK(server.Accepted()[0].code == "123456");
}

TEST_CASE("the webhook provider accepts an https URL without connecting", "[webhook]") {
  SmsProviderConfig c;
  c.name = "webhook";
  c.webhook_url = "https://sms.example.com:8443/hooks/sms";
  CHECK(MakeWebhookProvider(c).ok());
  c.webhook_url = "mailto:ops@example.com";
  auto p = MakeWebhookProvider(c);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Status::Code::kInvalid);
  CHECK(p.status().message().find("--sms-webhook-url") != std::string::npos);
}

TEST_CASE("the webhook provider passes back a 503's Retry-After", "[webhook]") {
  FakeSmsServer server;
  server.SetRetryAfter("30");
  server.ScriptStatuses({503});
  auto p = Webhook(server.url());
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK(out.retry_after_ms == 30000);
  CHECK(out.error == "webhook: HTTP 503");
}

TEST_CASE("a Retry-After that is not a small number of seconds is ignored", "[webhook]") {
  for (const char* value : {"Wed, 21 Oct 2026 07:28:00 GMT", "-5", "1.5", "86400", "99999999999"}) {
    INFO("Retry-After: " << value);
    FakeSmsServer server;
    server.SetRetryAfter(value);
    server.ScriptStatuses({429});
    auto p = Webhook(server.url());
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kRetry);
    CHECK(out.retry_after_ms < 0);
  }
}

TEST_CASE("a Retry-After on a permanent failure is not passed back", "[webhook]") {
  FakeSmsServer server;
  server.SetRetryAfter("5");
  server.ScriptStatuses({400});
  auto p = Webhook(server.url());
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kPermanent);
  CHECK(out.retry_after_ms < 0);
}

TEST_CASE("a connection closed without an answer is retried", "[webhook]") {
  HangUpServer server;
  auto p = Webhook("http://127.0.0.1:" + std::to_string(server.port()) + "/sms");
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK(out.error.rfind("webhook: ", 0) == 0);
}

TEST_CASE("a provider base URL splits into origin and a path prefix without a trailing slash",
          "[webhook]") {
  std::string origin, prefix;
  REQUIRE(SplitBaseUrl("https://api.twilio.com", &origin, &prefix));
  CHECK(origin == "https://api.twilio.com");
  CHECK(prefix.empty());
  REQUIRE(SplitBaseUrl("https://app.cloopen.com:8883/", &origin, &prefix));
  CHECK(origin == "https://app.cloopen.com:8883");
  CHECK(prefix.empty());
  REQUIRE(SplitBaseUrl("http://127.0.0.1:9000/proxy/twilio//", &origin, &prefix));
  CHECK(origin == "http://127.0.0.1:9000");
  CHECK(prefix == "/proxy/twilio");
  for (const char* bad : {"", "api.twilio.com", "ftp://host", "http://", "http://h/p?q=1",
                          "http://h/p#frag", "http://h?q"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(SplitBaseUrl(bad, &origin, &prefix));
  }
}

TEST_CASE("a mobile is masked to its first three and last four characters", "[webhook]") {
  CHECK(MaskMobile("13812345678") == "138****5678");
  CHECK(MaskMobile("+8613812345678") == "+86*******5678");
  CHECK(MaskMobile("1234567") == "*******");
  CHECK(MaskMobile("") == "");
}

TEST_CASE("provider text loses secrets, masks mobiles and is cut on a UTF-8 boundary",
          "[webhook]") {
  CHECK(ScrubProviderText("token s3cr3t for 13812345678 and +8613812345678", {"s3cr3t", ""},
                          {"13812345678"}) == "token *** for 138****5678 and +86138****5678");
  CHECK(ScrubProviderText("s3cr3ts3cr3t", {"s3cr3t"}, {}) == "******");
  // "验" is three bytes; a cut inside it drops the whole character.
  CHECK(ScrubProviderText("ab验证", {}, {}, 4) == "ab");
  CHECK(ScrubProviderText("ab验证", {}, {}, 5) == "ab验");
  CHECK(ScrubProviderText("abc", {}, {}, 10) == "abc");
}

TEST_CASE("the webhook body says what the SMS is for; a notice has no code", "[webhook]") {
  FakeSmsServer server;
  auto p = Webhook(server.url());
  SmsMessage login = Message();
  login.purpose = regd::sms::kSmsPurposeLogin;
  REQUIRE(p->Send(login).kind == Kind::kSent);
  SmsMessage notice{"13800138000", "", 5, regd::sms::kSmsPurposeMobileChanged};
  REQUIRE(p->Send(notice).kind == Kind::kSent);
  auto got = server.Accepted();
  REQUIRE(got.size() == 2);
  CHECK(nlohmann::json::parse(got[0].raw_body) == nlohmann::json{{"mobile", "13800138000"},
                                                                 {"code", "123456"},
                                                                 {"ttl_minutes", 5},
                                                                 {"purpose", "login"}});
  auto body = nlohmann::json::parse(got[1].raw_body);
  CHECK(body["purpose"] == "mobile_changed");
  CHECK(body["code"] == "");
}
