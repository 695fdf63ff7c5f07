// The account routes beyond the seed's (issue 13): login by SMS code,
// password reset and change, change of mobile, the sessions list. Each
// parses its body, calls SignupService and answers; the policy (locks,
// codes, which sessions end) is the domain's.
#include <ctime>

#include "account/messages.h"
#include "web/json_reply.h"
#include "web/routes.h"

namespace regd::web {

using httplib::Request;
using httplib::Response;
using nlohmann::json;
namespace msg = account::msg;

namespace {

// Reads the string fields names into outs; false if the body is not an
// object or a field has another type.
bool ReadForm(const Request& req,
              std::initializer_list<std::pair<const char*, std::string*>> fields, json* body) {
  if (!ParseJsonObject(req.body, body)) return false;
  for (const auto& [name, out] : fields) {
    if (!StringField(*body, name, out)) return false;
  }
  return true;
}

std::string Iso(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

// Forward auth: no per-address limit (every request of the shop comes from
// the proxy), no write; the identity also in headers for auth_request.
// Like every JSON answer, 200 and 401 are Cache-Control: no-store.
void Routes::WhoAmI(const Request& req, Response& res, std::string_view) const {
  auto user = signup_->WhoAmI(SessionCookie(req));
  if (!user.ok()) return ReplyError(req, res, user.status());
  res.set_header("X-Regd-User-Id", std::to_string(user->id));
  res.set_header("X-Regd-Username", user->username);
  ReplyOk(res,
          {{"user", {{"id", user->id}, {"username", user->username}, {"mobile", user->mobile}}}});
}

void Routes::LoginBySms(const Request& req, Response& res, std::string_view) const {
  if (Refused(req, res, account::Action::kLogin)) return;
  json body;
  std::string mobile, code;
  if (!ReadForm(req, {{"mobile", &mobile}, {"sms_code", &code}}, &body)) {
    return ReplyError(req, res, 400,
                      body.is_object() ? msg::kSmsLoginFieldTypes : msg::kBodyNotObject);
  }
  auto rem = body.find("remembered");
  if (rem != body.end() && !rem->is_boolean() && !rem->is_null()) {
    return ReplyError(req, res, 400, msg::kRememberedType);
  }
  bool remembered = rem != body.end() && rem->is_boolean() && rem->get<bool>();
  auto session = signup_->LoginBySms(mobile, code, remembered, Client(req));
  if (session.status().reason() == &msg::kLoginLocked) {
    metrics_->CountLimited(Limited::kLoginLocked);
  } else {
    metrics_->CountLogin(session.ok());
  }
  if (!session.ok()) return ReplyError(req, res, session.status());
  SetSessionCookies(req, res, *session);
  ReplyOk(res);
}

void Routes::ResetPassword(const Request& req, Response& res, std::string_view) const {
  if (Refused(req, res, account::Action::kLogin)) return;
  json body;
  account::ResetForm f;
  if (!ReadForm(req,
                {{"mobile", &f.mobile},
                 {"sms_code", &f.sms_code},
                 {"password", &f.password},
                 {"password2", &f.password2}},
                &body)) {
    return ReplyError(req, res, 400,
                      body.is_object() ? msg::kResetFieldTypes : msg::kBodyNotObject);
  }
  auto session = signup_->ResetPassword(f, Client(req));
  if (!session.ok()) return ReplyError(req, res, session.status());
  SetSessionCookies(req, res, *session);
  ReplyOk(res);
}

void Routes::ChangePassword(const Request& req, Response& res, std::string_view) const {
  if (Refused(req, res, account::Action::kLogin)) return;
  json body;
  account::PasswordChangeForm f;
  if (!ReadForm(req,
                {{"old_password", &f.old_password},
                 {"new_password", &f.new_password},
                 {"new_password2", &f.new_password2}},
                &body)) {
    return ReplyError(req, res, 400,
                      body.is_object() ? msg::kPasswordChangeFieldTypes : msg::kBodyNotObject);
  }
  Status s = signup_->ChangePassword(SessionCookie(req), f, ClientAddress(req));
  if (!s.ok()) return ReplyError(req, res, s);
  ClearSessionCookies(req, res);
  ReplyOk(res);
}

void Routes::ChangeMobile(const Request& req, Response& res, std::string_view) const {
  if (Refused(req, res, account::Action::kLogin)) return;
  json body;
  account::MobileChangeForm f;
  if (!ReadForm(req, {{"mobile", &f.mobile}, {"sms_code", &f.sms_code}, {"password", &f.password}},
                &body)) {
    return ReplyError(req, res, 400,
                      body.is_object() ? msg::kMobileChangeFieldTypes : msg::kBodyNotObject);
  }
  Status s = signup_->ChangeMobile(SessionCookie(req), f, ClientAddress(req));
  if (!s.ok()) return ReplyError(req, res, s);
  ReplyOk(res);
}

void Routes::ListSessions(const Request& req, Response& res, std::string_view) const {
  auto list = signup_->ListSessions(SessionCookie(req));
  if (!list.ok()) return ReplyError(req, res, list.status());
  json sessions = json::array();
  for (const account::SessionInfo& s : list->sessions) {
    sessions.push_back({{"id", s.handle},
                        {"created_at", Iso(s.created_ms)},
                        {"last_seen_at", Iso(s.last_seen_ms)},
                        {"ip", s.ip},
                        {"user_agent", s.user_agent},
                        {"current", s.handle == list->current}});
  }
  ReplyOk(res, {{"sessions", sessions}});  // Cache-Control: no-store, as every JSON answer
}

void Routes::EndSession(const Request& req, Response& res, std::string_view handle) const {
  auto ended = signup_->EndSession(SessionCookie(req), handle);
  if (!ended.ok()) return ReplyError(req, res, ended.status());
  if (*ended) ClearSessionCookies(req, res);  // this client's own: as at logout
  ReplyOk(res);
}

void Routes::EndOtherSessions(const Request& req, Response& res, std::string_view) const {
  Status s = signup_->EndOtherSessions(SessionCookie(req));
  if (!s.ok()) return ReplyError(req, res, s);
  ReplyOk(res);
}

}  // namespace regd::web
