#include "web/routes.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "account/messages.h"
#include "account/rules.h"
#include "storage/log.h"
#include "web/json_reply.h"

namespace regd::web {

using account::AbuseGuard;
using account::Action;
using account::RegisterForm;
using account::RulesJson;
using account::Session;
using account::SignupService;
namespace msg = account::msg;

using httplib::Request;
using httplib::Response;
using nlohmann::json;

bool ParseJsonObject(const std::string& body, json* out) {
  bool too_deep = false;
  json::parser_callback_t limit = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth > kMaxJsonDepth) too_deep = true;
    return !too_deep;
  };
  *out = json::parse(body, limit, /*allow_exceptions=*/false);
  return !too_deep && !out->is_discarded() && out->is_object();
}

bool StringField(const json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view part = header.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
    pos = end + 1;
  }
  return "";
}

Routes::Routes(SignupService* signup, const StaticFiles* files, Metrics* metrics,
               queue::JobQueue* queue, const queue::ConsumerStats* consumer_stats,
               AbuseGuard* guard, RouteOptions options)
    : signup_(signup),
      files_(files),
      metrics_(metrics),
      queue_(queue),
      consumer_stats_(consumer_stats),
      guard_(guard),
      options_(std::move(options)) {
  routes_ = {
      {"GET", "/", "", false, &Routes::Index},
      {"GET", "/image_codes/", "/", true, &Routes::ImageCode, Effect::kWrites},
      {"GET", "/sms_codes/", "/", true, &Routes::SmsCode, Effect::kWrites},
      {"GET", "/usernames/", "/count/", true, &Routes::UsernameCount},
      {"GET", "/mobiles/", "/count/", true, &Routes::MobileCount},
      {"POST", "/register/", "", false, &Routes::Register},
      {"POST", "/login/", "", false, &Routes::Login},
      {"DELETE", "/logout/", "", false, &Routes::Logout},
      {"GET", "/info/", "", false, &Routes::Info},
      {"GET", "/whoami", "", false, &Routes::WhoAmI},
      {"POST", "/login/sms/", "", false, &Routes::LoginBySms},
      {"POST", "/password/reset/", "", false, &Routes::ResetPassword},
      {"PUT", "/password/", "", false, &Routes::ChangePassword},
      {"PUT", "/mobile/", "", false, &Routes::ChangeMobile},
      {"GET", "/sessions/", "", false, &Routes::ListSessions},
      {"DELETE", "/sessions/", "", false, &Routes::EndOtherSessions},
      {"DELETE", "/sessions/", "/", true, &Routes::EndSession},
      {"GET", "/rules.json", "", false, &Routes::Rules},
      {"GET", "/healthz", "", false, &Routes::Healthz},
      {"GET", "/metrics", "", false, &Routes::MetricsPage},
  };
}

std::string Routes::ClientAddress(const Request& req) const {
  if (!options_.trust_proxy) return req.remote_addr;
  // Every X-Forwarded-For line as sent, joined (EventServer gives handlers
  // the raw header lines; httplib alone would percent-decode the value, cut
  // it at a %00 and show only the first line). The last entry is the one
  // the proxy added.
  const std::string xff = req.get_header_value("X-Forwarded-For");
  if (xff.empty()) return req.remote_addr;
  size_t comma = xff.rfind(',');
  std::string_view last = std::string_view(xff).substr(comma == std::string::npos ? 0 : comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
  if (IsPlainAddress(last)) return std::string(last);
  // Not an address: fail closed, as if the proxy itself had asked.
  static std::atomic<int64_t> last_warned_ms{-60000};
  const int64_t now = signup_->clock()->NowMs();
  int64_t prev = last_warned_ms.load();
  if (now - prev >= 60000 && last_warned_ms.compare_exchange_strong(prev, now)) {
    LogWarn(
        "X-Forwarded-For ends in \"%.64s\", not an IP address: the request counts as the "
        "proxy's own (%s); is the proxy setting the header? (logged once a minute)",
        std::string(last).c_str(), req.remote_addr.c_str());
  }
  return req.remote_addr;
}

bool IsPlainAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  std::string s(text);
  unsigned char bytes[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), bytes) == 1 || inet_pton(AF_INET6, s.c_str(), bytes) == 1;
}

bool Routes::AllowedOrigin(std::string_view origin) const {
  for (const std::string& o : options_.allowed_origins) {
    if (o.size() == origin.size() &&
        std::equal(o.begin(), o.end(), origin.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

bool Routes::CrossOrigin(const Request& req, Response& res) const {
  const std::string origin = req.get_header_value("Origin");
  const bool allowed = !origin.empty() && AllowedOrigin(origin);
  if (allowed) {
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Access-Control-Allow-Credentials", "true");
    res.set_header("Vary", "Origin");
  }
  auto refuse = [&] {
    metrics_->CountLimited(Limited::kCrossOrigin);
    ReplyError(req, res, 403, msg::kCrossOrigin);
    return true;
  };
  if (req.method == "OPTIONS" && req.has_header("Access-Control-Request-Method")) {
    if (!allowed) return refuse();
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
    res.set_header("Access-Control-Allow-Headers", "Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    return true;
  }
  const bool changes_state = req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
                             req.method == "DELETE" || req.path.rfind("/sms_codes/", 0) == 0;
  if (!changes_state || allowed) return false;
  const std::string site = req.get_header_value("Sec-Fetch-Site");
  if (site == "same-origin" || site == "none") return false;
  if (!origin.empty()) {
    // Same origin when the Origin's host[:port] is the Host the client used.
    size_t scheme = origin.find("://");
    std::string host = req.get_header_value("Host");
    std::string origin_host = scheme == std::string::npos ? "" : origin.substr(scheme + 3);
    bool same = !host.empty() && origin_host.size() == host.size() &&
                std::equal(host.begin(), host.end(), origin_host.begin(), [](char a, char b) {
                  return std::tolower(static_cast<unsigned char>(a)) ==
                         std::tolower(static_cast<unsigned char>(b));
                });
    return same && site.empty() ? false : refuse();
  }
  return site.empty() ? false : refuse();  // neither header: not a browser
}

bool Routes::Refused(const Request& req, Response& res, Action action) const {
  if (guard_ == nullptr) return false;
  int64_t wait_ms = guard_->Allow(action, ClientAddress(req), signup_->clock()->NowMs());
  if (wait_ms == 0) return false;
  static constexpr Limited kWhy[] = {Limited::kIpCaptcha, Limited::kIpSms, Limited::kIpRegister,
                                     Limited::kIpLogin, Limited::kIpCount};
  metrics_->CountLimited(kWhy[static_cast<int>(action)]);
  ReplyError(req, res, Status::RateLimited(msg::kTooManyRequests, (wait_ms + 999) / 1000));
  return true;
}

void Routes::Dispatch(const Request& req, Response& res) const {
  if (CrossOrigin(req, res)) return;
  const std::string& path = req.path;
  std::string method = req.method == "HEAD" ? "GET" : req.method;
  std::string allowed;
  for (const Route& r : routes_) {
    std::string_view param;
    if (r.has_param) {
      if (path.size() <= r.prefix.size() + r.suffix.size() || path.rfind(r.prefix, 0) != 0 ||
          path.compare(path.size() - r.suffix.size(), r.suffix.size(), r.suffix) != 0) {
        continue;
      }
      param = std::string_view(path).substr(r.prefix.size(),
                                            path.size() - r.prefix.size() - r.suffix.size());
      if (param.find('/') != std::string_view::npos) continue;
    } else if (path != r.prefix) {
      continue;
    }
    const bool head_writes = req.method == "HEAD" && r.effect == Effect::kWrites;
    if (r.method != method || head_writes) {
      allowed += (allowed.empty() ? "" : ", ") + r.method;
      if (r.method == "GET" && r.effect == Effect::kReads) allowed += ", HEAD";
      continue;
    }
    (this->*r.handler)(req, res, param);
    return;
  }
  // A path a route matched is never looked up among the page's files.
  if (!allowed.empty()) {
    res.set_header("Allow", allowed);
    ReplyError(req, res, 405, msg::kMethodNotAllowed);
    return;
  }
  if (method == "GET" && ServeFile(req, res)) return;
  if (files_->Find(path)) {
    res.set_header("Allow", "GET, HEAD");
    ReplyError(req, res, 405, msg::kMethodNotAllowed);
    return;
  }
  ReplyError(req, res, 404, msg::kNotFound);
}

bool Routes::ServeFile(const Request& req, Response& res) const {
  auto file = files_->Find(req.path);
  if (!file) return false;
  res.set_header("ETag", file->etag);
  res.set_header("Cache-Control", "no-cache");  // revalidate with the ETag each time
  if (req.get_header_value("If-None-Match") == file->etag) {
    res.status = 304;
    return true;
  }
  res.status = 200;
  res.set_content(file->data, file->content_type.c_str());
  return true;
}

void Routes::Index(const Request&, Response& res, std::string_view) const {
  res.set_redirect("/register.html", 302);
}

void Routes::ImageCode(const Request& req, Response& res, std::string_view uuid) const {
  if (Refused(req, res, Action::kCaptcha)) return;
  auto png = signup_->NewCaptcha(uuid);
  if (!png.ok()) return ReplyError(req, res, png.status());
  res.set_header("Cache-Control", "no-store");
  res.set_content(*png, "image/png");
}

void Routes::SmsCode(const Request& req, Response& res, std::string_view mobile) const {
  if (Refused(req, res, Action::kSms)) return;
  std::string id = req.get_param_value("image_code_id");
  if (id.empty()) id = req.get_param_value("uuid");
  auto purpose = account::ParseCodePurpose(req.get_param_value("purpose"));
  if (!purpose.ok()) return ReplyError(req, res, purpose.status());
  Status s = signup_->SendSmsCode(mobile, req.get_param_value("image_code"), id, *purpose,
                                  SessionCookie(req));
  if (!s.ok()) {
    if (s.reason() == &msg::kSmsBudgetSpent) metrics_->CountLimited(Limited::kSmsBudget);
    if (s.reason() == &msg::kSmsMobileDailyCap) metrics_->CountLimited(Limited::kSmsMobileDay);
    return ReplyError(req, res, s);
  }
  metrics_->CountSmsRequested();
  res.set_header("Retry-After",
                 std::to_string(signup_->options().send_interval_ms / 1000));  // for the countdown
  ReplyOk(res);
}

void Routes::UsernameCount(const Request& req, Response& res, std::string_view username) const {
  if (Refused(req, res, Action::kCount)) return;
  auto taken = signup_->UsernameTaken(username);
  if (!taken.ok()) return ReplyError(req, res, taken.status());
  ReplyOk(res, {{"count", *taken ? 1 : 0}});
}

void Routes::MobileCount(const Request& req, Response& res, std::string_view mobile) const {
  if (Refused(req, res, Action::kCount)) return;
  auto taken = signup_->MobileTaken(mobile);
  if (!taken.ok()) return ReplyError(req, res, taken.status());
  ReplyOk(res, {{"count", *taken ? 1 : 0}});
}

void Routes::Register(const Request& req, Response& res, std::string_view) const {
  if (Refused(req, res, Action::kRegister)) return;
  json body;
  if (!ParseJsonObject(req.body, &body)) {
    return ReplyError(req, res, 400, msg::kBodyNotObject);
  }
  RegisterForm form;
  if (!StringField(body, "username", &form.username) ||
      !StringField(body, "password", &form.password) ||
      !StringField(body, "password2", &form.password2) ||
      !StringField(body, "mobile", &form.mobile) ||
      !StringField(body, "sms_code", &form.sms_code)) {
    return ReplyError(req, res, 400, msg::kRegisterFieldTypes);
  }
  auto allow = body.find("allow");
  form.allow = allow != body.end() && allow->is_boolean() && allow->get<bool>();
  auto session = signup_->Register(form, Client(req));
  if (!session.ok()) return ReplyError(req, res, session.status());
  metrics_->CountRegistered();
  SetSessionCookies(req, res, *session);
  ReplyOk(res);
}

void Routes::Login(const Request& req, Response& res, std::string_view) const {
  if (Refused(req, res, Action::kLogin)) return;
  json body;
  if (!ParseJsonObject(req.body, &body)) {
    return ReplyError(req, res, 400, msg::kBodyNotObject);
  }
  std::string username, password;
  if (!StringField(body, "username", &username) || !StringField(body, "password", &password)) {
    return ReplyError(req, res, 400, msg::kLoginFieldTypes);
  }
  auto rem = body.find("remembered");
  if (rem != body.end() && !rem->is_boolean() && !rem->is_null()) {
    return ReplyError(req, res, 400, msg::kRememberedType);
  }
  bool remembered = rem != body.end() && rem->is_boolean() && rem->get<bool>();
  // The login locks are the domain's (SignupService::Login, AbuseGuard).
  auto session = signup_->Login(username, password, remembered, ClientAddress(req),
                                req.get_header_value("User-Agent"));
  if (session.status().reason() == &msg::kLoginLocked) {
    metrics_->CountLimited(Limited::kLoginLocked);
  } else {
    metrics_->CountLogin(session.ok());
  }
  if (!session.ok()) return ReplyError(req, res, session.status());
  SetSessionCookies(req, res, *session);
  ReplyOk(res);
}

void Routes::Logout(const Request& req, Response& res, std::string_view) const {
  Status s = signup_->Logout(SessionCookie(req));
  if (!s.ok()) return ReplyError(req, res, s);
  ClearSessionCookies(req, res);
  ReplyOk(res);
}

void Routes::ClearSessionCookies(const Request& req, Response& res) const {
  std::string secure = CookieAttributes(req);
  res.set_header("Set-Cookie", "sessionid=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0" + secure);
  res.set_header("Set-Cookie", "username=; SameSite=Lax; Path=/; Max-Age=0" + secure);
}

std::string Routes::SessionCookie(const Request& req) const {
  return CookieValue(req.get_header_value("Cookie"), "sessionid");
}

account::SessionClient Routes::Client(const Request& req) const {
  return {ClientAddress(req), req.get_header_value("User-Agent")};
}

void Routes::Info(const Request& req, Response& res, std::string_view) const {
  auto user = signup_->SessionUser(SessionCookie(req));
  if (!user.ok()) return ReplyError(req, res, user.status());
  ReplyOk(res, {{"info_data", {{"username", user->username}, {"mobile", user->mobile}}}});
}

void Routes::Rules(const Request&, Response& res, std::string_view) const {
  res.set_header("Cache-Control", "no-cache");
  res.set_content(RulesJson(), "application/json");
}

void Routes::Healthz(const Request& req, Response& res, std::string_view) const {
  Status s = signup_->Health();
  if (!s.ok()) return ReplyError(req, res, Status::Unavailable(s.ToString()));
  res.set_header("Cache-Control", "no-store");
  res.set_content(R"({"status":"ok"})", "application/json");
}

void Routes::MetricsPage(const Request&, Response& res, std::string_view) const {
  res.set_header("Cache-Control", "no-store");
  metrics_->SetSmsBudgetPausedUntil(signup_->BudgetPausedUntilMs(), signup_->clock()->NowMs());
  res.set_content(metrics_->Render(queue_, consumer_stats_), "text/plain; version=0.0.4");
}

std::string Routes::CookieAttributes(const Request& req) const {
  bool tls = options_.cookie_secure ||
             (options_.trust_proxy && req.get_header_value("X-Forwarded-Proto") == "https");
  return tls ? "; Secure" : "";
}

void Routes::SetSessionCookies(const Request& req, Response& res, const Session& session) const {
  std::string max_age =
      session.max_age_s > 0 ? "; Max-Age=" + std::to_string(session.max_age_s) : "";
  std::string secure = CookieAttributes(req);
  res.set_header("Set-Cookie",
                 "sessionid=" + session.id + "; HttpOnly; SameSite=Lax; Path=/" + max_age + secure);
  // Not HttpOnly: the seed's page reads it to greet the user.
  res.set_header("Set-Cookie",
                 "username=" + session.username + "; SameSite=Lax; Path=/" + max_age + secure);
}

}  // namespace regd::web
