#include "account/rules.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

using regd::account::IsValidMobile;
using regd::account::IsValidPassword;
using regd::account::IsValidSmsCode;
using regd::account::IsValidUsername;
using regd::account::IsValidUuid;

// Username: ^[A-Za-z0-9_-]{5,20}$ and not all digits.

TEST_CASE("username of 5 to 20 allowed characters is accepted", "[rules]") {
  CHECK(IsValidUsername("abcde"));               // 5
  CHECK(IsValidUsername(std::string(20, 'a')));  // 20
  CHECK(IsValidUsername("Alice_2024"));
  CHECK(IsValidUsername("ZZ-top"));
  CHECK(IsValidUsername("_____"));
  CHECK(IsValidUsername("-----"));
}

TEST_CASE("username shorter than 5 or longer than 20 is rejected", "[rules]") {
  CHECK_FALSE(IsValidUsername(""));
  CHECK_FALSE(IsValidUsername("abcd"));                // 4
  CHECK_FALSE(IsValidUsername(std::string(21, 'a')));  // 21
  CHECK_FALSE(IsValidUsername(std::string(1000, 'a')));
}

TEST_CASE("username of only digits is rejected but digits with a letter are accepted", "[rules]") {
  CHECK_FALSE(IsValidUsername("12345"));
  CHECK_FALSE(IsValidUsername("13800138000"));
  CHECK(IsValidUsername("1234a"));
  CHECK(IsValidUsername("a1234"));
  CHECK(IsValidUsername("12345_"));
  CHECK(IsValidUsername("12-34"));
}

TEST_CASE("username with characters outside [A-Za-z0-9_-] is rejected", "[rules]") {
  CHECK_FALSE(IsValidUsername("alice bob"));
  CHECK_FALSE(IsValidUsername("alice.bob"));
  CHECK_FALSE(IsValidUsername("alice@shop"));
  CHECK_FALSE(IsValidUsername("alice/../"));
  CHECK_FALSE(IsValidUsername("alice'--"));
  CHECK_FALSE(IsValidUsername("alice\tbob"));
  CHECK_FALSE(IsValidUsername(std::string("alice\0bob", 9)));
  CHECK_FALSE(IsValidUsername("用户名字五个"));   // CJK letters are not \w here
  CHECK_FALSE(IsValidUsername("caf\xc3\xa9s1"));  // é
  CHECK_FALSE(IsValidUsername("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\xa4\xef\xbc\xa5"));
}

// Password: ^[A-Za-z0-9_]{8,20}$.

TEST_CASE("password of 8 to 20 letters digits or underscore is accepted", "[rules]") {
  CHECK(IsValidPassword("abcdefgh"));            // 8
  CHECK(IsValidPassword(std::string(20, 'x')));  // 20
  CHECK(IsValidPassword("12345678"));            // digits only are fine for a password
  CHECK(IsValidPassword("Pass_word_1"));
}

TEST_CASE("password shorter than 8 or longer than 20 is rejected", "[rules]") {
  CHECK_FALSE(IsValidPassword(""));
  CHECK_FALSE(IsValidPassword("abcdefg"));             // 7
  CHECK_FALSE(IsValidPassword(std::string(21, 'x')));  // 21
}

TEST_CASE("password with '-', spaces, symbols or non-ASCII is rejected", "[rules]") {
  CHECK_FALSE(IsValidPassword("pass-word1"));
  CHECK_FALSE(IsValidPassword("pass word1"));
  CHECK_FALSE(IsValidPassword("password!1"));
  CHECK_FALSE(IsValidPassword("pass\xc3\xa9word1"));
}

// Mobile: ^1[3-9]\d{9}$.

TEST_CASE("mobile starting 13 to 19 with 11 digits is accepted", "[rules]") {
  for (char second = '3'; second <= '9'; ++second) {
    std::string m = std::string("1") + second + "012345678";
    INFO(m);
    CHECK(IsValidMobile(m));
  }
}

TEST_CASE("mobile with a second digit 0 to 2 or a first digit other than 1 is rejected",
          "[rules]") {
  CHECK_FALSE(IsValidMobile("10012345678"));
  CHECK_FALSE(IsValidMobile("11012345678"));
  CHECK_FALSE(IsValidMobile("12012345678"));
  CHECK_FALSE(IsValidMobile("12999999999"));
  CHECK_FALSE(IsValidMobile("23812345678"));
  CHECK_FALSE(IsValidMobile("03812345678"));
}

TEST_CASE("mobile of 10 or 12 digits or with non-digits is rejected", "[rules]") {
  CHECK_FALSE(IsValidMobile(""));
  CHECK_FALSE(IsValidMobile("1380013800"));    // 10
  CHECK_FALSE(IsValidMobile("138001380001"));  // 12
  CHECK_FALSE(IsValidMobile("1380013800a"));
  CHECK_FALSE(IsValidMobile("+8613800138000"));
  CHECK_FALSE(IsValidMobile("138 0013 800"));
  CHECK_FALSE(IsValidMobile("1380013800\xd9\xa0"));  // Arabic-Indic zero
}

// SMS code: ^\d{6}$.

TEST_CASE("sms code must be exactly 6 ASCII digits", "[rules]") {
  CHECK(IsValidSmsCode("000000"));
  CHECK(IsValidSmsCode("123456"));
  CHECK_FALSE(IsValidSmsCode(""));
  CHECK_FALSE(IsValidSmsCode("12345"));
  CHECK_FALSE(IsValidSmsCode("1234567"));
  CHECK_FALSE(IsValidSmsCode("12345a"));
  CHECK_FALSE(IsValidSmsCode(" 12345"));
  CHECK_FALSE(IsValidSmsCode("-12345"));
}

// UUID: 8-4-4-4-12 hex digits, either case.

TEST_CASE("uuid in lower, upper or mixed case is accepted", "[rules]") {
  CHECK(IsValidUuid("123e4567-e89b-12d3-a456-426614174000"));
  CHECK(IsValidUuid("123E4567-E89B-12D3-A456-426614174000"));
  CHECK(IsValidUuid("aBcDeF01-2345-6789-abCD-ef0123456789"));
  CHECK(IsValidUuid("00000000-0000-0000-0000-000000000000"));
}

TEST_CASE("uuid with wrong grouping, length or non-hex digits is rejected", "[rules]") {
  CHECK_FALSE(IsValidUuid(""));
  CHECK_FALSE(IsValidUuid("123e4567e89b12d3a456426614174000"));       // no dashes
  CHECK_FALSE(IsValidUuid("123e4567-e89b-12d3-a456-42661417400"));    // 35
  CHECK_FALSE(IsValidUuid("123e4567-e89b-12d3-a456-4266141740000"));  // 37
  CHECK_FALSE(IsValidUuid("123e456-7e89b-12d3-a456-426614174000"));   // dash moved
  CHECK_FALSE(IsValidUuid("123e4567-e89b-12d3-a456-42661417400g"));   // g is not hex
  CHECK_FALSE(IsValidUuid("{23e4567-e89b-12d3-a456-426614174000"));
  CHECK_FALSE(IsValidUuid("123e4567-e89b-12d3-a456_426614174000"));
  CHECK_FALSE(IsValidUuid("../../../../../../etc/passwd/xxxxxxxxx"));
}

TEST_CASE("rules json names every field rule for the page", "[rules]") {
  auto j = nlohmann::json::parse(regd::account::RulesJson(), nullptr, false);
  REQUIRE(j.is_object());
  for (const char* field : {"username", "password", "mobile", "sms_code"}) {
    INFO(field);
    REQUIRE(j.contains(field));
    CHECK(j[field].is_string());
  }
}
