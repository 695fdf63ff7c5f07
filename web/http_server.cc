#include "web/http_server.h"

#include <chrono>
#include <cstdio>

#include "account/messages.h"
#include "sms/mobile_mask.h"
#include "storage/log.h"
#include "web/json_reply.h"

namespace regd::web {

namespace msg = account::msg;
namespace {

const Message& ReasonFor(int status) {
  switch (status) {
    case 400:
      return msg::kBadRequest;
    case 404:
      return msg::kNotFound;
    case 405:
      return msg::kMethodNotAllowed;
    case 408:
      return msg::kRequestTimeout;
    case 413:
      return msg::kBodyTooLarge;
    case 414:
      return msg::kUriTooLong;
    case 416:
      return msg::kRangeNotSatisfiable;
    case 431:
      return msg::kHeadersTooLarge;
    default:
      return msg::kRequestFailed;
  }
}

// When the request on this thread reached routing (httplib serves a whole
// request on one pool thread, from routing to the logger).
thread_local std::chrono::steady_clock::time_point t_request_start;

// The path as logged: runs of 7 or more digits (mobile numbers in
// /sms_codes/<mobile>/ and /mobiles/<mobile>/count/) are masked.
std::string PathForLog(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = i;
    while (j < path.size() && path[j] >= '0' && path[j] <= '9') ++j;
    if (j - i >= 7) {
      out += sms::MaskMobile(std::string_view(path).substr(i, j - i));
      i = j;
    } else if (j > i) {
      out.append(path, i, j - i);
      i = j;
    } else {
      out += path[i++];
    }
  }
  return out;
}

// regd ignores Range headers (RFC 9110 lets a server ignore them): every
// answer is whole, with Accept-Ranges: none. httplib 0.11 applies a request's
// parsed ranges to whatever answer is written, errors included (a 404 cut to
// `{"code":40`), and serves any number of them (a 6 KB header of "0-,0-,..."
// turned a 4 KB page into a 4 MB answer). So the parsed ranges are dropped
// before any answer is written. Handlers see httplib's Request as const, but
// it is process_request's own non-const local, so clearing it is defined.
// An unparseable Range header is still answered 416 by httplib, before
// routing (a JSON error through the error handler).
void IgnoreRanges(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).ranges.clear();
}

// httplib's error handler: its own errors (bad request line, 413, 414,
// 431, ...) and any handler status >= 400 without a body become the JSON
// error for that status (a 500 becomes a 503); a parse error closes the
// connection, since the rest of its bytes are not a request.
void ReplyHttplibError(const httplib::Request& req, httplib::Response& res) {
  IgnoreRanges(req);
  if (!res.body.empty()) return;
  int status = res.status == 500 ? 503 : res.status;
  if (status == 400 && EventServer::Refusal() != 0) status = EventServer::Refusal();
  if (status == 400 || status == 408 || status == 413 || status == 414 || status == 431) {
    res.set_header("Connection", "close");
    EventServer::CloseAfterThisRequest();
  }
  ReplyError(req, res, status, ReasonFor(status));
}

// httplib's exception handler: an exception escaping a handler is logged
// (method, path, what()) and answered 503 + Retry-After: 5 in the JSON
// shape, its headers dropped; nothing about it reaches the client.
void ReplyEscapedException(const httplib::Request& req, httplib::Response& res,
                           std::exception_ptr ep) {
  std::string what = "unknown exception";
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  LogError("exception in %s %s: %s", req.method.c_str(), req.path.c_str(), what.c_str());
  res.headers.clear();
  res.set_header("Retry-After", "5");
  ReplyError(req, res, 503, msg::kUnavailable);
}

}  // namespace

EventServerOptions EventOptionsFrom(const HttpOptions& o) {
  EventServerOptions e;
  e.host = o.host;
  e.port = o.port;
  e.threads = o.threads > 0 ? o.threads : 64;
  e.read_timeout_ms = o.read_timeout_s * 1000;
  e.write_timeout_ms = o.write_timeout_s * 1000;
  e.keep_alive_timeout_ms = o.keep_alive_timeout_s * 1000;
  e.keep_alive_max_requests = o.keep_alive_max_requests;
  e.max_connections = o.max_connections;
  e.max_per_client = o.max_per_client;
  e.frame.max_head_bytes = o.max_head_bytes;
  e.frame.max_body_bytes = o.max_body_bytes;
  return e;
}

HttpServer::HttpServer(const Routes* routes, Metrics* metrics, HttpOptions options)
    : routes_(routes),
      metrics_(metrics),
      options_(std::move(options)),
      server_(std::make_unique<EventServer>(EventOptionsFrom(options_))) {
  using httplib::Request;
  using httplib::Response;
  EventServer::Router& router = server_->router();
  auto dispatch = [this](const Request& req, Response& res) { Dispatch(req, res); };
  auto with_body = httplib::Server::HandlerWithContentReader(
      [this](const Request& req, Response& res, const httplib::ContentReader& reader) {
        DispatchWithBody(req, res, reader);
      });
  router.Get(".*", dispatch);
  router.Post(".*", with_body);
  router.Put(".*", with_body);
  router.Patch(".*", with_body);
  router.Delete(".*", with_body);
  router.Options(".*", dispatch);
  router.set_pre_routing_handler(
      [this](const Request& req, Response& res) { return PreRoute(req, res); });
  router.set_error_handler(ReplyHttplibError);
  router.set_exception_handler(ReplyEscapedException);
  router.set_post_routing_handler(
      [this](const Request&, Response& res) { AddResponseHeaders(res); });
  router.set_logger([this](const Request& req, const Response& res) { LogAnswer(req, res); });
}

void HttpServer::Dispatch(const httplib::Request& req, httplib::Response& res) const {
  routes_->Dispatch(req, res);
}

// httplib 0.11 checks its payload limit against Content-Length only, so a
// chunked body would otherwise be read whole, however large.
void HttpServer::DispatchWithBody(const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) const {
  const size_t limit = options_.max_body_bytes;
  bool too_big = req.get_header_value<uint64_t>("Content-Length") > limit;
  std::string body;
  if (!too_big) {
    reader([&](const char* data, size_t n) {
      if (body.size() + n > limit) {
        too_big = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
  }
  if (too_big) {  // (the connection code refuses these first; kept as a second bound)
    res.set_header("Connection", "close");
    EventServer::CloseAfterThisRequest();
    ReplyError(req, res, 413, ReasonFor(413));
    return;
  }
  httplib::Request copy = req;
  copy.body = std::move(body);
  Dispatch(copy, res);
}

httplib::Server::HandlerResponse HttpServer::PreRoute(const httplib::Request& req,
                                                      httplib::Response& res) const {
  t_request_start = std::chrono::steady_clock::now();
  IgnoreRanges(req);
  // Refused by the connection code before parsing (bad framing, a body or
  // head over the limit, too slow), with a head httplib could parse:
  // answered here, before any body is read or any route runs.
  if (int refusal = EventServer::Refusal(); refusal != 0) {
    res.set_header("Connection", "close");
    ReplyError(req, res, refusal, ReasonFor(refusal));
    return httplib::Server::HandlerResponse::Handled;
  }
  // Methods httplib parses but does not route (TRACE, CONNECT, PRI) would be
  // a bare 400; they go through the same table, for a JSON 405/404.
  static const char* const kRouted[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (const char* m : kRouted) {
    if (req.method == m) return httplib::Server::HandlerResponse::Unhandled;
  }
  Dispatch(req, res);
  return httplib::Server::HandlerResponse::Handled;
}

void HttpServer::AddResponseHeaders(httplib::Response& res) const {
  res.headers.erase("Accept-Ranges");       // httplib offers "bytes" on HEAD
  res.set_header("Accept-Ranges", "none");  // see IgnoreRanges
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "same-origin");
  if (res.get_header_value("Content-Type").rfind("text/html", 0) == 0) {
    if (!options_.content_security_policy.empty()) {
      res.set_header("Content-Security-Policy", options_.content_security_policy);
    }
    res.set_header("X-Frame-Options", "DENY");
  }
}

// req.path never holds the query string, where a captcha answer travels.
void HttpServer::LogAnswer(const httplib::Request& req, const httplib::Response& res) const {
  metrics_->CountRequest(res.status);
  double ms = 0;  // httplib's own early errors (bad request line) are not timed
  if (t_request_start != std::chrono::steady_clock::time_point()) {
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                   t_request_start)
             .count();
    t_request_start = {};
  }
  if (options_.access_log) {
    std::string path = PathForLog(req.path);
    char text[64];
    std::snprintf(text, sizeof(text), " %d %.1f ms", res.status, ms);
    LogEvent(LogLevel::kInfo, req.method + " " + path + text,
             {{"method", req.method},
              {"path", path},
              {"status", int64_t{res.status}},
              {"duration_ms", ms}});
  }
  if (options_.on_answer) options_.on_answer(req, res);
}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Bind() { return server_->Bind(); }

bool HttpServer::Serve() { return server_->Serve(); }

void HttpServer::Stop() { server_->Stop(); }

}  // namespace regd::web
