// RunWrk: runs the `wrk` load tool (Debian package) against a URL with one of
// the Lua scripts in bench/wrk/ and returns the summary its done() hook
// prints (bench/wrk/report.lua).
//
// Thread-safety: stateless; one wrk at a time is what the benchmark wants.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace regd::bench {

struct WrkOptions {
  std::string url;       // e.g. http://127.0.0.1:8000/register.html
  std::string script;    // file name in lua_dir, e.g. "static.lua"
  std::string lua_dir;   // bench/wrk
  int threads = 2;       // wrk -t
  int connections = 32;  // wrk -c
  int duration_s = 5;    // wrk -d
  int timeout_s = 2;     // wrk --timeout: a request slower than this counts as a timeout
};

struct WrkResult {
  uint64_t requests = 0;
  double duration_s = 0;
  double requests_per_s = 0;
  uint64_t connect_errors = 0, read_errors = 0, write_errors = 0;
  uint64_t status_errors = 0;  // answers that were not 2xx/3xx
  uint64_t timeouts = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  uint64_t errors() const { return connect_errors + read_errors + write_errors + status_errors; }
};

// nullopt (and wrk's output on stderr) if wrk failed or printed no summary.
std::optional<WrkResult> RunWrk(const WrkOptions& options);

}  // namespace regd::bench
