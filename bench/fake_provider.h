// FakeProvider: the loopback SMS gateway regd's webhook provider posts to
// during the benchmark (regd --sms-provider webhook --sms-webhook-url URL).
// A cpp-httplib server on 127.0.0.1 that answers 200 (at once, or after a
// delay: a real provider over the internet takes ~300 ms) and notes, per
// mobile, the code and the moment (steady clock, shared with the client
// threads of this process) the SMS arrived, which is when it answers: that
// moment minus the moment the client got its 200 from /sms_codes/ is the
// delivery latency.
//
// Thread-safety: every method is safe from any thread; it serves on its own
// threads. Ownership: owns its server thread; the destructor stops it.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

namespace regd::bench {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Arrival {
  SteadyTime at;
  std::string code;
};

class FakeProvider {
 public:
  // Starts serving on an ephemeral port with `threads` request threads, each
  // request answered after `delay`.
  explicit FakeProvider(int threads,
                        std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~FakeProvider();
  FakeProvider(const FakeProvider&) = delete;
  FakeProvider& operator=(const FakeProvider&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/sms"; }
  // SMS received so far (every mobile, every workload).
  uint64_t received() const { return received_.load(); }
  // The most requests held at once (being delayed), and a fresh count from now.
  int peak_in_flight() const { return peak_in_flight_.load(); }
  void ResetPeak() { peak_in_flight_ = in_flight_.load(); }
  // The latest SMS for mobile, if one arrived.
  std::optional<Arrival> Find(const std::string& mobile);
  // The code of mobile's SMS, waiting for it until timeout; nullopt if none came.
  std::optional<std::string> WaitForCode(const std::string& mobile,
                                         std::chrono::milliseconds timeout);

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<uint64_t> received_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_in_flight_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Arrival> arrivals_;  // guarded by mu_
};

}  // namespace regd::bench
