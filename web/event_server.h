// EventServer: regd's connection handling. Connections wait in the kernel
// (epoll) while they are idle or their request is still arriving; only a
// connection with a whole request to work on holds one of the request
// threads. httplib parses and routes each request (Router), but none of its
// sockets or threads are used.
//
// Why: httplib 0.11 gives every connection, idle keep-alive included, a pool
// thread for as long as it lives. 64 keep-alive connections that sent a
// request every 4 s, or a burst of 500 silent connects, held all 64 threads
// and every other client timed out.
//
// Threads: Serve's thread runs the event loop: it accepts, reads every
// connection's bytes into that connection's buffer, frames them
// (RequestFramer), enforces the deadlines and caps below, and queues a
// connection whose request is whole (or refused) for the request threads
// (`threads` of them). A request thread runs httplib's parser and router on
// exactly that request's bytes and writes the answer; then it serves the
// next request if one is already buffered (pipelining), else gives the
// connection back to the loop (epoll, one shot) or closes it. A connection
// belongs to exactly one thread at a time: the loop (idle, reading,
// draining) or one request thread (busy); the hand-over is under mu_.
//
// Deadlines (checked by the loop every 100 ms):
//   - idle (before a request's first byte): keep_alive_timeout, shortened to
//     pressure_keep_alive_ms while more than half of max_connections are
//     open; then closed;
//   - reading: the whole request within read_timeout of its first byte, else
//     it is answered 408 with what arrived (and closed);
//   - an answer must be written within write_timeout of its first byte;
//   - after an error answer, the connection is shut for writing and its
//     remaining input is drained for up to 2 s or 256 KiB (a close with
//     unread input would reset the connection and could lose the answer),
//     then closed.
// Every request the framer refuses, times out, or httplib cannot parse
// closes its connection after the answer: the bytes after it are not
// requests (no smuggling).
//
// Caps: at most max_connections open (beyond, the idle connection that has
// waited longest is closed to make room, else the new one is answered 503
// and closed), at most max_per_client from one client address (IPv6 by its
// /64; 0: no cap, as behind a trusted proxy where every peer is the proxy),
// and at most max_buffered_bytes of request bytes buffered across all
// connections (beyond, the connection that would pass it is answered 503).
// The process's open-file limit is raised to its hard limit at Bind, and
// max_connections lowered to fit it.
//
// Thread-safety: Bind, then Serve on one thread; Stop from any thread. The
// per-request accessors (Refusal, CloseAfterThisRequest, RawHeaders) are for
// code running inside the router on a request thread.
#pragma once

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "storage/status.h"
#include "web/request_framer.h"

namespace regd::web {

struct EventServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: pick a free port
  int threads = 64;
  int read_timeout_ms = 5000;   // a whole request, from its first byte
  int write_timeout_ms = 5000;  // a whole answer, from its first byte
  int keep_alive_timeout_ms = 5000;
  int pressure_keep_alive_ms = 1000;  // idle limit while over half the cap
  int keep_alive_max_requests = 100;
  int max_connections = 4096;
  int max_per_client = 64;  // 0: no per-client cap
  size_t max_buffered_bytes = 64 << 20;
  FrameLimits frame;
  int listen_backlog = 1024;
};

class EventServer {
 public:
  // httplib's request parser and router, driven by EventServer: register
  // handlers on it as on an httplib::Server; never call its listen.
  class Router : public httplib::Server {
   public:
    bool Process(httplib::Stream& strm, bool close_connection, bool& connection_closed,
                 const std::function<void(httplib::Request&)>& setup) {
      return process_request(strm, close_connection, connection_closed, setup);
    }
  };

  explicit EventServer(EventServerOptions options);
  ~EventServer();  // stops and joins
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  Router& router() { return router_; }

  // Creates and binds the listening socket; returns its port. kUnavailable
  // when the address cannot be bound.
  Result<int> Bind();
  // Runs the event loop on the calling thread until Stop; requests being
  // served are finished first. False when the loop could not start.
  bool Serve();
  // Stops accepting, closes idle connections, lets requests in progress
  // finish; Serve then returns. Safe from any thread, also before Serve.
  void Stop();
  // Serves one connected socket on the calling thread until the connection
  // ends, then closes it: the same framing, deadlines and request code as
  // an accepted connection, without the event loop. For the wire fuzzer.
  bool ServeConnection(int fd);

  // Inside the router, on a request thread: the status the connection code
  // refused the current request with before parsing (400 bad framing, 408
  // too slow, 413 body too large, 431 head too large), or 0.
  static int Refusal();
  // Inside the router: the current request's header lines as sent.
  static const std::vector<RawHeader>* RawHeaders();
  // Inside the router: close the connection once this answer is written.
  static void CloseAfterThisRequest();

  // Process-wide counters, for /metrics.
  static uint64_t TimedOutTotal();            // 408
  static uint64_t TooLargeTotal();            // 431
  static uint64_t BadFramingTotal();          // 400 from the framer
  static uint64_t RefusedConnectionsTotal();  // over a cap: 503 and closed
  static uint64_t EvictedIdleTotal();         // idle closed to make room
  static int64_t OpenConnections();

  struct Conn;  // one connection's state (event_server.cc)

 private:
  enum class ConnState { kIdle, kReading, kBusy, kDraining };
  // What answering one request left to do.
  struct Answered {
    bool written = false;  // the answer went out whole
    bool error = false;    // refused or unparseable: what follows is not a request
    bool keep = false;     // the connection stays open for another request
  };
  using Clock = std::chrono::steady_clock;

  void LoopOnce(int timeout_ms);
  void AcceptAll();
  void Admit(int fd, const sockaddr_storage& addr);
  void OnReadable(Conn* c);
  void CheckDeadlines(Clock::time_point now);
  bool EvictOneIdle();
  void Dispatch(Conn* c);  // loop -> request threads
  void Worker();
  // Serves c's buffered requests, then gives c back to the loop, drains or
  // closes it.
  void ServeBusy(Conn* c);
  // Answers c's framed request and consumes its bytes (any thread owning c).
  Answered Answer(Conn& c);
  bool ServeOne(Conn* c);  // Answer; false: c was closed or is draining
  void GiveBack(Conn* c);  // request thread -> loop
  void StartDrain(Conn* c);
  void Close(Conn* c);  // any owner; erases c
  bool Arm(Conn* c);
  bool Pressure() const;

  const EventServerOptions options_;
  Router router_;
  int max_connections_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Stop
  std::atomic<bool> stopping_{false};

  std::mutex mu_;  // guards conns_, per_client_, next_id_, queue_, every Conn::state
  std::condition_variable work_cv_;     // queue_ or exit_workers_ changed
  std::condition_variable drained_cv_;  // conns_ became empty
  bool exit_workers_ = false;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::unordered_map<std::string, int> per_client_;  // open connections per client key
  std::deque<Conn*> queue_;  // busy connections waiting for a request thread
  uint64_t next_id_ = 1;
  std::atomic<size_t> buffered_{0};  // request bytes held across connections
  std::vector<std::thread> workers_;
};

}  // namespace regd::web
