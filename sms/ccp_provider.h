// The ccp SMS provider: Ronglian Cloud Communication (cloopen, "容联云通讯")
// TemplateSMS, the provider the seed system used. The SMS text is a template
// approved in the CCP console; regd sends only its parameters.
//
// Request (one per SMS), with ts = the current time as yyyyMMddHHmmss in
// Beijing time (UTC+8, no daylight saving), which is the clock CCP checks the
// timestamp against, read from the injected Clock:
//   POST {base}/2013-12-26/Accounts/{AccountSid}/SMS/TemplateSMS?sig={Sig}
//     Sig = upper-case hex MD5(AccountSid + AuthToken + ts)
//   Accept: application/json
//   Content-Type: application/json;charset=utf-8
//   Authorization: base64(AccountSid + ":" + ts)
//   {"to":"<mobile>","appId":"<AppId>","templateId":"<TemplateId>",
//    "datas":["<code>","<ttl minutes>"]}
// TemplateId is the purpose's (CcpTemplateIdFor: --ccp-template-id-login,
// ..., defaulting to --ccp-template-id). The mobile_changed notice is sent
// with its own template and no "datas"; without --ccp-template-id-mobile-
// changed it is kPermanent (kept among the dead letters, `regd queue
// retry-dead` once the template is set).
// The mobile is sent as stored (CCP expects an 11-digit mainland number).
// The base URL defaults to https://app.cloopen.com:8883; tests point it at a
// loopback http:// fake.
//
// Reply: kSent ONLY when the HTTP status is 2xx AND the JSON reply's
// "statusCode" is "000000". Otherwise:
//   - no answer (refused, timeout, TLS): kRetry;
//   - a non-2xx status: ClassifyHttpStatus (5xx/408/429 retry with
//     Retry-After; other 4xx permanent), with statusCode/statusMsg added to
//     the error when the body carries them;
//   - a 2xx whose statusCode is another value: kPermanent, error
//     "ccp: statusCode 160038: <statusMsg>". CCP's codes describe the request,
//     the account, the template, the number or a per-number frequency cap
//     (160038/160039/160040); CCP documents none as "try again shortly", and
//     retrying a frequency cap within seconds only provokes further blocks.
//     ClassifyCcpStatusCode is the one place to mark a code transient should
//     CCP ever publish one;
//   - a 2xx without a readable statusCode (an HTML page from a proxy, a
//     truncated body): kRetry, because nothing says the provider took the SMS
//     (at-least-once: a possible duplicate beats a lost code).
//
// Thread-safety: Send may be called from several threads at once; each call
// uses its own httplib::Client. The provider is immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sms/sms_provider.h"
#include "storage/clock.h"
#include "storage/status.h"

namespace regd::sms {

// kInvalid, naming the flag, when --ccp-account-sid, --ccp-auth-token,
// --ccp-app-id or --ccp-template-id is empty, when the account SID is not
// letters and digits, or when --ccp-base-url is not an http(s) origin (with an
// optional path prefix). `clock` must not be null and must outlive the
// provider.
Result<std::unique_ptr<SmsProvider>> MakeCcpProvider(const SmsProviderConfig& config,
                                                     const Clock* clock);

// Unix time in ms -> "yyyyMMddHHmmss" in Beijing time (UTC+8).
std::string CcpTimestamp(int64_t unix_ms);

// How a 2xx reply with this statusCode is treated: kSent for "000000",
// otherwise kPermanent (see above).
SendOutcome::Kind ClassifyCcpStatusCode(const std::string& status_code);

}  // namespace regd::sms
