#include "web/metrics.h"

#include <iterator>
#include <sstream>

#include "web/event_server.h"

namespace regd::web {

void Metrics::CountRequest(int status) {
  if (status >= 100 && status < 600) ++by_status_[status];
}

std::string Metrics::Render(queue::JobQueue* queue, const queue::ConsumerStats* stats) const {
  std::ostringstream o;
  o << "# HELP regd_http_requests_total HTTP requests answered, by status code.\n"
    << "# TYPE regd_http_requests_total counter\n";
  for (int code = 100; code < 600; ++code) {
    uint64_t n = by_status_[code].load();
    if (n) o << "regd_http_requests_total{code=\"" << code << "\"} " << n << "\n";
  }
  auto counter = [&o](const char* name, const char* help, uint64_t v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n"
      << name << " " << v << "\n";
  };
  counter("regd_sms_requested_total", "SMS codes issued.", sms_requested_.load());
  counter("regd_jobs_enqueued_total", "Jobs enqueued (one per SMS code issued).",
          sms_requested_.load());
  counter("regd_users_registered_total", "Successful registrations.", registered_.load());
  counter("regd_logins_total", "Successful logins.", logins_ok_.load());
  counter("regd_logins_failed_total", "Failed logins.", logins_failed_.load());
  static const char* const kLimitNames[] = {"ip_captcha", "ip_sms",         "ip_register",
                                            "ip_login",   "ip_count",       "login_locked",
                                            "sms_budget", "sms_mobile_day", "cross_origin"};
  static_assert(std::size(kLimitNames) == static_cast<size_t>(Limited::kCount_));
  o << "# HELP regd_limited_total Requests refused by an abuse limit, by limit.\n"
    << "# TYPE regd_limited_total counter\n";
  for (size_t i = 0; i < std::size(kLimitNames); ++i) {
    o << "regd_limited_total{limit=\"" << kLimitNames[i] << "\"} " << limited_[i].load() << "\n";
  }
  o << "# HELP regd_http_requests_refused_total Requests whose head was too large (431), "
       "that did not arrive within the read timeout (408) or whose framing was refused (400); "
       "their connection was closed.\n"
    << "# TYPE regd_http_requests_refused_total counter\n"
    << "regd_http_requests_refused_total{reason=\"too_large\"} " << EventServer::TooLargeTotal()
    << "\n"
    << "regd_http_requests_refused_total{reason=\"too_slow\"} " << EventServer::TimedOutTotal()
    << "\n"
    << "regd_http_requests_refused_total{reason=\"bad_framing\"} " << EventServer::BadFramingTotal()
    << "\n";
  o << "# HELP regd_http_connections Open client connections.\n"
    << "# TYPE regd_http_connections gauge\n"
    << "regd_http_connections " << EventServer::OpenConnections() << "\n";
  o << "# HELP regd_http_connections_closed_total Connections closed by a cap: refused (503, "
       "over --max-connections, --max-connections-per-client or the request buffers) or idle "
       "ones closed to make room.\n"
    << "# TYPE regd_http_connections_closed_total counter\n"
    << "regd_http_connections_closed_total{reason=\"refused\"} "
    << EventServer::RefusedConnectionsTotal() << "\n"
    << "regd_http_connections_closed_total{reason=\"evicted_idle\"} "
    << EventServer::EvictedIdleTotal() << "\n";
  o << "# HELP regd_sms_budget_spent 1 while the shop's hourly or daily SMS budget is spent.\n"
    << "# TYPE regd_sms_budget_spent gauge\n"
    << "regd_sms_budget_spent " << (budget_paused_.load() ? 1 : 0) << "\n";
  if (stats != nullptr) {
    counter("regd_sms_sent_total", "Jobs whose handler succeeded (SMS accepted by the provider).",
            stats->done.load());
    counter("regd_sms_retried_total", "Job attempts that failed and were scheduled again.",
            stats->retried.load());
    counter("regd_sms_dead_total", "Jobs moved to the dead letters after failing.",
            stats->dead.load());
    counter("regd_sms_expired_total", "SMS jobs not sent because their code had expired.",
            stats->expired.load());
  }
  if (stats != nullptr) {
    o << "# HELP regd_job_failures_total Failed job attempts by kind.\n"
      << "# TYPE regd_job_failures_total counter\n"
      << "regd_job_failures_total{kind=\"transient\"} " << stats->transient_failures.load() << "\n"
      << "regd_job_failures_total{kind=\"permanent\"} " << stats->permanent_failures.load() << "\n"
      << "regd_job_failures_total{kind=\"expired\"} " << stats->expired.load() << "\n";
    o << "# HELP regd_job_duration_seconds Time a job's handler took (the SMS send).\n"
      << "# TYPE regd_job_duration_seconds histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < queue::ConsumerStats::kBuckets; ++i) {
      cumulative += stats->latency_buckets[i].load();
      o << "regd_job_duration_seconds_bucket{le=\"";
      if (i + 1 < queue::ConsumerStats::kBuckets) {
        o << queue::ConsumerStats::kLatencyBucketsMs[i] / 1000.0;
      } else {
        o << "+Inf";
      }
      o << "\"} " << cumulative << "\n";
    }
    o << "regd_job_duration_seconds_sum " << stats->latency_sum_us.load() / 1e6 << "\n"
      << "regd_job_duration_seconds_count " << cumulative << "\n";
  }
  if (!job_types_.empty()) {
    o << "# HELP regd_jobs_total Job outcomes by type (sms, event).\n"
      << "# TYPE regd_jobs_total counter\n";
    for (const auto& [type, t] : job_types_) {
      const std::pair<const char*, uint64_t> outcomes[] = {{"done", t->done.load()},
                                                           {"retried", t->retried.load()},
                                                           {"dead", t->dead.load()},
                                                           {"expired", t->expired.load()}};
      for (const auto& [outcome, n] : outcomes) {
        o << "regd_jobs_total{type=\"" << type << "\",outcome=\"" << outcome << "\"} " << n << "\n";
      }
    }
  }
  auto st = queue->CachedStats(kQueueStatsMaxAgeMs);
  if (st.ok()) {
    o << "# HELP regd_queue_jobs Jobs in the queue by state.\n# TYPE regd_queue_jobs gauge\n"
      << "regd_queue_jobs{state=\"ready\"} " << st->ready << "\n"
      << "regd_queue_jobs{state=\"delayed\"} " << st->delayed << "\n"
      << "regd_queue_jobs{state=\"leased\"} " << st->leased << "\n"
      << "regd_queue_jobs{state=\"dead\"} " << st->dead << "\n"
      << "# HELP regd_queue_depth Jobs waiting or in flight.\n# TYPE regd_queue_depth gauge\n"
      << "regd_queue_depth " << st->ready + st->delayed + st->leased << "\n"
      << "# HELP regd_queue_dead Jobs in the dead letters.\n# TYPE regd_queue_dead gauge\n"
      << "regd_queue_dead " << st->dead << "\n"
      << "# HELP regd_queue_oldest_ready_seconds How long the oldest ready job has waited.\n"
      << "# TYPE regd_queue_oldest_ready_seconds gauge\n"
      << "regd_queue_oldest_ready_seconds " << st->oldest_ready_age_ms / 1000.0 << "\n";
  }
  return o.str();
}

}  // namespace regd::web
