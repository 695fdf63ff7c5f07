#include "tests/support/failing_endpoints.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace regd::testing {
namespace {

// A TCP socket bound to an ephemeral port on 127.0.0.1; stores the port.
int BindLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

RefusingPort::RefusingPort() { fd_ = BindLoopback(&port_); }

RefusingPort::~RefusingPort() { close(fd_); }

HangUpServer::HangUpServer() {
  fd_ = BindLoopback(&port_);
  REQUIRE(listen(fd_, 4) == 0);
  thread_ = std::thread([this] {
    int conn = accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    char buf[4096];
    (void)read(conn, buf, sizeof(buf));
    close(conn);
  });
}

HangUpServer::~HangUpServer() {
  shutdown(fd_, SHUT_RDWR);  // wakes accept() if no client came
  thread_.join();
  close(fd_);
}

}  // namespace regd::testing
