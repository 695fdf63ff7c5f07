#include "queue/sms_provider.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "storage/log.h"

namespace regd::queue {
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

// Splits "http(s)://host[:port]/path?query" into "scheme://host[:port]" and
// "/path?query". False when the URL is not http or https.
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  size_t slash = url.find('/', scheme_end + 3);
  *origin = url.substr(0, slash);
  *path = slash == std::string::npos ? "/" : url.substr(slash);
  return origin->size() > scheme_end + 3;
}

// webhook: POST {"mobile","code","ttl_minutes"} as JSON; see the header for
// how the reply is classified.
class WebhookSmsProvider : public SmsProvider {
 public:
  WebhookSmsProvider(std::string origin, std::string path, const SmsProviderConfig& c)
      : origin_(std::move(origin)), path_(std::move(path)), config_(c) {}

  SendOutcome Send(const SmsMessage& msg) override {
    // One client per send: httplib::Client is not safe to share between threads.
    httplib::Client cli(origin_);
    cli.set_connection_timeout(std::chrono::milliseconds(config_.connect_timeout_ms));
    cli.set_read_timeout(std::chrono::milliseconds(config_.read_timeout_ms));
    cli.set_write_timeout(std::chrono::milliseconds(config_.read_timeout_ms));
    nlohmann::json body = {
        {"mobile", msg.mobile}, {"code", msg.code}, {"ttl_minutes", msg.ttl_minutes}};
    auto res = cli.Post(path_, body.dump(), "application/json");
    if (!res) {
      return {SendOutcome::Kind::kRetry, "webhook: " + httplib::to_string(res.error()), -1};
    }
    SendOutcome out;
    out.kind = ClassifyHttpStatus(res->status);
    if (out.kind != SendOutcome::Kind::kSent) {
      out.error = "webhook: HTTP " + std::to_string(res->status);
      if (res->status == 429 && res->has_header("Retry-After")) {
        char* end = nullptr;
        std::string ra = res->get_header_value("Retry-After");
        long secs = std::strtol(ra.c_str(), &end, 10);
        if (end != ra.c_str() && secs >= 0 && secs < 86400) out.retry_after_ms = secs * 1000;
      }
    }
    return out;
  }
  const char* name() const override { return "webhook"; }

 private:
  const std::string origin_;
  const std::string path_;
  const SmsProviderConfig config_;
};

}  // namespace

SendOutcome::Kind ClassifyHttpStatus(int status) {
  if (status >= 200 && status < 300) return SendOutcome::Kind::kSent;
  if (status == 408 || status == 429 || status >= 500) return SendOutcome::Kind::kRetry;
  if (status >= 400) return SendOutcome::Kind::kPermanent;
  return SendOutcome::Kind::kRetry;  // 1xx/3xx: not an answer we understand; try again
}

Result<std::unique_ptr<SmsProvider>> MakeSmsProvider(const SmsProviderConfig& config) {
  if (config.name == "console") return std::unique_ptr<SmsProvider>(new ConsoleSmsProvider());
  if (config.name == "webhook") {
    std::string origin, path;
    if (!SplitUrl(config.webhook_url, &origin, &path)) {
      return Status::Invalid("--sms-webhook-url must be an http:// or https:// URL");
    }
    return std::unique_ptr<SmsProvider>(new WebhookSmsProvider(origin, path, config));
  }
  if (config.name == "twilio" || config.name == "ccp") {
    return Status::Invalid("the " + config.name +
                           " SMS provider is not available in this version; use webhook");
  }
  return Status::Invalid("unknown SMS provider '" + config.name +
                         "' (expected console or webhook)");
}

}  // namespace regd::queue
