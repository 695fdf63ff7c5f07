// Password hashing with libsodium's Argon2id (crypto_pwhash_str), the format
// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" stored in users.password_hash.
//
// Cost: PwhashCost picks opslimit/memlimit; the default is libsodium's
// INTERACTIVE profile (64 MiB, about 50-100 ms per hash). Verification reads
// the cost from the stored hash, so the cost can change without migrating.
//
// Thread-safety: stateless; safe from any thread (each call allocates memlimit
// bytes while it runs).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace regd::account {

struct PwhashCost {
  unsigned long long opslimit;
  size_t memlimit;
  static PwhashCost Interactive();
  static PwhashCost Minimum();  // for tests only: weakest cost libsodium allows
};

// Hashes password with a fresh random salt. kBusy (retry in 1 s) when the
// memory for the hash cannot be had.
Result<std::string> HashPassword(std::string_view password, const PwhashCost& cost);
// True when password matches the stored hash. Constant-time in the password.
bool VerifyPassword(std::string_view stored_hash, std::string_view password);
// A valid hash of a random password, for spending the same time on unknown
// users as on known ones (login must not reveal which usernames exist).
const std::string& DummyPasswordHash();

}  // namespace regd::account
