#include "app/config.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using regd::Status;
using regd::app::Config;
using regd::app::ParseConfig;
using regd::app::Setting;
using regd::app::Settings;
using regd::testing::TempDir;

namespace {

using Args = std::vector<std::string>;

Config Parse(const Args& args, const Args& env = {}) {
  auto c = ParseConfig(args, env);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return c.value();
}

// The error of an input that must be refused.
Status Refused(const Args& args, const Args& env = {}) {
  auto c = ParseConfig(args, env);
  REQUIRE_FALSE(c.ok());
  return c.status();
}

// The variable of a setting, as config.h states it: REGD_, upper case, '-' -> '_'.
std::string EnvName(const std::string& name) {
  std::string n = "REGD_";
  for (char ch : name) n += ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
  return n;
}

// The entry of --help whose first line starts with `head` ("  --port N"),
// with its continuation lines, each run of spaces and newlines made one
// space; empty if there is none.
std::string HelpEntry(const std::string& usage, const std::string& head) {
  std::istringstream lines(usage);
  std::string entry;
  bool in = false;
  for (std::string line; std::getline(lines, line);) {
    if (in && line.rfind("    ", 0) != 0) break;
    if (line.rfind(head + " ", 0) == 0 || line == head) in = true;
    if (in) entry += " " + line;
  }
  std::string collapsed;
  for (char ch : entry) {
    if (ch == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
    collapsed += ch;
  }
  return collapsed;
}

}  // namespace

TEST_CASE("no flags give 127.0.0.1:8000, ./data, the console provider and 128 workers",
          "[config]") {
  Config c = Parse({});
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 8000);
  CHECK(c.data_dir == "./data");
  CHECK(c.sms.name == "console");
  CHECK(c.workers == 128);  // SMS sends in flight at most; the pool starts with 2
  CHECK(c.web_root.empty());
  CHECK(c.dev_fixed_captcha.empty());
  CHECK_FALSE(c.show_help);
  CHECK_FALSE(c.show_version);
}

TEST_CASE("unrelated environment variables change nothing", "[config]") {
  Config c = Parse({}, {"HOME=/root", "PORT=1234", "REGD=1", "REGD_=x", "XREGD_PORT=9"});
  CHECK(c.port == 8000);
  CHECK(c.data_dir == "./data");
}

TEST_CASE("each flag sets its value in '--flag value' form", "[config]") {
  Config c =
      Parse({"--host", "0.0.0.0", "--port", "9090", "--data-dir", "/var/lib/regd", "--workers", "7",
             "--sms-provider", "webhook", "--sms-webhook-url", "http://127.0.0.1:9/sms",
             "--web-root", "/srv/www", "--dev-fixed-captcha", "WXYZ"});
  CHECK(c.host == "0.0.0.0");
  CHECK(c.port == 9090);
  CHECK(c.data_dir == "/var/lib/regd");
  CHECK(c.workers == 7);
  CHECK(c.sms.name == "webhook");
  CHECK(c.sms.webhook_url == "http://127.0.0.1:9/sms");
  CHECK(c.web_root == "/srv/www");
  CHECK(c.dev_fixed_captcha == "WXYZ");
}

TEST_CASE("each flag sets its value in '--flag=value' form", "[config]") {
  Config c = Parse({"--host=::1", "--port=9091", "--data-dir=/tmp/d", "--workers=3",
                    "--sms-provider=webhook", "--sms-webhook-url=http://h:1/p?a=b", "--web-root=/w",
                    "--dev-fixed-captcha=AB12"});
  CHECK(c.host == "::1");
  CHECK(c.port == 9091);
  CHECK(c.data_dir == "/tmp/d");
  CHECK(c.workers == 3);
  CHECK(c.sms.name == "webhook");
  CHECK(c.sms.webhook_url == "http://h:1/p?a=b");  // only the first '=' splits
  CHECK(c.web_root == "/w");
  CHECK(c.dev_fixed_captcha == "AB12");
}

TEST_CASE("port 0 is accepted to pick a free port", "[config]") {
  CHECK(Parse({"--port", "0"}).port == 0);
  CHECK(Parse({"--port=65535"}).port == 65535);
}

TEST_CASE("secondary flags are parsed", "[config]") {
  Config c = Parse({"--http-threads", "4", "--cookie-secure", "--lmdb-map-mb", "64", "--pwhash",
                    "min", "--access-log=false"});
  CHECK(c.http_threads == 4);
  CHECK(c.cookie_secure);
  CHECK(c.lmdb_map_mb == 64);
  CHECK(c.pwhash == "min");
  CHECK_FALSE(c.access_log);
  CHECK_FALSE(Parse({"--cookie-secure=false"}).cookie_secure);
}

TEST_CASE("the help and version flags are reported, not acted on", "[config]") {
  CHECK(Parse({"--help"}).show_help);
  CHECK(Parse({"-h"}).show_help);
  CHECK(Parse({"--version"}).show_version);
}

TEST_CASE("usage text names every contract flag", "[config]") {
  std::string usage = regd::app::Usage();
  for (const char* flag : {"--host", "--port", "--data-dir", "--workers", "--sms-provider",
                           "--sms-webhook-url", "--web-root", "--dev-fixed-captcha"}) {
    INFO(flag);
    CHECK_THAT(usage, Contains(flag));
  }
}

TEST_CASE("REGD_<NAME> environment variables set each value", "[config]") {
  Config c = Parse(
      {}, {"REGD_HOST=10.0.0.1", "REGD_PORT=8123", "REGD_DATA_DIR=/env/data", "REGD_WORKERS=5",
           "REGD_SMS_PROVIDER=webhook", "REGD_SMS_WEBHOOK_URL=http://env/sms",
           "REGD_WEB_ROOT=/env/www", "REGD_DEV_FIXED_CAPTCHA=EFGH"});
  CHECK(c.host == "10.0.0.1");
  CHECK(c.port == 8123);
  CHECK(c.data_dir == "/env/data");
  CHECK(c.workers == 5);
  CHECK(c.sms.name == "webhook");
  CHECK(c.sms.webhook_url == "http://env/sms");
  CHECK(c.web_root == "/env/www");
  CHECK(c.dev_fixed_captcha == "EFGH");
}

TEST_CASE("a flag wins over its environment variable, whatever their order", "[config]") {
  Config c = Parse({"--port", "9000", "--data-dir=/flag/data"},
                   {"REGD_PORT=8123", "REGD_DATA_DIR=/env/data", "REGD_WORKERS=4"});
  CHECK(c.port == 9000);
  CHECK(c.data_dir == "/flag/data");
  CHECK(c.workers == 4);  // no flag: the variable still applies
}

TEST_CASE("a webhook URL from the environment satisfies a webhook provider from a flag",
          "[config]") {
  Config c = Parse({"--sms-provider", "webhook"}, {"REGD_SMS_WEBHOOK_URL=http://env/sms"});
  CHECK(c.sms.name == "webhook");
  CHECK(c.sms.webhook_url == "http://env/sms");
}

TEST_CASE("port out of range or not a number is invalid with a clear message", "[config]") {
  Status s = Refused({"--port", "70000"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("--port") && Contains("70000"));
  CHECK(Refused({"--port=-1"}).code() == Status::Code::kInvalid);
  CHECK(Refused({"--port", "80x"}).code() == Status::Code::kInvalid);
  CHECK(Refused({"--port", ""}).code() == Status::Code::kInvalid);
  CHECK(Refused({"--port", "99999999999999999999"}).code() == Status::Code::kInvalid);
}

TEST_CASE("zero or negative workers is invalid with a clear message", "[config]") {
  Status s = Refused({"--workers", "0"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("--workers"));
  CHECK(Refused({"--workers=-2"}).code() == Status::Code::kInvalid);
  CHECK(Refused({"--workers", "two"}).code() == Status::Code::kInvalid);
}

TEST_CASE("at most 1024 sends in flight may be asked for with --workers", "[config]") {
  CHECK(Parse({"--workers", "1024"}).workers == 1024);
  Status s = Refused({"--workers", "1025"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("--workers") && Contains("1024"));
}

TEST_CASE("an unknown flag is invalid and named in the message", "[config]") {
  Status s = Refused({"--colour", "blue"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("--colour"));
  CHECK(Refused({"--colour=blue"}).code() == Status::Code::kInvalid);
}

TEST_CASE("a positional argument is invalid", "[config]") {
  Status s = Refused({"serve"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("serve"));
}

TEST_CASE("a flag that needs a value is invalid at the end of the arguments", "[config]") {
  Status s = Refused({"--data-dir"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("--data-dir"));
}

TEST_CASE("the webhook provider without a URL is invalid with a clear message", "[config]") {
  Status s = Refused({"--sms-provider", "webhook"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("--sms-webhook-url"));
  CHECK(Refused({}, {"REGD_SMS_PROVIDER=webhook"}).code() == Status::Code::kInvalid);
}

TEST_CASE("a dev fixed captcha that no captcha could have is invalid", "[config]") {
  for (const char* bad : {"", "ABC", "ABCDE", "AB D", "AB!D", "ÄBCD"}) {
    INFO(bad);
    Status s = Refused({"--dev-fixed-captcha", bad});
    CHECK(s.code() == Status::Code::kInvalid);
    CHECK_THAT(s.message(), Contains("--dev-fixed-captcha"));
  }
}

TEST_CASE("an invalid environment value is invalid and names the variable", "[config]") {
  Status s = Refused({}, {"REGD_PORT=70000"});
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Contains("REGD_PORT"));
  CHECK(Refused({}, {"REGD_WORKERS=0"}).code() == Status::Code::kInvalid);
}

TEST_CASE("provider settings come from flags and REGD_ variables", "[config]") {
  Config c = Parse(
      {"--sms-provider", "twilio", "--twilio-account-sid", "AC123", "--twilio-from", "+15005550006",
       "--twilio-base-url", "http://127.0.0.1:9/", "--sms-template", "Code {code}"},
      {"REGD_TWILIO_AUTH_TOKEN=secret", "REGD_TWILIO_MESSAGING_SERVICE_SID=MG1"});
  CHECK(c.sms.name == "twilio");
  CHECK(c.sms.twilio_account_sid == "AC123");
  CHECK(c.sms.twilio_auth_token == "secret");
  CHECK(c.sms.twilio_from == "+15005550006");
  CHECK(c.sms.twilio_messaging_service_sid == "MG1");
  CHECK(c.sms.twilio_base_url == "http://127.0.0.1:9/");
  CHECK(c.sms.sms_template == "Code {code}");

  Config ccp = Parse({"--sms-provider=ccp", "--ccp-account-sid=8a1", "--ccp-app-id=8a2",
                      "--ccp-template-id=1", "--ccp-base-url=http://127.0.0.1:9"},
                     {"REGD_CCP_AUTH_TOKEN=tok"});
  CHECK(ccp.sms.ccp_account_sid == "8a1");
  CHECK(ccp.sms.ccp_auth_token == "tok");
  CHECK(ccp.sms.ccp_app_id == "8a2");
  CHECK(ccp.sms.ccp_template_id == "1");
  CHECK(ccp.sms.ccp_base_url == "http://127.0.0.1:9");
}

TEST_CASE("retry policy and send rate are configurable", "[config]") {
  Config d = Parse({});
  CHECK(d.max_attempts == 5);
  CHECK(d.retry_base_ms == 1000);
  CHECK(d.sms_rate_per_s == Approx(20));
  Config c = Parse({"--max-attempts", "8", "--retry-base-ms", "250", "--retry-max-ms", "5000",
                    "--sms-rate", "120/m"});
  CHECK(c.max_attempts == 8);
  CHECK(c.retry_base_ms == 250);
  CHECK(c.retry_max_ms == 5000);
  CHECK(c.sms_rate_per_s == Approx(2));
  CHECK(Parse({"--sms-rate", "off"}).sms_rate_per_s == 0);
  CHECK_THAT(Refused({"--sms-rate", "lots"}).message(), Contains("--sms-rate"));
  CHECK_THAT(Refused({"--max-attempts", "0"}).message(), Contains("--max-attempts"));
}

// The table in config.cc is the one source of each setting: these two tests
// walk it, so a setting added there is checked here without a line of its own.

TEST_CASE("every setting's --help entry states the default its Config member has", "[config]") {
  std::string usage = regd::app::Usage();
  const Config defaults;
  for (const Setting& s : Settings()) {
    INFO(s.name);
    std::string entry = HelpEntry(usage, "  --" + s.name + " " + s.arg);
    REQUIRE_FALSE(entry.empty());
    std::string value = s.format(defaults);
    std::string want = !s.default_text.empty() ? "(default: " + s.default_text + ")"
                       : value.empty()         ? "(default: none)"
                                               : value;
    CHECK_THAT(entry, Contains(want) && Contains("(default"));
    CHECK(entry.back() == ')');  // the default closes the entry
  }
  // Derived, not hand-kept: the SMS template's default is that of SmsProviderConfig.
  CHECK_THAT(HelpEntry(usage, "  --sms-template TEXT"),
             Contains(regd::sms::SmsProviderConfig{}.sms_template));
}

TEST_CASE("every setting round-trips through its flag, its REGD_ variable and the config file",
          "[config]") {
  TempDir dir;
  const Config defaults;
  for (const Setting& s : Settings()) {
    INFO(s.name);
    std::string file = dir.Join(s.name + ".conf");
    if (!s.file_key) {  // --config: a flag and REGD_CONFIG, naming a file
      std::ofstream(file) << "# empty\n";
      CHECK(s.format(Parse({"--" + s.name, file})) == file);
      CHECK(s.format(Parse({}, {EnvName(s.name) + "=" + file})) == file);
      continue;
    }
    REQUIRE_FALSE(s.example.empty());
    Config by_flag = Parse({"--" + s.name + "=" + s.example});
    std::string want = s.format(by_flag);
    CHECK(want != s.format(defaults));  // the example is not the default
    CHECK(s.format(Parse({"--" + s.name, s.example})) == want);
    CHECK(s.format(Parse({}, {EnvName(s.name) + "=" + s.example})) == want);
    std::ofstream(file) << s.name << " = " << s.example << "\n";
    CHECK(s.format(Parse({"--config", file})) == want);
    if (s.is_switch) CHECK(s.format(Parse({"--" + s.name})) == "on");
    // What format writes, parse reads back as the same value.
    CHECK(s.format(Parse({"--" + s.name + "=" + want})) == want);
    // Each row owns its own member: no other setting moved.
    for (const Setting& other : Settings()) {
      if (&other == &s) continue;
      INFO("and not " << other.name);
      CHECK(other.format(by_flag) == other.format(defaults));
    }
  }
}

TEST_CASE("the settings' names are unique", "[config]") {
  std::vector<std::string> names = regd::app::SettingNames();
  REQUIRE_FALSE(names.empty());
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
}
