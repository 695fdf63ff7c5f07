#include "events/event_job.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "sms/http_provider_util.h"
#include "sms/mobile_mask.h"
#include "storage/log.h"

namespace regd::events {

queue::RetryPolicy EventRetryPolicy() { return {16, 5000, 3'600'000}; }

EventJob MakeEventJob(const storage::StoredEvent& e) {
  nlohmann::json body = {
      {"type", e.type},
      {"timestamp", IsoUtc(e.at_ms)},
      {"data", {{"user_id", e.user_id}, {"username", e.username}, {"mobile", e.mobile}}}};
  return {"evt_" + std::to_string(e.id), body.dump()};
}

std::string EncodeEventJob(const EventJob& job) { return job.webhook_id + "\n" + job.body; }

Result<EventJob> DecodeEventJob(std::string_view payload) {
  size_t nl = payload.find('\n');
  if (nl == std::string_view::npos || nl == 0) return Status::Invalid("event job: bad payload");
  return EventJob{std::string(payload.substr(0, nl)), std::string(payload.substr(nl + 1))};
}

Result<EventJobSummary> SummarizeEventJob(std::string_view payload) {
  auto job = DecodeEventJob(payload);
  if (!job.ok()) return job.status();
  auto body = nlohmann::json::parse(job->body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body["type"].is_string() || !body["data"].is_object() ||
      !body["data"]["mobile"].is_string()) {
    return Status::Invalid("event job: bad body");
  }
  return EventJobSummary{body["type"].get<std::string>(),
                         sms::MaskMobile(body["data"]["mobile"].get<std::string>())};
}

Result<queue::JobHandler> MakeEventJobHandler(const EventSinkConfig& sink,
                                              const WebhookSecret& secret, const Clock* clock) {
  std::string origin, path;
  if (!sms::SplitUrl(sink.url, &origin, &path)) {
    return Status::Invalid("--events-url must be an http:// or https:// URL");
  }
  return queue::JobHandler([origin, path, sink, secret, clock](const queue::Job& j) {
    using Kind = queue::HandlerResult::Kind;
    auto job = DecodeEventJob(j.payload);
    if (!job.ok()) return queue::HandlerResult{Kind::kPermanent, job.status().message()};
    const int64_t ts = clock->NowMs() / 1000;
    httplib::Headers headers = {{"webhook-id", job->webhook_id},
                                {"webhook-timestamp", std::to_string(ts)},
                                {"webhook-signature", secret.Sign(job->webhook_id, ts, job->body)}};
    // One client per send: httplib::Client is not safe to share between threads.
    httplib::Client cli(origin);
    cli.set_connection_timeout(std::chrono::milliseconds(sink.connect_timeout_ms));
    cli.set_read_timeout(std::chrono::milliseconds(sink.read_timeout_ms));
    cli.set_write_timeout(std::chrono::milliseconds(sink.read_timeout_ms));
    auto res = cli.Post(path, headers, job->body, "application/json");
    if (!res) {
      return queue::HandlerResult{Kind::kRetry, "events: " + httplib::to_string(res.error())};
    }
    if (res->status >= 200 && res->status < 300) return queue::HandlerResult{};
    return queue::HandlerResult{Kind::kRetry, "events: HTTP " + std::to_string(res->status),
                                sms::RetryAfterMs(*res)};
  });
}

}  // namespace regd::events
