#include "web/head_guard.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>

#include "web/messages.h"

namespace regd::web {
namespace {

constexpr int kMaxTrackedFd = 1 << 16;  // sockets above this pass through

enum Phase : uint8_t {
  kUntracked = 0,  // not a server connection
  kNewHead,        // the next byte starts a request head
  kInHead,
  kInBody,  // head done; not looked at until the response is sent
};

struct Conn {
  std::atomic<uint8_t> phase{kUntracked};
  std::atomic<uint32_t> head_bytes{0};
  std::atomic<uint32_t> line_len{0};  // bytes in the current head line
  std::atomic<uint32_t> lines{0};     // non-empty lines in this head
  std::atomic<int64_t> head_start_ms{0};
};

std::array<Conn, kMaxTrackedFd>& Conns() {
  static std::array<Conn, kMaxTrackedFd> conns;
  return conns;
}

std::atomic<bool> g_installed{false};
std::atomic<size_t> g_max_head_bytes{32 * 1024};
std::atomic<int64_t> g_head_timeout_ms{10'000};
std::atomic<uint64_t> g_too_large{0};
std::atomic<uint64_t> g_too_slow{0};

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Conn* Tracked(int fd) {
  if (fd < 0 || fd >= kMaxTrackedFd) return nullptr;
  Conn& c = Conns()[static_cast<size_t>(fd)];
  return c.phase.load(std::memory_order_relaxed) == kUntracked ? nullptr : &c;
}

// Answers the refusal in the contract's JSON shape and fails the read.
ssize_t Refuse(int fd, Conn* c, int status, const char* reason, const Message& m) {
  std::string body = std::string("{\"code\":") + std::to_string(status) + ",\"errmsg\":\"" + m.en +
                     "\"}";
  std::string res = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  syscall(SYS_sendto, fd, res.data(), res.size(), MSG_NOSIGNAL | MSG_DONTWAIT, nullptr, 0);
  shutdown(fd, SHUT_RDWR);
  c->phase.store(kInBody, std::memory_order_relaxed);  // nothing more is read
  errno = ECONNRESET;
  return -1;
}

// Accounts for n bytes of a server connection just read into buf.
ssize_t Inspect(int fd, Conn* c, const char* buf, ssize_t n) {
  uint8_t phase = c->phase.load(std::memory_order_relaxed);
  if (phase == kInBody || n <= 0) return n;
  int64_t now = NowMs();
  if (phase == kNewHead) {
    c->head_bytes.store(0, std::memory_order_relaxed);
    c->line_len.store(0, std::memory_order_relaxed);
    c->lines.store(0, std::memory_order_relaxed);
    c->head_start_ms.store(now, std::memory_order_relaxed);
    c->phase.store(kInHead, std::memory_order_relaxed);
  }
  uint32_t line_len = c->line_len.load(std::memory_order_relaxed);
  uint32_t lines = c->lines.load(std::memory_order_relaxed);
  ssize_t i = 0;
  for (; i < n; ++i) {
    char ch = buf[i];
    if (ch == '\n') {
      if (line_len == 0 && lines > 0) break;  // the empty line: the head is complete
      if (line_len > 0) ++lines;
      line_len = 0;
    } else if (ch != '\r') {
      ++line_len;
    }
  }
  size_t head = c->head_bytes.load(std::memory_order_relaxed) + static_cast<size_t>(i);
  if (i < n) {  // complete within this read
    c->phase.store(kInBody, std::memory_order_relaxed);
  } else {
    c->line_len.store(line_len, std::memory_order_relaxed);
    c->lines.store(lines, std::memory_order_relaxed);
    c->head_bytes.store(static_cast<uint32_t>(std::min<size_t>(head, UINT32_MAX)),
                        std::memory_order_relaxed);
  }
  if (head > g_max_head_bytes.load(std::memory_order_relaxed)) {
    ++g_too_large;
    return Refuse(fd, c, 431, "Request Header Fields Too Large", msg::kHeadersTooLarge);
  }
  if (i == n &&
      now - c->head_start_ms.load(std::memory_order_relaxed) >
          g_head_timeout_ms.load(std::memory_order_relaxed)) {
    ++g_too_slow;
    return Refuse(fd, c, 408, "Request Timeout", msg::kRequestTimeout);
  }
  return n;
}

}  // namespace

void InstallHeadLimits(HeadLimits limits) {
  g_max_head_bytes = limits.max_head_bytes;
  g_head_timeout_ms = limits.head_timeout_ms;
  g_installed = true;
}

uint64_t HeadsRefusedTooLarge() { return g_too_large.load(); }
uint64_t HeadsRefusedTooSlow() { return g_too_slow.load(); }

}  // namespace regd::web

// The wrappers the dynamic linker gives to libcpp-httplib (see head_guard.h).
// Each is the system call itself plus the bookkeeping; errno is set by
// syscall() as by the libc functions.
using regd::web::Conns;

extern "C" int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  int c = static_cast<int>(syscall(SYS_accept4, fd, addr, len, 0));
  if (c >= 0 && c < regd::web::kMaxTrackedFd) {
    Conns()[static_cast<size_t>(c)].phase.store(
        regd::web::g_installed.load() ? regd::web::kNewHead : regd::web::kUntracked,
        std::memory_order_relaxed);
  }
  return c;
}

extern "C" ssize_t recv(int fd, void* buf, size_t len, int flags) {
  ssize_t n = syscall(SYS_recvfrom, fd, buf, len, flags, nullptr, nullptr);
  regd::web::Conn* c = regd::web::Tracked(fd);
  if (c == nullptr || (flags & MSG_PEEK)) return n;
  return regd::web::Inspect(fd, c, static_cast<const char*>(buf), n);
}

extern "C" ssize_t send(int fd, const void* buf, size_t len, int flags) {
  regd::web::Conn* c = regd::web::Tracked(fd);
  if (c != nullptr) c->phase.store(regd::web::kNewHead, std::memory_order_relaxed);
  return syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0);
}

extern "C" int close(int fd) {
  if (fd >= 0 && fd < regd::web::kMaxTrackedFd) {
    Conns()[static_cast<size_t>(fd)].phase.store(regd::web::kUntracked, std::memory_order_relaxed);
  }
  return static_cast<int>(syscall(SYS_close, fd));
}
