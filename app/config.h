// Config: everything regd can be told at start, from three sources, each
// overriding the one before it:
//   1. a config file (--config, or REGD_CONFIG): `key = value` lines, keys
//      being the long flag names without "--" (`port = 8000`); lines starting
//      with '#' and blank lines are skipped; a key may appear once;
//   2. REGD_<NAME> environment variables (upper case, '-' -> '_');
//   3. command-line flags.
// Each setting is written once, as one entry of the table Settings() returns:
// its name (flag, file key and variable), its --help line, its parser and a
// formatter. Its default is written once too, as the Config member's
// initialiser below; --help prints it through the formatter. The flag
// parser, the environment, the config file reader and Usage() all walk that
// table, so a setting cannot be in one and missing from another.
// Parsing never exits: it returns a Status the caller prints. An unknown key
// or a bad value in the file is an error that names the file and the line.
//
// Thread-safety: Config is a plain value. The table is built on first use
// (a function-local static) and is immutable after; any thread may read it.
#pragma once

#include <functional>
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

// Each member's initialiser is its default, the one place it is written (the
// SMS provider's and the abuse limits' defaults are those of their own
// structs). The comments name the flag when it differs from the member.
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
  std::string site_name = "regd";           // --site-name: on the pages and as {site} in SMS
  std::string terms_url;                    // --terms-url: the register page's agreement link
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
  int sms_resend_s = 60;                     // --sms-resend-seconds: wait before another code
  bool trust_proxy = false;                  // --trust-proxy: X-Forwarded-For/-Proto
  std::vector<std::string> allowed_origins;  // --allowed-origins
  std::string events_url;                    // --events-url; empty: events not sent
  std::string events_secret;                 // --events-secret; empty: DATA_DIR/events.secret
  int audit_days = 90;                       // --audit-days: events kept per account
  std::optional<std::string> csp;            // --csp (see Usage); "": off, unset: by page
  std::string log_file;                      // --log-file; empty: stderr
  LogFormat log_format = LogFormat::kText;   // --log-format text|json
  std::string config_file;                   // --config, REGD_CONFIG; empty: none
  bool show_help = false;
  bool show_version = false;
};

// One setting: a row of the table. Every field is set by the table in
// config.cc; nothing else builds one.
struct Setting {
  std::string name;  // the flag without "--", the file key; REGD_<NAME> is its variable
  std::string arg;   // the value's placeholder in --help: "N", "DIR", "[BOOL]"
  std::string help;  // what it does; Usage() wraps it and appends "(default ...)"
  // The default as --help states it when no value can show it ("cores", "by
  // page"); empty: format(Config{}), or "none" if that is empty.
  std::string default_text;
  // A valid value other than the default, in flag syntax; tests set every
  // setting to it. Empty only for --config.
  std::string example;
  std::string heading;     // not empty: --help prints it on a line of its own before this one
  bool is_switch = false;  // "--name" alone means true; a boolean word may follow
  bool file_key = true;    // false: a flag and a variable only (--config)
  // Sets the member from text. kInvalid with a message naming "--name" if
  // the text is not a valid value (the member may be changed even then).
  std::function<Status(Config&, const std::string& value)> parse;
  // The member's value in flag syntax ("8000", "20/s", "on", "" for an empty
  // text); parse(format(c)) leaves c's member as it was.
  std::function<std::string(const Config&)> format;
};

// The table, in --help order. Never empty; names are unique.
const std::vector<Setting>& Settings();

// Parses argv (without argv[0]) over the environment envp ("NAME=value")
// over the config file, if one is named; reads that file. kInvalid with a
// message for people (naming the flag, the variable, or FILE:LINE).
Result<Config> ParseConfig(const std::vector<std::string>& args,
                           const std::vector<std::string>& env);
// For the operator commands (`regd queue`, `users`, `backup`, `restore`,
// `check`): the server's settings among args, read as ParseConfig reads them
// (so --data-dir DIR, --data-dir=DIR, REGD_DATA_DIR and --config FILE name
// the data of the server the command works beside), and every other argument
// in order in *words, for the command to parse.
Result<Config> ParseCommandConfig(const std::vector<std::string>& args,
                                  const std::vector<std::string>& env,
                                  std::vector<std::string>* words);
// The --help text: the commands, then every setting of Settings() with its
// default, wrapped to 92 columns.
std::string Usage();
// The name of every setting (flag without "--", config file key), in table order.
std::vector<std::string> SettingNames();

}  // namespace regd::app
