// Messages: every text a client can be shown, in each language regd speaks,
// in one table (messages.cc). Code that fails with a client-visible reason
// makes its Status from the Message (Status::Invalid(msg::kBadMobile)), so
// the reason travels as a pointer that code compares by address; the HTTP
// layer (json_reply) answers in the client's language and adds the form
// field the message concerns, so a page can show it beside that field.
//
//   {"code": 400, "errmsg": "图形验证码错误", "field": "image_code"}
//
// Languages: English (default) and Simplified Chinese, chosen from the
// request's Accept-Language (the first of en/zh by q-value).
//
// Thread-safety: immutable data and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "storage/status.h"

namespace regd::account {

using regd::Message;  // storage/status.h: {en, zh, field}

namespace msg {
extern const Message kMissingParameter;
extern const Message kMissingImageCode;
extern const Message kBadUuid;
extern const Message kBadUsername;
extern const Message kBadPassword;
extern const Message kPasswordsDiffer;
extern const Message kBadMobile;
extern const Message kBadSmsCode;
extern const Message kNotAgreed;
extern const Message kImageCodeExpired;
extern const Message kImageCodeWrong;
extern const Message kSendTooSoon;
extern const Message kSmsCodeExpired;
extern const Message kSmsCodeWrong;
extern const Message kSmsCodeTooManyTries;
extern const Message kUsernameTaken;
extern const Message kMobileTaken;
extern const Message kWrongLogin;
extern const Message kNotLoggedIn;
extern const Message kBodyNotObject;
extern const Message kRegisterFieldTypes;
extern const Message kLoginFieldTypes;
extern const Message kRememberedType;
extern const Message kNotFound;
extern const Message kMethodNotAllowed;
extern const Message kBadRequest;
extern const Message kRequestTimeout;
extern const Message kBodyTooLarge;
extern const Message kUriTooLong;
extern const Message kHeadersTooLarge;
extern const Message kRangeNotSatisfiable;
extern const Message kRequestFailed;
extern const Message kBusy;
extern const Message kUnavailable;
extern const Message kTooManyRequests;
extern const Message kSmsBudgetSpent;
extern const Message kSmsMobileDailyCap;
extern const Message kLoginLocked;
extern const Message kCrossOrigin;
extern const Message kBadPurpose;
extern const Message kMobileNotRegistered;
extern const Message kSmsLoginFieldTypes;
extern const Message kResetFieldTypes;
extern const Message kPasswordChangeFieldTypes;
extern const Message kMobileChangeFieldTypes;
extern const Message kWrongOldPassword;
extern const Message kWrongPassword;
extern const Message kBadNewPassword;
extern const Message kNewPasswordsDiffer;
extern const Message kSessionNotFound;
extern const Message kAccountDisabled;  // 403: login, SMS login, reset, codes for them
}  // namespace msg

enum class Lang { kEn, kZh };

// The message whose English text is en; nullptr if none (tests: every
// message's text is unique, so a reason can be found by what a client saw).
const Message* FindMessage(std::string_view en);
// The client's language from an Accept-Language header (default English).
Lang PreferredLanguage(std::string_view accept_language);
inline const char* Text(const Message& m, Lang lang) { return lang == Lang::kZh ? m.zh : m.en; }

}  // namespace regd::account
