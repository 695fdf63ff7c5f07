#include "app/app.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sms/sms_job.h"
#include "storage/clock.h"
#include "storage/log.h"

namespace regd::app {

Result<std::unique_ptr<App>> App::Start(const Config& config) {
  std::unique_ptr<App> app(new App(config));
  Status s = app->Init();
  if (!s.ok()) return s;
  return app;
}

Status App::Init() {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  if (mkdir(config_.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Unavailable("cannot create data dir " + config_.data_dir + ": " +
                               std::strerror(errno));
  }
  // One server per data dir (leases live in this process's memory), and
  // none while `regd restore` replaces the files.
  auto lock = storage::DirLock::Acquire(config_.data_dir);
  if (!lock.ok()) return lock.status();
  lock_ = std::move(lock).value();
  const Clock* clock = SystemClock::Get();
  auto secret = storage::ServerSecret::LoadOrCreate(config_.data_dir);
  if (!secret.ok()) return secret.status();
  secret_ = std::make_unique<storage::ServerSecret>(std::move(secret).value());

  storage::LmdbEnv::Options lmdb;
  lmdb.path = config_.data_dir + "/lmdb";
  lmdb.max_map_size = config_.lmdb_map_mb << 20;
  lmdb.map_size = std::min(lmdb.max_map_size, size_t{64} << 20);
  auto env = storage::LmdbEnv::Open(lmdb);
  if (!env.ok()) return env.status();
  env_ = std::move(env).value();
  auto kv = storage::ExpiringKv::Open(env_.get());
  if (!kv.ok()) return kv.status();
  kv_ = std::move(kv).value();
  // Sessions a regd before session handles wrote get theirs now, before any
  // request, so every EndAll reaches them.
  auto adopted = account::SessionBook(kv_.get(), clock).AdoptAll();
  if (!adopted.ok()) return adopted.status();
  if (*adopted > 0) LogInfo("gave %zu session(s) from an older regd their handles", *adopted);
  auto users = storage::UserStore::Open(config_.data_dir + "/users.sqlite3");
  if (!users.ok()) return users.status();
  users_ = std::move(users).value();
  auto queue = queue::JobQueue::Open(env_.get(), clock);
  if (!queue.ok()) return queue.status();
  queue_ = std::move(queue).value();

  sms::SmsProviderConfig sms_config = config_.sms;
  sms_config.site_name = config_.site_name;
  auto provider = sms::MakeSmsProvider(sms_config, clock);
  if (!provider.ok()) return provider.status();
  provider_ = std::move(provider).value();
  queue::ConsumerPool::Options pool;
  pool.workers = config_.workers;
  pool.max_attempts = static_cast<uint32_t>(config_.max_attempts);
  pool.backoff_base_ms = config_.retry_base_ms;
  pool.backoff_max_ms = std::max(config_.retry_max_ms, config_.retry_base_ms);
  consumers_ = std::make_unique<queue::ConsumerPool>(queue_.get(), clock, pool);
  if (config_.sms_rate_per_s > 0) {
    sms_rate_ = std::make_unique<queue::TokenBucket>(config_.sms_rate_per_s,
                                                     std::max(1.0, config_.sms_rate_per_s));
  }
  consumers_->Register(sms::kSmsJobType, sms::MakeSmsJobHandler(provider_.get(), clock,
                                                                sms_rate_.get(), secret_.get()));
  Status events = InitEvents(clock);
  if (!events.ok()) return events;
  sweeper_ = std::make_unique<storage::ExpirySweeper>(kv_.get(), clock);

  account::SignupOptions signup;
  signup.fixed_captcha = config_.dev_fixed_captcha;
  if (!signup.fixed_captcha.empty()) {
    LogWarn("--dev-fixed-captcha is set: every captcha's answer is '%s'. For tests only.",
            signup.fixed_captcha.c_str());
  }
  if (config_.pwhash == "min") {
    signup.pwhash = account::PwhashCost::Minimum();
    LogWarn("--pwhash min: passwords are hashed with the weakest cost. For tests only.");
  }
  signup.send_interval_ms = int64_t{config_.sms_resend_s} * 1000;
  if (config_.sms_resend_s == 0) {
    LogWarn("--sms-resend-seconds 0: a mobile may be sent code after code. For tests only.");
  }
  account::AbuseOptions abuse = config_.abuse;
  abuse.enabled = config_.abuse_limits;
  abuse.login_lockout = config_.login_lockout;
  if (config_.abuse_limits) {
    signup.sms_budget_hour = config_.sms_budget_hour;
    signup.sms_budget_day = config_.sms_budget_day;
    signup.sms_per_mobile_day = config_.sms_per_mobile_day;
  } else {
    LogWarn(
        "--abuse-limits off: no per-IP limits, login locks or SMS budgets. For tests and "
        "benchmarks only; never on a public server.");
  }
  guard_ = std::make_unique<account::AbuseGuard>(abuse);
  hashes_ = std::make_unique<account::HashPool>(config_.hash_workers, config_.hash_queue);
  signup_ =
      std::make_unique<account::SignupService>(kv_.get(), queue_.get(), users_.get(), hashes_.get(),
                                               secret_.get(), clock, signup, guard_.get());
  files_ = config_.web_root.empty()
               ? web::StaticFiles::Embedded({config_.site_name, config_.terms_url})
               : web::StaticFiles::FromDirectory(config_.web_root);
  metrics_ = std::make_unique<web::Metrics>();
  web::RouteOptions route_options;
  route_options.cookie_secure = config_.cookie_secure;
  route_options.trust_proxy = config_.trust_proxy;
  route_options.allowed_origins = config_.allowed_origins;
  for (const std::string& type : consumers_->types()) {
    metrics_->AddJobType(type, consumers_->stats(type));
  }
  routes_ = std::make_unique<web::Routes>(signup_.get(), files_.get(), metrics_.get(), queue_.get(),
                                          consumers_->stats(sms::kSmsJobType), guard_.get(),
                                          route_options);
  web::HttpOptions http;
  http.host = config_.host;
  http.port = config_.port;
  http.threads = config_.http_threads;
  http.max_connections = config_.max_connections;
  // Behind a trusted proxy every connection comes from the proxy: cap
  // clients there (nginx limit_conn), not here. The cap is a per-address
  // limit, so --abuse-limits off lifts it too (load tests from one address).
  http.max_per_client =
      config_.trust_proxy || !config_.abuse_limits ? 0 : config_.max_connections_per_client;
  http.access_log = config_.access_log;
  // The strict policy fits the built-in page only: a shop's page, such as
  // the seed's Vue 2 front end compiling its templates in the browser, may
  // need eval or inline script, so a --web-root page gets the shop's own
  // --csp, or none.
  if (config_.csp) {
    http.content_security_policy = *config_.csp;
  } else if (!config_.web_root.empty()) {
    http.content_security_policy.clear();
    LogInfo(
        "--web-root: the pages are sent without a Content-Security-Policy (the built-in "
        "page's strict one would block most front ends); set the shop's own with --csp");
  }
  http_ = std::make_unique<web::HttpServer>(routes_.get(), metrics_.get(), http);
  auto port = http_->Bind();
  if (!port.ok()) return port.status();
  port_ = *port;

  consumers_->Start();
  relay_->Start();
  http_thread_ = std::thread([this] {
    if (!http_->Serve()) LogError("the HTTP server stopped with an error");
  });
  auto depth = queue_->Depth();
  LogInfo(
      "regd started: data in %s, SMS provider %s, up to %d SMS sends at once, %zu job(s) "
      "queued",
      config_.data_dir.c_str(), provider_->name(), consumers_->max_threads(),
      depth.ok() ? *depth : size_t{0});
  return Status::Ok();
}

void App::Shutdown() {
  if (http_) http_->Stop();
  if (http_thread_.joinable()) http_thread_.join();
  if (consumers_ && !consumers_->Stop(std::chrono::milliseconds(config_.shutdown_grace_ms))) {
    // A send outlived the bound. Its job stays in the queue (the lease is
    // in memory and ends with the process) and is sent again at the next
    // start; end now rather than hang.
    LogWarn("a send was still running %d ms after the stop signal; exiting now",
            config_.shutdown_grace_ms);
    std::_Exit(0);
  }
  if (relay_) relay_->Stop();
  if (sweeper_) sweeper_->Stop();
}

Status App::InitEvents(const Clock* clock) {
  events::OutboxRelay::Options relay;
  relay.deliver = !config_.events_url.empty();
  relay.audit_days = config_.audit_days;
  if (relay.deliver) {
    auto secret = config_.events_secret.empty()
                      ? events::WebhookSecret::LoadOrCreate(config_.data_dir)
                      : events::WebhookSecret::Parse(config_.events_secret);
    if (!secret.ok()) return secret.status();
    events::EventSinkConfig sink;
    sink.url = config_.events_url;
    auto handler = events::MakeEventJobHandler(sink, *secret, clock);
    if (!handler.ok()) return handler.status();
    consumers_->Register(events::kEventJobType, std::move(handler).value(),
                         events::EventRetryPolicy());
    LogInfo("account events go to %s, signed (regd events secret prints the secret)",
            config_.events_url.c_str());
  }
  relay_ =
      std::make_unique<events::OutboxRelay>(users_.get(), env_.get(), queue_.get(), clock, relay);
  return Status::Ok();
}

App::~App() { Shutdown(); }

}  // namespace regd::app
