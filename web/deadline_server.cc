#include "web/deadline_server.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace regd::web {
namespace {

using Clock = std::chrono::steady_clock;

// Whether the request on this thread ran out of time (a pool thread serves
// one connection at a time, from reading to the error handler).
thread_local bool t_timed_out = false;
thread_local bool t_too_large = false;  // likewise: its head was over the limit
thread_local bool t_close = false;      // CloseAfterThisRequest was called
std::atomic<uint64_t> g_timed_out{0};
std::atomic<uint64_t> g_too_large{0};

std::chrono::milliseconds ToMs(time_t sec, time_t usec) {
  return std::chrono::milliseconds(sec * 1000 + usec / 1000);
}

// Polls sock for events until deadline; true when they (or an error or
// hang-up, which the next read or write reports) are there.
bool WaitUntil(socket_t sock, short events, Clock::time_point deadline) {
  for (;;) {
    // Rounded up, so a false answer means the deadline has passed.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    pollfd p{sock, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

void IpAndPort(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  if (addr.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  } else {
    return;
  }
  std::array<char, NI_MAXHOST> host{};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host.data(), host.size(),
                    nullptr, 0, NI_NUMERICHOST) == 0) {
    ip = host.data();
  }
}

// A connection's socket as an httplib::Stream, with the request's deadlines
// (see deadline_server.h). Buffers reads like httplib's SocketStream.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, std::chrono::milliseconds read_timeout,
                 std::chrono::milliseconds write_timeout, size_t max_head_bytes)
      : sock_(sock),
        read_timeout_(read_timeout),
        write_timeout_(write_timeout),
        max_head_bytes_(max_head_bytes) {}

  // The next request starts now.
  void StartRequest() {
    read_deadline_ = Clock::now() + read_timeout_;
    writing_ = false;
    timed_out_ = t_timed_out = false;
    t_too_large = t_close = false;
    in_head_ = true;
    head_bytes_ = line_len_ = lines_ = 0;
  }
  bool HasBuffered() const { return off_ < len_; }
  // A read of the current request failed at its deadline, or its head was
  // over max_head_bytes.
  bool timed_out() const { return timed_out_; }
  bool too_large() const { return t_too_large; }

  bool is_readable() const override {
    return HasBuffered() || WaitUntil(sock_, POLLIN, read_deadline_);
  }
  bool is_writable() const override {
    return WaitUntil(sock_, POLLOUT, writing_ ? write_deadline_ : Clock::now() + write_timeout_);
  }

  // Never blocks past the deadlines: each call polls, then reads or sends
  // what the socket takes without waiting.
  ssize_t read(char* ptr, size_t size) override {
    while (!HasBuffered()) {
      if (!is_readable()) {
        if (Clock::now() >= read_deadline_ && !timed_out_) {
          timed_out_ = t_timed_out = true;
          ++g_timed_out;
        }
        return -1;
      }
      ssize_t n = ::recv(sock_, buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n <= 0) return n;
      off_ = 0;
      len_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, len_ - off_);
    if (in_head_ && !CountHead(buf_.data() + off_, n)) {
      t_too_large = true;
      ++g_too_large;
      return -1;
    }
    std::memcpy(ptr, buf_.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!writing_) {
      writing_ = true;
      write_deadline_ = Clock::now() + write_timeout_;
    }
    for (;;) {
      if (!is_writable()) return -1;
      ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      IpAndPort(addr, len, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      IpAndPort(addr, len, ip, port);
    }
  }
  socket_t socket() const override { return sock_; }

  // Counts the head's bytes in [p, p + n) and looks for the empty line that
  // ends it (CRLF or LF lines); false once the head is over the limit.
  bool CountHead(const char* p, size_t n) {
    size_t i = 0;
    for (; i < n && in_head_; ++i) {
      if (p[i] == '\n') {
        if (line_len_ == 0 && lines_ > 0) in_head_ = false;  // the body, if any, follows
        if (line_len_ > 0) ++lines_;
        line_len_ = 0;
      } else if (p[i] != '\r') {
        ++line_len_;
      }
    }
    head_bytes_ += i;
    return head_bytes_ <= max_head_bytes_;
  }

 private:
  const socket_t sock_;
  const std::chrono::milliseconds read_timeout_, write_timeout_;
  const size_t max_head_bytes_;
  bool in_head_ = false;  // reading the current request's line and headers
  size_t head_bytes_ = 0, line_len_ = 0, lines_ = 0;
  Clock::time_point read_deadline_;   // the current request's bytes
  Clock::time_point write_deadline_;  // its answer's, from the first write
  bool writing_ = false;
  bool timed_out_ = false;
  std::array<char, 4096> buf_;
  size_t off_ = 0, len_ = 0;  // the unread bytes are buf_[off_, len_)
};

}  // namespace

bool DeadlineServer::RequestTimedOut() { return t_timed_out; }
bool DeadlineServer::HeadTooLarge() { return t_too_large; }
void DeadlineServer::CloseAfterThisRequest() { t_close = true; }
uint64_t DeadlineServer::TimedOutTotal() { return g_timed_out.load(); }
uint64_t DeadlineServer::TooLargeTotal() { return g_too_large.load(); }

bool DeadlineServer::WaitForRequest(socket_t sock) const {
  const auto deadline = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
  while (svr_sock_ != INVALID_SOCKET) {
    auto now = Clock::now();
    if (now >= deadline) return false;
    if (WaitUntil(sock, POLLIN, std::min(deadline, now + std::chrono::milliseconds(100)))) {
      return true;  // a byte, or the end: process_request tells which
    }
  }
  return false;
}

bool DeadlineServer::process_and_close_socket(socket_t sock) {
  DeadlineStream strm(sock, ToMs(read_timeout_sec_, read_timeout_usec_),
                      ToMs(write_timeout_sec_, write_timeout_usec_), max_head_bytes_);
  bool ok = false;
  for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
    if (!strm.HasBuffered() && !WaitForRequest(sock)) break;
    strm.StartRequest();
    bool closed = false;
    ok = process_request(strm, /*close_connection=*/left == 1, closed, nullptr);
    if (!ok || closed || strm.timed_out() || strm.too_large() || t_close) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace regd::web
