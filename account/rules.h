// Field rules of the sign-up form: one source of truth for the server (and,
// through the page, for the browser). They are the seed system's rules:
//   username  ^[A-Za-z0-9_-]{5,20}$ and not all digits (so it never looks
//             like a mobile number); case-sensitive
//   password  ^[A-Za-z0-9_]{8,20}$
//   mobile    ^1[3-9]\d{9}$   (mainland China mobile numbers)
//   sms_code  ^\d{6}$
//   uuid      8-4-4-4-12 hex digits, either case
// Each check is a hand-written scan (no std::regex: it is slow and can
// recurse deeply on long input).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace regd::account {

bool IsValidUsername(std::string_view s);
bool IsValidPassword(std::string_view s);
bool IsValidMobile(std::string_view s);
bool IsValidSmsCode(std::string_view s);
bool IsValidUuid(std::string_view s);

// The rules as JSON, for the page: {"username": "<regex>", ...}.
std::string RulesJson();

}  // namespace regd::account
