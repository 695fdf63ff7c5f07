#include "bench/wrk_runner.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace regd::bench {

std::optional<WrkResult> RunWrk(const WrkOptions& o) {
  // The arguments are ours (numbers, a loopback URL, a path under the
  // source tree); nothing comes from outside, so a shell line is safe.
  std::string cmd = "REGD_BENCH_LUA_DIR='" + o.lua_dir + "' wrk -t" + std::to_string(o.threads) +
                    " -c" + std::to_string(o.connections) + " -d" + std::to_string(o.duration_s) +
                    "s --timeout " + std::to_string(o.timeout_s) + "s -s '" + o.lua_dir + "/" +
                    o.script + "' '" + o.url + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  size_t at = out.find("REGD_BENCH ");
  if (status != 0 || at == std::string::npos) {
    std::fprintf(stderr, "bench: wrk failed (%s):\n%s\n", cmd.c_str(), out.c_str());
    return std::nullopt;
  }
  size_t end = out.find('\n', at);
  auto j = nlohmann::json::parse(out.substr(at + 11, end - at - 11), nullptr, false);
  if (!j.is_object()) {
    std::fprintf(stderr, "bench: cannot parse wrk's summary:\n%s\n", out.c_str());
    return std::nullopt;
  }
  WrkResult r;
  r.requests = j.value("requests", uint64_t{0});
  r.duration_s = j.value("duration_us", 0.0) / 1e6;
  r.requests_per_s = r.duration_s > 0 ? static_cast<double>(r.requests) / r.duration_s : 0;
  r.connect_errors = j.value("connect_errors", uint64_t{0});
  r.read_errors = j.value("read_errors", uint64_t{0});
  r.write_errors = j.value("write_errors", uint64_t{0});
  r.status_errors = j.value("status_errors", uint64_t{0});
  r.timeouts = j.value("timeouts", uint64_t{0});
  r.p50_ms = j.value("p50_us", 0.0) / 1000;
  r.p90_ms = j.value("p90_us", 0.0) / 1000;
  r.p99_ms = j.value("p99_us", 0.0) / 1000;
  r.max_ms = j.value("max_us", 0.0) / 1000;
  r.mean_ms = j.value("mean_us", 0.0) / 1000;
  return r;
}

}  // namespace regd::bench
