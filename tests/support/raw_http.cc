#include "tests/support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace regd::testing {

// A TCP connection to the server on loopback; -1 on failure. Makes no Catch
// assertions, so it is safe on any thread.
int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads one answer from fd: until its whole Content-Length body is in or the
// server closes. status is 0 when no HTTP answer came. Safe on any thread.
RawResponse ReadResponse(int fd) {
  std::string raw;
  char buf[4096];
  size_t end = std::string::npos, want = 0;
  ssize_t n;
  while ((end == std::string::npos || raw.size() < want) &&
         (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
    raw.append(buf, static_cast<size_t>(n));
    end = raw.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    std::string head = raw.substr(0, end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t cl = head.find("\r\ncontent-length:");
    // Without a Content-Length, the answer ends when the server closes.
    want = cl == std::string::npos ? SIZE_MAX
                                   : end + 4 + std::strtoul(head.c_str() + cl + 17, nullptr, 10);
  }
  RawResponse r;
  size_t split = raw.find("\r\n\r\n");
  r.head = raw.substr(0, split);
  r.body = split == std::string::npos ? "" : raw.substr(split + 4);
  if (raw.rfind("HTTP/1.", 0) == 0 && raw.size() > 12) r.status = std::atoi(raw.c_str() + 9);
  return r;
}

// Sends request as is on fd, reads the answer and closes fd.
RawResponse Exchange(int fd, const std::string& request) {
  // The server may answer (and close) before reading everything: no SIGPIPE.
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  RawResponse r = ReadResponse(fd);
  close(fd);
  return r;
}

RawResponse RawRequest(int port, const std::string& request) {
  int fd = ConnectLoopback(port);
  REQUIRE(fd >= 0);
  return Exchange(fd, request);
}

int Conversation::Answers() const {
  int n = 0;
  for (size_t at = received.find("HTTP/1.1 "); at != std::string::npos;
       at = received.find("HTTP/1.1 ", at + 1)) {
    ++n;
  }
  return n;
}

Conversation Converse(int port, const std::string& bytes) {
  int fd = ConnectLoopback(port);
  REQUIRE(fd >= 0);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  Conversation c;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      c.received.append(buf, static_cast<size_t>(n));
      continue;
    }
    // 0: closed; ECONNRESET: closed with input unread; EAGAIN: the 10 s timeout.
    c.closed = n == 0 || errno == ECONNRESET;
    break;
  }
  close(fd);
  return c;
}

}  // namespace regd::testing
