// The twilio SMS provider: Twilio Programmable Messaging, the Messages
// resource of the 2010-04-01 REST API.
//
// Request (one per SMS):
//   POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json
//   Authorization: Basic base64(AccountSid ":" AuthToken)
//   Accept: application/json
//   Content-Type: application/x-www-form-urlencoded
//   To=<E.164>&From=<sender>&MessagingServiceSid=<MG...>&Body=<text>
// From and MessagingServiceSid are each sent when configured (Twilio accepts
// either or both). To is the mobile in E.164 (TwilioRecipient). Body is
// the purpose's template (SmsTemplateFor: --sms-template-login, ...,
// defaulting to --sms-template) with {code}, {minutes} and {site} substituted
// (RenderSmsTemplate); the mobile_changed notice has a text of its own.
// The base URL defaults to https://api.twilio.com; tests point it at a
// loopback http:// fake.
//
// Reply: any 2xx (Twilio answers 201 Created) is kSent. Otherwise the status
// is classified with ClassifyHttpStatus (5xx/408/429 retry, honouring
// Retry-After; other 4xx permanent) and Twilio's error JSON
// {"code": 21211, "message": "...", "status": 400} is added to the error as
// "twilio: HTTP 400: error 21211: <message>", with the auth token removed and
// the mobile masked. No answer at all (refused, timeout, TLS) is kRetry.
//
// Thread-safety: Send may be called from several threads at once; each call
// uses its own httplib::Client. The provider is immutable after construction.
#pragma once

#include <memory>
#include <string>

#include "sms/sms_provider.h"
#include "storage/status.h"

namespace regd::sms {

// kInvalid, naming the flag, when --twilio-account-sid or --twilio-auth-token
// is empty, when neither --twilio-from nor --twilio-messaging-service-sid is
// set, when the account SID is not letters and digits, when --twilio-base-url
// is not an http(s) origin (with an optional path prefix), or when
// --sms-template lacks "{code}".
Result<std::unique_ptr<SmsProvider>> MakeTwilioProvider(const SmsProviderConfig& config);

// The recipient in E.164: an 11-digit mainland-China mobile ("1" followed by
// ten digits, no '+') gets "+86" in front; anything else is passed unchanged
// (Twilio rejects what is not E.164 with a permanent 400).
std::string TwilioRecipient(const std::string& mobile);

// `tmpl` with every "{code}" replaced by msg.code and every "{minutes}" by
// msg.ttl_minutes in decimal; other text (including other braces) is kept.
std::string RenderSmsTemplate(const std::string& tmpl, const SmsMessage& msg,
                              const std::string& site = "regd");

}  // namespace regd::sms
