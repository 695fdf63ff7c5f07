#include "sms/ccp_provider.h"

#include <httplib.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

#include "sms/http_provider_util.h"

namespace regd::sms {
namespace {

constexpr int64_t kBeijingOffsetS = 8 * 3600;
constexpr char kDefaultBaseUrl[] = "https://app.cloopen.com:8883";

bool IsAlnum(const std::string& s) {
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return !s.empty();
}

// statusCode and statusMsg of a CCP reply; has_code is false when the body is
// not a JSON object with a string statusCode.
struct CcpReply {
  bool has_code = false;
  std::string code;
  std::string msg;
};

CcpReply ParseReply(const std::string& body) {
  CcpReply reply;
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return reply;
  auto code = j.find("statusCode");
  if (code != j.end() && code->is_string()) {
    reply.has_code = true;
    reply.code = code->get<std::string>();
  }
  auto msg = j.find("statusMsg");
  if (msg != j.end() && msg->is_string()) reply.msg = msg->get<std::string>();
  return reply;
}

class CcpSmsProvider : public SmsProvider {
 public:
  CcpSmsProvider(const SmsProviderConfig& c, const Clock* clock, std::string origin,
                 std::string prefix)
      : config_(c),
        clock_(clock),
        origin_(std::move(origin)),
        path_(prefix + "/2013-12-26/Accounts/" + c.ccp_account_sid + "/SMS/TemplateSMS") {}

  SendOutcome Send(const SmsMessage& msg) override {
    const std::string& template_id = CcpTemplateIdFor(config_, msg.purpose);
    if (template_id.empty()) {  // only a notice has no default template
      return {SendOutcome::Kind::kPermanent,
              "ccp: no --ccp-template-id-mobile-changed; the notice is kept undelivered", -1};
    }
    const std::string ts = CcpTimestamp(clock_->NowMs());
    const std::string sig = Md5HexUpper(config_.ccp_account_sid + config_.ccp_auth_token + ts);
    if (sig.empty()) return {SendOutcome::Kind::kRetry, "ccp: MD5 is not available", -1};
    httplib::Headers headers = {{"Accept", "application/json"},
                                {"Authorization", Base64(config_.ccp_account_sid + ":" + ts)}};
    // ordered_json keeps the documented field order.
    nlohmann::ordered_json body;
    body["to"] = msg.mobile;
    body["appId"] = config_.ccp_app_id;
    body["templateId"] = template_id;
    if (!IsNoticePurpose(msg.purpose)) {  // a notice template has no fields
      body["datas"] = nlohmann::ordered_json::array({msg.code, std::to_string(msg.ttl_minutes)});
    }

    // One client per send: httplib::Client is not safe to share between threads.
    httplib::Client cli(origin_);
    ConfigureClient(config_, &cli);
    auto res =
        cli.Post(path_ + "?sig=" + sig, headers, body.dump(), "application/json;charset=utf-8");
    if (!res) return TransportFailure("ccp", res.error());

    CcpReply reply = ParseReply(res->body);
    SendOutcome out = OutcomeFromHttpStatus("ccp", *res);
    if (out.kind == SendOutcome::Kind::kSent) {
      if (!reply.has_code) {
        return {SendOutcome::Kind::kRetry,
                "ccp: HTTP " + std::to_string(res->status) + " without a statusCode", -1};
      }
      out.kind = ClassifyCcpStatusCode(reply.code);
      if (out.kind == SendOutcome::Kind::kSent) return out;
      out.error = "ccp: statusCode " + Scrub(reply.code, msg);
    } else if (reply.has_code) {
      out.error += ": statusCode " + Scrub(reply.code, msg);
    }
    if (!reply.msg.empty()) out.error += ": " + Scrub(reply.msg, msg);
    return out;
  }
  const char* name() const override { return "ccp"; }

 private:
  std::string Scrub(const std::string& text, const SmsMessage& msg) const {
    return ScrubProviderText(text, {config_.ccp_auth_token}, {msg.mobile});
  }

  const SmsProviderConfig config_;
  const Clock* const clock_;
  const std::string origin_;
  const std::string path_;  // without the ?sig= query, which changes per request
};

}  // namespace

std::string CcpTimestamp(int64_t unix_ms) {
  int64_t secs = unix_ms / 1000;
  if (unix_ms % 1000 < 0) --secs;  // floor for times before 1970
  time_t beijing = static_cast<time_t>(secs + kBeijingOffsetS);
  std::tm tm{};
  gmtime_r(&beijing, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &tm);
  return std::string(buf, n);
}

SendOutcome::Kind ClassifyCcpStatusCode(const std::string& status_code) {
  if (status_code == "000000") return SendOutcome::Kind::kSent;
  return SendOutcome::Kind::kPermanent;
}

Result<std::unique_ptr<SmsProvider>> MakeCcpProvider(const SmsProviderConfig& config,
                                                     const Clock* clock) {
  if (config.ccp_account_sid.empty()) {
    return Status::Invalid("--ccp-account-sid is required for the ccp provider");
  }
  if (!IsAlnum(config.ccp_account_sid)) {
    return Status::Invalid("--ccp-account-sid must contain only letters and digits");
  }
  if (config.ccp_auth_token.empty()) {
    return Status::Invalid("--ccp-auth-token is required for the ccp provider");
  }
  if (config.ccp_app_id.empty()) {
    return Status::Invalid("--ccp-app-id is required for the ccp provider");
  }
  if (config.ccp_template_id.empty()) {
    return Status::Invalid("--ccp-template-id is required for the ccp provider");
  }
  std::string base = config.ccp_base_url.empty() ? kDefaultBaseUrl : config.ccp_base_url;
  std::string origin, prefix;
  if (!SplitBaseUrl(base, &origin, &prefix)) {
    return Status::Invalid("--ccp-base-url must be an http:// or https:// URL without a query");
  }
  if (clock == nullptr) return Status::Internal("ccp provider needs a clock");
  return std::unique_ptr<SmsProvider>(new CcpSmsProvider(config, clock, origin, prefix));
}

}  // namespace regd::sms
