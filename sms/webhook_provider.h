// The webhook SMS provider: regd POSTs each SMS as JSON to a URL the shop
// runs, which forwards it to whatever gateway it likes.
//
// Request: POST {--sms-webhook-url}, Content-Type application/json, body
//   {"mobile": "13812345678", "code": "123456", "ttl_minutes": 5, "purpose": "login"}
// purpose is one of the kSmsPurpose* names (sms_provider.h); for the notice
// "mobile_changed" the code is "" and the shop's gateway sends its own text.
// Reply: any 2xx is kSent; 5xx, 408, 429 (with its Retry-After), timeouts and
// refused or dropped connections are kRetry; other 4xx are kPermanent
// (ClassifyHttpStatus).
//
// Thread-safety: Send may be called from several threads at once; each call
// uses its own httplib::Client.
#pragma once

#include <memory>

#include "sms/sms_provider.h"
#include "storage/status.h"

namespace regd::sms {

// kInvalid when config.webhook_url is not an http:// or https:// URL.
Result<std::unique_ptr<SmsProvider>> MakeWebhookProvider(const SmsProviderConfig& config);

}  // namespace regd::sms
