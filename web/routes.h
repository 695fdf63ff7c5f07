// Routes: the URL table of the public contract and one handler per route.
// Each handler parses the request (path parameter, query, JSON body, cookie),
// calls SignupService, and answers through json_reply.h. Unknown paths are a
// JSON 404 and a known path with another method a JSON 405 with Allow.
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
// Thread-safety: immutable after construction; Dispatch runs on many HTTP
// threads at once.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/consumer_pool.h"
#include "queue/job_queue.h"
#include "web/metrics.h"
#include "web/signup_service.h"
#include "web/static_files.h"

namespace regd::web {

struct RouteOptions {
  bool cookie_secure = false;  // add Secure to the cookies (behind TLS)
};

class Routes {
 public:
  Routes(SignupService* signup, const StaticFiles* files, Metrics* metrics, queue::JobQueue* queue,
         const queue::ConsumerStats* consumer_stats, RouteOptions options);

  // Answers any request (every method and path come here).
  void Dispatch(const httplib::Request& req, httplib::Response& res) const;

 private:
  using Handler = void (Routes::*)(const httplib::Request&, httplib::Response&,
                                   std::string_view param) const;
  struct Route {
    std::string method;
    std::string prefix;  // the path before the parameter (or the whole path)
    std::string suffix;  // after the parameter; only with has_param
    bool has_param;
    Handler handler;
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
  void Rules(const httplib::Request&, httplib::Response&, std::string_view) const;
  void Healthz(const httplib::Request&, httplib::Response&, std::string_view) const;
  void MetricsPage(const httplib::Request&, httplib::Response&, std::string_view) const;
  // Serves a page file for GET/HEAD; false when there is none.
  bool ServeFile(const httplib::Request& req, httplib::Response& res) const;
  void SetSessionCookies(httplib::Response& res, const Session& session) const;

  SignupService* const signup_;
  const StaticFiles* const files_;
  Metrics* const metrics_;
  queue::JobQueue* const queue_;
  const queue::ConsumerStats* const consumer_stats_;
  const RouteOptions options_;
  std::vector<Route> routes_;
};

// The value of cookie `name` in a Cookie header, or "" if absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace regd::web
