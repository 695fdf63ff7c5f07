// SmsProvider: the network edge where regd hands an SMS to the outside world.
// Abstract so tests can point a real provider at a loopback fake server and so
// a shop can pick its provider with --sms-provider.
//
// Send() classifies the outcome the way the queue needs it:
//   kSent       the provider accepted the message (the job is acked)
//   kRetry      a transient failure: 5xx, 408, 429, timeout, refused or
//               dropped connection (the job is retried later; a 429's
//               Retry-After is passed back in retry_after_ms)
//   kPermanent  the provider rejected the request (other 4xx): retrying will
//               not help (the job goes to the dead letters)
//
// Thread-safety: Send may be called from several consumer threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/status.h"

namespace regd::queue {

struct SmsMessage {
  std::string mobile;
  std::string code;
  int ttl_minutes = 5;
};

struct SendOutcome {
  enum class Kind { kSent, kRetry, kPermanent };
  Kind kind = Kind::kSent;
  std::string error;            // for logs and dead letters; empty when sent
  int64_t retry_after_ms = -1;  // >= 0 when the provider said when to retry
};

class SmsProvider {
 public:
  virtual ~SmsProvider() = default;
  virtual SendOutcome Send(const SmsMessage& msg) = 0;
  virtual const char* name() const = 0;
};

struct SmsProviderConfig {
  std::string name = "console";  // console | webhook
  std::string webhook_url;       // webhook: http(s)://host[:port]/path
  int connect_timeout_ms = 3000;
  int read_timeout_ms = 10000;
};

// Builds the provider named in config; kInvalid for an unknown name or a
// missing/malformed setting.
Result<std::unique_ptr<SmsProvider>> MakeSmsProvider(const SmsProviderConfig& config);

// Classifies an HTTP status from a provider (see the table above).
SendOutcome::Kind ClassifyHttpStatus(int status);

}  // namespace regd::queue
