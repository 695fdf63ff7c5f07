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
    if (IsNoticePurpose(msg.purpose)) {
      LogInfo("SMS to %s: notice (%s)", msg.mobile.c_str(), msg.purpose.c_str());
    } else {
      LogInfo("SMS to %s: %s (%s)", msg.mobile.c_str(), msg.code.c_str(), msg.purpose.c_str());
    }
    return {};
  }
  const char* name() const override { return "console"; }
};

}  // namespace

bool IsNoticePurpose(std::string_view purpose) { return purpose == kSmsPurposeMobileChanged; }

namespace {

// per if purpose names it and per is set, else fallback.
const std::string& Pick(std::string_view purpose, const std::string& fallback,
                        const std::string& login, const std::string& reset,
                        const std::string& change_mobile) {
  const std::string* per = nullptr;
  if (purpose == kSmsPurposeLogin) per = &login;
  if (purpose == kSmsPurposeReset) per = &reset;
  if (purpose == kSmsPurposeChangeMobile) per = &change_mobile;
  return per != nullptr && !per->empty() ? *per : fallback;
}

}  // namespace

const std::string& SmsTemplateFor(const SmsProviderConfig& c, std::string_view purpose) {
  if (IsNoticePurpose(purpose)) return c.sms_template_mobile_changed;
  return Pick(purpose, c.sms_template, c.sms_template_login, c.sms_template_reset,
              c.sms_template_change_mobile);
}

const std::string& CcpTemplateIdFor(const SmsProviderConfig& c, std::string_view purpose) {
  if (IsNoticePurpose(purpose)) return c.ccp_template_id_mobile_changed;
  return Pick(purpose, c.ccp_template_id, c.ccp_template_id_login, c.ccp_template_id_reset,
              c.ccp_template_id_change_mobile);
}

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
