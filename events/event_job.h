// The account event job: one event of the outbox (storage/user_store's
// events table) on its way to the shop's receiver (--events-url), as the
// queue's second job type next to "sms".
//
// Payload (this file owns its format): "<webhook-id>\n<body>", where the
// webhook-id is "evt_<event id>" (stable across retries and relays, so a
// receiver can drop a repeat) and the body is the JSON the receiver gets:
//   {"type":"user.registered","timestamp":"2026-12-07T16:00:00Z",
//    "data":{"user_id":7,"username":"alice","mobile":"13800138000"}}
//
// The handler POSTs the body with the Standard Webhooks headers
// webhook-id, webhook-timestamp (seconds, at each attempt) and
// webhook-signature (webhook_signer.h). A 2xx answer is delivered; any other
// answer or no answer is retried with the queue's backoff (a Retry-After in
// seconds is honoured), up to the event retry policy's attempts, then the
// job is a dead letter (`regd queue list dead`, `regd queue retry`).
//
// Thread-safety: the handler may run on many consumer threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/webhook_signer.h"
#include "queue/consumer_pool.h"
#include "storage/clock.h"
#include "storage/status.h"
#include "storage/user_store.h"

namespace regd::events {

inline constexpr const char* kEventJobType = "event";

// Receivers are often down for a deploy: events keep trying for hours
// (5 s doubling to 1 h, 16 attempts: about 10 h), unlike a code's SMS.
queue::RetryPolicy EventRetryPolicy();

struct EventJob {
  std::string webhook_id;  // "evt_<id>"
  std::string body;        // the JSON above
};

EventJob MakeEventJob(const storage::StoredEvent& event);
std::string EncodeEventJob(const EventJob& job);
// kInvalid if payload has no '\n' or an empty webhook-id.
Result<EventJob> DecodeEventJob(std::string_view payload);

// What an operator may see of an event job (`regd queue list`): its type
// and the account's mobile, masked. kInvalid on a malformed payload.
struct EventJobSummary {
  std::string type;           // "user.registered"
  std::string masked_mobile;  // 138****8000
};
Result<EventJobSummary> SummarizeEventJob(std::string_view payload);

struct EventSinkConfig {
  std::string url;  // http(s)://host[:port]/path
  int connect_timeout_ms = 3000;
  int read_timeout_ms = 10000;
};

// kInvalid (naming --events-url) for a URL that is not http(s).
Result<queue::JobHandler> MakeEventJobHandler(const EventSinkConfig& sink,
                                              const WebhookSecret& secret, const Clock* clock);

}  // namespace regd::events
