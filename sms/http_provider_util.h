// Helpers shared by the HTTP SMS providers (webhook, twilio, ccp): URL
// splitting, client setup with the configured timeouts, the mapping from an
// HTTP answer or a transport failure to a SendOutcome, and the small encoders
// the provider protocols need (form encoding, MD5 hex, base64).
//
// Internal to regd_queue; the providers' own headers are the public surface.
// Every function here is pure (or only touches its arguments) and safe to call
// from any thread.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sms/sms_provider.h"

namespace regd::sms {

// Splits "http(s)://host[:port][/path][?query]" into "scheme://host[:port]"
// and "/path?query" ("/" when the URL has no path). False when the scheme is
// not http or https or the host is empty.
bool SplitUrl(const std::string& url, std::string* origin, std::string* path);

// Splits a provider base URL, "http(s)://host[:port][/prefix]", into its
// origin and a path prefix without a trailing '/' (empty for a bare origin),
// so that prefix + "/2010-04-01/..." is the request path. False for a URL
// SplitUrl rejects or one with a query or fragment.
bool SplitBaseUrl(const std::string& url, std::string* origin, std::string* prefix);

// Applies the config's connect and read timeouts (the read timeout also
// bounds writes). Certificate verification stays on (httplib's default).
void ConfigureClient(const SmsProviderConfig& config, httplib::Client* client);

// A send that got no HTTP answer (refused, reset, timeout, TLS failure): always
// kRetry, with "provider: <httplib error>" as the error.
SendOutcome TransportFailure(const char* provider, httplib::Error error);

// Classifies an HTTP answer with ClassifyHttpStatus. For a failure the error is
// "provider: HTTP <status>", and for a retryable status a Retry-After of
// delta-seconds (0..86399) becomes retry_after_ms. An HTTP-date Retry-After is
// ignored (the queue's own backoff applies).
SendOutcome OutcomeFromHttpStatus(const char* provider, const httplib::Response& res);

// Retry-After in delta-seconds as milliseconds; -1 when absent or not a
// plain number of seconds below a day.
int64_t RetryAfterMs(const httplib::Response& res);

// application/x-www-form-urlencoded: name=value pairs joined by '&', every
// byte but ALPHA / DIGIT / "-._~" percent-encoded (upper-case hex; a space is
// "%20").
std::string FormUrlEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// MD5 of data as 32 upper-case hex digits (OpenSSL EVP). Empty only if
// OpenSSL refuses MD5 (a FIPS-only build).
std::string Md5HexUpper(std::string_view data);

// Standard base64 with padding (RFC 4648 section 4; libsodium's ORIGINAL).
std::string Base64(std::string_view data);

// Text from a provider made safe for logs and dead letters: each non-empty
// string in `secrets` is replaced by "***", each non-empty string in `mobiles`
// by its mask (longest first, so "+8613812345678" is masked before
// "13812345678"), and the result is cut to at most max_len bytes without
// splitting a UTF-8 sequence.
std::string ScrubProviderText(std::string text, const std::vector<std::string>& secrets,
                              std::vector<std::string> mobiles, size_t max_len = 300);

}  // namespace regd::sms
