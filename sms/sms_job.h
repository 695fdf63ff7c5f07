// SMS jobs: the one job type regd ships with. The payload is JSON
// {"mobile","purpose","sealed_code","expires_at_ms"}: the code sealed with
// the server secret (base64), so the queue on disk, `regd queue list` and
// backups never show a live code. ({"code": plain} is read too: jobs queued
// by older versions, and tests without a secret.) purpose says what the SMS
// is for (kSmsPurpose* in sms_provider.h; a notice has an empty code);
// payloads written before it existed have none and read as "register". This file is the only reader
// of the format: `regd queue list` shows SummarizeSmsJob (the mobile masked,
// the purpose), never the code. The handler sends it through the
// configured SmsProvider and never sends a code that has already expired
// (an SMS with a dead code costs money and confuses the customer).
//
// Thread-safety: the handler is safe to run on several consumer threads.
#pragma once

#include <string>

#include "queue/consumer_pool.h"
#include "queue/token_bucket.h"
#include "sms/sms_provider.h"
#include "storage/clock.h"
#include "storage/server_secret.h"

namespace regd::sms {

inline constexpr const char* kSmsJobType = "sms";

struct SmsJob {
  std::string mobile;
  std::string code;
  int64_t expires_at_ms = 0;
  std::string purpose = kSmsPurposeRegister;
};

// What an operator may see of an SMS job: never the code.
struct SmsJobSummary {
  std::string masked_mobile;  // MaskMobile (mobile_mask.h): 150****3112
  std::string purpose;
};

// With a secret the code is sealed; without one it is written plain.
std::string EncodeSmsJob(const SmsJob& job, const storage::ServerSecret* secret = nullptr);
// kInvalid on a malformed payload or a sealed code this secret cannot open.
Result<SmsJob> DecodeSmsJob(std::string_view payload,
                            const storage::ServerSecret* secret = nullptr);
// The payload's mobile (masked) and purpose; needs no secret and does not
// open the code. kInvalid on a malformed payload.
Result<SmsJobSummary> SummarizeSmsJob(std::string_view payload);

// The handler for kSmsJobType. provider, clock and limiter (optional: the
// provider's send rate) must outlive it. Over the rate, the handler reserves
// a token up to 1 s ahead and sleeps until it (TokenBucket::Reserve), so any
// number of consumers together keep to the rate; longer waits put the job
// off without costing an attempt.
// secret (optional) opens sealed codes.
queue::JobHandler MakeSmsJobHandler(SmsProvider* provider, const Clock* clock,
                                    queue::TokenBucket* limiter = nullptr,
                                    const storage::ServerSecret* secret = nullptr);

// The dedup key of a mobile's SMS job: a newer code replaces a waiting one,
// so a customer never receives a code that was already superseded.
std::string SmsDedupKey(std::string_view mobile);

}  // namespace regd::sms
