#include "web/json_reply.h"

#include "storage/log.h"
#include "web/messages.h"

namespace regd::web {

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalid:
    case Status::Code::kWrongCredentials:
      return 400;
    case Status::Code::kUnauthorized:
      return 401;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kRateLimited:
      return 429;
    case Status::Code::kBusy:
    case Status::Code::kUnavailable:
    case Status::Code::kInternal:
    default:
      return 503;
  }
}

void ReplyError(httplib::Response& res, int http_status, std::string_view msg) {
  nlohmann::json body = {{"code", http_status}, {"errmsg", msg}};
  res.status = http_status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, const Status& s) {
  int http = HttpStatusFor(s);
  std::string msg = s.message();
  switch (s.code()) {
    case Status::Code::kBusy:
    case Status::Code::kUnavailable:
    case Status::Code::kInternal:
      LogError("request failed: %s", s.ToString().c_str());
      msg = s.code() == Status::Code::kBusy ? msg::kBusy.en : msg::kUnavailable.en;
      res.set_header("Retry-After", std::to_string(s.retry_after_s() > 0 ? s.retry_after_s() : 5));
      break;
    case Status::Code::kRateLimited:
      res.set_header("Retry-After", std::to_string(s.retry_after_s() > 0 ? s.retry_after_s() : 1));
      break;
    default:
      break;
  }
  ReplyError(res, http, msg);
}

void LocalizeError(const httplib::Request& req, httplib::Response& res) {
  if (res.status < 400 || res.get_header_value("Content-Type") != "application/json") return;
  auto body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("errmsg") || !body["errmsg"].is_string()) return;
  const Message* m = FindMessage(body["errmsg"].get<std::string>());
  if (m == nullptr) return;
  body["errmsg"] = Text(*m, PreferredLanguage(req.get_header_value("Accept-Language")));
  if (m->field != nullptr) body["field"] = m->field;
  res.set_content(body.dump(), "application/json");
}

void ReplyOk(httplib::Response& res, nlohmann::json extra) {
  nlohmann::json body = {{"code", 0}, {"errmsg", "ok"}};
  if (extra.is_object()) body.update(extra);
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

}  // namespace regd::web
