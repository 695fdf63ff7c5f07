// Verifies a Standard Webhooks delivery the way a shop's receiver does, with
// libsodium directly (not regd's signer): the key is the base64 after
// "whsec_", the signed text "<webhook-id>.<webhook-timestamp>.<body>", and
// webhook-signature holds "v1,<base64 HMAC-SHA256>" (one or more, spaces
// between). Header-only; safe from any thread.
#pragma once

#include <sodium.h>

#include <sstream>
#include <string>

namespace regd::testing {

inline bool WebhookSignatureValid(const std::string& secret, const std::string& id,
                                  const std::string& timestamp, const std::string& body,
                                  const std::string& signature_header) {
  std::string b64 = secret.rfind("whsec_", 0) == 0 ? secret.substr(6) : secret;
  unsigned char key[64];
  size_t key_len = 0;
  if (sodium_base642bin(key, sizeof(key), b64.data(), b64.size(), nullptr, &key_len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  const std::string text = id + "." + timestamp + "." + body;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, key_len);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(text.data()),
                                text.size());
  crypto_auth_hmacsha256_final(&st, mac);
  char expected[sodium_base64_ENCODED_LEN(sizeof(mac), sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(expected, sizeof(expected), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
  std::istringstream words(signature_header);
  for (std::string word; words >> word;) {
    if (word == std::string("v1,") + expected) return true;
  }
  return false;
}

}  // namespace regd::testing
