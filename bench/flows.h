// Client-side workloads that need more than one request per measurement:
// sendcode (captcha, then /sms_codes/), delivery (the same flow, timed until
// the fake provider gets the SMS), register (captcha, code, the code read
// from the fake provider, POST /register/, GET /info/) and a burst of
// concurrent logins. Each client thread has its own keep-alive connection
// (cpp-httplib client).
//
// Load shapes: closed loop (each thread starts its next flow when the last
// one ends: the most the server gives to N clients) or open loop at a fixed
// rate (flow i is due at start + i/rate; its latency counts from when it was
// due, so a server that falls behind is not flattered by clients that wait
// for it — no coordinated omission).
//
// Thread-safety: RunFlows and RunLoginBurst start and join their own
// threads; MobileSource is safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>

#include "bench/fake_provider.h"
#include "bench/stats.h"

namespace regd::bench {

// Fresh, valid, never repeated mobiles (1[3-9] + 9 digits): regd refuses a
// second code for the same mobile within 60 s, so every flow needs its own.
class MobileSource {
 public:
  MobileSource();
  std::string Next();
  // A fresh username (5-20 letters and digits, not all digits).
  std::string NextUsername();

 private:
  uint64_t base_;
  std::atomic<uint64_t> next_{0};
};

// A random RFC 4122 version 4 UUID, lower case.
std::string RandomUuid();

// What one flow did. ok: every step answered as expected.
struct FlowOutcome {
  bool ok = false;
  int status = 0;              // the failing step's HTTP status (0: no answer)
  std::string mobile;          // for delivery matching
  SteadyTime code_acked_at{};  // when /sms_codes/ answered 200
};

using Flow = std::function<FlowOutcome(httplib::Client& client)>;

struct FlowRun {
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::map<int, uint64_t> failures_by_status;
  double elapsed_s = 0;  // from the first flow's start to the last one's end
  double rate() const { return elapsed_s > 0 ? static_cast<double>(ok) / elapsed_s : 0; }
  LatencySummary latency;                                 // successful flows only
  std::vector<std::pair<std::string, SteadyTime>> acked;  // mobile, 200 of /sms_codes/
  SteadyTime load_end{};
};

struct LoadShape {
  int threads = 32;
  std::chrono::milliseconds duration{5000};
  double rate_per_s = 0;  // 0: closed loop
};

FlowRun RunFlows(const std::string& host, int port, const LoadShape& shape, const Flow& flow);

// The sendcode flow: GET /image_codes/<uuid>/ then
// GET /sms_codes/<fresh mobile>/?image_code=<captcha>&image_code_id=<uuid>.
Flow SendCodeFlow(MobileSource* mobiles, std::string captcha);
// The register flow: the sendcode flow, the code from the fake provider,
// POST /register/, GET /info/ with the session cookie.
Flow RegisterFlow(MobileSource* mobiles, std::string captcha, FakeProvider* provider);

// Matches a run's acknowledged codes with the SMS the fake provider received.
// Late SMS are waited for while they keep coming: it gives up when none at
// all arrived for `idle`, or at `cap` after the load ended. An SMS not seen
// by then is counted as undelivered (regd may still send it later: the job
// is on disk).
struct DeliveryRun {
  uint64_t acked = 0;
  uint64_t delivered = 0;
  uint64_t undelivered() const { return acked - delivered; }
  LatencySummary latency;       // arrival - 200 of /sms_codes/ (0 if the SMS came first)
  uint64_t backlog_at_end = 0;  // acked before the load ended, not yet delivered then
  double drain_ms = 0;          // load end to the last arrival (0: none was late)
};
DeliveryRun MatchDeliveries(FakeProvider* provider, const FlowRun& run,
                            std::chrono::milliseconds idle, std::chrono::milliseconds cap);

// `clients` threads each POST /login/ once, all at the same moment, for
// unknown users: each costs one Argon2id hash (regd hashes for unknown users
// too). New connection per client, no keep-alive.
struct BurstRun {
  int clients = 0;
  double elapsed_s = 0;
  std::map<int, uint64_t> statuses;  // HTTP status (0: no answer) -> count
  LatencySummary latency;
};
BurstRun RunLoginBurst(const std::string& host, int port, int clients);

}  // namespace regd::bench
