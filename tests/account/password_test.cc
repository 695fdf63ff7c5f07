#include "account/password.h"

#include <sodium.h>

#include <catch2/catch.hpp>
#include <string>

using regd::account::DummyPasswordHash;
using regd::account::HashPassword;
using regd::account::PwhashCost;
using regd::account::VerifyPassword;

namespace {

std::string Hash(std::string_view password, const PwhashCost& cost = PwhashCost::Minimum()) {
  auto h = HashPassword(password, cost);
  INFO(h.status().ToString());
  REQUIRE(h.ok());
  return *h;
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("a hashed password verifies", "[password]") {
  std::string h = Hash("correct horse battery staple");
  CHECK(VerifyPassword(h, "correct horse battery staple"));
}

TEST_CASE("a wrong password does not verify", "[password]") {
  std::string h = Hash("password_1");
  CHECK_FALSE(VerifyPassword(h, "password_2"));
  CHECK_FALSE(VerifyPassword(h, "Password_1"));
  CHECK_FALSE(VerifyPassword(h, "password_1 "));
  CHECK_FALSE(VerifyPassword(h, ""));
}

TEST_CASE("passwords are compared in full, including bytes after a NUL", "[password]") {
  const std::string with_nul("abc\0def", 7);
  std::string h = Hash(with_nul);
  CHECK(VerifyPassword(h, with_nul));
  CHECK_FALSE(VerifyPassword(h, "abc"));
  CHECK_FALSE(VerifyPassword(h, std::string("abc\0xyz", 7)));
}

TEST_CASE("the hash is in argon2id string format", "[password]") {
  std::string h = Hash("password_1");
  CHECK(StartsWith(h, "$argon2id$v=19$m="));
  CHECK(h.find(",t=") != std::string::npos);
  CHECK(h.find(",p=1$") != std::string::npos);
  CHECK(h.size() < crypto_pwhash_STRBYTES);
  CHECK(h.find('\0') == std::string::npos);
}

TEST_CASE("two hashes of the same password differ by their salt", "[password]") {
  std::string a = Hash("password_1");
  std::string b = Hash("password_1");
  CHECK(a != b);
  CHECK(VerifyPassword(a, "password_1"));
  CHECK(VerifyPassword(b, "password_1"));
}

TEST_CASE("the interactive cost hashes with libsodium's interactive limits", "[password]") {
  PwhashCost cost = PwhashCost::Interactive();
  CHECK(cost.opslimit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
  CHECK(cost.memlimit == crypto_pwhash_MEMLIMIT_INTERACTIVE);
  std::string h = Hash("password_1", cost);
  CHECK(StartsWith(h, "$argon2id$"));
  CHECK(VerifyPassword(h, "password_1"));
  CHECK_FALSE(VerifyPassword(h, "password_2"));
  // The stored parameters are the interactive ones.
  CHECK(crypto_pwhash_str_needs_rehash(h.c_str(), cost.opslimit, cost.memlimit) == 0);
}

TEST_CASE("verification reads the cost from the stored hash", "[password]") {
  std::string cheap = Hash("password_1", PwhashCost::Minimum());
  PwhashCost interactive = PwhashCost::Interactive();
  CHECK(crypto_pwhash_str_needs_rehash(cheap.c_str(), interactive.opslimit, interactive.memlimit) ==
        1);
  CHECK(VerifyPassword(cheap, "password_1"));
}

TEST_CASE("a malformed stored hash never verifies", "[password]") {
  CHECK_FALSE(VerifyPassword("", ""));
  CHECK_FALSE(VerifyPassword("", "password_1"));
  CHECK_FALSE(VerifyPassword("not a hash", "password_1"));
  std::string h = Hash("password_1");
  CHECK_FALSE(VerifyPassword(h.substr(0, h.size() - 4), "password_1"));
  std::string flipped = h;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK_FALSE(VerifyPassword(flipped, "password_1"));
}

TEST_CASE("the dummy hash is a valid argon2id hash that rejects a guessed password", "[password]") {
  const std::string& dummy = DummyPasswordHash();
  REQUIRE_FALSE(dummy.empty());
  CHECK(StartsWith(dummy, "$argon2id$v=19$"));
  CHECK_FALSE(VerifyPassword(dummy, "password_1"));
  CHECK_FALSE(VerifyPassword(dummy, ""));
  // The same object every call.
  CHECK(&DummyPasswordHash() == &dummy);
}
