#include "web/metrics.h"

#include <sstream>

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
  counter("regd_sms_requested_total", "SMS codes issued and queued.", sms_requested_.load());
  counter("regd_users_registered_total", "Successful registrations.", registered_.load());
  counter("regd_logins_total", "Successful logins.", logins_ok_.load());
  counter("regd_logins_failed_total", "Failed logins.", logins_failed_.load());
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
  auto depth = queue->Depth();
  auto dead = queue->DeadCount();
  o << "# HELP regd_queue_depth Jobs waiting or in flight.\n# TYPE regd_queue_depth gauge\n"
    << "regd_queue_depth " << (depth.ok() ? *depth : 0) << "\n"
    << "# HELP regd_queue_dead Jobs in the dead letters.\n# TYPE regd_queue_dead gauge\n"
    << "regd_queue_dead " << (dead.ok() ? *dead : 0) << "\n";
  return o.str();
}

}  // namespace regd::web
