// DeadlineServer: an httplib::Server whose connection loop gives each request
// a deadline, so a client that trickles its request cannot hold a request
// thread for longer than the read timeout.
//
// Why: cpp-httplib's read timeout bounds each read, not the request. A
// client that sends one byte of its headers every few seconds never trips it
// and keeps its thread forever; 64 such connections (the default thread
// count) from one address stopped regd answering anyone (found by the soak
// test, tests/app/soak_test.cc).
//
// The loop, one per connection, on its pool thread (it replaces httplib's
// process_and_close_socket and keeps its shape):
//   1. wait for the first byte of the next request, at most the keep-alive
//      timeout (5 s) — in 100 ms slices, so a stopping server is not held up
//      by idle connections; no byte: close;
//   2. the whole request (line, headers, body) must then arrive within the
//      read timeout of that first byte; a read past the deadline fails:
//      httplib closes the connection when the request line was cut, and
//      otherwise answers 400, which the error handler turns into 408 (see
//      RequestTimedOut); then the connection is closed;
//   3. the answer must be written within the write timeout of its first byte;
//   4. at most keep_alive_max_count requests, then close.
// Bytes a client sent ahead (pipelined requests) stay buffered for the next
// request.
//
// Configure it with httplib's own setters (set_read_timeout,
// set_write_timeout, set_keep_alive_timeout, set_keep_alive_max_count).
// Thread-safety: as httplib::Server; each connection's stream belongs to the
// one pool thread serving it.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <cstdint>

namespace regd::web {

class DeadlineServer : public httplib::Server {
 public:
  // True on a request thread whose current request did not arrive in time
  // (for the error handler: httplib reports it as a 400).
  static bool RequestTimedOut();
  // True on a request thread whose current request's head (line and
  // headers) passed max_head_bytes: read no further, answered 431 (httplib
  // reports it as a 400), connection closed.
  static bool HeadTooLarge();
  // Ends the connection once the current answer is written: after a request
  // httplib could not parse, what follows on the socket is not a request.
  static void CloseAfterThisRequest();
  // Requests refused so far, for /metrics.
  static uint64_t TimedOutTotal();
  static uint64_t TooLargeTotal();

  // The most a request's line and headers may take together. httplib
  // limits each line (8 KiB) but not how many there are.
  void set_max_head_bytes(size_t n) { max_head_bytes_ = n; }

  // Serves one connected socket on the calling thread until the connection
  // ends, exactly as a pool thread serves an accepted one, and closes it.
  // The server must be bound (bind_to_port) but need not be listening. For
  // the wire-level fuzzer (tests/fuzz/routes_fuzzer.cc).
  bool ServeConnection(socket_t sock) { return process_and_close_socket(sock); }

 private:
  // Serves one accepted connection until it ends; closes the socket.
  bool process_and_close_socket(socket_t sock) override;
  // Waits up to the keep-alive timeout for sock to become readable; false
  // when it did not, or the server is stopping.
  bool WaitForRequest(socket_t sock) const;

  size_t max_head_bytes_ = 32 * 1024;
};

}  // namespace regd::web
