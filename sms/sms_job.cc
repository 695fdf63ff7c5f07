#include "sms/sms_job.h"

#include <sodium.h>
#include <chrono>

#include <nlohmann/json.hpp>
#include <thread>

#include "sms/http_provider_util.h"
#include "sms/mobile_mask.h"

namespace regd::sms {

namespace {

constexpr int kB64 = sodium_base64_VARIANT_ORIGINAL;

bool Unbase64(const std::string& text, std::string* out) {
  out->assign(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out->data()), out->size(), text.c_str(),
                        text.size(), nullptr, &len, nullptr, kB64) != 0) {
    return false;
  }
  out->resize(len);
  return true;
}

}  // namespace

std::string EncodeSmsJob(const SmsJob& job, const storage::ServerSecret* secret) {
  nlohmann::json j = {
      {"mobile", job.mobile}, {"purpose", job.purpose}, {"expires_at_ms", job.expires_at_ms}};
  if (secret != nullptr) {
    j["sealed_code"] = Base64(secret->Seal(job.code));
  } else {
    j["code"] = job.code;
  }
  return j.dump();
}

namespace {

// The fields every payload has: mobile, expires_at_ms and purpose (optional:
// "register" when absent). The code is left to DecodeSmsJob.
Result<SmsJob> DecodeSmsFields(const nlohmann::json& j) {
  if (j.is_discarded() || !j.is_object() || !j.contains("mobile") || !j["mobile"].is_string() ||
      !j.contains("expires_at_ms") || !j["expires_at_ms"].is_number_integer() ||
      (j.contains("purpose") && !j["purpose"].is_string())) {
    return Status::Invalid("malformed sms job payload");
  }
  SmsJob job{j["mobile"].get<std::string>(), "", j["expires_at_ms"].get<int64_t>()};
  if (j.contains("purpose")) job.purpose = j["purpose"].get<std::string>();
  return job;
}

}  // namespace

Result<SmsJob> DecodeSmsJob(std::string_view payload, const storage::ServerSecret* secret) {
  const Status kMalformed = Status::Invalid("malformed sms job payload");
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  auto fields = DecodeSmsFields(j);
  if (!fields.ok()) return fields.status();
  SmsJob job = std::move(fields).value();
  if (j.contains("code") && j["code"].is_string()) {
    job.code = j["code"].get<std::string>();
  } else if (j.contains("sealed_code") && j["sealed_code"].is_string()) {
    std::string sealed;
    if (!Unbase64(j["sealed_code"].get<std::string>(), &sealed)) return kMalformed;
    if (secret == nullptr) return Status::Invalid("sealed sms code and no server secret");
    auto code = secret->Open(sealed);
    if (!code.ok()) return code.status();
    job.code = std::move(code).value();
  } else {
    return kMalformed;
  }
  return job;
}

Result<SmsJobSummary> SummarizeSmsJob(std::string_view payload) {
  auto fields = DecodeSmsFields(nlohmann::json::parse(payload, nullptr, false));
  if (!fields.ok()) return fields.status();
  return SmsJobSummary{MaskMobile(fields->mobile), fields->purpose};
}

std::string SmsDedupKey(std::string_view mobile) { return "sms:" + std::string(mobile); }

namespace {

// The longest a consumer sleeps for its send slot under --sms-rate.
constexpr int64_t kMaxRateWaitMs = 1000;

int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

queue::JobHandler MakeSmsJobHandler(SmsProvider* provider, const Clock* clock,
                                    queue::TokenBucket* limiter,
                                    const storage::ServerSecret* secret) {
  return [provider, clock, limiter, secret](const queue::Job& job) -> queue::HandlerResult {
    auto sms = DecodeSmsJob(job.payload, secret);
    if (!sms.ok()) return {queue::HandlerResult::Kind::kPermanent, sms.status().message()};
    int64_t left_ms = sms->expires_at_ms - clock->NowMs();
    if (left_ms <= 0)
      return {queue::HandlerResult::Kind::kExpired, "code expired before it was sent"};
    if (limiter != nullptr) {
      // The slot is reserved before the wait, so every consumer thread
      // waiting here holds a different one and together they keep the rate.
      // Further than kMaxRateWaitMs ahead: put the job off rather than hold
      // a consumer asleep.
      queue::TokenBucket::Reservation slot = limiter->Reserve(SteadyMs(), kMaxRateWaitMs);
      if (!slot.reserved) {
        return {queue::HandlerResult::Kind::kDeferred, "over the send rate", slot.wait_ms};
      }
      if (slot.wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(slot.wait_ms));
    }
    SmsMessage msg{sms->mobile, sms->code};  // ttl_minutes: the code's lifetime, 5
    msg.purpose = sms->purpose;
    SendOutcome out = provider->Send(msg);
    switch (out.kind) {
      case SendOutcome::Kind::kSent:
        return {};
      case SendOutcome::Kind::kPermanent:
        return {queue::HandlerResult::Kind::kPermanent, out.error};
      case SendOutcome::Kind::kRetry:
      default:
        return {queue::HandlerResult::Kind::kRetry, out.error, out.retry_after_ms};
    }
  };
}

}  // namespace regd::sms
