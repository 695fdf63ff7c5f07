// The HTTP server's connection limits (web/http_server.h,
// web/deadline_server.h) over raw loopback sockets: a request must arrive
// whole within the read timeout (5 s) of its first byte, however it
// trickles, while a request that arrives in pieces within that time, and
// requests pipelined on one connection, are answered.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_server.h"

using regd::testing::TestServer;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kReadTimeout = std::chrono::seconds(5);  // HttpOptions::read_timeout_s
constexpr auto kSlack = std::chrono::seconds(4);        // a busy machine's scheduling

// A raw client connection, closed when destroyed.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ >= 0) ::fcntl(fd_, F_SETFL, O_NONBLOCK);
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads what has arrived; notes when the server closed the connection.
  void Poll() {
    char buf[1024];
    ssize_t n;
    while ((n = ::recv(fd_, buf, sizeof(buf), 0)) > 0) received_.append(buf, n);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed_ = true;
  }
  // Polls until the server closes the connection or timeout passes.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    auto until = Clock::now() + timeout;
    while (!closed_ && Clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 50);
      Poll();
    }
    return closed_;
  }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

// The number of HTTP answers (status lines) in what a connection received.
int Answers(const std::string& received) {
  int n = 0;
  for (size_t at = received.find("HTTP/1.1 "); at != std::string::npos;
       at = received.find("HTTP/1.1 ", at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("clients trickling requests on every HTTP thread are cut off after the read timeout",
          "[http]") {
  // The regression: httplib bounds each read, not the request, so a byte
  // every half second kept a thread for good, and as many such clients as
  // threads kept everyone else out.
  TestServer server([](auto& c) { c.http_threads = 4; });
  std::vector<std::unique_ptr<RawConn>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<RawConn>(server.port()));
    REQUIRE(slow.back()->ok());
    REQUIRE(slow.back()->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  }
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // each holds a thread

  // A customer arrives while every thread is held.
  int customer_status = -1;
  Clock::duration customer_wait{};
  std::thread customer([&] {
    auto cli = server.Client();
    cli.set_read_timeout(std::chrono::seconds(30));
    auto res = cli.Get("/healthz");
    customer_wait = Clock::now() - start;
    if (res) customer_status = res->status;
  });

  // The slow clients keep trickling until the server cuts them off.
  const auto give_up = start + std::chrono::seconds(20);
  bool all_closed = false;
  while (!all_closed && Clock::now() < give_up) {
    all_closed = true;
    for (auto& c : slow) {
      c->Poll();
      if (!c->closed()) {
        c->Send("a");
        all_closed = false;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const auto cut_after = Clock::now() - start;
  customer.join();

  CHECK(all_closed);
  CHECK(cut_after <= kReadTimeout + kSlack);
  for (auto& c : slow) {
    INFO(c->received());
    CHECK(c->received().rfind("HTTP/1.1 408", 0) == 0);  // Request Timeout, as JSON
    CHECK(c->received().find("\"code\":408") != std::string::npos);
  }
  CHECK(customer_status == 200);
  CHECK(customer_wait <= kReadTimeout + kSlack);
}

TEST_CASE("a request arriving in pieces within the read timeout is answered", "[http]") {
  TestServer server;
  RawConn get(server.port());
  REQUIRE(get.ok());
  REQUIRE(get.Send("GET /healthz HTTP/1.1\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  REQUIRE(get.Send("Host: 127.0.0.1\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  REQUIRE(get.Send("Connection: close\r\n\r\n"));
  REQUIRE(get.WaitClosed(std::chrono::seconds(10)));
  CHECK(get.received().rfind("HTTP/1.1 200", 0) == 0);

  // A body in pieces, too.
  const std::string body = R"({"username":"nobody_here","password":"password_1"})";
  RawConn post(server.port());
  REQUIRE(post.ok());
  REQUIRE(
      post.Send("POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                "Content-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  REQUIRE(post.Send(body.substr(10)));
  REQUIRE(post.WaitClosed(std::chrono::seconds(10)));
  INFO(post.received());
  CHECK(post.received().rfind("HTTP/1.1 400", 0) == 0);  // read whole: a wrong login
  CHECK(post.received().find("wrong username or password") != std::string::npos);
}

TEST_CASE("requests pipelined on one connection are each answered", "[http]") {
  TestServer server;
  RawConn conn(server.port());
  REQUIRE(conn.ok());
  REQUIRE(
      conn.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                "GET /rules.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  REQUIRE(conn.WaitClosed(std::chrono::seconds(10)));
  INFO(conn.received());
  CHECK(Answers(conn.received()) == 3);
  CHECK(conn.received().find("HTTP/1.1 4") == std::string::npos);
}
