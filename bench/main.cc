// regd_bench: the benchmark suite of issue 5, run by `make bench`.
//
// It measures, on this machine and in one run: the machine's own ceilings
// (fdatasync/s of the data dir's disk, a bare cpp-httplib hello-world), then
// regd's HTTP throughput with wrk (static, count, captcha), the durable
// sendcode flow, SMS delivery latency, full registrations, a burst of logins,
// SMS delivery through a slow (300 ms) provider, the job queue alone
// in-process, and regd's memory and start time. It prints
// one table (with the targets; a missed target is reported, never a
// failure) and writes every figure as JSON.
//
// Everything runs on loopback against regd children started here on fresh
// data dirs in a temporary directory that is removed at the end:
//   A: --access-log false --sms-rate off --abuse-limits off (static, count, captcha)
//   B: as A, plus --dev-fixed-captcha and the webhook provider pointing at
//      the fake SMS gateway in this process           (sendcode .. burst)
//   C: as B with a 300 ms gateway of its own, one regd per phase, the first
//      with regd's default --sms-rate                  (slowsms)
//
// Usage: regd_bench --regd PATH --hello PATH --lua-dir DIR [--out FILE]
//                   [--tmp DIR] [--quick] [--only W1,W2,...] [--regd-flag F]...
//   --quick  every run 0.4 times as long (for development; figures are noisier)
//   --only   just these workloads: limit static count captcha connections
//            sendcode delivery register burst slowsms queue memory (e.g. to profile one:
//            perf record -g -p <regd pid>, or perf record -a -g -- regd_bench ...)
//   --regd-flag  one more argument for every regd started (repeat it:
//            --regd-flag --http-threads --regd-flag 64); a --http-threads
//            given this way is also the hello-world's thread count
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/connections_workload.h"
#include "bench/fake_provider.h"
#include "bench/flows.h"
#include "bench/limits.h"
#include "bench/report.h"
#include "bench/slowsms_workload.h"
#include "bench/workloads.h"

namespace {

using regd::bench::BenchContext;

struct Args {
  std::string regd;
  std::string hello;
  std::string lua_dir;
  std::string out;
  std::string tmp = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  bool quick = false;
  std::string only;  // comma-separated workload names
  std::vector<std::string> regd_flags;
};

bool Parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    bool ok = k == "--regd"        ? value(&a->regd)
              : k == "--hello"     ? value(&a->hello)
              : k == "--lua-dir"   ? value(&a->lua_dir)
              : k == "--out"       ? value(&a->out)
              : k == "--tmp"       ? value(&a->tmp)
              : k == "--only"      ? value(&a->only)
              : k == "--regd-flag" ? value(&a->regd_flags.emplace_back())
              : k == "--quick"     ? (a->quick = true)
                                   : false;
    if (!ok) return false;
  }
  return !a->regd.empty() && !a->hello.empty() && !a->lua_dir.empty();
}

std::string Command(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof(buf), p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string UtcNow() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!Parse(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: regd_bench --regd PATH --hello PATH --lua-dir DIR [--out FILE] "
                 "[--tmp DIR] [--quick] [--only W1,W2,...] [--regd-flag F]...\n");
    return 2;
  }
  std::string tmpl = args.tmp + "/regd-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("bench: mkdtemp");
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();

  regd::bench::Report report;
  regd::bench::FakeProvider provider(16);
  regd::bench::MobileSource mobiles;
  BenchContext ctx;
  ctx.regd_binary = args.regd;
  ctx.hello_binary = args.hello;
  ctx.lua_dir = args.lua_dir;
  ctx.tmp_dir = tmpl;
  ctx.scale = args.quick ? 0.4 : 1.0;
  ctx.report = &report;
  ctx.provider = &provider;
  ctx.mobiles = &mobiles;
  ctx.regd_flags = args.regd_flags;
  for (size_t i = 0; i + 1 < args.regd_flags.size(); ++i) {
    if (args.regd_flags[i] == "--http-threads")
      ctx.http_threads = std::atoi(args.regd_flags[i + 1].c_str());
  }
  for (size_t at = 0; at < args.only.size();) {
    size_t comma = std::min(args.only.find(',', at), args.only.size());
    ctx.only.insert(args.only.substr(at, comma - at));
    at = comma + 1;
  }

  regd::bench::MachineInfo m = regd::bench::DescribeMachine(ctx.tmp_dir);
  std::string src = REGD_BENCH_SOURCE_DIR;
  std::string commit = Command("git -C '" + src + "' rev-parse --short HEAD 2>/dev/null");
  bool dirty = !Command("git -C '" + src + "' status --porcelain 2>/dev/null | head -1").empty();
  auto& root = report.Root();
  root["run"] = {{"date_utc", UtcNow()},
                 {"commit", commit + (dirty ? "+dirty" : "")},
                 {"build_type", REGD_BENCH_BUILD_TYPE},
                 {"quick", args.quick},
                 {"only", args.only},
                 {"wrk", Command("wrk -v 2>&1 | head -1")}};
  root["machine"] = {{"cores", m.cores},
                     {"cpu", m.cpu_model},
                     {"mem_total_mib", m.mem_total_mb},
                     {"kernel", m.kernel},
                     {"disk", m.disk}};
  root["settings"] = {
      {"regd_flags_all",
       "--port 0 --data-dir DIR --access-log false --sms-rate off --abuse-limits off"},
      {"regd_flags_flows",
       "plus --dev-fixed-captcha BN42 --sms-provider webhook --sms-webhook-url <fake>"},
      {"regd_flags_extra", args.regd_flags},
      {"http_threads", ctx.http_threads},
      {"wrk", "-t2 --timeout 2s, 5 s at 32 connections (4 s at 64 and 256), 1 s warm-up"},
      {"pwhash", "interactive (default)"}};
  std::fprintf(stderr, "bench: %u cores, %s; data in %s on %s\n", m.cores, m.cpu_model.c_str(),
               ctx.tmp_dir.c_str(), m.disk.c_str());
  if (std::string(REGD_BENCH_BUILD_TYPE) != "Release") {
    std::fprintf(stderr, "bench: warning: built as %s, not Release\n", REGD_BENCH_BUILD_TYPE);
  }

  if (ctx.Enabled("limit")) regd::bench::RunLimit(ctx);

  long idle_rss = -1;
  double start_ms = 0;
  if (ctx.Enabled("static") || ctx.Enabled("count") || ctx.Enabled("captcha") ||
      ctx.Enabled("memory") || ctx.Enabled("connections")) {
    regd::bench::RegdInstance a = regd::bench::StartRegd(ctx, "a", {});
    if (a.process) {
      start_ms = a.start_to_first_200_ms;
      std::this_thread::sleep_for(std::chrono::seconds(1));
      idle_rss = a.process->StatusKb("VmRSS");
      if (ctx.Enabled("static")) regd::bench::RunStatic(ctx, *a.process);
      if (ctx.Enabled("count")) regd::bench::RunCount(ctx, *a.process);
      if (ctx.Enabled("captcha")) regd::bench::RunCaptcha(ctx, *a.process);
      if (ctx.Enabled("connections")) regd::bench::RunConnections(ctx, *a.process);
      a.process->Stop();
    } else {
      report.Add("static", "regd", "failed to start");
    }
  }
  if (ctx.Enabled("sendcode") || ctx.Enabled("delivery") || ctx.Enabled("register") ||
      ctx.Enabled("burst")) {
    regd::bench::RegdInstance b =
        regd::bench::StartRegd(ctx, "b",
                               {"--dev-fixed-captcha", "BN42", "--sms-provider", "webhook",
                                "--sms-webhook-url", provider.url()});
    if (b.process) {
      report.Section("memory")["start_to_first_200_ms_second_start"] = b.start_to_first_200_ms;
      std::fprintf(stderr, "bench: regd for the flows is pid %d\n", b.process->pid());
      if (ctx.Enabled("sendcode")) regd::bench::RunSendcode(ctx, *b.process);
      if (ctx.Enabled("delivery")) regd::bench::RunDelivery(ctx, *b.process);
      if (ctx.Enabled("register")) regd::bench::RunRegister(ctx, *b.process);
      if (ctx.Enabled("burst")) regd::bench::RunBurst(ctx, *b.process);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      report.Section("memory")["rss_after_runs_kib"] = b.process->StatusKb("VmRSS");
      b.process->Stop();
    } else {
      report.Add("sendcode", "regd", "failed to start");
    }
  }
  if (ctx.Enabled("slowsms")) regd::bench::RunSlowSms(ctx);
  if (ctx.Enabled("queue")) regd::bench::RunQueue(ctx);
  if (ctx.Enabled("memory")) regd::bench::ReportMemory(ctx, idle_rss, start_ms);

  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  root["run"]["duration_s"] = took;
  std::string table = report.Table();
  std::printf("\nregd benchmark, %s (%s), %u cores: %s\n\n%s\n", commit.c_str(),
              REGD_BENCH_BUILD_TYPE, m.cores, m.cpu_model.c_str(), table.c_str());
  std::printf(
      "Ran in %.0f s. Targets are the issue's; a missed target is reported, not an error.\n", took);
  if (!args.out.empty()) {
    std::ofstream out(args.out);
    out << report.ToJson().dump(2) << "\n";
    std::printf("Wrote %s\n", args.out.c_str());
  }
  std::system(("rm -rf '" + ctx.tmp_dir + "'").c_str());
  return 0;
}
