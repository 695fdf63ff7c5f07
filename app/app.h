// App: one running regd, wired from a Config. Start takes the data dir's
// DirLock (a second server on the same dir fails to start), builds the parts
// in dependency order (stores, queue, consumers, sign-up service, routes,
// HTTP) and starts their threads; Shutdown stops them in reverse order: HTTP
// first (no new requests), then the consumers (in-flight sends finish;
// unfinished jobs stay queued on disk), then the expiry sweeper, then the
// stores close and the lock is released.
// Tests start an App in-process on port 0; main does the same.
//
// Threads owned: the HTTP accept thread and its request pool, 2 to
// `workers` consumer threads (ConsumerPool grows and shrinks them), one
// expiry sweeper, one outbox relay (account events into the queue).
// Thread-safety: Start and Shutdown from one thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "account/abuse_guard.h"
#include "account/hash_pool.h"
#include "account/signup_service.h"
#include "app/config.h"
#include "events/event_job.h"
#include "events/outbox_relay.h"
#include "events/webhook_signer.h"
#include "queue/consumer_pool.h"
#include "queue/job_queue.h"
#include "queue/token_bucket.h"
#include "sms/sms_provider.h"
#include "storage/dir_lock.h"
#include "storage/expiring_kv.h"
#include "storage/expiry_sweeper.h"
#include "storage/lmdb_env.h"
#include "storage/server_secret.h"
#include "storage/status.h"
#include "storage/user_store.h"
#include "web/http_server.h"
#include "web/metrics.h"
#include "web/routes.h"
#include "web/static_files.h"

namespace regd::app {

class App {
 public:
  static Result<std::unique_ptr<App>> Start(const Config& config);
  ~App();

  int port() const { return port_; }
  const Config& config() const { return config_; }
  // Stops everything, in reverse order of Start. Idempotent.
  void Shutdown();

 private:
  explicit App(Config config) : config_(std::move(config)) {}
  Status Init();
  // The outbox relay, and the event job's handler when --events-url is set.
  Status InitEvents(const Clock* clock);

  const Config config_;
  int port_ = 0;
  // Declared in dependency order; destroyed in reverse.
  std::unique_ptr<storage::DirLock> lock_;  // the data dir's: released last
  std::unique_ptr<storage::ServerSecret> secret_;
  std::unique_ptr<storage::LmdbEnv> env_;
  std::unique_ptr<storage::ExpiringKv> kv_;
  std::unique_ptr<storage::UserStore> users_;
  std::unique_ptr<queue::JobQueue> queue_;
  std::unique_ptr<sms::SmsProvider> provider_;
  std::unique_ptr<queue::TokenBucket> sms_rate_;  // null: no send-rate limit
  std::unique_ptr<queue::ConsumerPool> consumers_;
  std::unique_ptr<storage::ExpirySweeper> sweeper_;
  std::unique_ptr<events::OutboxRelay> relay_;
  std::unique_ptr<account::AbuseGuard> guard_;
  std::unique_ptr<account::HashPool> hashes_;
  std::unique_ptr<account::SignupService> signup_;
  std::unique_ptr<web::StaticFiles> files_;
  std::unique_ptr<web::Metrics> metrics_;
  std::unique_ptr<web::Routes> routes_;
  std::unique_ptr<web::HttpServer> http_;
  std::thread http_thread_;
};

}  // namespace regd::app
