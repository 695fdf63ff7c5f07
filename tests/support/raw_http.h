// Raw HTTP over a loopback socket, for requests httplib::Client would not
// send as written (bad request lines, TRACE, chunked bodies, trickled or
// oversized heads) and for watching when the server closes a connection.
#pragma once

#include <string>

namespace regd::testing {

struct RawResponse {
  int status = 0;  // 0: no HTTP answer came
  std::string head;
  std::string body;
};

// A TCP connection to 127.0.0.1:port with a 10 s receive timeout; -1 on
// failure. Makes no Catch assertions, so it is safe on any thread.
int ConnectLoopback(int port);
// Reads one answer from fd, until the server closes or the whole
// Content-Length body is in; leaves fd open (keep-alive). Safe on any thread.
RawResponse ReadResponse(int fd);
// Sends request as is on fd, reads the answer (ReadResponse) and closes fd.
// Safe on any thread.
RawResponse Exchange(int fd, const std::string& request);
// ConnectLoopback (REQUIRE-d) + Exchange.
RawResponse RawRequest(int port, const std::string& request);

// Everything the server sent on one connection after bytes, read until it
// closed (closed) or 10 s passed without a byte (not closed).
struct Conversation {
  std::string received;
  bool closed = false;
  int Answers() const;  // HTTP status lines in received
};
Conversation Converse(int port, const std::string& bytes);

}  // namespace regd::testing
