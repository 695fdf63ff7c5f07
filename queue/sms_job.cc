#include "queue/sms_job.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace regd::queue {

std::string EncodeSmsJob(const SmsJob& job) {
  nlohmann::json j = {
      {"mobile", job.mobile}, {"code", job.code}, {"expires_at_ms", job.expires_at_ms}};
  return j.dump();
}

Result<SmsJob> DecodeSmsJob(std::string_view payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("mobile") || !j["mobile"].is_string() ||
      !j.contains("code") || !j["code"].is_string() || !j.contains("expires_at_ms") ||
      !j["expires_at_ms"].is_number_integer()) {
    return Status::Invalid("malformed sms job payload");
  }
  return SmsJob{j["mobile"].get<std::string>(), j["code"].get<std::string>(),
                j["expires_at_ms"].get<int64_t>()};
}

std::string SmsDedupKey(std::string_view mobile) { return "sms:" + std::string(mobile); }

namespace {

int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

JobHandler MakeSmsJobHandler(SmsProvider* provider, const Clock* clock, TokenBucket* limiter) {
  return [provider, clock, limiter](const Job& job) -> HandlerResult {
    auto sms = DecodeSmsJob(job.payload);
    if (!sms.ok()) return {HandlerResult::Kind::kPermanent, sms.status().message()};
    int64_t left_ms = sms->expires_at_ms - clock->NowMs();
    if (left_ms <= 0) return {HandlerResult::Kind::kExpired, "code expired before it was sent"};
    while (limiter != nullptr) {
      int64_t wait_ms = limiter->TryTake(SteadyMs());
      if (wait_ms == 0) break;
      if (wait_ms > 1000) return {HandlerResult::Kind::kDeferred, "over the send rate", wait_ms};
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
    SmsMessage msg{sms->mobile, sms->code};  // ttl_minutes: the code's lifetime, 5
    SendOutcome out = provider->Send(msg);
    switch (out.kind) {
      case SendOutcome::Kind::kSent:
        return {};
      case SendOutcome::Kind::kPermanent:
        return {HandlerResult::Kind::kPermanent, out.error};
      case SendOutcome::Kind::kRetry:
      default:
        return {HandlerResult::Kind::kRetry, out.error, out.retry_after_ms};
    }
  };
}

}  // namespace regd::queue
