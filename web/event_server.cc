#include "web/event_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "account/abuse_guard.h"
#include "storage/log.h"

namespace regd::web {

using account::AbuseGuard;
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenId = 0;  // epoll data of the listening socket
constexpr uint64_t kWakeId = 1;    // and of the eventfd Stop writes
// After an error answer: input read and dropped before the close, at most.
constexpr auto kDrainFor = std::chrono::seconds(2);
constexpr size_t kDrainBytes = 256 * 1024;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kFlushAt = 64 * 1024;

// The request being served on this thread (one at a time per thread).
thread_local int t_refusal = 0;
thread_local bool t_close = false;
thread_local const std::vector<RawHeader>* t_raw_headers = nullptr;

std::atomic<uint64_t> g_timed_out{0};
std::atomic<uint64_t> g_too_large{0};
std::atomic<uint64_t> g_bad_framing{0};
std::atomic<uint64_t> g_refused_conns{0};
std::atomic<uint64_t> g_evicted{0};
std::atomic<int64_t> g_open{0};

// "ip", port of a socket address (IPv4-mapped IPv6 shown as IPv4).
void Describe(const sockaddr_storage& addr, std::string* ip, int* port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    *port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      ::inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], text, sizeof(text));
    } else {
      ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
    }
    *port = ntohs(a->sin6_port);
  }
  *ip = text;
}

// Waits for events on fd until deadline; true when they (or an error or
// hang-up, which the next call reports) are there.
bool WaitUntil(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

// The answer to a connection refused before any request was read: the
// connection caps. Written without waiting; a client that cannot take 200
// bytes gets the close alone.
void RefuseConnection(int fd) {
  static const std::string kAnswer = [] {
    std::string body = R"({"code":503,"errmsg":"Too many connections, retry shortly"})";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Content-Length: " +
           std::to_string(body.size()) +
           "\r\nRetry-After: 1\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n" +
           body;
  }();
  ++g_refused_conns;
  (void)::send(fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Replaces httplib's percent-decoded header values with the lines as sent.
// Lines with one name become one value, joined as RFC 9110 §5.3 says (", ";
// "; " for Cookie, RFC 6265 §5.4), so a second X-Forwarded-For line a proxy
// appended is seen too. httplib's own entries (REMOTE_ADDR, ...) stay, and a
// client's lines of those names are dropped. Expect is dropped: the
// connection code answered it already (see OnReadable).
void UseRawHeaders(httplib::Request& req, const std::vector<RawHeader>& raw) {
  static const char* const kOwn[] = {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"};
  httplib::Headers kept;
  for (const char* name : kOwn) {
    auto it = req.headers.find(name);
    if (it != req.headers.end()) kept.emplace(name, it->second);
  }
  req.headers = std::move(kept);
  for (const RawHeader& h : raw) {
    bool own = EqualsNoCase(h.name, "Expect");
    for (const char* name : kOwn) own = own || EqualsNoCase(h.name, name);
    if (own) continue;
    auto it = req.headers.find(h.name);
    if (it == req.headers.end()) {
      req.headers.emplace(h.name, h.value);
    } else {
      it->second += EqualsNoCase(h.name, "Cookie") ? "; " : ", ";
      it->second += h.value;
    }
  }
}

}  // namespace

struct EventServer::Conn {
  uint64_t id = 0;
  int fd = -1;
  std::string ip, local_ip, client_key;
  int port = 0, local_port = 0;
  ConnState state = ConnState::kIdle;  // guarded by EventServer::mu_
  std::string in;                      // received and not yet served
  size_t counted = 0;                  // bytes of `in` counted in buffered_
  RequestFramer framer;
  bool timed_out = false;  // the current request missed its read deadline
  bool continued = false;  // "100 Continue" sent for the current request
  int served = 0;          // requests answered on this connection
  size_t drained = 0;      // bytes dropped while draining
  Clock::time_point idle_since, first_byte, drain_until;

  explicit Conn(FrameLimits limits) : framer(limits) {}
};

// A request's bytes as an httplib::Stream: reads come from the buffer the
// framer delimited (never past it: the next request is not httplib's to
// read); writes are collected and sent in one go, within the write
// deadline from the first byte sent.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(const EventServer::Conn& c, std::string_view request, int write_timeout_ms)
      : c_(c), request_(request), write_timeout_(write_timeout_ms) {}

  bool is_readable() const override { return off_ < request_.size(); }
  bool is_writable() const override { return !failed_; }
  ssize_t read(char* ptr, size_t size) override {
    if (off_ >= request_.size()) return -1;
    size_t n = std::min(size, request_.size() - off_);
    std::memcpy(ptr, request_.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (failed_) return -1;
    out_.append(ptr, size);
    if (out_.size() >= kFlushAt && !Flush()) return -1;
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.ip;
    port = c_.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_ip;
    port = c_.local_port;
  }
  socket_t socket() const override { return c_.fd; }

  // Sends what was written; false when the client did not take it in time.
  bool Flush() {
    if (failed_) return false;
    if (!started_) {
      started_ = true;
      deadline_ = Clock::now() + write_timeout_;
    }
    size_t sent = 0;
    while (sent < out_.size()) {
      ssize_t n = ::send(c_.fd, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!WaitUntil(c_.fd, POLLOUT, deadline_)) return failed_ = true, false;
      } else {
        return failed_ = true, false;
      }
    }
    out_.clear();
    return true;
  }

 private:
  const EventServer::Conn& c_;
  const std::string_view request_;
  const std::chrono::milliseconds write_timeout_;
  size_t off_ = 0;
  std::string out_;
  bool started_ = false, failed_ = false;
  Clock::time_point deadline_;
};

int EventServer::Refusal() { return t_refusal; }
const std::vector<RawHeader>* EventServer::RawHeaders() { return t_raw_headers; }
void EventServer::CloseAfterThisRequest() { t_close = true; }
uint64_t EventServer::TimedOutTotal() { return g_timed_out.load(); }
uint64_t EventServer::TooLargeTotal() { return g_too_large.load(); }
uint64_t EventServer::BadFramingTotal() { return g_bad_framing.load(); }
uint64_t EventServer::RefusedConnectionsTotal() { return g_refused_conns.load(); }
uint64_t EventServer::EvictedIdleTotal() { return g_evicted.load(); }
int64_t EventServer::OpenConnections() { return g_open.load(); }

EventServer::EventServer(EventServerOptions options)
    : options_(std::move(options)), max_connections_(std::max(1, options_.max_connections)) {
  // httplib writes these into its Keep-Alive answer header; the limits
  // themselves are enforced here.
  router_.set_keep_alive_timeout(std::max(1, options_.keep_alive_timeout_ms / 1000));
  router_.set_keep_alive_max_count(static_cast<size_t>(options_.keep_alive_max_requests));
  router_.set_payload_max_length(options_.frame.max_body_bytes);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

EventServer::~EventServer() {
  Stop();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Result<int> EventServer::Bind() {
  // Each connection is a descriptor: take the whole hard limit, and keep
  // max_connections within it (room left for the stores and the log).
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    if (nofile.rlim_cur < nofile.rlim_max) {
      rlimit raised = nofile;
      raised.rlim_cur = nofile.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) nofile = raised;
    }
    const rlim_t room = nofile.rlim_cur > 256 ? nofile.rlim_cur - 256 : 1;
    if (static_cast<rlim_t>(max_connections_) > room) {
      LogWarn("--max-connections lowered from %d to %llu to fit the open-file limit (ulimit -n)",
              max_connections_, static_cast<unsigned long long>(room));
      max_connections_ = static_cast<int>(room);
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    return Status::Unavailable("cannot bind to " + options_.host + ": unknown address");
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
      int zero = 0;  // "::" takes IPv4 clients too
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        ::listen(fd, options_.listen_backlog) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    return Status::Unavailable("cannot bind to " + options_.host + ":" + port + " (in use?)");
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string ip;
  int bound_port = 0;
  Describe(addr, &ip, &bound_port);
  listen_fd_ = fd;
  return bound_port;
}

bool EventServer::Serve() {
  if (listen_fd_ < 0 || epoll_fd_ < 0 || wake_fd_ < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kWakeId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_id_ = kWakeId + 1;
  }
  const int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Worker(); });

  auto next_tick = Clock::now() + kTick;
  while (!stopping_) {
    auto now = Clock::now();
    int wait = static_cast<int>(std::max<int64_t>(
        0, std::chrono::ceil<std::chrono::milliseconds>(next_tick - now).count()));
    LoopOnce(wait);
    now = Clock::now();
    if (now >= next_tick) {
      CheckDeadlines(now);
      next_tick = now + kTick;
    }
  }

  // Stopping: no new connections; idle, reading and draining ones close;
  // busy ones finish their answer and close (ServeBusy sees stopping_).
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::unique_lock<std::mutex> lock(mu_);
  exit_workers_ = true;
  work_cv_.notify_all();
  while (!conns_.empty()) {
    // A request thread may give a connection back while this runs: look
    // again until every connection is gone.
    std::vector<Conn*> loop_owned;
    for (auto& [id, c] : conns_) {
      if (c->state != ConnState::kBusy) loop_owned.push_back(c.get());
    }
    if (loop_owned.empty()) {
      drained_cv_.wait_for(lock, std::chrono::milliseconds(50));
      continue;
    }
    lock.unlock();
    for (Conn* c : loop_owned) Close(c);
    lock.lock();
  }
  lock.unlock();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  return true;
}

void EventServer::Stop() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
  }
}

void EventServer::LoopOnce(int timeout_ms) {
  std::array<epoll_event, 256> events;
  int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
  for (int i = 0; i < n; ++i) {
    const uint64_t id = events[i].data.u64;
    if (id == kListenId) {
      AcceptAll();
      continue;
    }
    if (id == kWakeId) {
      uint64_t count;
      (void)!::read(wake_fd_, &count, sizeof(count));
      continue;
    }
    Conn* c = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = conns_.find(id);
      // Gone (closed earlier in this batch) or, never, taken by a request
      // thread: one-shot events fire only while the loop holds it.
      if (it != conns_.end() && it->second->state != ConnState::kBusy) c = it->second.get();
    }
    if (c != nullptr) OnReadable(c);
  }
}

void EventServer::AcceptAll() {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors despite the cap: make room, try again later.
        LogWarn("accept: out of file descriptors (%d connections open)",
                static_cast<int>(g_open.load()));
        EvictOneIdle();
      }
      return;  // EAGAIN: all taken
    }
    Admit(fd, addr);
  }
}

void EventServer::Admit(int fd, const sockaddr_storage& addr) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto c = std::make_unique<Conn>(options_.frame);
  c->fd = fd;
  Describe(addr, &c->ip, &c->port);
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
    Describe(local, &c->local_ip, &c->local_port);
  }
  c->client_key = AbuseGuard::ClientKey(c->ip);
  c->idle_since = Clock::now();

  if (g_open.load() >= max_connections_ && !EvictOneIdle()) return RefuseConnection(fd);
  Conn* conn = c.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.max_per_client > 0) {
      int& open = per_client_[c->client_key];
      if (open >= options_.max_per_client) return RefuseConnection(fd);
      ++open;
    }
    c->id = next_id_++;
    conns_.emplace(c->id, std::move(c));
    ++g_open;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.u64 = conn->id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) return;
  }
  Close(conn);
}

bool EventServer::Pressure() const { return g_open.load() * 2 > max_connections_; }

void EventServer::OnReadable(Conn* c) {
  char buf[kReadChunk];
  if (c->state == ConnState::kDraining) {
    for (;;) {
      ssize_t n = ::recv(c->fd, buf, sizeof(buf), 0);
      if (n > 0 && (c->drained += static_cast<size_t>(n)) <= kDrainBytes) continue;
      if (n > 0) return Close(c);  // a flood, not a client waiting for its answer
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && Arm(c)) return;
      return Close(c);  // the client closed too (or an error): done
    }
  }
  for (;;) {
    ssize_t n = ::recv(c->fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!Arm(c)) Close(c);
      return;
    }
    if (n <= 0) return Close(c);  // closed by the client (a partial request is dropped)
    if (buffered_.load() + static_cast<size_t>(n) > options_.max_buffered_bytes) {
      LogWarn("request buffers full (%zu bytes): a connection is refused", buffered_.load());
      const int fd = c->fd;
      c->fd = -1;
      Close(c);
      return RefuseConnection(fd);
    }
    if (c->state == ConnState::kIdle) {
      c->state = ConnState::kReading;  // owned by the loop either way: no lock needed
      c->first_byte = Clock::now();
    }
    c->in.append(buf, static_cast<size_t>(n));
    buffered_ += c->in.size() - c->counted;
    c->counted = c->in.size();
    if (c->framer.Scan(c->in) != RequestFramer::State::kNeedMore) return Dispatch(c);
    if (c->framer.expects_continue() && !c->continued) {
      // The client waits for this before it sends the body (RFC 9110
      // §10.1.1); the request thread will not see the Expect header.
      c->continued = true;
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      (void)::send(c->fd, kContinue, sizeof(kContinue) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (!c->framer.started() && c->in.size() == c->framer.skip() && c->in.size() > 0) {
      // Only empty lines so far: not a request yet (still idle).
      c->in.clear();
      buffered_ -= c->counted;
      c->counted = 0;
      c->framer.Reset();
      c->state = ConnState::kIdle;
    }
  }
}

void EventServer::CheckDeadlines(Clock::time_point now) {
  const auto idle_limit = std::chrono::milliseconds(
      Pressure() ? std::min(options_.pressure_keep_alive_ms, options_.keep_alive_timeout_ms)
                 : options_.keep_alive_timeout_ms);
  const auto read_limit = std::chrono::milliseconds(options_.read_timeout_ms);
  std::vector<Conn*> close, late;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, c] : conns_) {
      switch (c->state) {
        case ConnState::kIdle:
          if (now - c->idle_since >= idle_limit) close.push_back(c.get());
          break;
        case ConnState::kReading:
          if (now - c->first_byte >= read_limit) late.push_back(c.get());
          break;
        case ConnState::kDraining:
          if (now >= c->drain_until) close.push_back(c.get());
          break;
        case ConnState::kBusy:
          break;
      }
    }
  }
  for (Conn* c : close) Close(c);
  for (Conn* c : late) {
    // Answered 408 with what arrived, then closed (ServeBusy).
    ++g_timed_out;
    c->timed_out = true;
    Dispatch(c);
  }
}

bool EventServer::EvictOneIdle() {
  Conn* oldest = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, c] : conns_) {
      if (c->state == ConnState::kIdle && (!oldest || c->idle_since < oldest->idle_since)) {
        oldest = c.get();
      }
    }
  }
  if (oldest == nullptr) return false;
  ++g_evicted;
  Close(oldest);
  return true;
}

void EventServer::Dispatch(Conn* c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    c->state = ConnState::kBusy;
    queue_.push_back(c);
  }
  work_cv_.notify_one();
}

void EventServer::Worker() {
  for (;;) {
    Conn* c = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return !queue_.empty() || exit_workers_; });
      if (queue_.empty()) return;  // exit_workers_ and nothing left to serve
      c = queue_.front();
      queue_.pop_front();
    }
    ServeBusy(c);
  }
}

void EventServer::ServeBusy(Conn* c) {
  for (;;) {
    if (!ServeOne(c)) return;
    if (stopping_) return Close(c);
    // The next request, when a pipelining client sent it already.
    if (c->in.empty() || c->framer.Scan(c->in) == RequestFramer::State::kNeedMore) {
      return GiveBack(c);
    }
  }
}

EventServer::Answered EventServer::Answer(Conn& c) {
  RequestFramer& f = c.framer;
  const int refusal = c.timed_out ? 408 : f.refusal();
  if (refusal == 431) ++g_too_large;
  if (refusal == 400) ++g_bad_framing;
  // The bytes httplib gets: exactly this request's, or for a request that
  // timed out everything that arrived.
  const size_t begin = std::min(f.skip(), c.in.size());
  const size_t end = c.timed_out ? c.in.size() : std::min(f.length(), c.in.size());
  ConnStream strm(c, std::string_view(c.in).substr(begin, end - begin), options_.write_timeout_ms);
  t_refusal = refusal;
  t_close = false;
  t_raw_headers = f.has_head() ? &f.headers() : nullptr;
  const bool last = c.served + 1 >= options_.keep_alive_max_requests;
  bool closed = false;
  const std::function<void(httplib::Request&)> setup = [&f](httplib::Request& req) {
    if (f.has_head()) UseRawHeaders(req, f.headers());
  };
  bool ok = router_.Process(strm, last || refusal != 0, closed, setup);
  ok = strm.Flush() && ok;
  Answered a;
  a.written = ok;
  a.error = refusal != 0 || t_close;
  a.keep = ok && !a.error && !closed && !last;
  t_raw_headers = nullptr;
  t_refusal = 0;
  c.served += 1;
  c.in.erase(0, end);
  f.Reset();
  c.timed_out = false;
  c.continued = false;
  return a;
}

bool EventServer::ServeOne(Conn* c) {
  const Answered a = Answer(*c);
  buffered_ -= c->counted - c->in.size();
  c->counted = c->in.size();
  if (a.keep) return true;
  if (a.error && a.written) {
    StartDrain(c);  // the rest of the bytes are not requests
  } else {
    Close(c);
  }
  return false;
}

void EventServer::GiveBack(Conn* c) {
  std::lock_guard<std::mutex> lock(mu_);
  c->timed_out = false;
  c->idle_since = c->first_byte = Clock::now();
  c->state = c->in.empty() ? ConnState::kIdle : ConnState::kReading;
  if (!Arm(c)) {
    c->state = ConnState::kDraining;  // the loop's deadline check closes it
    c->drain_until = Clock::now();
  }
}

void EventServer::StartDrain(Conn* c) {
  ::shutdown(c->fd, SHUT_WR);
  std::lock_guard<std::mutex> lock(mu_);
  c->in.clear();
  buffered_ -= c->counted;
  c->counted = 0;
  c->state = ConnState::kDraining;
  c->drain_until = Clock::now() + kDrainFor;
  if (!Arm(c)) c->drain_until = Clock::now();
}

bool EventServer::Arm(Conn* c) {
  if (epoll_fd_ < 0 || c->fd < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.u64 = c->id;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

void EventServer::Close(Conn* c) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = conns_.find(c->id);
    if (it == conns_.end()) return;
    fd = c->fd;
    buffered_ -= c->counted;
    if (options_.max_per_client > 0) {
      auto pc = per_client_.find(c->client_key);
      if (pc != per_client_.end() && --pc->second <= 0) per_client_.erase(pc);
    }
    conns_.erase(it);  // c is gone
    --g_open;
    if (conns_.empty()) drained_cv_.notify_all();
  }
  if (fd >= 0) ::close(fd);
}

bool EventServer::ServeConnection(int fd) {
  Conn c(options_.frame);
  c.fd = fd;
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    Describe(addr, &c.ip, &c.port);
  }
  Answered a;
  do {
    // Read until the framer has a verdict, within the same deadlines.
    bool reading = !c.in.empty();
    auto deadline =
        Clock::now() + std::chrono::milliseconds(reading ? options_.read_timeout_ms
                                                         : options_.keep_alive_timeout_ms);
    while (c.framer.Scan(c.in) == RequestFramer::State::kNeedMore) {
      if (!WaitUntil(fd, POLLIN, deadline)) {
        if (!reading) break;
        ++g_timed_out;
        c.timed_out = true;
        break;
      }
      char buf[kReadChunk];
      ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n <= 0) break;
      if (!reading) {
        reading = true;
        deadline = Clock::now() + std::chrono::milliseconds(options_.read_timeout_ms);
      }
      c.in.append(buf, static_cast<size_t>(n));
    }
    if (c.framer.state() == RequestFramer::State::kNeedMore && !c.timed_out) break;
    a = Answer(c);
  } while (a.keep);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  return a.written;
}

}  // namespace regd::web
