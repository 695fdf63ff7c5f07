// MaskMobile: how regd shows a customer's mobile number wherever an operator
// reads it (the access log, provider text in logs and dead letters,
// `regd queue list`): enough to tell numbers apart, not enough to use one.
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

namespace regd::sms {

// "13812345678" -> "138****5678": the first 3 and last 4 characters kept
// when the string is longer than 7, everything masked otherwise.
std::string MaskMobile(std::string_view mobile);

}  // namespace regd::sms
