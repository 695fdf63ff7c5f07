#include "events/webhook_signer.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "sms/http_provider_util.h"
#include "storage/files.h"

namespace regd::events {
namespace {

constexpr size_t kMinKey = 24;  // the spec: 24 to 64 bytes
constexpr size_t kMaxKey = 64;
constexpr size_t kNewKey = 32;

}  // namespace

Result<WebhookSecret> WebhookSecret::Parse(std::string_view text) {
  if (text.substr(0, 6) == kPrefix) text.remove_prefix(6);
  std::string key(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || len < kMinKey || len > kMaxKey) {
    return Status::Invalid(
        "--events-secret must be whsec_ followed by the base64 of 24 to 64 bytes");
  }
  key.resize(len);
  return WebhookSecret(std::move(key));
}

Result<WebhookSecret> WebhookSecret::LoadOrCreate(const std::string& dir) {
  const std::string path = dir + "/" + kFileName;
  if (!storage::PathExists(path)) {
    std::string key(kNewKey, '\0');
    randombytes_buf(key.data(), key.size());
    Status s = storage::WriteNewFile(path, WebhookSecret(key).Text() + "\n");
    // Another process may have made it first: read whichever is there.
    if (!s.ok() && !storage::PathExists(path)) return s;
  }
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return Status::Unavailable("cannot read " + path);
  }
  auto secret = Parse(line);
  if (!secret.ok()) return Status::Unavailable(path + " does not hold a whsec_ secret");
  return secret;
}

std::string WebhookSecret::Sign(std::string_view webhook_id, int64_t timestamp_s,
                                std::string_view body) const {
  std::string signed_text = std::string(webhook_id) + "." + std::to_string(timestamp_s) + ".";
  signed_text += body;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(signed_text.data()),
                                signed_text.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return "v1," + sms::Base64(std::string_view(reinterpret_cast<const char*>(mac), sizeof(mac)));
}

std::string WebhookSecret::Text() const { return kPrefix + sms::Base64(key_); }

}  // namespace regd::events
