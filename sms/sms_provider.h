// SmsProvider: the network edge where regd hands an SMS to the outside world.
// Abstract so tests can point a real provider at a loopback fake server and so
// a shop can pick its provider with --sms-provider. MakeSmsProvider is the one
// factory; the implementations live in their own file pairs:
//   console  (here)                   logs the code; development only
//   webhook  queue/webhook_provider.h POST JSON to a URL the shop runs
//   twilio   queue/twilio_provider.h  Twilio Programmable Messaging
//   ccp      queue/ccp_provider.h     Ronglian Cloud (cloopen) TemplateSMS
//
// Send() classifies the outcome the way the queue needs it:
//   kSent       the provider accepted the message (the job is acked)
//   kRetry      a transient failure: 5xx, 408, 429, timeout, refused or
//               dropped connection (the job is retried later; the
//               Retry-After of a 429 or 5xx, in seconds, is passed back in
//               retry_after_ms)
//   kPermanent  the provider rejected the request (other 4xx, or a provider
//               error code in a 2xx reply, see ccp_provider.h): retrying will
//               not help (the job goes to the dead letters)
//
// Error texts never contain a secret (auth tokens, signatures) and show the
// mobile masked (138****5678) wherever a provider echoes it.
//
// Thread-safety: Send may be called from several consumer threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/clock.h"
#include "storage/status.h"

namespace regd::sms {

// What an SMS is for. The first four carry a code; the last is a notice
// with none (the account's mobile was changed away from this one).
inline constexpr const char* kSmsPurposeRegister = "register";  // GET /sms_codes/ default
inline constexpr const char* kSmsPurposeLogin = "login";
inline constexpr const char* kSmsPurposeReset = "reset";
inline constexpr const char* kSmsPurposeChangeMobile = "change_mobile";
inline constexpr const char* kSmsPurposeMobileChanged = "mobile_changed";

// True for a purpose whose SMS carries no code (kSmsPurposeMobileChanged).
bool IsNoticePurpose(std::string_view purpose);

struct SmsMessage {
  std::string mobile;
  std::string code;  // empty for a notice
  int ttl_minutes = 5;
  std::string purpose = kSmsPurposeRegister;
};

struct SendOutcome {
  enum class Kind { kSent, kRetry, kPermanent };
  Kind kind = Kind::kSent;
  std::string error;            // for logs and dead letters; empty when sent
  int64_t retry_after_ms = -1;  // >= 0 when the provider said when to retry
};

class SmsProvider {
 public:
  virtual ~SmsProvider() = default;
  virtual SendOutcome Send(const SmsMessage& msg) = 0;
  virtual const char* name() const = 0;
};

// What MakeSmsProvider needs; each field is named after its flag
// (--sms-provider, --sms-webhook-url, --twilio-account-sid, ...). Only the
// chosen provider's fields are read. Secrets (the auth tokens) are kept only
// in the provider and never appear in a Status or a log line.
struct SmsProviderConfig {
  std::string name = "console";  // --sms-provider: console | webhook | twilio | ccp

  std::string webhook_url;  // --sms-webhook-url: http(s)://host[:port]/path

  // twilio: --twilio-account-sid, --twilio-auth-token, and --twilio-from
  // and/or --twilio-messaging-service-sid (at least one; both are sent when
  // both are set). An empty base URL means the default.
  std::string twilio_account_sid;
  std::string twilio_auth_token;  // secret
  std::string twilio_from;
  std::string twilio_messaging_service_sid;
  std::string twilio_base_url = "https://api.twilio.com";

  // ccp: all four are required. An empty base URL means the default.
  std::string ccp_account_sid;
  std::string ccp_auth_token;  // secret
  std::string ccp_app_id;
  std::string ccp_template_id;
  std::string ccp_base_url = "https://app.cloopen.com:8883";

  // Per-purpose Ronglian templates (--ccp-template-id-login, ...): empty
  // means ccp_template_id. The notice has no such default (the register
  // template would send an empty code): without its own template it is
  // refused as permanent and kept among the dead letters.
  std::string ccp_template_id_login;
  std::string ccp_template_id_reset;
  std::string ccp_template_id_change_mobile;
  std::string ccp_template_id_mobile_changed;

  // --site-name: the shop's name, "{site}" in the templates below.
  std::string site_name = "regd";
  // --sms-template: the text of an SMS for providers that send text (twilio);
  // "{code}", "{minutes}" and "{site}" are replaced. Must contain "{code}".
  std::string sms_template = "Your verification code is {code}. It expires in {minutes} minutes.";
  // Per purpose (--sms-template-login, ...): empty means sms_template; each
  // set one must contain "{code}". The notice's text needs no {code}.
  std::string sms_template_login;
  std::string sms_template_reset;
  std::string sms_template_change_mobile;
  std::string sms_template_mobile_changed =
      "The mobile number of your account was changed. If you did not do this, contact us now.";

  int connect_timeout_ms = 3000;
  int read_timeout_ms = 10000;
};

// Builds the provider named in config. kInvalid for an unknown name or a
// missing/malformed setting; the message names the flag (e.g.
// "--twilio-account-sid is required for the twilio provider") and never
// repeats a secret. `clock` is where a provider that signs its requests with
// the time (ccp) reads it; nullptr means SystemClock. It must outlive the
// provider.
Result<std::unique_ptr<SmsProvider>> MakeSmsProvider(const SmsProviderConfig& config,
                                                     const Clock* clock = nullptr);

// The text template (twilio) and the Ronglian template id for purpose, after
// the defaults above; an unknown purpose gets the register one.
const std::string& SmsTemplateFor(const SmsProviderConfig& config, std::string_view purpose);
const std::string& CcpTemplateIdFor(const SmsProviderConfig& config, std::string_view purpose);

// Classifies an HTTP status from a provider (see the table above).
SendOutcome::Kind ClassifyHttpStatus(int status);

}  // namespace regd::sms
