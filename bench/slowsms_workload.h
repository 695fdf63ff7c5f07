// The `slowsms` workload (issue 11, item 11): SMS delivery through a slow
// provider. The fake gateway answers each SMS after 300 ms (normal for
// Twilio or Ronglian over the internet); clients ask for codes at a paced
// rate (captcha, then /sms_codes/, as the sendcode flow) and each code's
// delivery latency is the fake gateway's answer minus the client's 200.
//   A: 20 codes/s for 15 s with regd's default flags (--sms-rate 20/s,
//      --workers 128): the rate the default limit allows;
//   B: 200 codes/s for 15 s with --sms-rate off.
// Target for both: every SMS within 1 s of its 200. With two consumers
// (before the pool grew on demand) they could send 6.7 SMS/s.
//
// Thread-safety: called by the benchmark's one driving thread.
#pragma once

#include "bench/workloads.h"

namespace regd::bench {

void RunSlowSms(BenchContext& ctx);

}  // namespace regd::bench
