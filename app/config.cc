// The settings table and the three readers that walk it.
//
// A row is built by the constructor of its kind (Int, Bool, Text, Rate, or
// Custom for the few with a syntax of their own) from the name, the --help
// placeholder and text, and the Config member; the kind supplies the parser
// (its error names "--name"), the formatter and an example value. No row
// holds a default: --help formats a default-constructed Config through each
// row. ParseConfig reads the command line first (it names the file), then
// applies the config file, the REGD_ variables and the flags in that order,
// so that each overrides the one before.
#include "app/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "events/webhook_signer.h"
#include "queue/consumer_pool.h"
#include "queue/token_bucket.h"
#include "storage/files.h"

namespace regd::app {
namespace {

constexpr const char* kConfigFlag = "config";  // the one flag that is no file key

// A member of Config, possibly inside one of its structs (c.sms.twilio_from).
template <typename T>
class Field {
 public:
  Field(T Config::*member) : get_([member](Config& c) -> T& { return c.*member; }) {}
  template <typename S>
  Field(S Config::*outer, T S::*inner)
      : get_([outer, inner](Config& c) -> T& { return (c.*outer).*inner; }) {}
  T& operator()(Config& c) const { return get_(c); }
  // Reads only, so casting const away is sound even for a const Config.
  const T& operator()(const Config& c) const { return get_(const_cast<Config&>(c)); }

 private:
  std::function<T&(Config&)> get_;
};

Status ParseInt(const std::string& flag, const std::string& v, long lo, long hi, long* out) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || n < lo || n > hi) {
    return Status::Invalid("--" + flag + " must be a whole number from " + std::to_string(lo) +
                           " to " + std::to_string(hi) + ", got '" + v + "'");
  }
  *out = n;
  return Status::Ok();
}

Status ParseBool(const std::string& flag, const std::string& v, bool* out) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "no" || v == "off") {
    *out = false;
  } else {
    return Status::Invalid("--" + flag + " must be true or false, got '" + v + "'");
  }
  return Status::Ok();
}

// The words a switch takes as its value ("--cookie-secure false").
constexpr const char* kBoolWords[] = {"true", "false", "yes", "no", "on", "off", "1", "0"};

bool IsBoolWord(const std::string& v) {
  return std::find(std::begin(kBoolWords), std::end(kBoolWords), v) != std::end(kBoolWords);
}

// n written without a fraction if it has none, else with every digit it has.
std::string FormatNumber(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, n == std::round(n) ? "%.0f" : "%.17g", n);
  return buf;
}

// A rate per second as "N/s", "N/m", "N/h" (or "N/d" if with_day), the
// first unit in which N is whole; "off" for 0.
std::string FormatRate(double per_s, bool with_day) {
  if (per_s == 0) return "off";
  static constexpr std::pair<double, const char*> kUnits[] = {
      {1, "/s"}, {60, "/m"}, {3600, "/h"}, {86400, "/d"}};
  for (const auto& [seconds, unit] : kUnits) {
    if (!with_day && seconds == 86400) break;
    double n = per_s * seconds;
    if (std::abs(n - std::round(n)) < 1e-9 * n) return FormatNumber(std::round(n)) + unit;
  }
  return FormatNumber(per_s) + "/s";
}

// A per-client limit as ParseRateLimit reads it: the count (its burst) and
// the unit the count is refilled over; "off" when it is off.
std::string FormatRateLimit(const account::RateLimit& r) {
  if (r.burst == 0 || r.per_s == 0) return "off";
  static constexpr std::pair<double, char> kUnits[] = {
      {1, 's'}, {60, 'm'}, {3600, 'h'}, {86400, 'd'}};
  double period_s = r.burst / r.per_s;
  auto nearest = std::min_element(std::begin(kUnits), std::end(kUnits), [&](auto a, auto b) {
    return std::abs(std::log(period_s / a.first)) < std::abs(std::log(period_s / b.first));
  });
  return FormatNumber(r.burst) + "/" + nearest->second;
}

// A row with its name, placeholder and help; the rest is the caller's.
Setting Row(std::string name, std::string arg, std::string help) {
  Setting s;
  s.name = std::move(name);
  s.arg = std::move(arg);
  s.help = std::move(help);
  return s;
}

// The constructors of the table's rows, one per kind of value. Each takes
// the name, the placeholder, the help and the member; the row's parser and
// formatter follow from the kind.

// A whole number from lo to hi. Its example is the default plus one (minus
// one at hi).
template <typename T>
Setting Int(std::string name, std::string arg, std::string help, T Config::*member, long lo,
            long hi) {
  Field<T> field(member);
  long d = static_cast<long>(field(Config{}));
  Setting s = Row(name, std::move(arg), std::move(help));
  s.example = std::to_string(d < hi ? d + 1 : d - 1);
  s.parse = [name, field, lo, hi](Config& c, const std::string& v) {
    long n = 0;
    Status st = ParseInt(name, v, lo, hi, &n);
    if (st.ok()) field(c) = static_cast<T>(n);
    return st;
  };
  s.format = [field](const Config& c) { return std::to_string(field(c)); };
  return s;
}

// true or false, written "on" or "off". A switch may stand alone ("--trust-proxy").
Setting Bool(std::string name, std::string help, Field<bool> field, bool is_switch) {
  Setting s = Row(name, is_switch ? "[BOOL]" : "BOOL", std::move(help));
  s.is_switch = is_switch;
  s.example = field(Config{}) ? "off" : "on";
  s.parse = [name, field](Config& c, const std::string& v) {
    return ParseBool(name, v, &field(c));
  };
  s.format = [field](const Config& c) { return field(c) ? "on" : "off"; };
  return s;
}

// What a text value must be, or "" if v is one ("must not be empty").
using TextRule = std::string (*)(const std::string& v);

// Any text the rule (if any) accepts, stored as it is. Its example is "x"
// unless given.
Setting Text(std::string name, std::string arg, std::string help, Field<std::string> field,
             TextRule rule = nullptr, std::string example = "x") {
  Setting s = Row(name, std::move(arg), std::move(help));
  s.example = std::move(example);
  s.parse = [name, field, rule](Config& c, const std::string& v) {
    field(c) = v;
    std::string why = rule ? rule(v) : "";
    return why.empty() ? Status::Ok() : Status::Invalid("--" + name + " " + why);
  };
  s.format = [field](const Config& c) { return field(c); };
  return s;
}

std::string NotEmpty(const std::string& v) { return v.empty() ? "must not be empty" : ""; }

// A per-client rate limit: "30/m", "20/h", ... or "off".
Setting Rate(std::string name, std::string help, Field<account::RateLimit> field) {
  Setting s = Row(name, "RATE", std::move(help));
  s.example = "7/m";
  s.parse = [name, field](Config& c, const std::string& v) {
    return account::ParseRateLimit(v, &field(c))
               ? Status::Ok()
               : Status::Invalid("--" + name + " must look like 30/m, 20/h, 100/d or off, got '" +
                                 v + "'");
  };
  s.format = [field](const Config& c) { return FormatRateLimit(field(c)); };
  return s;
}

// A row's default as --help states it.
Setting WithDefaultText(std::string text, Setting s) {
  s.default_text = std::move(text);
  return s;
}

// A row that --help prints under a heading of its own.
Setting UnderHeading(std::string heading, Setting s) {
  s.heading = std::move(heading);
  return s;
}

Status ParseSmsRate(Config& c, const std::string& v) {
  if (v == "off") {
    c.sms_rate_per_s = 0;
    return Status::Ok();
  }
  return queue::ParseRate(v, &c.sms_rate_per_s)
             ? Status::Ok()
             : Status::Invalid("--sms-rate must look like 20/s, 300/m, 1000/h or off, got '" + v +
                               "'");
}

Status ParseCsp(Config& c, const std::string& v) {
  if (v == "off") {
    c.csp = "";
    return Status::Ok();
  }
  bool printable =
      std::all_of(v.begin(), v.end(), [](unsigned char ch) { return ch >= 0x20 && ch < 0x7f; });
  if (v.find_first_not_of(' ') == std::string::npos || !printable) {
    return Status::Invalid(
        "--csp takes a Content-Security-Policy (printable ASCII on one line, e.g. "
        "\"default-src 'self'\") or off");
  }
  c.csp = v;
  return Status::Ok();
}

Status ParseAllowedOrigins(Config& c, const std::string& v) {
  c.allowed_origins.clear();
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    std::string o = v.substr(start, comma - start);
    while (!o.empty() && o.front() == ' ') o.erase(o.begin());
    while (!o.empty() && (o.back() == ' ' || o.back() == '/')) o.pop_back();
    if (!o.empty()) {
      if (o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0) {
        return Status::Invalid("--allowed-origins takes origins like https://shop.example, got '" +
                               o + "'");
      }
      c.allowed_origins.push_back(o);
    }
    start = comma + 1;
  }
  return Status::Ok();
}

Status ParseLogFormat(Config& c, const std::string& v) {
  if (v == "text" || v == "json") {
    c.log_format = v == "json" ? LogFormat::kJson : LogFormat::kText;
    return Status::Ok();
  }
  return Status::Invalid("--log-format must be text or json, got '" + v + "'");
}

// A row whose parser and formatter are its own.
Setting Custom(std::string name, std::string arg, std::string help, std::string example,
               std::function<Status(Config&, const std::string&)> parse,
               std::function<std::string(const Config&)> format) {
  Setting s = Row(std::move(name), std::move(arg), std::move(help));
  s.example = std::move(example);
  s.parse = std::move(parse);
  s.format = std::move(format);
  return s;
}

std::vector<Setting> MakeSettings() {
  using account::AbuseOptions;
  using sms::SmsProviderConfig;
  Setting config = Custom(
      kConfigFlag, "FILE", "read settings from FILE first; also REGD_CONFIG", "",
      [](Config& c, const std::string& v) {
        c.config_file = v;
        return v.empty() ? Status::Invalid("--config needs a file") : Status::Ok();
      },
      [](const Config& c) { return c.config_file; });
  config.file_key = false;
  return {
      config,
      Text("host", "HOST", "address to listen on", &Config::host, NotEmpty, "0.0.0.0"),
      Int("port", "N", "port; 0 picks a free port and prints it", &Config::port, 0, 65535),
      Text("data-dir", "DIR", "where users.sqlite3 and lmdb/ live", &Config::data_dir, NotEmpty,
           "/var/lib/regd"),
      Int("workers", "N",
          "SMS sends in flight at most, up to " + std::to_string(queue::ConsumerPool::kMaxWorkers) +
              ": consumer threads, 2 always, more started while all are busy, gone after 10 s "
              "idle",
          &Config::workers, 1, queue::ConsumerPool::kMaxWorkers),
      Int("http-threads", "N", "HTTP request threads; idle connections hold none",
          &Config::http_threads, 1, 1024),
      Int("max-connections", "N",
          "client connections open at once; beyond it the longest-idle one is closed, else the "
          "new one gets 503",
          &Config::max_connections, 1, 1'000'000),
      Int("max-connections-per-client", "N",
          "connections from one address (IPv6: its /64; 0: no cap); not applied with "
          "--trust-proxy (every peer is the proxy) nor with --abuse-limits off",
          &Config::max_connections_per_client, 0, 1'000'000),
      WithDefaultText("cores",
                      Int("hash-workers", "N", "password hashes (Argon2id, 64 MiB each) at once",
                          &Config::hash_workers, 1, 256)),
      Int("hash-queue", "N", "logins/registrations that may wait for a hash; more get 503",
          &Config::hash_queue, 0, 10000),
      Text("sms-provider", "NAME", "console (log the code), webhook, twilio or ccp",
           {&Config::sms, &SmsProviderConfig::name}, nullptr, "twilio"),
      Text("sms-webhook-url", "URL", R"(webhook: POST {"mobile","code","ttl_minutes"} here)",
           {&Config::sms, &SmsProviderConfig::webhook_url}, nullptr, "http://127.0.0.1:9/sms"),
      Int("max-attempts", "N", "tries before a job becomes a dead letter", &Config::max_attempts, 1,
          100),
      Int("retry-base-ms", "N", "first retry after N ms, doubling each time",
          &Config::retry_base_ms, 1, 3'600'000),
      Int("retry-max-ms", "N", "longest wait between retries, in ms", &Config::retry_max_ms, 1,
          86'400'000),
      Int("shutdown-grace-ms", "N", "at stop, running sends get N ms to finish",
          &Config::shutdown_grace_ms, 0, 600'000),
      Custom("sms-rate", "RATE", "at most this many sends: N/s, N/m, N/h or off", "120/m",
             ParseSmsRate, [](const Config& c) { return FormatRate(c.sms_rate_per_s, false); }),
      Text("sms-template", "TEXT", "twilio's message text; {code} and {minutes} are replaced",
           {&Config::sms, &SmsProviderConfig::sms_template}, nullptr, "Code {code}"),
      WithDefaultText("--sms-template",
                      Text("sms-template-login", "TEXT", "twilio's text for login codes",
                           {&Config::sms, &SmsProviderConfig::sms_template_login}, nullptr,
                           "Login code {code}")),
      WithDefaultText("--sms-template",
                      Text("sms-template-reset", "TEXT", "twilio's text for reset codes",
                           {&Config::sms, &SmsProviderConfig::sms_template_reset}, nullptr,
                           "Reset code {code}")),
      WithDefaultText(
          "--sms-template",
          Text("sms-template-change-mobile", "TEXT", "twilio's text for change_mobile codes",
               {&Config::sms, &SmsProviderConfig::sms_template_change_mobile}, nullptr,
               "Change mobile code {code}")),
      Text("sms-template-mobile-changed", "TEXT",
           "twilio's text telling the old mobile the account moved",
           {&Config::sms, &SmsProviderConfig::sms_template_mobile_changed}, nullptr,
           "Your number was changed"),
      Text("twilio-account-sid", "SID", "Twilio account SID",
           {&Config::sms, &SmsProviderConfig::twilio_account_sid}),
      Text("twilio-auth-token", "TOKEN", "Twilio auth token",
           {&Config::sms, &SmsProviderConfig::twilio_auth_token}),
      Text("twilio-from", "NUMBER", "Twilio sender number",
           {&Config::sms, &SmsProviderConfig::twilio_from}),
      Text("twilio-messaging-service-sid", "SID",
           "Twilio messaging service, instead of --twilio-from or with it",
           {&Config::sms, &SmsProviderConfig::twilio_messaging_service_sid}),
      Text("twilio-base-url", "URL", "Twilio's API",
           {&Config::sms, &SmsProviderConfig::twilio_base_url}),
      Text("ccp-account-sid", "SID", "Ronglian account SID",
           {&Config::sms, &SmsProviderConfig::ccp_account_sid}),
      Text("ccp-auth-token", "TOKEN", "Ronglian auth token",
           {&Config::sms, &SmsProviderConfig::ccp_auth_token}),
      Text("ccp-app-id", "ID", "Ronglian app ID", {&Config::sms, &SmsProviderConfig::ccp_app_id}),
      Text("ccp-template-id", "ID", "Ronglian SMS template ID (register codes, and the default)",
           {&Config::sms, &SmsProviderConfig::ccp_template_id}),
      WithDefaultText(
          "--ccp-template-id",
          Text("ccp-template-id-login", "ID", "Ronglian template ID for login codes",
               {&Config::sms, &SmsProviderConfig::ccp_template_id_login}, nullptr, "2")),
      WithDefaultText(
          "--ccp-template-id",
          Text("ccp-template-id-reset", "ID", "Ronglian template ID for reset codes",
               {&Config::sms, &SmsProviderConfig::ccp_template_id_reset}, nullptr, "3")),
      WithDefaultText(
          "--ccp-template-id",
          Text("ccp-template-id-change-mobile", "ID",
               "Ronglian template ID for change_mobile codes",
               {&Config::sms, &SmsProviderConfig::ccp_template_id_change_mobile}, nullptr, "4")),
      WithDefaultText(
          "none: the notice waits among the dead letters",
          Text("ccp-template-id-mobile-changed", "ID",
               "Ronglian template ID (no fields) telling the old mobile the account moved",
               {&Config::sms, &SmsProviderConfig::ccp_template_id_mobile_changed}, nullptr, "5")),
      Text("ccp-base-url", "URL", "Ronglian's API",
           {&Config::sms, &SmsProviderConfig::ccp_base_url}),
      Text(
          "site-name", "NAME",
          "the shop's name on every built-in page (title, header) and {site} in SMS texts",
          &Config::site_name,
          [](const std::string& v) -> std::string {
            if (v.empty() || v.size() > 64) return "must be 1 to 64 bytes";
            for (unsigned char ch : v) {
              if (ch < 0x20 || ch == 0x7f) return "must not hold control characters";
            }
            return "";
          },
          "Tea Shop"),
      WithDefaultText(
          "none (plain text)",
          Text(
              "terms-url", "URL",
              "the register page's \"user agreement\" links here (http://, https:// or /path)",
              &Config::terms_url,
              [](const std::string& v) -> std::string {
                bool ok = v.empty() || v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0 ||
                          (v.size() > 1 && v[0] == '/' && v[1] != '/');
                if (ok) {
                  for (unsigned char ch : v) ok = ok && ch > 0x20 && ch != 0x7f && ch != '"';
                }
                return ok ? "" : "must be an http://, https:// or /path URL without spaces";
              },
              "https://shop.example/terms")),
      WithDefaultText("the built-in page",
                      Text("web-root", "DIR", "serve the page's files from DIR", &Config::web_root,
                           nullptr, "/srv/www")),
      WithDefaultText(
          "a strict one for the built-in page, none with --web-root, whose page is the shop's",
          Custom("csp", "POLICY|off",
                 "Content-Security-Policy of the HTML pages; off: none for the built-in page "
                 "either",
                 "default-src 'none'", ParseCsp,
                 [](const Config& c) { return !c.csp           ? ""
                                              : c.csp->empty() ? "off"
                                                               : *c.csp; })),
      Bool("cookie-secure", "mark cookies Secure when served over HTTPS", &Config::cookie_secure,
           true),
      Int("lmdb-map-mb", "N",
          "LMDB map's maximum in MiB: it starts at 64 and doubles up to N; beyond it writes get "
          "503, reads go on",
          &Config::lmdb_map_mb, 1, 1 << 20),
      Text(
          "dev-fixed-captcha", "TEXT", "every captcha's answer is TEXT (tests and benchmarks only)",
          &Config::dev_fixed_captcha,
          [](const std::string& v) -> std::string {
            bool ok = v.size() == 4 && std::all_of(v.begin(), v.end(), [](unsigned char ch) {
                        return std::isalnum(ch);
                      });
            return ok ? "" : "must be 4 letters or digits";
          },
          "WXYZ"),
      Text(
          "pwhash", "interactive|min", "password hashing cost; min: tests only", &Config::pwhash,
          [](const std::string& v) -> std::string {
            return v == "interactive" || v == "min" ? "" : "must be interactive or min";
          },
          "min"),
      Bool("access-log", "log one line per request", &Config::access_log, true),
      WithDefaultText("stderr",
                      Text("log-file", "PATH", "append the log to PATH, reopened on SIGHUP",
                           &Config::log_file, nullptr, "/var/log/regd/regd.log")),
      Custom("log-format", "text|json", "one text line or one JSON object per event", "json",
             ParseLogFormat,
             [](const Config& c) { return c.log_format == LogFormat::kJson ? "json" : "text"; }),
      UnderHeading("Abuse limits (each answered 429 + Retry-After, counted in /metrics):",
                   Bool("abuse-limits", "every limit below at once; off: tests and benchmarks only",
                        &Config::abuse_limits, false)),
      Rate("ip-captcha-rate", "captchas per client IP; RATE: N/s, N/m, N/h, N/d or off",
           {&Config::abuse, &AbuseOptions::captcha}),
      Rate("ip-sms-rate", "SMS code requests per client IP", {&Config::abuse, &AbuseOptions::sms}),
      Rate("ip-register-rate", "registrations per client IP",
           {&Config::abuse, &AbuseOptions::registration}),
      Rate("ip-login-rate", "login attempts per client IP", {&Config::abuse, &AbuseOptions::login}),
      Rate("ip-count-rate", "/usernames/../count/ and /mobiles/../count/ per client IP",
           {&Config::abuse, &AbuseOptions::count}),
      Bool("login-lockout", "lock (account, IP), IP and account after failed logins",
           &Config::login_lockout, false),
      Int("sms-budget-hour", "N", "SMS codes per hour for the whole shop; 0: no cap",
          &Config::sms_budget_hour, 0, 100'000'000),
      Int("sms-budget-day", "N", "SMS codes per day for the whole shop; 0: no cap",
          &Config::sms_budget_day, 0, 100'000'000),
      Int("sms-per-mobile-day", "N", "SMS codes per mobile per day; 0: no cap",
          &Config::sms_per_mobile_day, 0, 100'000),
      Int("sms-resend-seconds", "N",
          "seconds before another code to the same mobile, any purpose (429 meanwhile); "
          "0: no wait, tests only",
          &Config::sms_resend_s, 0, 3600),
      Bool("trust-proxy",
           "take the client IP from X-Forwarded-For (last entry) and TLS from X-Forwarded-Proto: "
           "only behind a reverse proxy you run",
           &Config::trust_proxy, true),
      Custom("allowed-origins", "LIST",
             "other origins (comma-separated, https://a.example) allowed to call the API with "
             "cookies; they get CORS headers",
             "https://a.example,https://b.example", ParseAllowedOrigins,
             [](const Config& c) {
               std::string list;
               for (const std::string& o : c.allowed_origins) list += (list.empty() ? "" : ",") + o;
               return list;
             }),
      UnderHeading(
          "Account events (Standard Webhooks) and the audit:",
          Text(
              "events-url", "URL",
              "POST each account event, signed, to URL (the shop's receiver); empty: none sent",
              &Config::events_url,
              [](const std::string& v) -> std::string {
                bool ok = v.empty() || v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
                return ok ? "" : "must be an http:// or https:// URL";
              },
              "http://127.0.0.1:9000/events")),
      WithDefaultText(
          "DATA_DIR/events.secret, made at first start",
          Text(
              "events-secret", "whsec_...", "the events' signing secret", &Config::events_secret,
              [](const std::string& v) -> std::string {
                if (v.empty()) return "";
                auto parsed = events::WebhookSecret::Parse(v);
                return parsed.ok() ? "" : "must be whsec_ and the base64 of 24 to 64 bytes";
              },
              "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
      Int("audit-days", "N", "keep each account's events N days (regd users show)",
          &Config::audit_days, 1, 3650),
  };
}

// The row named name; null if there is none.
const Setting* Find(const std::string& name) {
  for (const Setting& s : Settings()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string EnvName(const std::string& flag) {
  std::string n = "REGD_";
  for (char ch : flag) n += ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
  return n;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Applies the `key = value` lines of a config file (see config.h).
Status ApplyConfigFile(const std::string& path, Config& c) {
  if (storage::IsDir(path)) return Status::Invalid("config file " + path + " is a directory");
  std::ifstream in(path);
  if (!in) {
    return Status::Invalid("cannot read config file " + path + ": " + std::strerror(errno));
  }
  std::map<std::string, int> seen;  // key -> line
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    std::string where = path + ":" + std::to_string(n) + ": ";
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return Status::Invalid(where + "expected 'key = value', got '" + line + "'");
    }
    std::string key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    if (key == kConfigFlag) return Status::Invalid(where + "a config file cannot name another");
    const Setting* setting = Find(key);
    if (setting == nullptr || !setting->file_key) {
      return Status::Invalid(where + "unknown setting '" + key + "' (see regd --help)");
    }
    if (auto [prev, fresh] = seen.emplace(key, n); !fresh) {
      return Status::Invalid(where + "'" + key + "' is already set on line " +
                             std::to_string(prev->second));
    }
    Status s = setting->parse(c, value);
    if (!s.ok()) return Status::Invalid(where + s.message());
  }
  if (in.bad()) return Status::Invalid("cannot read config file " + path);
  return Status::Ok();
}

constexpr size_t kHelpColumn = 28;  // where a flag's help starts
constexpr size_t kHelpWidth = 92;   // the longest line, unless one word is longer

// "(default X)": the setting's default_text, else its value in defaults,
// else "none".
std::string DefaultPhrase(const Setting& s, const Config& defaults) {
  if (!s.default_text.empty()) return "(default: " + s.default_text + ")";
  std::string v = s.format(defaults);
  if (v.empty()) return "(default: none)";
  // A one-word default stays on the line of "(default" ('\x01': a space
  // AppendHelp does not break at).
  return v.find(' ') == std::string::npos ? "(default\x01" + v + ")" : "(default: " + v + ")";
}

// Appends `left` and then `text`, wrapped at kHelpWidth and indented to
// kHelpColumn; `left` gets a line of its own unless two spaces still fit
// before the column. A '\x01' in text is a space that is never broken.
void AppendHelp(const std::string& left, const std::string& text, std::string* out) {
  std::string line = left;
  if (line.size() + 2 > kHelpColumn) {
    *out += line + "\n";
    line.clear();
  }
  line.resize(kHelpColumn, ' ');
  bool line_empty = true;
  size_t start = 0;
  while (start < text.size()) {
    size_t space = text.find(' ', start);
    if (space == std::string::npos) space = text.size();
    std::string word = text.substr(start, space - start);
    start = space + 1;
    if (word.empty()) continue;
    if (!line_empty && line.size() + 1 + word.size() > kHelpWidth) {
      *out += line + "\n";
      line.assign(kHelpColumn, ' ');
      line_empty = true;
    }
    if (!line_empty) line += ' ';
    std::replace(word.begin(), word.end(), '\x01', ' ');
    line += word;
    line_empty = false;
  }
  *out += line + "\n";
}

}  // namespace

int DefaultHashWorkers() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {

// ParseConfig; with words, every argument that is not a setting (or its
// value) goes there in order instead of being refused.
Result<Config> Parse(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     std::vector<std::string>* words) {
  Config c;
  // The command line is read first but applied last, so that it wins.
  std::vector<std::pair<const Setting*, std::string>> given;  // flag, value
  std::optional<std::string> config_flag;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (words != nullptr) {
      // A setting is "--name" or "--name=value"; anything else is the command's.
      std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : "";
      name = name.substr(0, name.find('='));
      if (name != kConfigFlag && Find(name) == nullptr) {
        words->push_back(a);
        continue;
      }
    }
    if (a == "-h" || a == "--help") {
      c.show_help = true;
      continue;
    }
    if (a == "--version") {
      c.show_version = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return Status::Invalid("unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == kConfigFlag) {
      if (!has_value && i + 1 >= args.size()) return Status::Invalid("--config needs a file");
      config_flag = has_value ? value : args[++i];
      if (config_flag->empty()) return Status::Invalid("--config needs a file");
      continue;
    }
    const Setting* setting = Find(name);
    if (setting == nullptr) return Status::Invalid("unknown flag --" + name + " (see --help)");
    if (!has_value) {
      if (setting->is_switch) {
        // A switch: "--cookie-secure", or "--cookie-secure false".
        bool next_is_bool = i + 1 < args.size() && IsBoolWord(args[i + 1]);
        value = next_is_bool ? args[++i] : "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Status::Invalid("--" + name + " needs a value");
      }
    }
    given.emplace_back(setting, value);
  }

  // 1. The config file: --config wins over REGD_CONFIG.
  std::string file = config_flag.value_or("");
  if (!config_flag) {
    std::string prefix = EnvName(kConfigFlag) + "=";
    for (const std::string& e : env) {
      if (e.rfind(prefix, 0) == 0) file = e.substr(prefix.size());
    }
  }
  if (!file.empty()) {
    Status s = ApplyConfigFile(file, c);
    if (!s.ok()) return s;
    s = Find(kConfigFlag)->parse(c, file);
    if (!s.ok()) return s;
  }
  // 2. The environment (REGD_CONFIG was read above).
  for (const Setting& setting : Settings()) {
    if (!setting.file_key) continue;
    std::string prefix = EnvName(setting.name) + "=";
    for (const std::string& e : env) {
      if (e.rfind(prefix, 0) == 0) {
        Status s = setting.parse(c, e.substr(prefix.size()));
        if (!s.ok()) return Status::Invalid(EnvName(setting.name) + ": " + s.message());
      }
    }
  }
  // 3. The command line.
  for (const auto& [setting, value] : given) {
    Status s = setting->parse(c, value);
    if (!s.ok()) return s;
  }
  if (c.sms.name == "webhook" && c.sms.webhook_url.empty()) {
    return Status::Invalid("--sms-provider webhook needs --sms-webhook-url");
  }
  return c;
}

}  // namespace

Result<Config> ParseConfig(const std::vector<std::string>& args,
                           const std::vector<std::string>& env) {
  return Parse(args, env, nullptr);
}

Result<Config> ParseCommandConfig(const std::vector<std::string>& args,
                                  const std::vector<std::string>& env,
                                  std::vector<std::string>* words) {
  words->clear();
  return Parse(args, env, words);
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = MakeSettings();
  return settings;
}

std::vector<std::string> SettingNames() {
  std::vector<std::string> names;
  for (const Setting& s : Settings()) names.push_back(s.name);
  return names;
}

std::string Usage() {
  std::string out = R"(regd: a shop's whole customer sign-up in one binary.

Usage: regd [flags]            serve; each flag can also be set as REGD_<NAME> (e.g.
                               REGD_DATA_DIR) or as `name = value` in the --config file
       regd queue ...          inspect and repair the job queue (`regd queue` alone: help)
       regd backup DEST        hot backup of --data-dir into the new directory DEST
       regd restore SRC [--force]  put the backup SRC into --data-dir (server stopped)
       regd check              verify --data-dir; exit 0 healthy, 1 damaged
       regd events secret      print the secret that signs account events
       regd users ...          list, show, disable, enable, delete, unlock customers

)";
  const Config defaults;
  for (const Setting& s : Settings()) {
    if (!s.heading.empty()) out += "\n" + s.heading + "\n";
    AppendHelp("  --" + s.name + " " + s.arg, s.help + " " + DefaultPhrase(s, defaults), &out);
  }
  out += "  --version, --help\n";
  return out;
}

}  // namespace regd::app
