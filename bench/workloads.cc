#include "bench/workloads.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

#include <httplib.h>

#include "bench/limits.h"
#include "bench/queue_workload.h"
#include "bench/wrk_runner.h"

namespace regd::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kConnections = 32;  // wrk -c and client threads for the main figures
constexpr int kWrkThreads = 2;    // wrk -t: one per core of the reference machine
constexpr int kRegisterClients = 8;
constexpr int kBurstClients = 200;
constexpr long kArgon2InteractiveKib = 64 * 1024;  // libsodium's MEMLIMIT_INTERACTIVE
constexpr const char* kCaptcha = "BN42";           // --dev-fixed-captcha

void Progress(const char* fmt, const std::string& what) {
  std::fprintf(stderr, fmt, what.c_str());
  std::fflush(stderr);
}

std::string Ms(double ms) { return Num(ms, ms < 10 ? 2 : 1); }
std::string Pct(double ratio) { return Num(ratio * 100, 0) + "%"; }
std::string Times(double ratio) { return Num(ratio, 1) + "×"; }

json LatencyJson(const LatencySummary& l) {
  return {{"count", l.count},
          {"p50_ms", l.p50_ms},
          {"p99_ms", l.p99_ms},
          {"max_ms", l.max_ms},
          {"mean_ms", l.mean_ms}};
}

json WrkJson(int connections, const WrkResult& r) {
  return {{"connections", connections},
          {"wrk_threads", kWrkThreads},
          {"duration_s", r.duration_s},
          {"requests", r.requests},
          {"requests_per_s", r.requests_per_s},
          {"p50_ms", r.p50_ms},
          {"p90_ms", r.p90_ms},
          {"p99_ms", r.p99_ms},
          {"max_ms", r.max_ms},
          {"connect_errors", r.connect_errors},
          {"read_errors", r.read_errors},
          {"write_errors", r.write_errors},
          {"status_errors", r.status_errors},
          {"timeouts", r.timeouts}};
}

json FlowJson(const FlowRun& r) {
  json failures = json::object();
  for (const auto& [status, n] : r.failures_by_status) failures[std::to_string(status)] = n;
  return {{"ok", r.ok},
          {"failed", r.failed},
          {"failures_by_status", failures},
          {"elapsed_s", r.elapsed_s},
          {"per_s", r.rate()},
          {"latency", LatencyJson(r.latency)}};
}

json DeliveryJson(const DeliveryRun& d) {
  return {{"acked", d.acked},
          {"delivered", d.delivered},
          {"undelivered", d.undelivered()},
          {"backlog_at_end", d.backlog_at_end},
          {"drain_ms", d.drain_ms},
          {"latency", LatencyJson(d.latency)}};
}

// " (N errors)" / " (N errors, M timeouts)" when a run had any, for the value column.
std::string ErrorNote(uint64_t errors, uint64_t timeouts = 0) {
  std::string note;
  if (errors > 0) note += Num(static_cast<double>(errors)) + " errors";
  if (timeouts > 0)
    note += (note.empty() ? "" : ", ") + Num(static_cast<double>(timeouts)) + " timeouts";
  return note.empty() ? "" : " (" + note + ")";
}

// Runs fn with regd's peak RSS reset before, and records the peak after in
// memory.peak_rss_kib[name]. Returns the peak in KiB (-1 if unreadable).
template <typename Fn>
long WithPeak(BenchContext& ctx, ChildProcess& regd, const std::string& name, Fn fn,
              bool counts_for_peak = true) {
  bool reset = regd.ResetPeak();
  fn();
  long peak = regd.StatusKb("VmHWM");
  ctx.report->Section("memory")["peak_rss_kib_by_workload"][name] = peak;
  if (!reset) ctx.report->Section("memory")["peak_reset_failed"] = true;
  if (counts_for_peak) ctx.peak_rss_kb = std::max(ctx.peak_rss_kb, peak);
  return peak;
}

std::optional<WrkResult> Wrk(BenchContext& ctx, const std::string& url, const std::string& script,
                             int connections, int duration_ms) {
  WrkOptions o;
  o.url = url;
  o.script = script;
  o.lua_dir = ctx.lua_dir;
  o.connections = connections;
  o.threads = kWrkThreads;
  o.duration_s = std::max(1, static_cast<int>(std::lround(duration_ms * ctx.scale / 1000.0)));
  return RunWrk(o);
}

}  // namespace

RegdInstance StartRegd(BenchContext& ctx, const std::string& name,
                       const std::vector<std::string>& extra_args, bool sms_rate_off) {
  RegdInstance r;
  std::string dir = ctx.tmp_dir + "/" + name;
  // --abuse-limits off: the load comes from one address, far past any
  // per-client limit a public server should have.
  std::vector<std::string> argv = {
      ctx.regd_binary, "--port",         "0",  "--data-dir", dir, "--access-log",
      "false",         "--abuse-limits", "off"};
  if (sms_rate_off) argv.insert(argv.end(), {"--sms-rate", "off"});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.insert(argv.end(), ctx.regd_flags.begin(), ctx.regd_flags.end());
  auto p = std::make_unique<ChildProcess>();
  if (!p->Start(argv, ctx.tmp_dir + "/" + name + ".log")) return r;
  // The first 200: poll as fast as the answers come, for at most 10 s.
  httplib::Client c("127.0.0.1", p->port());
  c.set_connection_timeout(1, 0);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto res = c.Get("/healthz");
    if (res && res->status == 200) {
      r.start_to_first_200_ms =
          std::chrono::duration<double, std::milli>(Clock::now() - p->started_at()).count();
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  r.process = std::move(p);
  return r;
}

void RunLimit(BenchContext& ctx) {
  Report& rep = *ctx.report;
  json& j = rep.Section("limit");
  Progress("bench: limit: fdatasync on %s\n", ctx.tmp_dir);
  FsyncRun f = MeasureFdatasync(ctx.tmp_dir, ctx.Dur(2000), SyncPattern::kOverwrite);
  FsyncRun g = MeasureFdatasync(ctx.tmp_dir, ctx.Dur(1000), SyncPattern::kAppend);
  ctx.fdatasync_per_s = f.per_s;
  j["fdatasync"] = {{"syncs", f.syncs},
                    {"per_s", f.per_s},
                    {"mean_us", f.mean_us},
                    {"p99_us", f.p99_us},
                    {"pattern", "overwrite one 4 KiB block"}};
  j["fdatasync_append"] = {{"syncs", g.syncs},
                           {"per_s", g.per_s},
                           {"mean_us", g.mean_us},
                           {"p99_us", g.p99_us},
                           {"pattern", "append 4 KiB blocks"}};
  rep.Add("limit", "fdatasync/s, data dir's disk (4 KiB overwrite)", Num(f.per_s));
  rep.Add("limit", "fdatasync/s, appending 4 KiB", Num(g.per_s));

  Progress("bench: limit: %s\n", "bare cpp-httplib hello-world");
  ChildProcess hello;
  if (!hello.Start({ctx.hello_binary, std::to_string(ctx.http_threads)},
                   ctx.tmp_dir + "/hello.log")) {
    rep.Add("limit", "hello-world req/s, 32 conn", "failed to start");
    return;
  }
  Wrk(ctx, hello.base_url() + "/", "static.lua", kConnections, 1000);  // warm-up
  auto r = Wrk(ctx, hello.base_url() + "/", "static.lua", kConnections, 5000);
  j["hello_world_rss_kib"] = hello.StatusKb("VmHWM");
  hello.Stop();
  if (!r) {
    rep.Add("limit", "hello-world req/s, 32 conn", "wrk failed");
    return;
  }
  ctx.hello_rps = r->requests_per_s;
  j["hello_world"] = WrkJson(kConnections, *r);
  j["hello_world"]["http_threads"] = ctx.http_threads;
  rep.Add(
      "limit", "hello-world req/s, 32 conn (p99)",
      Num(r->requests_per_s) + " (" + Ms(r->p99_ms) + " ms)" + ErrorNote(r->errors(), r->timeouts));
}

void RunStatic(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  const std::string base = regd.base_url();
  // 32 connections: the headline, compared with the hello-world; then 64 and
  // 256, where every connection beyond --http-threads waits for a thread.
  Progress("bench: %s\n", "static");
  json& s = rep.Section("static");
  WithPeak(ctx, regd, "static", [&] {
    Wrk(ctx, base + "/register.html", "static.lua", kConnections, 1000);  // warm-up
    for (int conns : {kConnections, 64, 256}) {
      auto r = Wrk(ctx, base + "/register.html", "static.lua", conns,
                   conns == kConnections ? 5000 : 4000);
      std::string c = std::to_string(conns);
      if (!r) {
        rep.Add("static", "req/s, " + c + " conn", "wrk failed");
        continue;
      }
      s["c" + c] = WrkJson(conns, *r);
      if (conns == kConnections) {
        rep.Add("static", "req/s, 32 conn",
                Num(r->requests_per_s) + ErrorNote(r->errors(), r->timeouts), "≥ 35,000",
                r->requests_per_s >= 35000);
        rep.Add("static", "p50 / p99, 32 conn", Ms(r->p50_ms) + " / " + Ms(r->p99_ms) + " ms");
        if (ctx.hello_rps > 0) {
          double ratio = r->requests_per_s / ctx.hello_rps;
          s["vs_hello_world"] = ratio;
          rep.Add("static", "vs hello-world, 32 conn", Pct(ratio), "≥ 50%", ratio >= 0.5);
        }
      } else {
        uint64_t bad = r->errors() + r->timeouts;
        rep.Add("static", "req/s, p99, errors, timeouts at " + c + " conn",
                Num(r->requests_per_s) + ", " + Ms(r->p99_ms) + " ms, " +
                    Num(static_cast<double>(r->errors())) + ", " +
                    Num(static_cast<double>(r->timeouts)),
                "0 errors, 0 timeouts", bad == 0);
      }
    }
  });
}

void RunCount(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  const std::string base = regd.base_url();
  Progress("bench: %s\n", "count");
  WithPeak(ctx, regd, "count", [&] {
    auto r = Wrk(ctx, base + "/usernames/x/count/", "count.lua", kConnections, 5000);
    if (!r) {
      rep.Add("count", "req/s, 32 conn", "wrk failed");
      return;
    }
    json& c = rep.Section("count");
    c["c32"] = WrkJson(kConnections, *r);
    rep.Add("count", "req/s, 32 conn", Num(r->requests_per_s) + ErrorNote(r->errors(), r->timeouts),
            "≥ 15,000", r->requests_per_s >= 15000);
    rep.Add("count", "p50 / p99, 32 conn", Ms(r->p50_ms) + " / " + Ms(r->p99_ms) + " ms");
    if (ctx.hello_rps > 0) {
      double ratio = r->requests_per_s / ctx.hello_rps;
      c["vs_hello_world"] = ratio;
      rep.Add("count", "vs hello-world, 32 conn", Pct(ratio), "≥ 50%", ratio >= 0.5);
    }
  });
}

void RunCaptcha(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  const std::string base = regd.base_url();
  Progress("bench: %s\n", "captcha");
  WithPeak(ctx, regd, "captcha", [&] {
    auto r = Wrk(ctx, base + "/image_codes/x/", "captcha.lua", kConnections, 5000);
    if (!r) {
      rep.Add("captcha", "images/s, 32 conn", "wrk failed");
      return;
    }
    rep.Section("captcha")["c32"] = WrkJson(kConnections, *r);
    rep.Add("captcha", "images/s, 32 conn",
            Num(r->requests_per_s) + ErrorNote(r->errors(), r->timeouts));
    rep.Add("captcha", "p50 / p99, 32 conn", Ms(r->p50_ms) + " / " + Ms(r->p99_ms) + " ms");
  });
}

// Waits for a run's SMS (see MatchDeliveries): until none came for 3 s, at
// most 30 s after the load, so that the next workload starts on an empty queue.
DeliveryRun Drain(BenchContext& ctx, const FlowRun& run) {
  return MatchDeliveries(ctx.provider, run, std::chrono::seconds(3), std::chrono::seconds(30));
}

void RunSendcode(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  json& j = rep.Section("sendcode");
  Flow flow = SendCodeFlow(ctx.mobiles, kCaptcha);

  Progress("bench: %s\n", "sendcode (most flows/s, 32 clients)");
  FlowRun max;
  DeliveryRun drained;
  WithPeak(ctx, regd, "sendcode", [&] {
    Drain(ctx, RunFlows("127.0.0.1", regd.port(), {kConnections, ctx.Dur(1000), 0}, flow));
    max = RunFlows("127.0.0.1", regd.port(), {kConnections, ctx.Dur(5000), 0}, flow);
    drained = Drain(ctx, max);
  });
  ctx.sendcode_max_per_s = max.rate();
  j["max"] = FlowJson(max);
  j["max"]["clients"] = kConnections;
  j["max"]["delivery"] = DeliveryJson(drained);
  rep.Add("sendcode", "flows/s, 32 clients", Num(max.rate()) + ErrorNote(max.failed), "≥ 5,000",
          max.rate() >= 5000);
  if (ctx.fdatasync_per_s > 0) {
    double ratio = max.rate() / ctx.fdatasync_per_s;
    j["vs_fdatasync"] = ratio;
    rep.Add("sendcode", "flows/s vs fdatasync/s", Times(ratio), "≥ 2×", ratio >= 2);
  }
  rep.Add("sendcode", "p50 / p99, 32 clients",
          Ms(max.latency.p50_ms) + " / " + Ms(max.latency.p99_ms) + " ms");
  rep.Add(
      "sendcode", "acked codes whose SMS arrived",
      Num(static_cast<double>(drained.delivered)) + " / " + Num(static_cast<double>(drained.acked)),
      "all", drained.undelivered() == 0 && drained.acked > 0);
  bool all = drained.undelivered() == 0;
  rep.Add("sendcode", "queue drained after the load",
          all ? Num(drained.drain_ms) + " ms" : "not within " + Num(drained.drain_ms) + " ms",
          "≤ 1 s", all && drained.drain_ms <= 1000);

  // Half the most flows/s, paced: latency when the server is not saturated.
  double half = std::max(1.0, std::floor(max.rate() / 2));
  Progress("bench: sendcode at half load (%s/s)\n", Num(half));
  FlowRun paced;
  DeliveryRun paced_delivery;
  WithPeak(ctx, regd, "sendcode_half", [&] {
    paced = RunFlows("127.0.0.1", regd.port(), {kConnections, ctx.Dur(4000), half}, flow);
    paced_delivery = Drain(ctx, paced);
  });
  j["half_load"] = FlowJson(paced);
  j["half_load"]["rate_per_s"] = half;
  j["half_load"]["delivery"] = DeliveryJson(paced_delivery);
  rep.Add(
      "sendcode", "p50 / p99 at half load (" + Num(half) + "/s)",
      Ms(paced.latency.p50_ms) + " / " + Ms(paced.latency.p99_ms) + " ms" + ErrorNote(paced.failed),
      "p99 ≤ 10 ms", paced.latency.count > 0 && paced.latency.p99_ms <= 10);
}

void RunDelivery(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  json& j = rep.Section("delivery");
  Flow flow = SendCodeFlow(ctx.mobiles, kCaptcha);
  // One paced run at `rate`: did the consumers keep up? "No backlog growth"
  // means: the clients sent what was asked (95%, no failures), every SMS
  // arrived, at the end of the load at most 100 ms worth (or 10) were still
  // on their way, and those arrived within 1 s.
  json steps = json::array();
  auto step = [&](double rate, int ms, DeliveryRun* out_d) {
    FlowRun run = RunFlows("127.0.0.1", regd.port(), {kConnections, ctx.Dur(ms), rate}, flow);
    DeliveryRun d = Drain(ctx, run);
    double wanted = rate * ctx.Dur(ms).count() / 1000.0;
    bool sent = run.failed == 0 && run.ok >= 0.95 * wanted;
    bool kept_up = d.undelivered() == 0 && d.backlog_at_end <= std::max(10.0, 0.1 * rate) &&
                   d.drain_ms <= 1000;
    steps.push_back({{"rate_per_s", rate},
                     {"duration_s", ctx.Dur(ms).count() / 1000.0},
                     {"sent", FlowJson(run)},
                     {"delivery", DeliveryJson(d)},
                     {"clients_kept_up", sent},
                     {"consumers_kept_up", kept_up}});
    if (out_d) *out_d = d;
    return sent && kept_up;
  };

  double lo = 0, hi = 0;  // highest rate that held; lowest that did not (0: none yet)
  WithPeak(ctx, regd, "delivery", [&] {
    for (double rate : {50.0, 500.0}) {
      Progress("bench: delivery at %s/s\n", Num(rate));
      DeliveryRun d;
      bool held = step(rate, 5000, &d);
      if (held)
        lo = rate;
      else if (hi == 0)
        hi = rate;
      std::string value = Ms(d.latency.p50_ms) + " / " + Ms(d.latency.p99_ms) + " / " +
                          Ms(d.latency.max_ms) + " ms";
      if (d.undelivered() > 0) {
        value += " (" + Num(static_cast<double>(d.undelivered())) + " undelivered)";
      }
      if (rate == 50) {
        rep.Add("delivery", "p50 / p99 / max at 50/s", value, "p99 ≤ 1 ms",
                d.latency.count > 0 && d.undelivered() == 0 && d.latency.p99_ms <= 1);
      } else {
        rep.Add("delivery", "p50 / p99 / max at 500/s", value);
      }
    }
    // The highest rate with no backlog growth. Up from 500/s in steps of 1.5×
    // while it holds, to a bit past the most sendcode flows/s (which bounds
    // what the clients can offer); or down from 500/s. Then two bisections.
    std::vector<double> coarse;
    if (hi == 0) {
      double top = std::max(1000.0, 1.2 * ctx.sendcode_max_per_s);
      for (double r = 1000; r <= top && coarse.size() < 6; r = std::round(r * 1.5 / 100) * 100) {
        coarse.push_back(r);
      }
    } else if (lo < hi) {
      for (double r : {250.0, 100.0}) {
        if (r > lo && r < hi) coarse.push_back(r);
      }
    }
    for (double rate : coarse) {
      Progress("bench: delivery search at %s/s\n", Num(rate));
      bool held = step(rate, 2000, nullptr);
      if (held) {
        lo = std::max(lo, rate);
        if (hi != 0) break;  // searching down: the first that holds
      } else {
        hi = hi == 0 ? rate : std::min(hi, rate);
        if (rate > 500) break;  // searching up: the first that fails
      }
    }
    for (int i = 0; i < 2 && hi > 0 && hi - lo > 0.1 * hi; ++i) {
      double mid = std::round((lo + hi) / 2 / 10) * 10;
      Progress("bench: delivery search at %s/s\n", Num(mid));
      (step(mid, 2000, nullptr) ? lo : hi) = mid;
    }
  });
  j["steps"] = steps;
  j["highest_rate_no_backlog_per_s"] = lo;
  j["lowest_rate_with_backlog_per_s"] = hi;
  rep.Add(
      "delivery", "highest rate, no backlog growth",
      Num(lo) + "/s" +
          (hi > 0 ? " (" + Num(hi) + "/s did not hold)" : " (the most tried: the clients' limit)"));
}

void RunRegister(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  Progress("bench: %s\n", "register (8 clients, Argon2id INTERACTIVE)");
  FlowRun run;
  long peak = WithPeak(ctx, regd, "register", [&] {
    run = RunFlows("127.0.0.1", regd.port(), {kRegisterClients, ctx.Dur(8000), 0},
                   RegisterFlow(ctx.mobiles, kCaptcha, ctx.provider));
  });
  json& j = rep.Section("register");
  j = FlowJson(run);
  j["clients"] = kRegisterClients;
  j["pwhash"] = "interactive (regd's default)";
  j["peak_rss_kib"] = peak;
  rep.Add("register", "registrations/s, 8 clients", Num(run.rate(), 1) + ErrorNote(run.failed),
          "≥ 20", run.rate() >= 20);
  rep.Add("register", "p50 / p99 (whole flow)",
          Ms(run.latency.p50_ms) + " / " + Ms(run.latency.p99_ms) + " ms");
  rep.Add("register", "peak RSS, 8 clients", MiB(peak));
}

void RunBurst(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  Progress("bench: %s\n", "burst (200 logins at once)");
  BurstRun b;
  long peak = WithPeak(
      ctx, regd, "burst", [&] { b = RunLoginBurst("127.0.0.1", regd.port(), kBurstClients); },
      false);
  // regd's default --hash-workers is the number of cores.
  long bound =
      static_cast<long>(std::thread::hardware_concurrency()) * kArgon2InteractiveKib + 64 * 1024;
  json& j = rep.Section("burst");
  json statuses = json::object();
  std::string answers;
  for (const auto& [status, n] : b.statuses) {
    statuses[std::to_string(status)] = n;
    answers += (answers.empty() ? "" : ", ") + std::to_string(n) + "×" +
               (status == 0 ? std::string("none") : std::to_string(status));
  }
  j = {{"clients", b.clients},
       {"elapsed_s", b.elapsed_s},
       {"statuses", statuses},
       {"latency", LatencyJson(b.latency)},
       {"peak_rss_kib", peak},
       {"rss_bound_kib", bound},
       {"hash_workers_assumed", std::thread::hardware_concurrency()}};
  rep.Add("burst", "200 logins at once: peak RSS", MiB(peak), "≤ " + MiB(bound),
          peak > 0 && peak <= bound);
  rep.Add("burst", "answers; time", answers + "; " + Num(b.elapsed_s, 1) + " s");
}

void RunQueue(BenchContext& ctx) {
  Report& rep = *ctx.report;
  Progress("bench: %s\n", "queue (in-process, no HTTP)");
  QueueRunOptions o;
  o.dir = ctx.tmp_dir + "/queue";
  mkdir(o.dir.c_str(), 0700);
  o.duration = ctx.Dur(4000);
  QueueRun q = RunQueueWorkload(o);
  json& j = rep.Section("queue");
  j = {{"producers", o.producers},
       {"consumers", o.consumers},
       {"enqueued", q.enqueued},
       {"done", q.done},
       {"elapsed_s", q.elapsed_s},
       {"jobs_per_s", q.jobs_per_s},
       {"enqueue_per_s", q.enqueue_per_s},
       {"drain_ms", q.drain_ms},
       {"commit_batches", q.commit_batches},
       {"commit_writes", q.commit_writes},
       {"ok", q.ok},
       {"error", q.error}};
  if (!q.ok && q.done == 0) {
    rep.Add("queue", "jobs/s enqueue → lease → ack", "failed: " + q.error);
    return;
  }
  rep.Add("queue", "jobs/s enqueue → lease → ack, durable",
          Num(q.jobs_per_s) + (q.ok ? "" : " (" + q.error + ")"), "≥ 20,000",
          q.jobs_per_s >= 20000);
  double per_batch = q.commit_batches > 0 ? double(q.commit_writes) / q.commit_batches : 0;
  if (ctx.fdatasync_per_s > 0) {
    j["vs_fdatasync"] = q.jobs_per_s / ctx.fdatasync_per_s;
  }
  rep.Add("queue", "setup; writes per commit",
          std::to_string(o.producers) + " producers, " + std::to_string(o.consumers) +
              " consumers; " + Num(per_batch, 1));
}

void ReportMemory(BenchContext& ctx, long idle_rss_kb, double start_ms) {
  Report& rep = *ctx.report;
  json& j = rep.Section("memory");
  struct stat st;
  long size = stat(ctx.regd_binary.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
  // The stripped size is what a deployment copies.
  std::string stripped_path = ctx.tmp_dir + "/regd.stripped";
  std::string cmd = "strip -o '" + stripped_path + "' '" + ctx.regd_binary + "' 2>/dev/null";
  long stripped = std::system(cmd.c_str()) == 0 && stat(stripped_path.c_str(), &st) == 0
                      ? static_cast<long>(st.st_size)
                      : -1;
  j["rss_idle_kib"] = idle_rss_kb;
  j["peak_rss_kib"] = ctx.peak_rss_kb;
  j["binary_bytes"] = size;
  j["binary_stripped_bytes"] = stripped;
  j["start_to_first_200_ms"] = start_ms;
  rep.Add("memory", "RSS idle", MiB(idle_rss_kb), "≤ 16 MiB",
          idle_rss_kb > 0 && idle_rss_kb <= 16 * 1024);
  rep.Add("memory", "peak RSS, every run but burst", MiB(ctx.peak_rss_kb));
  rep.Add("memory", "binary size (stripped)", MiB(size / 1024) + " (" + MiB(stripped / 1024) + ")");
  rep.Add("memory", "start to first 200", Ms(start_ms) + " ms", "≤ 50 ms",
          start_ms > 0 && start_ms <= 50);
}

}  // namespace regd::bench
