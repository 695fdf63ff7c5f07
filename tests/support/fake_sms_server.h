// FakeSmsServer: the one fake in regd's tests, at the network edge. A real
// HTTP server on 127.0.0.1 (an ephemeral port) that receives what the webhook
// provider POSTs, the way a person's phone receives the SMS. Tests read the
// codes it received and script its answers (status codes, delays). It
// answers up to kThreads requests at once (a slow provider must not be what
// limits the sends in flight) and counts how many it held at once.
//
// Thread-safety: all methods are safe from any thread; it serves on its own.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace regd::testing {

struct ReceivedSms {
  std::string mobile;
  std::string code;
  int ttl_minutes = 0;
  std::string raw_body;
  std::string content_type;
  std::chrono::steady_clock::time_point arrived_at;  // when the request came in
};

class FakeSmsServer {
 public:
  static constexpr int kThreads = 64;  // requests answered at once

  FakeSmsServer();
  ~FakeSmsServer();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/sms"; }

  // The next answers, in order; when none are scripted the default (200).
  void ScriptStatuses(std::vector<int> statuses);
  // Every unscripted answer from now on has this status (0: back to 200).
  void SetDefaultStatus(int status);
  // Each request waits this long before it is answered.
  void SetDelay(std::chrono::milliseconds delay);
  // Extra headers on the next non-2xx answers (e.g. Retry-After).
  void SetRetryAfter(std::string value);
  // Messages to mobiles starting with prefix get status (before any script
  // or default): one phone can be unreachable while others receive.
  void RejectMobilesStartingWith(std::string prefix, int status);

  // Messages accepted with a 2xx, in arrival order.
  std::vector<ReceivedSms> Accepted();
  // Every message received, accepted or not, in arrival order.
  std::vector<ReceivedSms> Received();
  // Every request received, accepted or not.
  size_t RequestCount();
  // The most requests it held at once (received, not yet answered).
  int PeakInFlight();
  // Waits until at least n messages were accepted; false on timeout.
  bool WaitForAccepted(size_t n, std::chrono::milliseconds timeout);
  // The latest accepted code for mobile, waiting up to timeout.
  std::optional<std::string> WaitForCode(const std::string& mobile,
                                         std::chrono::milliseconds timeout);
  // How many messages to mobile were accepted so far.
  size_t AcceptedCount(const std::string& mobile);
  // The code of the first message to mobile accepted after the first
  // `after` ones (AcceptedCount before the request), waiting up to timeout.
  std::optional<std::string> WaitForCodeAfter(const std::string& mobile, size_t after,
                                              std::chrono::milliseconds timeout);

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> scripted_;            // guarded by mu_
  int default_status_ = 200;            // guarded by mu_
  std::chrono::milliseconds delay_{0};  // guarded by mu_
  std::string retry_after_;             // guarded by mu_
  std::string reject_prefix_;           // guarded by mu_; "" rejects none
  int reject_status_ = 0;               // guarded by mu_
  std::vector<ReceivedSms> accepted_;   // guarded by mu_
  std::vector<ReceivedSms> received_;   // guarded by mu_
  size_t requests_ = 0;                 // guarded by mu_
  int in_flight_ = 0;                   // guarded by mu_
  int peak_in_flight_ = 0;              // guarded by mu_
};

}  // namespace regd::testing
