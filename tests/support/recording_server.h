// RecordingServer: a stand-in for an SMS provider's HTTP API (Twilio,
// app.cloopen.com). A real cpp-httplib server on 127.0.0.1 (an ephemeral
// port) that records every POST exactly as received and answers with
// scripted replies, in order; when none is scripted, with the default reply
// given at construction (200 with an empty body unless told). Every answer
// has the same Content-Type. Non-POST requests are neither recorded nor
// answered by it (httplib's 404).
//
// Owns its server thread: started by the constructor, stopped and joined by
// the destructor. Not copyable.
//
// Thread-safety: all methods are safe from any thread; it serves on its own.
#pragma once

#include <httplib.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace regd::testing {

class RecordingServer {
 public:
  struct Request {
    std::string method;
    std::string path;    // without the query
    std::string target;  // path and query exactly as sent
    std::string body;
    httplib::Headers headers;
    httplib::Params params;  // the decoded query
  };
  struct Reply {
    int status = 200;
    std::string body;
    std::string retry_after;  // sent as Retry-After unless empty
  };

  // Unscripted requests get default_status with default_body; every answer
  // has content_type.
  RecordingServer(int default_status, std::string default_body,
                  std::string content_type = "application/json");
  // Unscripted requests get 200 with an empty body.
  RecordingServer() : RecordingServer(200, "") {}
  ~RecordingServer();
  RecordingServer(const RecordingServer&) = delete;
  RecordingServer& operator=(const RecordingServer&) = delete;

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Queues the answer to the next unanswered request.
  void Script(int status, std::string body, std::string retry_after = "");
  // Each request waits this long before it is answered (from the next one on).
  void SetDelay(std::chrono::milliseconds delay);
  // Every POST received so far, in arrival order.
  std::vector<Request> Requests();

 private:
  const Reply default_reply_;
  const std::string content_type_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::deque<Reply> replies_;           // guarded by mu_
  std::vector<Request> requests_;       // guarded by mu_
  std::chrono::milliseconds delay_{0};  // guarded by mu_
};

// Every value of header `name` in headers, in order (none: empty).
std::vector<std::string> HeaderValues(const httplib::Headers& headers, const std::string& name);

}  // namespace regd::testing
