#include "bench/connections_workload.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <httplib.h>

#include "bench/wrk_runner.h"

namespace regd::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kIdle = 1000;
constexpr int kSilent = 500;
constexpr int kPerAddress = 40;
constexpr auto kIdleRequestEvery = std::chrono::seconds(3);
constexpr const char* kRequest = "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n";

// Holds kIdle keep-alive and kSilent silent connections to port until
// stopped; reconnects what regd closes (counted).
class Holder {
 public:
  explicit Holder(int port) : port_(port) {}
  ~Holder() { Stop(); }

  // Opens every connection; false when the open-file limit is too low.
  bool Open() {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    const rlim_t want = kIdle + kSilent + 512;
    if (lim.rlim_cur < want) {
      lim.rlim_cur = std::min<rlim_t>(want, lim.rlim_max);
      setrlimit(RLIMIT_NOFILE, &lim);
      if (lim.rlim_cur < want) return false;
    }
    for (int i = 0; i < kIdle + kSilent; ++i) {
      Held h;
      h.keep_alive = i < kIdle;
      h.address = htonl((127u << 24) | ((1u + i / (250 * kPerAddress)) << 8) |
                        (2u + static_cast<uint32_t>(i / kPerAddress) % 250));
      h.next_send = Clock::now() + std::chrono::milliseconds(i * 3000 / kIdle);
      if (!Connect(h)) return false;
      held_.push_back(h);
    }
    thread_ = std::thread([this] { Run(); });
    return true;
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (Held& h : held_) {
      if (h.fd >= 0) close(h.fd);
      h.fd = -1;
    }
  }
  uint64_t reconnects() const { return reconnects_; }

 private:
  struct Held {
    int fd = -1;
    bool keep_alive = false;
    uint32_t address = 0;  // network order
    Clock::time_point next_send;
  };

  bool Connect(Held& h) {
    h.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // not inherited by wrk
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = h.address;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port_));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (h.fd < 0 || bind(h.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        connect(h.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      if (h.fd >= 0) close(h.fd);
      h.fd = -1;
      return false;
    }
    fcntl(h.fd, F_SETFL, O_NONBLOCK);
    return true;
  }

  void Run() {
    char buf[4096];
    while (!stop_) {
      const auto now = Clock::now();
      for (Held& h : held_) {
        bool closed = h.fd < 0;
        ssize_t n;
        while (!closed && (n = recv(h.fd, buf, sizeof buf, 0)) != 0) {
          if (n < 0) {
            closed = errno != EAGAIN && errno != EWOULDBLOCK;
            break;
          }
        }
        if (!closed && n == 0) closed = true;
        if (closed) {
          if (h.fd >= 0) close(h.fd);
          ++reconnects_;
          if (!Connect(h)) continue;
          h.next_send = now;
        }
        if (h.keep_alive && now >= h.next_send) {
          (void)send(h.fd, kRequest, std::strlen(kRequest), MSG_NOSIGNAL);
          h.next_send = now + kIdleRequestEvery;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  const int port_;
  std::vector<Held> held_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> reconnects_{0};
};

std::optional<WrkResult> Count(BenchContext& ctx, ChildProcess& regd, int duration_ms) {
  WrkOptions o;
  o.url = regd.base_url() + "/usernames/x/count/";
  o.script = "count.lua";
  o.lua_dir = ctx.lua_dir;
  o.connections = 32;
  o.threads = 2;
  o.duration_s = std::max(1, static_cast<int>(std::lround(duration_ms * ctx.scale / 1000.0)));
  return RunWrk(o);
}

long OpenConnections(ChildProcess& regd) {
  httplib::Client c("127.0.0.1", regd.port());
  auto r = c.Get("/metrics");
  if (!r) return -1;
  size_t at = r->body.find("\nregd_http_connections ");
  return at == std::string::npos ? -1 : std::atol(r->body.c_str() + at + 23);
}

std::string Ms(double ms) { return Num(ms, ms < 10 ? 2 : 1); }

json WrkSummary(const WrkResult& r) {
  return {{"requests_per_s", r.requests_per_s},
          {"p50_ms", r.p50_ms},
          {"p99_ms", r.p99_ms},
          {"max_ms", r.max_ms},
          {"errors", r.errors()},
          {"timeouts", r.timeouts}};
}

}  // namespace

void RunConnections(BenchContext& ctx, ChildProcess& regd) {
  Report& rep = *ctx.report;
  std::fprintf(stderr, "bench: connections\n");
  json& s = rep.Section("connections");
  auto alone = Count(ctx, regd, 4000);
  Holder holder(regd.port());
  if (!holder.Open()) {
    rep.Add("connections", "held connections", "could not open 1,500 (ulimit -n?)");
    return;
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long open_before = OpenConnections(regd);
  auto held = Count(ctx, regd, 4000);
  const long open_after = OpenConnections(regd);
  holder.Stop();
  s["idle_keep_alive"] = kIdle;
  s["silent"] = kSilent;
  s["open_at_start"] = open_before;
  s["open_at_end"] = open_after;
  s["holder_reconnects"] = holder.reconnects();
  if (!alone || !held) {
    rep.Add("connections", "count req/s", "wrk failed");
    return;
  }
  s["alone"] = WrkSummary(*alone);
  s["held"] = WrkSummary(*held);
  const double ratio = alone->requests_per_s > 0 ? held->requests_per_s / alone->requests_per_s : 0;
  s["held_vs_alone"] = ratio;
  // regd closes a silent connection after 5 s idle (by design) and the
  // holder reopens it within 100 ms, so a reading may miss a few being
  // reopened; the target is that 1,500 are held at once.
  rep.Add("connections", "open while held (regd_http_connections), holder reopens",
          Num(static_cast<double>(open_before)) + " … " + Num(static_cast<double>(open_after)) +
              ", " + Num(static_cast<double>(holder.reconnects())),
          "≥ 1,500 at once", std::max(open_before, open_after) >= kIdle + kSilent);
  rep.Add("connections", "count req/s, 32 conn: alone / while held",
          Num(alone->requests_per_s) + " / " + Num(held->requests_per_s) + " (" +
              Num(ratio * 100, 0) + "%)",
          "≥ 80%", ratio >= 0.8);
  const uint64_t bad = held->errors() + held->timeouts;
  rep.Add("connections", "p50 / p99 while held; errors, timeouts",
          Ms(held->p50_ms) + " / " + Ms(held->p99_ms) + " ms; " +
              Num(static_cast<double>(held->errors())) + ", " +
              Num(static_cast<double>(held->timeouts)),
          "0 errors, 0 timeouts", bad == 0);
}

}  // namespace regd::bench
