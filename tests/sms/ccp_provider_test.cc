#include "sms/ccp_provider.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sms/http_provider_util.h"
#include "sms/sms_provider.h"
#include "tests/support/failing_endpoints.h"
#include "tests/support/fake_clock.h"
#include "tests/support/recording_server.h"
#include "tests/support/require_ok.h"

using regd::Status;
using regd::sms::Base64;
using regd::sms::CcpTimestamp;
using regd::sms::ClassifyCcpStatusCode;
using regd::sms::MakeCcpProvider;
using regd::sms::MakeSmsProvider;
using regd::sms::Md5HexUpper;
using regd::sms::SendOutcome;
using regd::sms::SmsMessage;
using regd::sms::SmsProvider;
using regd::sms::SmsProviderConfig;
using regd::testing::FakeClock;
using regd::testing::HeaderValues;
using regd::testing::RecordingServer;
using regd::testing::RefusingPort;
using regd::testing::RequireOk;
using Kind = SendOutcome::Kind;

namespace {

constexpr char kSid[] = "8aaf0708a1b2c3d4e5f6a7b8c9d0e1f2";
constexpr char kToken[] = "ccp-secret-token-7";
constexpr char kAppId[] = "8a216da8aabbccdd";
constexpr char kTemplateId[] = "1";
constexpr char kPath[] = "/2013-12-26/Accounts/8aaf0708a1b2c3d4e5f6a7b8c9d0e1f2/SMS/TemplateSMS";

// The expected values below were computed outside regd (coreutils):
//   TZ=Asia/Shanghai date -d @1790000000 +%Y%m%d%H%M%S        -> 20260921221320
//   printf %s "$SID$TOKEN$TS" | md5sum | tr a-f A-F            -> the sig
//   printf %s "$SID:$TS" | base64                              -> Authorization
constexpr int64_t kNowMs = 1'790'000'000'000;  // FakeClock's default start
constexpr char kTimestamp[] = "20260921221320";
constexpr char kSig[] = "889485DF328912D7085A2434FE8C39C4";
constexpr char kAuthorization[] =
    "OGFhZjA3MDhhMWIyYzNkNGU1ZjZhN2I4YzlkMGUxZjI6MjAyNjA5MjEyMjEzMjA=";
// One day, one hour, two minutes and three seconds later: 20260922231523.
constexpr int64_t kLaterMs = kNowMs + (86400 + 3723) * 1000;
constexpr char kLaterSig[] = "7E4E561519246BD6BC302C1B5DF27EFB";
constexpr char kLaterAuthorization[] =
    "OGFhZjA3MDhhMWIyYzNkNGU1ZjZhN2I4YzlkMGUxZjI6MjAyNjA5MjIyMzE1MjM=";

constexpr char kOk[] =
    R"({"statusCode":"000000","templateSMS":{"dateCreated":"20260921221320","smsMessageSid":"ff8080815"}})";

// A loopback stand-in for app.cloopen.com: unscripted requests get 200 with
// statusCode 000000.
class CloopenServer : public RecordingServer {
 public:
  CloopenServer() : RecordingServer(200, kOk, "application/json;charset=utf-8") {}
};

SmsProviderConfig CcpConfig(const std::string& base_url) {
  SmsProviderConfig c;
  c.name = "ccp";
  c.ccp_account_sid = kSid;
  c.ccp_auth_token = kToken;
  c.ccp_app_id = kAppId;
  c.ccp_template_id = kTemplateId;
  c.ccp_base_url = base_url;
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = 5000;
  return c;
}

std::unique_ptr<SmsProvider> Make(const SmsProviderConfig& c, const FakeClock* clock) {
  return RequireOk(MakeSmsProvider(c, clock));
}

SmsMessage Message() { return SmsMessage{"13800138000", "123456", 5}; }

void CheckNoSecret(const SendOutcome& out) {
  INFO("error: " << out.error);
  CHECK(out.error.find(kToken) == std::string::npos);
}

}  // namespace

TEST_CASE("ccp signs the request and POSTs the template parameters as JSON", "[ccp]") {
  CloopenServer server;
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  CHECK(std::string(p->name()) == "ccp");

  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kSent);
  CHECK(out.error.empty());

  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  const auto& req = requests[0];
  CHECK(req.method == "POST");
  CHECK(req.target == std::string(kPath) + "?sig=" + kSig);
  CHECK(req.path == kPath);
  REQUIRE(req.params.count("sig") == 1);
  CHECK(req.params.find("sig")->second == kSig);
  CHECK(HeaderValues(req.headers, "Accept") == std::vector<std::string>{"application/json"});
  CHECK(HeaderValues(req.headers, "Content-Type") ==
        std::vector<std::string>{"application/json;charset=utf-8"});
  CHECK(HeaderValues(req.headers, "Authorization") == std::vector<std::string>{kAuthorization});
  CHECK(
      req.body ==
      R"({"to":"13800138000","appId":"8a216da8aabbccdd","templateId":"1","datas":["123456","5"]})");
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body == nlohmann::json{{"to", "13800138000"},
                               {"appId", kAppId},
                               {"templateId", kTemplateId},
                               {"datas", nlohmann::json::array({"123456", "5"})}});
}

TEST_CASE("ccp signs each request with the injected clock's time", "[ccp]") {
  CloopenServer server;
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  clock.Advance(kLaterMs - kNowMs);
  CHECK(p->Send(SmsMessage{"13800138000", "987654", 10}).kind == Kind::kSent);
  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].target == std::string(kPath) + "?sig=" + kLaterSig);
  CHECK(HeaderValues(requests[0].headers, "Authorization") ==
        std::vector<std::string>{kLaterAuthorization});
  auto body = nlohmann::json::parse(requests[0].body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["datas"] == nlohmann::json::array({"987654", "10"}));
}

TEST_CASE("ccp keeps a base URL's path prefix in front of the API path", "[ccp]") {
  CloopenServer server;
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url() + "/cloopen"), &clock);
  CHECK(p->Send(Message()).kind == Kind::kSent);
  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].target == std::string("/cloopen") + kPath + "?sig=" + kSig);
}

TEST_CASE("the ccp timestamp is Beijing time, UTC+8", "[ccp]") {
  CHECK(CcpTimestamp(kNowMs) == kTimestamp);
  CHECK(CcpTimestamp(kNowMs + 999) == kTimestamp);  // milliseconds are dropped
  // 2025-12-31T16:00:00Z is already New Year in Beijing.
  CHECK(CcpTimestamp(1'767'196'800'000) == "20260101000000");
  CHECK(CcpTimestamp(1'767'196'799'999) == "20251231235959");
  CHECK(CcpTimestamp(0) == "19700101080000");
}

TEST_CASE("MD5 and base64 match their published test vectors", "[ccp]") {
  // RFC 1321 appendix A.5.
  CHECK(Md5HexUpper("") == "D41D8CD98F00B204E9800998ECF8427E");
  CHECK(Md5HexUpper("abc") == "900150983CD24FB0D6963F7D28E17F72");
  CHECK(Md5HexUpper("message digest") == "F96B697D7CB7938D525A2F31AAF161D0");
  // RFC 4648 section 10.
  CHECK(Base64("") == "");
  CHECK(Base64("f") == "Zg==");
  CHECK(Base64("fo") == "Zm8=");
  CHECK(Base64("foo") == "Zm9v");
  CHECK(Base64("foobar") == "Zm9vYmFy");
}

TEST_CASE("ccp does not count a 200 with statusCode 160038 as sent", "[ccp]") {
  CloopenServer server;
  server.Script(200, R"({"statusCode":"160038","statusMsg":"短信验证码发送过频繁"})");
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kPermanent);
  CHECK(out.error == "ccp: statusCode 160038: 短信验证码发送过频繁");
  CHECK(out.retry_after_ms < 0);
  CheckNoSecret(out);
}

TEST_CASE("ccp treats every statusCode but 000000 in a 2xx as a permanent failure", "[ccp]") {
  CHECK(ClassifyCcpStatusCode("000000") == Kind::kSent);
  for (const char* code : {"160038", "160040", "160042", "111109", "112300", "0", "", "00000"}) {
    INFO("statusCode '" << code << "'");
    CHECK(ClassifyCcpStatusCode(code) == Kind::kPermanent);
  }
}

TEST_CASE("ccp retries a 2xx whose body has no statusCode", "[ccp]") {
  CloopenServer server;
  server.Script(200, "<html>gateway</html>");
  server.Script(200, R"({"templateSMS":{}})");
  server.Script(200, R"({"statusCode":0})");
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  for (int i = 0; i < 3; ++i) {
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kRetry);
    CHECK(out.error == "ccp: HTTP 200 without a statusCode");
  }
}

TEST_CASE("ccp retries on 5xx and 408 and gives up on other 4xx", "[ccp]") {
  CloopenServer server;
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  for (int status : {500, 502, 503, 408}) {
    INFO("HTTP " << status);
    server.Script(status, "");
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kRetry);
    CHECK(out.error == "ccp: HTTP " + std::to_string(status));
    CHECK(out.retry_after_ms < 0);
  }
  for (int status : {400, 401, 403, 404}) {
    INFO("HTTP " << status);
    server.Script(status, R"({"statusCode":"111109","statusMsg":"bad sig"})");
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kPermanent);
    CHECK(out.error == "ccp: HTTP " + std::to_string(status) + ": statusCode 111109: bad sig");
  }
}

TEST_CASE("ccp retries a 429 after its Retry-After", "[ccp]") {
  CloopenServer server;
  server.Script(429, "", "12");
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK(out.retry_after_ms == 12000);
}

TEST_CASE("ccp never repeats the auth token and masks the mobile a reply echoes", "[ccp]") {
  CloopenServer server;
  server.Script(200, std::string(R"({"statusCode":"160042","statusMsg":"number 13800138000 )") +
                         "rejected for token " + kToken + R"("})");
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kPermanent);
  CHECK(out.error == "ccp: statusCode 160042: number 138****8000 rejected for token ***");
  CheckNoSecret(out);
}

TEST_CASE("ccp retries a refused connection", "[ccp]") {
  RefusingPort port;
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig("http://127.0.0.1:" + std::to_string(port.port())), &clock);
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK(out.error.rfind("ccp: ", 0) == 0);
  CheckNoSecret(out);
}

TEST_CASE("ccp without a required setting is invalid and names the flag", "[ccp]") {
  struct Case {
    const char* flag;
    void (*mutate)(SmsProviderConfig*);
  };
  const Case cases[] = {
      {"--ccp-account-sid", [](SmsProviderConfig* c) { c->ccp_account_sid.clear(); }},
      {"--ccp-account-sid", [](SmsProviderConfig* c) { c->ccp_account_sid = "8aaf?x=1"; }},
      {"--ccp-auth-token", [](SmsProviderConfig* c) { c->ccp_auth_token.clear(); }},
      {"--ccp-app-id", [](SmsProviderConfig* c) { c->ccp_app_id.clear(); }},
      {"--ccp-template-id", [](SmsProviderConfig* c) { c->ccp_template_id.clear(); }},
      {"--ccp-base-url", [](SmsProviderConfig* c) { c->ccp_base_url = "app.cloopen.com:8883"; }},
  };
  FakeClock clock(kNowMs);
  for (const Case& k : cases) {
    SmsProviderConfig c = CcpConfig("http://127.0.0.1:1");
    k.mutate(&c);
    auto p = MakeSmsProvider(c, &clock);
    INFO("expecting " << k.flag << ", got " << p.status().ToString());
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Status::Code::kInvalid);
    CHECK(p.status().message().find(k.flag) != std::string::npos);
    CHECK(p.status().message().find(kToken) == std::string::npos);
  }
  SmsProviderConfig c = CcpConfig("http://127.0.0.1:1");
  c.ccp_app_id.clear();
  CHECK(MakeCcpProvider(c, &clock).status().message() ==
        "--ccp-app-id is required for the ccp provider");
}

TEST_CASE("ccp with an empty base URL uses app.cloopen.com:8883 and the system clock", "[ccp]") {
  SmsProviderConfig c = CcpConfig("");
  CHECK(MakeSmsProvider(c).ok());
  CHECK(SmsProviderConfig{}.ccp_base_url == "https://app.cloopen.com:8883");
}

TEST_CASE("ccp sends each purpose's template id, defaulting to --ccp-template-id", "[ccp]") {
  CloopenServer server;
  FakeClock clock(kNowMs);
  SmsProviderConfig c = CcpConfig(server.base_url());
  c.ccp_template_id_reset = "7";
  c.ccp_template_id_change_mobile = "8";
  c.ccp_template_id_mobile_changed = "9";
  auto p = Make(c, &clock);
  for (const char* purpose : {"register", "login", "reset", "change_mobile"}) {
    SmsMessage m = Message();
    m.purpose = purpose;
    REQUIRE(p->Send(m).kind == Kind::kSent);
  }
  REQUIRE(p->Send(SmsMessage{"13800138000", "", 5, "mobile_changed"}).kind == Kind::kSent);
  std::vector<std::string> ids;
  auto requests = server.Requests();
  for (const auto& req : requests) {
    ids.push_back(nlohmann::json::parse(req.body)["templateId"].get<std::string>());
  }
  CHECK(ids == std::vector<std::string>{"1", "1", "7", "8", "9"});
  // The notice's template takes no fields.
  CHECK(nlohmann::json::parse(requests.back().body).contains("datas") == false);
}

TEST_CASE("ccp without a notice template keeps the notice undelivered, naming the flag", "[ccp]") {
  CloopenServer server;
  FakeClock clock(kNowMs);
  auto p = Make(CcpConfig(server.base_url()), &clock);
  SendOutcome out = p->Send(SmsMessage{"13800138000", "", 5, "mobile_changed"});
  CHECK(out.kind == Kind::kPermanent);
  CHECK(out.error.find("--ccp-template-id-mobile-changed") != std::string::npos);
  CHECK(server.Requests().empty());
}
