#include "account/rules.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace regd::account {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

bool IsValidUsername(std::string_view s) {
  if (s.size() < 5 || s.size() > 20) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '_' || c == '-'; })) {
    return false;
  }
  return !std::all_of(s.begin(), s.end(), IsDigit);
}

bool IsValidPassword(std::string_view s) {
  return s.size() >= 8 && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '_'; });
}

bool IsValidMobile(std::string_view s) {
  return s.size() == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' &&
         std::all_of(s.begin(), s.end(), IsDigit);
}

bool IsValidSmsCode(std::string_view s) {
  return s.size() == 6 && std::all_of(s.begin(), s.end(), IsDigit);
}

bool IsValidUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

std::string RulesJson() {
  nlohmann::json j = {
      {"username", "^(?![0-9]+$)[A-Za-z0-9_-]{5,20}$"},
      {"password", "^[A-Za-z0-9_]{8,20}$"},
      {"mobile", "^1[3-9][0-9]{9}$"},
      {"sms_code", "^[0-9]{6}$"},
      {"image_code", "^[A-Za-z0-9]{4}$"},
  };
  return j.dump();
}

}  // namespace regd::account
