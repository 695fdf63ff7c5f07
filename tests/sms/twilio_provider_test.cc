#include "sms/twilio_provider.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "sms/http_provider_util.h"
#include "sms/sms_provider.h"
#include "tests/support/failing_endpoints.h"
#include "tests/support/recording_server.h"
#include "tests/support/require_ok.h"

using regd::Status;
using regd::sms::FormUrlEncode;
using regd::sms::MakeSmsProvider;
using regd::sms::MakeTwilioProvider;
using regd::sms::RenderSmsTemplate;
using regd::sms::SendOutcome;
using regd::sms::SmsMessage;
using regd::sms::SmsProvider;
using regd::sms::SmsProviderConfig;
using regd::sms::TwilioRecipient;
using regd::testing::HeaderValues;
using regd::testing::RecordingServer;
using regd::testing::RefusingPort;
using regd::testing::RequireOk;
using Kind = SendOutcome::Kind;

namespace {

using namespace std::chrono_literals;

constexpr char kSid[] = "AC0123456789abcdef0123456789abcdef";
constexpr char kToken[] = "twilio-secret-token-42";
// base64("AC0123456789abcdef0123456789abcdef:twilio-secret-token-42"),
// computed outside regd with `printf %s ... | base64`.
constexpr char kBasicAuth[] =
    "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0d2lsaW8tc2VjcmV0LXRva2VuLTQy";
constexpr char kMessagesPath[] =
    "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

// A loopback stand-in for api.twilio.com: unscripted requests get 201 with a
// message resource.
class TwilioServer : public RecordingServer {
 public:
  TwilioServer()
      : RecordingServer(201, R"({"sid":"SM0123","status":"queued"})", "application/json") {}
};

// An independent application/x-www-form-urlencoded decoder ('+' is a space).
std::vector<std::pair<std::string, std::string>> FormDecode(const std::string& body) {
  auto unescape = [](const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out.push_back(' ');
      } else if (s[i] == '%' && i + 2 < s.size()) {
        out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> fields;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    std::string pair =
        body.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    size_t eq = pair.find('=');
    fields.emplace_back(unescape(pair.substr(0, eq)),
                        eq == std::string::npos ? "" : unescape(pair.substr(eq + 1)));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return fields;
}

SmsProviderConfig TwilioConfig(const std::string& base_url) {
  SmsProviderConfig c;
  c.name = "twilio";
  c.twilio_account_sid = kSid;
  c.twilio_auth_token = kToken;
  c.twilio_from = "+15005550006";
  c.twilio_base_url = base_url;
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = 5000;
  return c;
}

std::unique_ptr<SmsProvider> Make(const SmsProviderConfig& c) {
  return RequireOk(MakeSmsProvider(c));
}

SmsMessage Message() { return SmsMessage{"13800138000", "123456", 5}; }

void CheckNoSecret(const SendOutcome& out) {
  INFO("error: " << out.error);
  CHECK(out.error.find(kToken) == std::string::npos);
  CHECK(out.error.find(kBasicAuth + 6) == std::string::npos);
}

}  // namespace

TEST_CASE("twilio POSTs To, From and Body as a form with Basic auth to the account's Messages.json",
          "[twilio]") {
  TwilioServer server;
  auto p = Make(TwilioConfig(server.base_url()));
  CHECK(std::string(p->name()) == "twilio");

  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kSent);
  CHECK(out.error.empty());

  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  const auto& req = requests[0];
  CHECK(req.method == "POST");
  CHECK(req.target == kMessagesPath);
  CHECK(HeaderValues(req.headers, "Authorization") == std::vector<std::string>{kBasicAuth});
  CHECK(HeaderValues(req.headers, "Content-Type") ==
        std::vector<std::string>{"application/x-www-form-urlencoded"});
  CHECK(HeaderValues(req.headers, "Accept") == std::vector<std::string>{"application/json"});
  CHECK(req.body ==
        "To=%2B8613800138000&From=%2B15005550006"
        "&Body=Your%20verification%20code%20is%20123456.%20It%20expires%20in%205%20minutes.");
  CHECK(FormDecode(req.body) ==
        std::vector<std::pair<std::string, std::string>>{
            {"To", "+8613800138000"},
            {"From", "+15005550006"},
            {"Body", "Your verification code is 123456. It expires in 5 minutes."}});
}

TEST_CASE("twilio sends MessagingServiceSid instead of From when only the service is configured",
          "[twilio]") {
  TwilioServer server;
  SmsProviderConfig c = TwilioConfig(server.base_url());
  c.twilio_from.clear();
  c.twilio_messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
  auto p = Make(c);
  CHECK(p->Send(Message()).kind == Kind::kSent);
  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(FormDecode(requests[0].body) ==
        std::vector<std::pair<std::string, std::string>>{
            {"To", "+8613800138000"},
            {"MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"},
            {"Body", "Your verification code is 123456. It expires in 5 minutes."}});
}

TEST_CASE("twilio sends both From and MessagingServiceSid when both are configured", "[twilio]") {
  TwilioServer server;
  SmsProviderConfig c = TwilioConfig(server.base_url());
  c.twilio_messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
  auto p = Make(c);
  CHECK(p->Send(Message()).kind == Kind::kSent);
  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  auto fields = FormDecode(requests[0].body);
  REQUIRE(fields.size() == 4);
  CHECK(fields[1] == std::pair<std::string, std::string>{"From", "+15005550006"});
  CHECK(fields[2] == std::pair<std::string, std::string>{"MessagingServiceSid",
                                                         "MG0123456789abcdef0123456789abcdef"});
}

TEST_CASE("twilio renders --sms-template into the Body and encodes non-ASCII text", "[twilio]") {
  TwilioServer server;
  SmsProviderConfig c = TwilioConfig(server.base_url());
  c.sms_template = "【regd】验证码 {code}，{minutes} 分钟内有效 & {code}";
  auto p = Make(c);
  CHECK(p->Send(SmsMessage{"+4915112345678", "654321", 10}).kind == Kind::kSent);
  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  auto fields = FormDecode(requests[0].body);
  REQUIRE(fields.size() == 3);
  CHECK(fields[0] == std::pair<std::string, std::string>{"To", "+4915112345678"});
  CHECK(fields[2] == std::pair<std::string, std::string>{
                         "Body", "【regd】验证码 654321，10 分钟内有效 & 654321"});
  CHECK(requests[0].body.find("%E3%80%90regd%E3%80%91") != std::string::npos);
}

TEST_CASE("twilio keeps a base URL's path prefix in front of the API path", "[twilio]") {
  TwilioServer server;
  auto p = Make(TwilioConfig(server.base_url() + "/proxy/twilio/"));
  CHECK(p->Send(Message()).kind == Kind::kSent);
  auto requests = server.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].target == std::string("/proxy/twilio") + kMessagesPath);
}

TEST_CASE("twilio treats 201 and any other 2xx as sent", "[twilio]") {
  TwilioServer server;
  server.Script(201, R"({"sid":"SM1"})");
  server.Script(200, R"({"sid":"SM2"})");
  server.Script(202, "");
  auto p = Make(TwilioConfig(server.base_url()));
  for (int i = 0; i < 3; ++i) CHECK(p->Send(Message()).kind == Kind::kSent);
  CHECK(server.Requests().size() == 3);
}

TEST_CASE("twilio gives up on a 4xx and reports Twilio's error code and message", "[twilio]") {
  TwilioServer server;
  server.Script(
      400,
      R"({"code": 21211, "message": "The 'To' number +8613800138000 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})");
  auto p = Make(TwilioConfig(server.base_url()));
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kPermanent);
  CHECK(
      out.error ==
      "twilio: HTTP 400: error 21211: The 'To' number +86138****8000 is not a valid phone number.");
  CHECK(out.retry_after_ms < 0);
  CheckNoSecret(out);
}

TEST_CASE("twilio gives up on 401, 403 and 404", "[twilio]") {
  TwilioServer server;
  auto p = Make(TwilioConfig(server.base_url()));
  for (int status : {401, 403, 404}) {
    INFO("HTTP " << status);
    server.Script(status, R"({"code": 20003, "message": "Authenticate", "status": )" +
                              std::to_string(status) + "}");
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kPermanent);
    CHECK(out.error == "twilio: HTTP " + std::to_string(status) + ": error 20003: Authenticate");
    CheckNoSecret(out);
  }
}

TEST_CASE("twilio retries on 5xx and 408", "[twilio]") {
  TwilioServer server;
  auto p = Make(TwilioConfig(server.base_url()));
  for (int status : {500, 502, 503, 504, 408}) {
    INFO("HTTP " << status);
    server.Script(status, "<html>upstream trouble</html>");
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kRetry);
    CHECK(out.error == "twilio: HTTP " + std::to_string(status));
    CHECK(out.retry_after_ms < 0);
  }
}

TEST_CASE("twilio retries a 429 after its Retry-After", "[twilio]") {
  TwilioServer server;
  server.Script(429, R"({"code": 20429, "message": "Too Many Requests", "status": 429})", "7");
  auto p = Make(TwilioConfig(server.base_url()));
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK(out.retry_after_ms == 7000);
  CHECK(out.error == "twilio: HTTP 429: error 20429: Too Many Requests");
}

TEST_CASE("twilio never repeats the auth token a reply echoes", "[twilio]") {
  TwilioServer server;
  server.Script(401, std::string(R"({"code": 20003, "message": "bad token )") + kToken + R"("})");
  auto p = Make(TwilioConfig(server.base_url()));
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kPermanent);
  CHECK(out.error == "twilio: HTTP 401: error 20003: bad token ***");
  CheckNoSecret(out);
}

TEST_CASE("twilio retries a refused connection and a server slower than the read timeout",
          "[twilio]") {
  {
    RefusingPort port;
    auto p = Make(TwilioConfig("http://127.0.0.1:" + std::to_string(port.port())));
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kRetry);
    CHECK(out.error.rfind("twilio: ", 0) == 0);
    CheckNoSecret(out);
  }
  {
    TwilioServer server;
    server.SetDelay(600ms);
    SmsProviderConfig c = TwilioConfig(server.base_url());
    c.read_timeout_ms = 100;
    auto p = Make(c);
    SendOutcome out = p->Send(Message());
    CHECK(out.kind == Kind::kRetry);
    CHECK(out.error.rfind("twilio: ", 0) == 0);
  }
}

TEST_CASE("twilio without a required setting is invalid and names the flag", "[twilio]") {
  struct Case {
    const char* flag;
    void (*mutate)(SmsProviderConfig*);
  };
  const Case cases[] = {
      {"--twilio-account-sid", [](SmsProviderConfig* c) { c->twilio_account_sid.clear(); }},
      {"--twilio-account-sid", [](SmsProviderConfig* c) { c->twilio_account_sid = "AC/../x"; }},
      {"--twilio-auth-token", [](SmsProviderConfig* c) { c->twilio_auth_token.clear(); }},
      {"--twilio-from", [](SmsProviderConfig* c) { c->twilio_from.clear(); }},
      {"--twilio-base-url", [](SmsProviderConfig* c) { c->twilio_base_url = "api.twilio.com"; }},
      {"--twilio-base-url",
       [](SmsProviderConfig* c) { c->twilio_base_url = "https://api.twilio.com/?x=1"; }},
      {"--sms-template", [](SmsProviderConfig* c) { c->sms_template = "no code here"; }},
  };
  for (const Case& k : cases) {
    SmsProviderConfig c = TwilioConfig("http://127.0.0.1:1");
    k.mutate(&c);
    auto p = MakeSmsProvider(c);
    INFO("expecting " << k.flag << ", got " << p.status().ToString());
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Status::Code::kInvalid);
    CHECK(p.status().message().find(k.flag) != std::string::npos);
    CHECK(p.status().message().find(kToken) == std::string::npos);
  }
  SmsProviderConfig c = TwilioConfig("http://127.0.0.1:1");
  c.twilio_account_sid.clear();
  CHECK(MakeTwilioProvider(c).status().message() ==
        "--twilio-account-sid is required for the twilio provider");
}

TEST_CASE("twilio with an empty base URL uses api.twilio.com and is valid", "[twilio]") {
  SmsProviderConfig c = TwilioConfig("");
  CHECK(MakeSmsProvider(c).ok());
  CHECK(SmsProviderConfig{}.twilio_base_url == "https://api.twilio.com");
}

TEST_CASE("twilio addresses an 11-digit Chinese mobile in E.164 and leaves others alone",
          "[twilio]") {
  CHECK(TwilioRecipient("13800138000") == "+8613800138000");
  CHECK(TwilioRecipient("19912345678") == "+8619912345678");
  CHECK(TwilioRecipient("+8613800138000") == "+8613800138000");
  CHECK(TwilioRecipient("+14155550100") == "+14155550100");
  CHECK(TwilioRecipient("1380013800") == "1380013800");    // 10 digits
  CHECK(TwilioRecipient("23800138000") == "23800138000");  // not a mobile prefix
  CHECK(TwilioRecipient("1380013800a") == "1380013800a");
}

TEST_CASE("the SMS template names the shop as {site}", "[twilio]") {
  SmsMessage m{"13800138000", "042917", 5};
  CHECK(RenderSmsTemplate("[{site}] code {code}", m, "Tea Shop") == "[Tea Shop] code 042917");
  CHECK(RenderSmsTemplate("[{site}] code {code}", m) == "[regd] code 042917");
}

TEST_CASE("the SMS template substitutes every {code} and {minutes} and nothing else", "[twilio]") {
  SmsMessage m{"13800138000", "042917", 5};
  CHECK(RenderSmsTemplate("Your verification code is {code}. It expires in {minutes} minutes.",
                          m) == "Your verification code is 042917. It expires in 5 minutes.");
  CHECK(RenderSmsTemplate("{code}{code} {minutes}{ code} {mobile} {", m) ==
        "042917042917 5{ code} {mobile} {");
  CHECK(RenderSmsTemplate(SmsProviderConfig{}.sms_template, m) ==
        "Your verification code is 042917. It expires in 5 minutes.");
}

TEST_CASE("form encoding escapes everything but unreserved characters", "[twilio]") {
  CHECK(FormUrlEncode({{"To", "+86 138"}, {"a&b", "c=d/e?f~g.h_i-j"}}) ==
        "To=%2B86%20138&a%26b=c%3Dd%2Fe%3Ff~g.h_i-j");
  CHECK(FormUrlEncode({{"Body", "\xE9\xAA\x8C"}}) == "Body=%E9%AA%8C");
  CHECK(FormUrlEncode({}).empty());
}

TEST_CASE("twilio speaks TLS to an https base URL and never sends the request in the clear",
          "[twilio]") {
  TwilioServer server;  // plain HTTP: the TLS handshake cannot succeed
  std::string https = "https://" + server.base_url().substr(std::string("http://").size());
  auto p = Make(TwilioConfig(https));
  SendOutcome out = p->Send(Message());
  CHECK(out.kind == Kind::kRetry);
  CHECK(out.error.rfind("twilio: ", 0) == 0);
  CheckNoSecret(out);
  CHECK(server.Requests().empty());
}

TEST_CASE("twilio sends each purpose's text, defaulting to --sms-template", "[twilio]") {
  TwilioServer server;
  SmsProviderConfig c = TwilioConfig(server.base_url());
  c.sms_template = "Register code {code}";
  c.sms_template_login = "Login code {code}";
  c.sms_template_mobile_changed = "Your number was changed";
  auto p = Make(c);
  for (const char* purpose : {"register", "login", "reset", "change_mobile"}) {
    SmsMessage m = Message();
    m.purpose = purpose;
    REQUIRE(p->Send(m).kind == Kind::kSent);
  }
  REQUIRE(p->Send(SmsMessage{"13800138000", "", 5, "mobile_changed"}).kind == Kind::kSent);
  std::vector<std::string> bodies;
  for (const auto& req : server.Requests()) bodies.push_back(FormDecode(req.body).back().second);
  CHECK(bodies == std::vector<std::string>{"Register code 123456", "Login code 123456",
                                           "Register code 123456", "Register code 123456",
                                           "Your number was changed"});
}

TEST_CASE("a purpose's twilio text without {code} is invalid and names its flag", "[twilio]") {
  for (auto member :
       {&SmsProviderConfig::sms_template_login, &SmsProviderConfig::sms_template_reset,
        &SmsProviderConfig::sms_template_change_mobile}) {
    SmsProviderConfig c = TwilioConfig("http://127.0.0.1:1");
    c.*member = "no code here";
    auto p = MakeSmsProvider(c);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().message().find("--sms-template-") != std::string::npos);
    CHECK(p.status().message().find("{code}") != std::string::npos);
  }
  SmsProviderConfig c = TwilioConfig("http://127.0.0.1:1");
  c.sms_template_mobile_changed = "";
  auto p = MakeSmsProvider(c);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message().find("--sms-template-mobile-changed") != std::string::npos);
}
