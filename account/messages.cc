#include "account/messages.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>

namespace regd::account {
namespace msg {

// clang-format off
const Message kMissingParameter   {"missing parameter", "缺少必传参数", nullptr};
const Message kMissingImageCode   {"missing parameter: image_code and image_code_id are required", "请输入图形验证码", "image_code"};
const Message kBadUuid            {"image_code_id must be a UUID", "图形验证码编号格式错误", "image_code"};
const Message kBadUsername        {"username must be 5-20 letters, digits, _ or -, and not all digits", "用户名须为5-20个字母、数字、_或-，且不能全是数字", "username"};
const Message kBadPassword        {"password must be 8-20 letters, digits or _", "密码须为8-20个字母、数字或_", "password"};
const Message kPasswordsDiffer    {"the two passwords do not match", "两次输入的密码不一致", "password2"};
const Message kBadMobile          {"invalid mobile number", "手机号格式错误", "mobile"};
const Message kBadSmsCode         {"SMS code must be 6 digits", "短信验证码须为6位数字", "sms_code"};
const Message kNotAgreed          {"please agree to the user agreement", "请勾选同意用户协议", "allow"};
const Message kImageCodeExpired   {"image code expired or unknown; get a new one", "图形验证码已失效，请点击图片刷新", "image_code"};
const Message kImageCodeWrong     {"wrong image code", "图形验证码错误", "image_code"};
const Message kSendTooSoon        {"a code was sent to this mobile recently; try again later", "发送短信过于频繁，请稍后再试", "sms_code"};
const Message kSmsCodeExpired     {"SMS code expired; request a new one", "短信验证码已失效，请重新获取", "sms_code"};
const Message kSmsCodeWrong       {"wrong SMS code", "短信验证码错误", "sms_code"};
const Message kSmsCodeTooManyTries{"wrong SMS code; too many tries, request a new code", "短信验证码错误次数过多，请重新获取", "sms_code"};
const Message kUsernameTaken      {"username already registered", "该用户名已被注册", "username"};
const Message kMobileTaken        {"mobile already registered", "该手机号已被注册", "mobile"};
const Message kWrongLogin         {"wrong username or password", "用户名或密码错误", nullptr};
const Message kNotLoggedIn        {"not logged in", "用户未登录", nullptr};
const Message kBodyNotObject      {"the request body must be a JSON object", "请求体必须是JSON对象", nullptr};
const Message kRegisterFieldTypes {"username, password, password2, mobile and sms_code must be strings", "用户名、密码、确认密码、手机号和短信验证码必须是字符串", nullptr};
const Message kLoginFieldTypes    {"username and password must be strings", "用户名和密码必须是字符串", nullptr};
const Message kRememberedType     {"remembered must be true or false", "remembered 必须是 true 或 false", nullptr};
const Message kNotFound           {"not found", "找不到该资源", nullptr};
const Message kMethodNotAllowed   {"method not allowed here", "不支持该请求方法", nullptr};
const Message kBadRequest         {"bad request", "请求格式错误", nullptr};
const Message kRequestTimeout     {"request timeout", "请求超时", nullptr};
const Message kBodyTooLarge       {"request body too large (limit 16 KiB)", "请求体过大（上限16 KiB）", nullptr};
const Message kUriTooLong         {"request URI too long", "请求地址过长", nullptr};
const Message kHeadersTooLarge    {"request headers too large", "请求头过大", nullptr};
const Message kRangeNotSatisfiable{"range not satisfiable", "请求的范围无效", nullptr};
const Message kRequestFailed      {"request failed", "请求失败", nullptr};
const Message kBusy               {"the server is busy; try again later", "服务器繁忙，请稍后再试", nullptr};
const Message kUnavailable        {"the server cannot serve this now; try again later", "服务暂时不可用，请稍后再试", nullptr};
const Message kTooManyRequests     {"too many requests from your network; try again later", "请求过于频繁，请稍后再试", nullptr};
const Message kSmsBudgetSpent     {"SMS codes cannot be sent right now; try again later", "暂时无法发送短信验证码，请稍后再试", "sms_code"};
const Message kSmsMobileDailyCap  {"too many codes were sent to this mobile today; try again tomorrow", "该手机号今日获取验证码次数过多，请明天再试", "sms_code"};
const Message kLoginLocked        {"too many failed logins; try again later", "登录失败次数过多，请稍后再试", nullptr};
const Message kCrossOrigin        {"cross-origin request refused", "拒绝跨站请求", nullptr};
const Message kBadPurpose        {"purpose must be register, login, reset or change_mobile", "验证码用途无效", "purpose"};
const Message kMobileNotRegistered{"no account uses this mobile", "该手机号未注册", "mobile"};
const Message kSmsLoginFieldTypes{"mobile and sms_code must be strings", "手机号和短信验证码必须是字符串", nullptr};
const Message kResetFieldTypes   {"mobile, sms_code, password and password2 must be strings", "手机号、短信验证码、密码和确认密码必须是字符串", nullptr};
const Message kPasswordChangeFieldTypes{"old_password, new_password and new_password2 must be strings", "原密码、新密码和确认新密码必须是字符串", nullptr};
const Message kMobileChangeFieldTypes{"mobile, sms_code and password must be strings", "手机号、短信验证码和密码必须是字符串", nullptr};
const Message kWrongOldPassword  {"wrong current password", "原密码错误", "old_password"};
const Message kWrongPassword     {"wrong password", "密码错误", "password"};
const Message kBadNewPassword    {"new password must be 8-20 letters, digits or _", "新密码须为8-20个字母、数字或_", "new_password"};
const Message kNewPasswordsDiffer{"the two new passwords do not match", "两次输入的新密码不一致", "new_password2"};
const Message kSessionNotFound   {"no such session", "找不到该会话", nullptr};
const Message kAccountDisabled   {"account disabled", "账户已停用", nullptr};
// clang-format on

}  // namespace msg

namespace {

const Message* const kAll[] = {
    &msg::kMissingParameter,
    &msg::kMissingImageCode,
    &msg::kBadUuid,
    &msg::kBadUsername,
    &msg::kBadPassword,
    &msg::kPasswordsDiffer,
    &msg::kBadMobile,
    &msg::kBadSmsCode,
    &msg::kNotAgreed,
    &msg::kImageCodeExpired,
    &msg::kImageCodeWrong,
    &msg::kSendTooSoon,
    &msg::kSmsCodeExpired,
    &msg::kSmsCodeWrong,
    &msg::kSmsCodeTooManyTries,
    &msg::kUsernameTaken,
    &msg::kMobileTaken,
    &msg::kWrongLogin,
    &msg::kNotLoggedIn,
    &msg::kBodyNotObject,
    &msg::kRegisterFieldTypes,
    &msg::kLoginFieldTypes,
    &msg::kRememberedType,
    &msg::kNotFound,
    &msg::kMethodNotAllowed,
    &msg::kBadRequest,
    &msg::kRequestTimeout,
    &msg::kBodyTooLarge,
    &msg::kUriTooLong,
    &msg::kHeadersTooLarge,
    &msg::kRangeNotSatisfiable,
    &msg::kRequestFailed,
    &msg::kBusy,
    &msg::kUnavailable,
    &msg::kTooManyRequests,
    &msg::kSmsBudgetSpent,
    &msg::kSmsMobileDailyCap,
    &msg::kLoginLocked,
    &msg::kCrossOrigin,
    &msg::kBadPurpose,
    &msg::kMobileNotRegistered,
    &msg::kSmsLoginFieldTypes,
    &msg::kResetFieldTypes,
    &msg::kPasswordChangeFieldTypes,
    &msg::kMobileChangeFieldTypes,
    &msg::kWrongOldPassword,
    &msg::kWrongPassword,
    &msg::kBadNewPassword,
    &msg::kNewPasswordsDiffer,
    &msg::kSessionNotFound,
    &msg::kAccountDisabled,
};

}  // namespace

const Message* FindMessage(std::string_view en) {
  auto it = std::find_if(std::begin(kAll), std::end(kAll),
                         [en](const Message* m) { return en == m->en; });
  return it == std::end(kAll) ? nullptr : *it;
}

// Accept-Language: "zh-CN,zh;q=0.9,en;q=0.8". The highest-q tag whose
// primary subtag is en or zh wins; equal q keeps the first.
Lang PreferredLanguage(std::string_view header) {
  Lang best = Lang::kEn;
  double best_q = -1;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t end = header.find(',', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(pos, end - pos);
    pos = end + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::string_view tag = item.substr(0, item.find(';'));
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    double q = 1.0;
    if (size_t qp = item.find(";q="); qp != std::string_view::npos) {
      q = std::atof(std::string(item.substr(qp + 3)).c_str());
    }
    std::string primary(tag.substr(0, tag.find('-')));
    std::transform(primary.begin(), primary.end(), primary.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if ((primary == "zh" || primary == "en") && q > best_q && q > 0) {
      best = primary == "zh" ? Lang::kZh : Lang::kEn;
      best_q = q;
    }
    if (end == header.size()) break;
  }
  return best;
}

}  // namespace regd::account
