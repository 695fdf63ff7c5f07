// HttpServer: the HTTP front of regd, built on cpp-httplib. It owns the
// listening socket and the request thread pool, applies the limits that keep
// slow or hostile clients from tying up threads, adds security headers, logs
// one line per request (method, path without its query string and with
// mobiles masked, status, duration in ms; storage/log.h chooses text or
// JSON), and hands every request to Routes::Dispatch.
//
// Every answer is JSON or a page file: httplib's own errors (bad request
// line, 413 body too large, ...) and any exception escaping a handler become
// {"code","errmsg"} responses through the error and exception handlers; no
// status 500 is ever sent (an escaped exception is a 503). Range headers
// are ignored (answers are whole, Accept-Ranges: none; see IgnoreRanges in
// the .cc); only an unparseable one is refused (416).
//
// Connections are EventServer's (web/event_server.h): idle and incomplete
// ones wait in epoll, only a whole request holds one of `threads` request
// threads, and every header is seen as the client sent it. Limits: body
// 16 KiB (413), the request line 8 KiB (414) and each header line 8 KiB
// (431; both httplib's compile-time limits, checked first by RequestFramer
// so the answer names them), the whole head 32 KiB (431), framing
// checked before parsing (RequestFramer; 400), a whole request within 5 s
// of its first byte (408) and its answer within 5 s, keep-alive 5 s idle
// (1 s under pressure) and 100 requests per connection, max_connections in
// all and max_per_client from one address (503), a listen backlog of 1024.
// Every refused, timed-out or unparseable request closes its connection.
//
// Thread-safety: Bind, then Serve on one thread; Stop from any thread.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "storage/status.h"
#include "web/event_server.h"
#include "web/metrics.h"
#include "web/routes.h"

namespace regd::web {

// The built-in page's policy: scripts and styles only from its own files (no
// inline script, no eval), no framing.
inline constexpr const char* kStrictContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: pick a free port
  int threads = 64;
  size_t max_body_bytes = 16 * 1024;
  int read_timeout_s = 5;   // a whole request, from its first byte
  int write_timeout_s = 5;  // a whole answer
  int keep_alive_timeout_s = 5;
  int keep_alive_max_requests = 100;
  size_t max_head_bytes = 32 * 1024;  // request line + headers: 431
  int max_connections = 4096;         // open at once, in all
  int max_per_client = 64;            // from one client address; 0: no cap
  bool access_log = true;
  // The Content-Security-Policy header of every text/html answer (beside
  // X-Frame-Options: DENY, always sent); empty: none.
  std::string content_security_policy = kStrictContentSecurityPolicy;
  // Called with every answer once it is written, after the access log line,
  // on the request's thread. For tests and the wire fuzzer; empty in regd.
  std::function<void(const httplib::Request&, const httplib::Response&)> on_answer;
};

class HttpServer {
 public:
  HttpServer(const Routes* routes, Metrics* metrics, HttpOptions options);
  ~HttpServer();

  // Binds the socket; returns the port (the chosen one when options.port is 0).
  Result<int> Bind();
  // Serves until Stop. Returns false if the server failed.
  bool Serve();
  // Stops accepting and waits for requests in progress to finish.
  void Stop();
  // Serves one connected socket (e.g. one end of a socketpair) on the
  // calling thread until the connection ends, then closes it: the same code
  // path as an accepted connection, without the accept loop. Requires Bind.
  // For the wire-level fuzzer.
  bool ServeConnection(int fd) { return server_->ServeConnection(fd); }

 private:
  // The handlers the constructor installs on httplib's router, one per kind;
  // each runs on the request's thread. (The error and exception handlers
  // need no member: ReplyHttplibError, ReplyEscapedException in the .cc.)

  // Hands a request to Routes::Dispatch (GET, HEAD, OPTIONS; and the rest,
  // once their body is read).
  void Dispatch(const httplib::Request& req, httplib::Response& res) const;
  // Reads the body through reader, at most options_.max_body_bytes (past
  // that, a JSON 413 that closes the connection), then Dispatch.
  void DispatchWithBody(const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& reader) const;
  // Before routing: starts the request's clock, drops its Range, answers the
  // connection code's refusal, and dispatches methods httplib does not route
  // (TRACE, ...); Handled when it answered, Unhandled to route as usual.
  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req,
                                            httplib::Response& res) const;
  // After routing: the headers every answer carries (Accept-Ranges: none,
  // nosniff, Referrer-Policy; the CSP and X-Frame-Options on text/html).
  void AddResponseHeaders(httplib::Response& res) const;
  // Once the answer is written: counts it in metrics, writes the access log
  // line (method, masked path, status, ms) and calls options_.on_answer.
  void LogAnswer(const httplib::Request& req, const httplib::Response& res) const;

  const Routes* const routes_;
  Metrics* const metrics_;
  const HttpOptions options_;
  std::unique_ptr<EventServer> server_;
};

}  // namespace regd::web
