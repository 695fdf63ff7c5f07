// The benchmark's workloads (issue 5), each of which runs its load, then
// adds its rows to the table and its figures to the JSON report. main.cc
// calls them in order; later ones compare with figures earlier ones found
// (static with the hello-world, sendcode with fdatasync), so that every
// ratio comes from one run on one machine.
//
// Thread-safety: one thread drives the workloads (they start their own).
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/child_process.h"
#include "bench/fake_provider.h"
#include "bench/flows.h"
#include "bench/report.h"

namespace regd::bench {

struct BenchContext {
  std::string regd_binary;
  std::string hello_binary;
  std::string lua_dir;    // bench/wrk
  std::string tmp_dir;    // fresh; data dirs live under it
  double scale = 1.0;     // multiplies every duration (--quick makes it shorter)
  int http_threads = 16;  // regd's --http-threads (default 16), also the hello-world's
  std::vector<std::string> regd_flags;  // appended to every regd's arguments

  Report* report = nullptr;
  FakeProvider* provider = nullptr;
  MobileSource* mobiles = nullptr;

  // Found along the way.
  double fdatasync_per_s = 0;
  double hello_rps = 0;
  double sendcode_max_per_s = 0;
  long peak_rss_kb = 0;  // the highest VmHWM of any workload but the burst

  std::set<std::string> only;  // workloads to run; empty: all

  bool Enabled(const std::string& workload) const {
    return only.empty() || only.count(workload) > 0;
  }
  std::chrono::milliseconds Dur(int ms) const {
    return std::chrono::milliseconds(static_cast<int64_t>(ms * scale));
  }
};

// A regd child started on a fresh data dir under ctx.tmp_dir, with the time
// from fork to its first 200 (GET /healthz).
struct RegdInstance {
  std::unique_ptr<ChildProcess> process;
  double start_to_first_200_ms = 0;
};
// nullptr process if it failed to start. extra_args follow the common ones
// (--port 0 --data-dir DIR --access-log false --sms-rate off --abuse-limits
// off; with sms_rate_off false, no --sms-rate: regd's default), then
// ctx.regd_flags.
RegdInstance StartRegd(BenchContext& ctx, const std::string& name,
                       const std::vector<std::string>& extra_args, bool sms_rate_off = true);

void RunLimit(BenchContext& ctx);
void RunStatic(BenchContext& ctx, ChildProcess& regd);
void RunCount(BenchContext& ctx, ChildProcess& regd);
void RunCaptcha(BenchContext& ctx, ChildProcess& regd);
void RunSendcode(BenchContext& ctx, ChildProcess& regd);
void RunDelivery(BenchContext& ctx, ChildProcess& regd);
void RunRegister(BenchContext& ctx, ChildProcess& regd);
void RunBurst(BenchContext& ctx, ChildProcess& regd);
void RunQueue(BenchContext& ctx);
// Rows for RSS idle, peak RSS, binary size and start time.
void ReportMemory(BenchContext& ctx, long idle_rss_kb, double start_ms);

}  // namespace regd::bench
