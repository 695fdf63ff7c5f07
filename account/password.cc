#include "account/password.h"

#include <sodium.h>

namespace regd::account {

PwhashCost PwhashCost::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PwhashCost PwhashCost::Minimum() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Result<std::string> HashPassword(std::string_view password, const PwhashCost& cost) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), cost.opslimit, cost.memlimit) != 0) {
    return Status::Busy("out of memory while hashing the password", 1);
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  std::string h(stored_hash);  // needs a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

const std::string& DummyPasswordHash() {
  static const std::string hash = [] {
    unsigned char pw[16];
    randombytes_buf(pw, sizeof(pw));
    auto h = HashPassword(std::string_view(reinterpret_cast<char*>(pw), sizeof(pw)),
                          PwhashCost::Interactive());
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

}  // namespace regd::account
