// Loopback endpoints that fail in a chosen way, for tests of what a client
// does when the network lets it down:
//   RefusingPort  a port that is bound but not listening: connecting is
//                 refused, and no other process can take the port while the
//                 object lives.
//   HangUpServer  a listener that accepts one connection, reads the request
//                 and closes the connection without answering.
// Each owns its socket (and HangUpServer its one thread); neither is copyable.
// A failure to set one up fails the running test (Catch2 REQUIRE).
//
// Thread-safety: port() may be called from any thread; construct and destroy
// on the test's thread.
#pragma once

#include <thread>

namespace regd::testing {

class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class HangUpServer {
 public:
  HangUpServer();
  // Wakes and joins the accepting thread even if no client came.
  ~HangUpServer();
  HangUpServer(const HangUpServer&) = delete;
  HangUpServer& operator=(const HangUpServer&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace regd::testing
