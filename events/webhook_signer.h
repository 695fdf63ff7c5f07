// WebhookSecret: the key that signs account events as the Standard Webhooks
// specification writes it (standardwebhooks.com): a secret "whsec_<base64>",
// whose decoded bytes are the HMAC-SHA256 key, and a signature over
// "<webhook-id>.<webhook-timestamp>.<body>" sent as "v1,<base64 HMAC>" in
// the webhook-signature header. Any receiver library of the spec (svix,
// standardwebhooks) verifies what Sign makes.
//
// The secret lives in --events-secret or, unset, in <data-dir>/events.secret
// (one line, mode 0600, made at first use): LoadOrCreate owns that file.
//
// Thread-safety: immutable after construction; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "storage/status.h"

namespace regd::events {

class WebhookSecret {
 public:
  static constexpr const char* kFileName = "events.secret";
  static constexpr const char* kPrefix = "whsec_";

  // "whsec_<base64 of 24..64 bytes>" (the prefix may be left out, as the
  // spec's libraries allow). kInvalid naming --events-secret otherwise.
  static Result<WebhookSecret> Parse(std::string_view text);
  // dir/events.secret, created with 32 random bytes when it does not exist.
  static Result<WebhookSecret> LoadOrCreate(const std::string& dir);

  // "v1,<base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))>".
  std::string Sign(std::string_view webhook_id, int64_t timestamp_s, std::string_view body) const;
  // The secret as the spec writes it, "whsec_<base64>".
  std::string Text() const;

 private:
  explicit WebhookSecret(std::string key) : key_(std::move(key)) {}
  std::string key_;  // raw bytes
};

}  // namespace regd::events
