#include "sms/webhook_provider.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "sms/http_provider_util.h"

namespace regd::sms {
namespace {

class WebhookSmsProvider : public SmsProvider {
 public:
  WebhookSmsProvider(std::string origin, std::string path, const SmsProviderConfig& c)
      : origin_(std::move(origin)), path_(std::move(path)), config_(c) {}

  SendOutcome Send(const SmsMessage& msg) override {
    // One client per send: httplib::Client is not safe to share between threads.
    httplib::Client cli(origin_);
    ConfigureClient(config_, &cli);
    nlohmann::json body = {{"mobile", msg.mobile},
                           {"code", msg.code},
                           {"ttl_minutes", msg.ttl_minutes},
                           {"purpose", msg.purpose}};
    auto res = cli.Post(path_, body.dump(), "application/json");
    if (!res) return TransportFailure("webhook", res.error());
    return OutcomeFromHttpStatus("webhook", *res);
  }
  const char* name() const override { return "webhook"; }

 private:
  const std::string origin_;
  const std::string path_;
  const SmsProviderConfig config_;
};

}  // namespace

Result<std::unique_ptr<SmsProvider>> MakeWebhookProvider(const SmsProviderConfig& config) {
  std::string origin, path;
  if (!SplitUrl(config.webhook_url, &origin, &path)) {
    return Status::Invalid("--sms-webhook-url must be an http:// or https:// URL");
  }
  return std::unique_ptr<SmsProvider>(new WebhookSmsProvider(origin, path, config));
}

}  // namespace regd::sms
