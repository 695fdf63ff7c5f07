// ServerSecret: the one secret regd keeps, in <data-dir>/secret.key (32
// random bytes, mode 0600, created at first start). From it two keys are
// derived (crypto_kdf), one per use:
//   Mac   keyed BLAKE2b-256 over (domain, message): how captcha answers and
//         SMS codes are stored, so the data dir never holds them in plain
//         text and a copy of it (without the key) cannot be used to answer.
//   Seal  XChaCha20-Poly1305 (crypto_secretbox): the SMS code inside a queued
//         job, which must be readable again to be sent.
// The file is part of the data dir: a backup includes it (queued jobs cannot
// be sent without it); losing it only spoils codes and captchas in flight.
//
// Thread-safety: immutable after LoadOrCreate; safe from any thread.
#pragma once

#include <sodium.h>

#include <array>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace regd::storage {

class ServerSecret {
 public:
  static constexpr const char* kFileName = "secret.key";

  // Reads dir/secret.key, or creates it (O_EXCL, 0600, fsync'd with its
  // directory) when it does not exist. kInternal if it is unreadable or not
  // 32 bytes.
  static Result<ServerSecret> LoadOrCreate(const std::string& dir);
  // A secret from the given 32 bytes (tests).
  static ServerSecret FromBytes(std::string_view key32);

  // 32 raw bytes; domain separates uses ("cap", "sms"), so one value hashed
  // in two places gives two unrelated results.
  std::string Mac(std::string_view domain, std::string_view message) const;
  // nonce (24 bytes) ‖ ciphertext with its tag.
  std::string Seal(std::string_view plain) const;
  // kInvalid if sealed was not made by Seal with this secret.
  Result<std::string> Open(std::string_view sealed) const;

 private:
  ServerSecret() = default;
  void Derive(const unsigned char* master);

  std::array<unsigned char, crypto_generichash_KEYBYTES> mac_key_{};
  std::array<unsigned char, crypto_secretbox_KEYBYTES> box_key_{};
};

}  // namespace regd::storage
