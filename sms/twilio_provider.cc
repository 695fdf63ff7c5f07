#include "sms/twilio_provider.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "sms/http_provider_util.h"

namespace regd::sms {
namespace {

bool IsAlnum(const std::string& s) {
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return !s.empty();
}

// Twilio's error document, "error <code>: <message>"; empty when the body is
// not one.
std::string TwilioErrorText(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return "";
  std::string text;
  auto code = j.find("code");
  if (code != j.end() && code->is_number_integer()) {
    text = "error " + std::to_string(code->get<int64_t>());
  }
  auto message = j.find("message");
  if (message != j.end() && message->is_string()) {
    if (!text.empty()) text += ": ";
    text += message->get<std::string>();
  }
  return text;
}

class TwilioSmsProvider : public SmsProvider {
 public:
  TwilioSmsProvider(const SmsProviderConfig& c, std::string origin, std::string prefix)
      : config_(c),
        origin_(std::move(origin)),
        path_(prefix + "/2010-04-01/Accounts/" + c.twilio_account_sid + "/Messages.json") {}

  SendOutcome Send(const SmsMessage& msg) override {
    const std::string to = TwilioRecipient(msg.mobile);
    std::vector<std::pair<std::string, std::string>> fields = {{"To", to}};
    if (!config_.twilio_from.empty()) fields.emplace_back("From", config_.twilio_from);
    if (!config_.twilio_messaging_service_sid.empty()) {
      fields.emplace_back("MessagingServiceSid", config_.twilio_messaging_service_sid);
    }
    fields.emplace_back(
        "Body", RenderSmsTemplate(SmsTemplateFor(config_, msg.purpose), msg, config_.site_name));

    // One client per send: httplib::Client is not safe to share between threads.
    httplib::Client cli(origin_);
    ConfigureClient(config_, &cli);
    httplib::Headers headers = {{"Accept", "application/json"},
                                httplib::make_basic_authentication_header(
                                    config_.twilio_account_sid, config_.twilio_auth_token)};
    auto res = cli.Post(path_, headers, FormUrlEncode(fields), "application/x-www-form-urlencoded");
    if (!res) return TransportFailure("twilio", res.error());
    SendOutcome out = OutcomeFromHttpStatus("twilio", *res);
    if (out.kind == SendOutcome::Kind::kSent) return out;
    std::string detail = TwilioErrorText(res->body);
    if (!detail.empty()) {
      // `to` contains msg.mobile, so masking the mobile masks both forms.
      out.error += ": " + ScrubProviderText(detail, {config_.twilio_auth_token}, {msg.mobile});
    }
    return out;
  }
  const char* name() const override { return "twilio"; }

 private:
  const SmsProviderConfig config_;
  const std::string origin_;
  const std::string path_;
};

}  // namespace

std::string TwilioRecipient(const std::string& mobile) {
  if (mobile.size() == 11 && mobile[0] == '1' &&
      mobile.find_first_not_of("0123456789") == std::string::npos) {
    return "+86" + mobile;
  }
  return mobile;
}

std::string RenderSmsTemplate(const std::string& tmpl, const SmsMessage& msg,
                              const std::string& site) {
  static const std::string kCode = "{code}";
  static const std::string kMinutes = "{minutes}";
  static const std::string kSite = "{site}";
  std::string out;
  out.reserve(tmpl.size() + 16);
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl.compare(i, kCode.size(), kCode) == 0) {
      out += msg.code;
      i += kCode.size();
    } else if (tmpl.compare(i, kMinutes.size(), kMinutes) == 0) {
      out += std::to_string(msg.ttl_minutes);
      i += kMinutes.size();
    } else if (tmpl.compare(i, kSite.size(), kSite) == 0) {
      out += site;
      i += kSite.size();
    } else {
      out.push_back(tmpl[i++]);
    }
  }
  return out;
}

Result<std::unique_ptr<SmsProvider>> MakeTwilioProvider(const SmsProviderConfig& config) {
  if (config.twilio_account_sid.empty()) {
    return Status::Invalid("--twilio-account-sid is required for the twilio provider");
  }
  if (!IsAlnum(config.twilio_account_sid)) {
    return Status::Invalid("--twilio-account-sid must contain only letters and digits");
  }
  if (config.twilio_auth_token.empty()) {
    return Status::Invalid("--twilio-auth-token is required for the twilio provider");
  }
  if (config.twilio_from.empty() && config.twilio_messaging_service_sid.empty()) {
    return Status::Invalid(
        "--twilio-from or --twilio-messaging-service-sid is required for the twilio provider");
  }
  const std::pair<const char*, const std::string*> code_templates[] = {
      {"--sms-template", &config.sms_template},
      {"--sms-template-login", &config.sms_template_login},
      {"--sms-template-reset", &config.sms_template_reset},
      {"--sms-template-change-mobile", &config.sms_template_change_mobile},
  };
  for (size_t i = 0; i < std::size(code_templates); ++i) {
    const auto& [flag, text] = code_templates[i];
    if (i > 0 && text->empty()) continue;  // the purpose uses --sms-template
    if (text->find("{code}") == std::string::npos) {
      return Status::Invalid(std::string(flag) + " must contain {code}");
    }
  }
  if (config.sms_template_mobile_changed.empty()) {
    return Status::Invalid("--sms-template-mobile-changed must not be empty");
  }
  std::string base =
      config.twilio_base_url.empty() ? "https://api.twilio.com" : config.twilio_base_url;
  std::string origin, prefix;
  if (!SplitBaseUrl(base, &origin, &prefix)) {
    return Status::Invalid("--twilio-base-url must be an http:// or https:// URL without a query");
  }
  return std::unique_ptr<SmsProvider>(new TwilioSmsProvider(config, origin, prefix));
}

}  // namespace regd::sms
