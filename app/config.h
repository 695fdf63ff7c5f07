// Config: everything regd can be told at start, from three sources, each
// overriding the one before it:
//   1. a config file (--config FILE, or REGD_CONFIG): `key = value` lines,
//      keys being the long flag names without "--" (`port = 8000`); lines
//      starting with '#' and blank lines are skipped; a key may appear once;
//   2. REGD_<NAME> environment variables (upper case, '-' -> '_');
//   3. command-line flags.
// Parsing never exits: it returns a Status the caller prints. An unknown key
// or a bad value in the file is an error that names the file and the line.
//
// Thread-safety: a plain value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "account/abuse_guard.h"
#include "sms/sms_provider.h"
#include "storage/log.h"
#include "storage/status.h"

namespace regd::app {

// The number of cores: one Argon2id hash per core at a time.
int DefaultHashWorkers();

struct Config {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string data_dir = "./data";
  int workers = 128;                        // --workers: SMS sends in flight at most
  int http_threads = 64;                    // HTTP request threads
  int max_connections = 4096;               // client connections open at once
  int max_connections_per_client = 64;      // from one address; 0: no cap
  int hash_workers = DefaultHashWorkers();  // password hashes at once (--hash-workers)
  int hash_queue = 32;                      // more waiting than that: 503 (--hash-queue)
  sms::SmsProviderConfig sms;               // --sms-provider and its settings
  double sms_rate_per_s = 20;               // --sms-rate; 0: no limit
  int max_attempts = 5;                     // --max-attempts: tries before a job is dead
  int retry_base_ms = 1000;                 // --retry-base-ms: first retry delay, doubling
  int retry_max_ms = 60000;                 // --retry-max-ms: longest retry delay
  int shutdown_grace_ms = 10000;            // --shutdown-grace-ms: for running sends at stop
  std::string web_root;                     // empty: the page built into the binary
  std::string dev_fixed_captcha;            // tests and benchmarks only
  bool cookie_secure = false;               // add Secure to cookies (regd behind TLS)
  size_t lmdb_map_mb = 1024;                // LMDB map's maximum (it grows up to it)
  std::string pwhash = "interactive";       // interactive | min (tests only)
  bool access_log = true;
  bool abuse_limits = true;                  // --abuse-limits off: every limit off (tests only)
  account::AbuseOptions abuse;               // per-IP rates (--ip-*-rate)
  bool login_lockout = true;                 // --login-lockout
  int sms_budget_hour = 300;                 // --sms-budget-hour; 0: no cap
  int sms_budget_day = 3000;                 // --sms-budget-day; 0: no cap
  int sms_per_mobile_day = 10;               // --sms-per-mobile-day; 0: no cap
  bool trust_proxy = false;                  // --trust-proxy: X-Forwarded-For/-Proto
  std::vector<std::string> allowed_origins;  // --allowed-origins
  std::optional<std::string> csp;            // --csp (see Usage); "": off, unset: by page
  std::string log_file;                      // --log-file; empty: stderr
  LogFormat log_format = LogFormat::kText;   // --log-format text|json
  std::string config_file;                   // --config, REGD_CONFIG; empty: none
  bool show_help = false;
  bool show_version = false;
};

// Parses argv (without argv[0]) over the environment envp ("NAME=value")
// over the config file, if one is named; reads that file.
Result<Config> ParseConfig(const std::vector<std::string>& args,
                           const std::vector<std::string>& env);
// The --help text.
std::string Usage();
// The name of every setting (flag without "--", config file key).
std::vector<std::string> SettingNames();

}  // namespace regd::app
