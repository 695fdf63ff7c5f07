#include "sms/sms_provider.h"

#include "sms/ccp_provider.h"
#include "sms/twilio_provider.h"
#include "sms/webhook_provider.h"
#include "storage/log.h"

namespace regd::sms {
namespace {

// console: the seed's development mode, without pretending an SMS was sent.
class ConsoleSmsProvider : public SmsProvider {
 public:
  SendOutcome Send(const SmsMessage& msg) override {
    LogInfo("SMS to %s: %s", msg.mobile.c_str(), msg.code.c_str());
    return {};
  }
  const char* name() const override { return "console"; }
};

}  // namespace

SendOutcome::Kind ClassifyHttpStatus(int status) {
  if (status >= 200 && status < 300) return SendOutcome::Kind::kSent;
  if (status == 408 || status == 429 || status >= 500) return SendOutcome::Kind::kRetry;
  if (status >= 400) return SendOutcome::Kind::kPermanent;
  return SendOutcome::Kind::kRetry;  // 1xx/3xx: not an answer we understand; try again
}

Result<std::unique_ptr<SmsProvider>> MakeSmsProvider(const SmsProviderConfig& config,
                                                     const Clock* clock) {
  if (config.name == "console") return std::unique_ptr<SmsProvider>(new ConsoleSmsProvider());
  if (config.name == "webhook") return MakeWebhookProvider(config);
  if (config.name == "twilio") return MakeTwilioProvider(config);
  if (config.name == "ccp") {
    return MakeCcpProvider(config, clock != nullptr ? clock : SystemClock::Get());
  }
  return Status::Invalid("unknown SMS provider '" + config.name +
                         "' (expected console, webhook, twilio or ccp)");
}

}  // namespace regd::sms
