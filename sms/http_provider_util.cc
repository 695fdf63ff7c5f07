#include "sms/http_provider_util.h"

#include "sms/mobile_mask.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace regd::sms {

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

bool SplitBaseUrl(const std::string& url, std::string* origin, std::string* prefix) {
  std::string path;
  if (!SplitUrl(url, origin, &path)) return false;
  if (origin->find_first_of("?#") != std::string::npos) return false;
  if (path.find_first_of("?#") != std::string::npos) return false;
  while (!path.empty() && path.back() == '/') path.pop_back();
  *prefix = path;
  return true;
}

void ConfigureClient(const SmsProviderConfig& config, httplib::Client* client) {
  client->set_connection_timeout(std::chrono::milliseconds(config.connect_timeout_ms));
  client->set_read_timeout(std::chrono::milliseconds(config.read_timeout_ms));
  client->set_write_timeout(std::chrono::milliseconds(config.read_timeout_ms));
}

SendOutcome TransportFailure(const char* provider, httplib::Error error) {
  return {SendOutcome::Kind::kRetry, std::string(provider) + ": " + httplib::to_string(error), -1};
}

int64_t RetryAfterMs(const httplib::Response& res) {
  if (!res.has_header("Retry-After")) return -1;
  std::string ra = res.get_header_value("Retry-After");
  if (ra.empty() || ra.find_first_not_of("0123456789") != std::string::npos) return -1;
  if (ra.size() > 5) return -1;
  long secs = std::strtol(ra.c_str(), nullptr, 10);
  if (secs >= 86400) return -1;
  return static_cast<int64_t>(secs) * 1000;
}

SendOutcome OutcomeFromHttpStatus(const char* provider, const httplib::Response& res) {
  SendOutcome out;
  out.kind = ClassifyHttpStatus(res.status);
  if (out.kind == SendOutcome::Kind::kSent) return out;
  out.error = std::string(provider) + ": HTTP " + std::to_string(res.status);
  if (out.kind == SendOutcome::Kind::kRetry) out.retry_after_ms = RetryAfterMs(res);
  return out;
}

std::string FormUrlEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  static const char kHex[] = "0123456789ABCDEF";
  auto append = [](std::string* out, const std::string& s) {
    for (unsigned char c : s) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '_' || c == '~') {
        out->push_back(static_cast<char>(c));
      } else {
        out->push_back('%');
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
      }
    }
  };
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    append(&out, name);
    out.push_back('=');
    append(&out, value);
  }
  return out;
}

std::string Md5HexUpper(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr) != 1) return "";
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

std::string Base64(std::string_view data) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), variant);
  out.resize(out.size() - 1);  // the encoder's terminating NUL
  return out;
}

namespace {

void ReplaceAll(std::string* text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = text->find(from); pos != std::string::npos;
       pos = text->find(from, pos + to.size())) {
    text->replace(pos, from.size(), to);
  }
}

}  // namespace

std::string ScrubProviderText(std::string text, const std::vector<std::string>& secrets,
                              std::vector<std::string> mobiles, size_t max_len) {
  for (const std::string& secret : secrets) ReplaceAll(&text, secret, "***");
  std::sort(mobiles.begin(), mobiles.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& mobile : mobiles) ReplaceAll(&text, mobile, MaskMobile(mobile));
  if (text.size() > max_len) {
    size_t cut = max_len;
    // Back off to the start of a UTF-8 sequence (never cut after a lead byte).
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
  }
  return text;
}

}  // namespace regd::sms
