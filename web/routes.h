// Routes: the URL table of the public contract and one handler per route.
// Each handler parses the request (path parameter, query, JSON body, cookie),
// calls SignupService, and answers through json_reply.h. Unknown paths are a
// JSON 404 and a known path with another method a JSON 405 with Allow; a
// path a route matches is never looked up among the page's files.
//
// HEAD is a GET without the body, except on the two GETs that write (a new
// captcha, a queued SMS): HEAD must have no side effect (RFC 9110 9.2.1), so
// there it is a JSON 405 with Allow: GET and the handler never runs.
//
//   GET    /                              302 -> /register.html
//   GET    /<page file>                   the page's files (StaticFiles)
//   GET    /image_codes/<uuid>/           captcha PNG
//   GET    /sms_codes/<mobile>/           ?image_code=&image_code_id= (or uuid=)
//   GET    /usernames/<username>/count/   {"count": 0|1}
//   GET    /mobiles/<mobile>/count/       {"count": 0|1}
//   POST   /register/                     JSON form -> session cookies
//   POST   /login/                        JSON {username,password,remembered}
//   DELETE /logout/                       clears the session
//   GET    /info/                         {"info_data": {username, mobile}}
//   GET    /rules.json                    the field rules, for the page
//   GET    /healthz, /metrics
//
// Before routing, Dispatch applies the cross-origin policy (CSRF): a request
// that changes state (POST, PUT, PATCH, DELETE, and GET /sms_codes/, which
// sends an SMS) is refused with 403 when a browser says it comes from
// another site: Sec-Fetch-Site other than same-origin/none, or an Origin that
// is neither this host nor one of allowed_origins. Clients that send neither
// header (curl, server-to-server) are not browsers and pass. Allowed origins
// get CORS headers with credentials, and their preflight (OPTIONS) a 204.
//
// Each handler first asks AbuseGuard for its per-client token (captcha, sms,
// register, login, count) and answers 429 + Retry-After when there is none;
// login also checks and records the failure locks.
//
// Thread-safety: immutable after construction (AbuseGuard and Metrics are
// thread-safe); Dispatch runs on many HTTP threads at once.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "account/abuse_guard.h"
#include "account/signup_service.h"
#include "queue/consumer_pool.h"
#include "queue/job_queue.h"
#include "web/metrics.h"
#include "web/static_files.h"

namespace regd::web {

struct RouteOptions {
  bool cookie_secure = false;  // add Secure to the cookies (behind TLS)
  // Behind a reverse proxy: the client is the last X-Forwarded-For entry,
  // and X-Forwarded-Proto: https makes cookies Secure.
  bool trust_proxy = false;
  std::vector<std::string> allowed_origins;  // "https://shop.example", no trailing '/'
};

class Routes {
 public:
  Routes(account::SignupService* signup, const StaticFiles* files, Metrics* metrics,
         queue::JobQueue* queue, const queue::ConsumerStats* consumer_stats,
         account::AbuseGuard* guard, RouteOptions options);

  // The client's address: the peer, or behind a trusted proxy the last
  // X-Forwarded-For entry (all lines, as sent) when it is a plain IPv4 or
  // IPv6 address; anything else counts as the proxy's own address (fail
  // closed), logged at most once a minute.
  std::string ClientAddress(const httplib::Request& req) const;

  // Answers any request (every method and path come here).
  void Dispatch(const httplib::Request& req, httplib::Response& res) const;

 private:
  using Handler = void (Routes::*)(const httplib::Request&, httplib::Response&,
                                   std::string_view param) const;
  // Whether a route changes state; HEAD runs only routes that do not.
  enum class Effect { kReads, kWrites };
  struct Route {
    std::string method;
    std::string prefix;  // the path before the parameter (or the whole path)
    std::string suffix;  // after the parameter; only with has_param
    bool has_param;
    Handler handler;
    Effect effect = Effect::kReads;
  };

  void Index(const httplib::Request&, httplib::Response&, std::string_view) const;
  void ImageCode(const httplib::Request&, httplib::Response&, std::string_view uuid) const;
  void SmsCode(const httplib::Request&, httplib::Response&, std::string_view mobile) const;
  void UsernameCount(const httplib::Request&, httplib::Response&, std::string_view u) const;
  void MobileCount(const httplib::Request&, httplib::Response&, std::string_view m) const;
  void Register(const httplib::Request&, httplib::Response&, std::string_view) const;
  void Login(const httplib::Request&, httplib::Response&, std::string_view) const;
  void Logout(const httplib::Request&, httplib::Response&, std::string_view) const;
  void Info(const httplib::Request&, httplib::Response&, std::string_view) const;
  void WhoAmI(const httplib::Request&, httplib::Response&, std::string_view) const;
  void Rules(const httplib::Request&, httplib::Response&, std::string_view) const;
  void Healthz(const httplib::Request&, httplib::Response&, std::string_view) const;
  void MetricsPage(const httplib::Request&, httplib::Response&, std::string_view) const;
  // The account by SMS (account_routes.cc).
  void LoginBySms(const httplib::Request&, httplib::Response&, std::string_view) const;
  void ResetPassword(const httplib::Request&, httplib::Response&, std::string_view) const;
  void ChangePassword(const httplib::Request&, httplib::Response&, std::string_view) const;
  void ChangeMobile(const httplib::Request&, httplib::Response&, std::string_view) const;
  void ListSessions(const httplib::Request&, httplib::Response&, std::string_view) const;
  void EndOtherSessions(const httplib::Request&, httplib::Response&, std::string_view) const;
  void EndSession(const httplib::Request&, httplib::Response&, std::string_view handle) const;
  // Serves a page file for GET/HEAD; false when there is none.
  bool ServeFile(const httplib::Request& req, httplib::Response& res) const;
  void SetSessionCookies(const httplib::Request& req, httplib::Response& res,
                         const account::Session& session) const;
  void ClearSessionCookies(const httplib::Request& req, httplib::Response& res) const;
  std::string CookieAttributes(const httplib::Request& req) const;  // "; Secure" or ""
  std::string SessionCookie(const httplib::Request& req) const;     // the sessionid cookie
  account::SessionClient Client(const httplib::Request& req) const;
  // Takes action's token for the client; on refusal answers 429 and returns true.
  bool Refused(const httplib::Request& req, httplib::Response& res, account::Action action) const;
  // The CSRF/CORS policy above; true when it answered (refusal or preflight).
  bool CrossOrigin(const httplib::Request& req, httplib::Response& res) const;
  bool AllowedOrigin(std::string_view origin) const;

  account::SignupService* const signup_;
  const StaticFiles* const files_;
  Metrics* const metrics_;
  queue::JobQueue* const queue_;
  const queue::ConsumerStats* const consumer_stats_;
  account::AbuseGuard* const guard_;
  const RouteOptions options_;
  std::vector<Route> routes_;
};

// Whether text is a plain IPv4 or IPv6 address (no port, brackets or zone).
bool IsPlainAddress(std::string_view text);

// Request bodies: a JSON object no deeper than kMaxJsonDepth (never throws),
// and a string field of it (false if present with another type; absent or
// null -> "").
inline constexpr int kMaxJsonDepth = 16;
bool ParseJsonObject(const std::string& body, nlohmann::json* out);
bool StringField(const nlohmann::json& j, const char* name, std::string* out);

// The value of cookie `name` in a Cookie header, or "" if absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace regd::web
