#include "app/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "queue/consumer_pool.h"
#include "queue/token_bucket.h"
#include "storage/files.h"

namespace regd::app {
namespace {

constexpr const char* kConfigFlag = "config";  // the one flag that is no file key

Status ParseInt(const std::string& flag, const std::string& v, int lo, int hi, int* out) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > hi) {
    return Status::Invalid("--" + flag + " must be a whole number from " + std::to_string(lo) +
                           " to " + std::to_string(hi) + ", got '" + v + "'");
  }
  *out = static_cast<int>(n);
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

struct Flag {
  bool takes_value;
  std::function<Status(Config&, const std::string&)> set;
};

// A flag that stores its value as text in the field `field` returns.
Flag Text(std::string& (*field)(Config&)) {
  return {true, [field](Config& c, const std::string& v) {
            field(c) = v;
            return Status::Ok();
          }};
}

// A per-client rate limit: "30/m", "20/h", ... or "off".
Flag Rate(const char* flag, account::RateLimit* (*field)(Config&)) {
  return {true, [flag, field](Config& c, const std::string& v) {
            return account::ParseRateLimit(v, field(c))
                       ? Status::Ok()
                       : Status::Invalid(std::string("--") + flag +
                                         " must look like 30/m, 20/h, 100/d or off, got '" + v +
                                         "'");
          }};
}

const std::map<std::string, Flag>& Flags() {
  static const std::map<std::string, Flag> flags = {
      {"host",
       {true,
        [](Config& c, const std::string& v) {
          c.host = v;
          return v.empty() ? Status::Invalid("--host must not be empty") : Status::Ok();
        }}},
      {"port",
       {true,
        [](Config& c, const std::string& v) { return ParseInt("port", v, 0, 65535, &c.port); }}},
      {"data-dir",
       {true,
        [](Config& c, const std::string& v) {
          c.data_dir = v;
          return v.empty() ? Status::Invalid("--data-dir must not be empty") : Status::Ok();
        }}},
      {"workers",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("workers", v, 1, queue::ConsumerPool::kMaxWorkers, &c.workers);
        }}},
      {"max-attempts",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("max-attempts", v, 1, 100, &c.max_attempts);
        }}},
      {"retry-base-ms",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("retry-base-ms", v, 1, 3'600'000, &c.retry_base_ms);
        }}},
      {"retry-max-ms",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("retry-max-ms", v, 1, 86'400'000, &c.retry_max_ms);
        }}},
      {"shutdown-grace-ms",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("shutdown-grace-ms", v, 0, 600'000, &c.shutdown_grace_ms);
        }}},
      {"hash-workers",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("hash-workers", v, 1, 256, &c.hash_workers);
        }}},
      {"hash-queue",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("hash-queue", v, 0, 10000, &c.hash_queue);
        }}},
      {"http-threads",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("http-threads", v, 1, 1024, &c.http_threads);
        }}},
      {"max-connections",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("max-connections", v, 1, 1'000'000, &c.max_connections);
        }}},
      {"max-connections-per-client",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("max-connections-per-client", v, 0, 1'000'000,
                          &c.max_connections_per_client);
        }}},
      {"sms-provider",
       {true,
        [](Config& c, const std::string& v) {
          c.sms.name = v;
          return Status::Ok();
        }}},
      {"sms-webhook-url",
       {true,
        [](Config& c, const std::string& v) {
          c.sms.webhook_url = v;
          return Status::Ok();
        }}},
      {"twilio-account-sid", Text([](Config& c) -> std::string& { return c.sms.twilio_account_sid; })},
      {"twilio-auth-token", Text([](Config& c) -> std::string& { return c.sms.twilio_auth_token; })},
      {"twilio-from", Text([](Config& c) -> std::string& { return c.sms.twilio_from; })},
      {"twilio-messaging-service-sid",
       Text([](Config& c) -> std::string& { return c.sms.twilio_messaging_service_sid; })},
      {"twilio-base-url", Text([](Config& c) -> std::string& { return c.sms.twilio_base_url; })},
      {"ccp-account-sid", Text([](Config& c) -> std::string& { return c.sms.ccp_account_sid; })},
      {"ccp-auth-token", Text([](Config& c) -> std::string& { return c.sms.ccp_auth_token; })},
      {"ccp-app-id", Text([](Config& c) -> std::string& { return c.sms.ccp_app_id; })},
      {"ccp-template-id", Text([](Config& c) -> std::string& { return c.sms.ccp_template_id; })},
      {"ccp-base-url", Text([](Config& c) -> std::string& { return c.sms.ccp_base_url; })},
      {"sms-template", Text([](Config& c) -> std::string& { return c.sms.sms_template; })},
      {"sms-rate",
       {true,
        [](Config& c, const std::string& v) {
          if (v == "off") {
            c.sms_rate_per_s = 0;
            return Status::Ok();
          }
          return queue::ParseRate(v, &c.sms_rate_per_s)
                     ? Status::Ok()
                     : Status::Invalid("--sms-rate must look like 20/s, 300/m, 1000/h or off, got '" +
                                       v + "'");
        }}},
      {"web-root",
       {true,
        [](Config& c, const std::string& v) {
          c.web_root = v;
          return Status::Ok();
        }}},
      {"csp",
       {true,
        [](Config& c, const std::string& v) {
          if (v == "off") {
            c.csp = "";
            return Status::Ok();
          }
          bool printable = std::all_of(v.begin(), v.end(),
                                       [](unsigned char ch) { return ch >= 0x20 && ch < 0x7f; });
          if (v.find_first_not_of(' ') == std::string::npos || !printable) {
            return Status::Invalid(
                "--csp takes a Content-Security-Policy (printable ASCII on one line, e.g. "
                "\"default-src 'self'\") or off");
          }
          c.csp = v;
          return Status::Ok();
        }}},
      {"dev-fixed-captcha",
       {true,
        [](Config& c, const std::string& v) {
          c.dev_fixed_captcha = v;
          bool ok = v.size() == 4 && std::all_of(v.begin(), v.end(),
                                                 [](unsigned char ch) { return std::isalnum(ch); });
          return ok ? Status::Ok()
                    : Status::Invalid("--dev-fixed-captcha must be 4 letters or digits");
        }}},
      {"cookie-secure",
       {false,
        [](Config& c, const std::string& v) {
          return ParseBool("cookie-secure", v, &c.cookie_secure);
        }}},
      {"lmdb-map-mb",
       {true,
        [](Config& c, const std::string& v) {
          int mb = 0;
          Status s = ParseInt("lmdb-map-mb", v, 1, 1 << 20, &mb);
          c.lmdb_map_mb = static_cast<size_t>(mb);
          return s;
        }}},
      {"pwhash",
       {true,
        [](Config& c, const std::string& v) {
          c.pwhash = v;
          return v == "interactive" || v == "min"
                     ? Status::Ok()
                     : Status::Invalid("--pwhash must be interactive or min");
        }}},
      {"access-log",
       {false,
        [](Config& c, const std::string& v) { return ParseBool("access-log", v, &c.access_log); }}},
      {"abuse-limits",
       {true,
        [](Config& c, const std::string& v) {
          return ParseBool("abuse-limits", v, &c.abuse_limits);
        }}},
      {"trust-proxy",
       {false,
        [](Config& c, const std::string& v) { return ParseBool("trust-proxy", v, &c.trust_proxy); }}},
      {"allowed-origins",
       {true,
        [](Config& c, const std::string& v) {
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
                return Status::Invalid("--allowed-origins takes origins like https://shop.example, "
                                       "got '" + o + "'");
              }
              c.allowed_origins.push_back(o);
            }
            start = comma + 1;
          }
          return Status::Ok();
        }}},
      {"ip-captcha-rate", Rate("ip-captcha-rate", [](Config& c) { return &c.abuse.captcha; })},
      {"ip-sms-rate", Rate("ip-sms-rate", [](Config& c) { return &c.abuse.sms; })},
      {"ip-register-rate",
       Rate("ip-register-rate", [](Config& c) { return &c.abuse.registration; })},
      {"ip-login-rate", Rate("ip-login-rate", [](Config& c) { return &c.abuse.login; })},
      {"ip-count-rate", Rate("ip-count-rate", [](Config& c) { return &c.abuse.count; })},
      {"login-lockout",
       {true,
        [](Config& c, const std::string& v) {
          return ParseBool("login-lockout", v, &c.login_lockout);
        }}},
      {"sms-budget-hour",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("sms-budget-hour", v, 0, 100000000, &c.sms_budget_hour);
        }}},
      {"sms-budget-day",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("sms-budget-day", v, 0, 100000000, &c.sms_budget_day);
        }}},
      {"sms-per-mobile-day",
       {true,
        [](Config& c, const std::string& v) {
          return ParseInt("sms-per-mobile-day", v, 0, 100000, &c.sms_per_mobile_day);
        }}},
      {"log-file", Text([](Config& c) -> std::string& { return c.log_file; })},
      {"log-format",
       {true,
        [](Config& c, const std::string& v) {
          if (v == "text" || v == "json") {
            c.log_format = v == "json" ? LogFormat::kJson : LogFormat::kText;
            return Status::Ok();
          }
          return Status::Invalid("--log-format must be text or json, got '" + v + "'");
        }}},
  };
  return flags;
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
    auto it = Flags().find(key);
    if (it == Flags().end()) {
      return Status::Invalid(where + "unknown setting '" + key + "' (see regd --help)");
    }
    if (auto [prev, fresh] = seen.emplace(key, n); !fresh) {
      return Status::Invalid(where + "'" + key + "' is already set on line " +
                             std::to_string(prev->second));
    }
    Status s = it->second.set(c, value);
    if (!s.ok()) return Status::Invalid(where + s.message());
  }
  if (in.bad()) return Status::Invalid("cannot read config file " + path);
  return Status::Ok();
}

}  // namespace

int DefaultHashWorkers() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

Result<Config> ParseConfig(const std::vector<std::string>& args,
                           const std::vector<std::string>& env) {
  Config c;
  // The command line is read first but applied last, so that it wins.
  std::vector<std::pair<std::string, std::string>> given;  // flag name, value
  std::optional<std::string> config_flag;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
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
    auto it = Flags().find(name);
    if (it == Flags().end()) return Status::Invalid("unknown flag --" + name + " (see --help)");
    if (!has_value) {
      if (!it->second.takes_value) {
        // A switch: "--cookie-secure", or "--cookie-secure false".
        static const char* const kWords[] = {"true", "false", "yes", "no", "on", "off", "1", "0"};
        bool next_is_bool = i + 1 < args.size() && std::find(std::begin(kWords), std::end(kWords),
                                                             args[i + 1]) != std::end(kWords);
        value = next_is_bool ? args[++i] : "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Status::Invalid("--" + name + " needs a value");
      }
    }
    given.emplace_back(name, value);
  }

  // 1. The config file: --config wins over REGD_CONFIG.
  std::string file = config_flag.value_or("");
  if (!config_flag) {
    for (const std::string& e : env) {
      if (e.rfind("REGD_CONFIG=", 0) == 0) file = e.substr(12);
    }
  }
  if (!file.empty()) {
    Status s = ApplyConfigFile(file, c);
    if (!s.ok()) return s;
    c.config_file = file;
  }
  // 2. The environment.
  for (const auto& [name, flag] : Flags()) {
    std::string prefix = EnvName(name) + "=";
    for (const std::string& e : env) {
      if (e.rfind(prefix, 0) == 0) {
        Status s = flag.set(c, e.substr(prefix.size()));
        if (!s.ok()) return Status::Invalid(EnvName(name) + ": " + s.message());
      }
    }
  }
  // 3. The command line.
  for (const auto& [name, value] : given) {
    Status s = Flags().at(name).set(c, value);
    if (!s.ok()) return s;
  }
  if (c.sms.name == "webhook" && c.sms.webhook_url.empty()) {
    return Status::Invalid("--sms-provider webhook needs --sms-webhook-url");
  }
  return c;
}

std::vector<std::string> SettingNames() {
  std::vector<std::string> names = {kConfigFlag};
  for (const auto& [name, flag] : Flags()) names.push_back(name);
  return names;
}

std::string Usage() {
  return R"(regd: a shop's whole customer sign-up in one binary.

Usage: regd [flags]            serve; each flag can also be set as REGD_<NAME> (e.g.
                               REGD_DATA_DIR) or as `name = value` in the --config file
       regd queue ...          inspect and repair the job queue (`regd queue` alone: help)
       regd backup DEST        hot backup of --data-dir into the new directory DEST
       regd restore SRC [--force]  put the backup SRC into --data-dir (server stopped)
       regd check              verify --data-dir; exit 0 healthy, 1 damaged

  --config FILE             read settings from FILE first (also REGD_CONFIG; default: none)
  --host HOST               address to listen on (default 127.0.0.1)
  --port N                  port (default 8000; 0 picks a free port and prints it)
  --data-dir DIR            where users.sqlite3 and lmdb/ live (default ./data)
  --workers N               SMS sends in flight at most: consumer threads, 2 always, more
                            started while all are busy, gone after 10 s idle (default 128,
                            up to 1024)
  --http-threads N          HTTP request threads (default 64); idle connections hold none
  --max-connections N       client connections open at once (default 4096); beyond it the
                            longest-idle one is closed, else the new one gets 503
  --max-connections-per-client N
                            connections from one address (IPv6: its /64; default 64; 0: no
                            cap); not applied with --trust-proxy (every peer is the proxy)
                            nor with --abuse-limits off
  --hash-workers N          password hashes (Argon2id, 64 MiB each) at once (default: cores)
  --hash-queue N            logins/registrations that may wait for a hash; more get 503
                            (default 32)
  --sms-provider NAME       console (default: log the code), webhook, twilio or ccp
  --sms-webhook-url URL     webhook: POST {"mobile","code","ttl_minutes"} here (default: none)
  --max-attempts N          tries before a job becomes a dead letter (default 5)
  --retry-base-ms N         first retry after N ms, doubling each time (default 1000)
  --retry-max-ms N          longest wait between retries (default 60000)
  --shutdown-grace-ms N     at stop, running sends get N ms to finish (default 10000)
  --sms-rate RATE           at most this many sends (default 20/s; also /m, /h; off)
  --sms-template TEXT       twilio's message text; {code} and {minutes} are replaced
                            (default: Your verification code is {code}. It expires in
                            {minutes} minutes.)
  --twilio-account-sid SID, --twilio-auth-token TOKEN, --twilio-from NUMBER,
  --twilio-messaging-service-sid SID, --twilio-base-url URL
                            Twilio settings (default: none; base URL https://api.twilio.com)
  --ccp-account-sid SID, --ccp-auth-token TOKEN, --ccp-app-id ID,
  --ccp-template-id ID, --ccp-base-url URL
                            Ronglian settings (default: none; base URL
                            https://app.cloopen.com:8883)
  --web-root DIR            serve the page's files from DIR (default: the built-in page)
  --csp POLICY|off          Content-Security-Policy of the HTML pages (default: a strict
                            one for the built-in page, none with --web-root, whose page
                            is the shop's; off: none for the built-in page either)
  --cookie-secure [BOOL]    mark cookies Secure when served over HTTPS (default false)
  --lmdb-map-mb N           LMDB map's maximum in MiB: it starts at 64 and doubles up to N
                            (default 1024); beyond it writes get 503, reads go on
  --dev-fixed-captcha TEXT  every captcha's answer is TEXT (default: none;
                            tests and benchmarks only)
  --pwhash interactive|min  password hashing cost (default interactive; min: tests only)
  --access-log BOOL         log one line per request (default true)
  --log-file PATH           append the log to PATH, reopened on SIGHUP (default: stderr)
  --log-format text|json    one text line or one JSON object per event (default text)

Abuse limits (each answered 429 + Retry-After, counted in /metrics):
  --abuse-limits BOOL       every limit below at once (default on; off: tests and benchmarks only)
  --ip-captcha-rate RATE    captchas per client IP (default 30/m; RATE: N/s, N/m, N/h, N/d or off)
  --ip-sms-rate RATE        SMS code requests per client IP (default 20/h)
  --ip-register-rate RATE   registrations per client IP (default 20/h)
  --ip-login-rate RATE      login attempts per client IP (default 30/m)
  --ip-count-rate RATE      /usernames/../count/ and /mobiles/../count/ per client IP (default 120/m)
  --login-lockout BOOL      lock (account, IP), IP and account after failed logins (default on)
  --sms-budget-hour N       SMS codes per hour for the whole shop (default 300; 0: no cap)
  --sms-budget-day N        SMS codes per day for the whole shop (default 3000; 0: no cap)
  --sms-per-mobile-day N    SMS codes per mobile per day (default 10; 0: no cap)
  --trust-proxy [BOOL]      take the client IP from X-Forwarded-For (last entry) and TLS
                            from X-Forwarded-Proto: only behind a reverse proxy you run
                            (default false)
  --allowed-origins LIST    other origins (comma-separated, https://a.example) allowed to call
                            the API with cookies; they get CORS headers (default: none)
  --version, --help
)";
}

}  // namespace regd::app
