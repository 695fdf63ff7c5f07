#include "bench/slowsms_workload.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/fake_provider.h"
#include "bench/flows.h"

namespace regd::bench {
namespace {

using nlohmann::json;

constexpr auto kProviderDelay = std::chrono::milliseconds(300);
constexpr int kProviderThreads = 512;  // never the bottleneck: up to --workers at once
constexpr int kClients = 32;
constexpr int kPhaseMs = 15000;
constexpr const char* kCaptcha = "BN42";  // --dev-fixed-captcha

struct Phase {
  const char* key;    // JSON section key
  const char* label;  // table row
  double rate;        // codes per second
  bool sms_rate_off;  // false: regd's default --sms-rate
};

}  // namespace

void RunSlowSms(BenchContext& ctx) {
  Report& rep = *ctx.report;
  json& j = rep.Section("slowsms");
  FakeProvider provider(kProviderThreads, kProviderDelay);
  j["provider_delay_ms"] = kProviderDelay.count();
  const Phase phases[] = {
      {"default_flags_20_per_s", "20/s, default flags", 20, false},
      {"sms_rate_off_200_per_s", "200/s, --sms-rate off", 200, true},
  };
  for (const Phase& p : phases) {
    std::fprintf(stderr, "bench: slowsms at %.0f/s (300 ms provider)\n", p.rate);
    RegdInstance regd = StartRegd(ctx, std::string("slowsms_") + p.key,
                                  {"--dev-fixed-captcha", kCaptcha, "--sms-provider", "webhook",
                                   "--sms-webhook-url", provider.url()},
                                  p.sms_rate_off);
    if (!regd.process) {
      rep.Add("slowsms", p.label, "regd failed to start");
      continue;
    }
    provider.ResetPeak();
    FlowRun run = RunFlows("127.0.0.1", regd.process->port(), {kClients, ctx.Dur(kPhaseMs), p.rate},
                           SendCodeFlow(ctx.mobiles, kCaptcha));
    // Late SMS are waited for while they keep coming (two consumers need
    // minutes for phase B's backlog; give up 60 s after the load).
    DeliveryRun d =
        MatchDeliveries(&provider, run, std::chrono::seconds(3), std::chrono::seconds(60));
    regd.process->Stop();
    const bool all_within_1s =
        d.acked > 0 && d.undelivered() == 0 && d.latency.max_ms <= 1000 && run.failed == 0;
    j[p.key] = {{"rate_per_s", p.rate},
                {"duration_s", ctx.Dur(kPhaseMs).count() / 1000.0},
                {"sms_rate", p.sms_rate_off ? "off" : "default (20/s)"},
                {"acked", d.acked},
                {"failed_requests", run.failed},
                {"delivered", d.delivered},
                {"undelivered", d.undelivered()},
                {"p50_ms", d.latency.p50_ms},
                {"p99_ms", d.latency.p99_ms},
                {"max_ms", d.latency.max_ms},
                {"drain_ms", d.drain_ms},
                {"provider_peak_in_flight", provider.peak_in_flight()},
                {"all_within_1s", all_within_1s}};
    std::string value = Num(d.latency.p50_ms, 1) + " / " + Num(d.latency.p99_ms, 1) + " / " +
                        Num(d.latency.max_ms, 1) + " ms";
    if (d.undelivered() > 0) {
      value += " (" + Num(static_cast<double>(d.undelivered())) + " undelivered)";
    }
    if (run.failed > 0) value += " (" + Num(static_cast<double>(run.failed)) + " requests failed)";
    value += ", " + std::to_string(provider.peak_in_flight()) + " in flight";
    rep.Add("slowsms", std::string("p50 / p99 / max, ") + p.label, value, "max ≤ 1 s, all",
            all_within_1s);
  }
}

}  // namespace regd::bench
