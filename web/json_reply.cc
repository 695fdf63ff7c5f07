#include "web/json_reply.h"

#include "account/messages.h"
#include "storage/log.h"

namespace regd::web {

using account::Lang;
using account::PreferredLanguage;
using account::Text;
namespace msg = account::msg;

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalid:
    case Status::Code::kWrongCredentials:
      return 400;
    case Status::Code::kUnauthorized:
      return 401;
    case Status::Code::kForbidden:
      return 403;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kRateLimited:
      return 429;
    case Status::Code::kBusy:
    case Status::Code::kFull:
    case Status::Code::kUnavailable:
    case Status::Code::kInternal:
    default:
      return 503;
  }
}

namespace {

void WriteError(httplib::Response& res, int http_status, std::string_view text, const char* field) {
  nlohmann::json body = {{"code", http_status}, {"errmsg", text}};
  if (field != nullptr) body["field"] = field;
  res.status = http_status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

Lang LanguageOf(const httplib::Request& req) {
  return PreferredLanguage(req.get_header_value("Accept-Language"));
}

}  // namespace

void ReplyError(const httplib::Request& req, httplib::Response& res, int http_status,
                const Message& why) {
  WriteError(res, http_status, Text(why, LanguageOf(req)), why.field);
}

void ReplyError(const httplib::Request& req, httplib::Response& res, const Status& s) {
  int http = HttpStatusFor(s);
  const Message* why = s.reason();
  switch (s.code()) {
    case Status::Code::kBusy:
    case Status::Code::kFull:
    case Status::Code::kUnavailable:
    case Status::Code::kInternal:
      LogError("request failed: %s", s.ToString().c_str());
      why = s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kInternal
                ? &msg::kUnavailable
                : &msg::kBusy;
      res.set_header("Retry-After", std::to_string(s.retry_after_s() > 0 ? s.retry_after_s() : 5));
      break;
    case Status::Code::kRateLimited:
      res.set_header("Retry-After", std::to_string(s.retry_after_s() > 0 ? s.retry_after_s() : 1));
      break;
    default:
      break;
  }
  if (why != nullptr) return ReplyError(req, res, http, *why);
  WriteError(res, http, s.message(), nullptr);  // a rule's own text (no table entry)
}

void ReplyOk(httplib::Response& res, nlohmann::json extra) {
  nlohmann::json body = {{"code", 0}, {"errmsg", "ok"}};
  if (extra.is_object()) body.update(extra);
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

}  // namespace regd::web
