// Hostile input at the HTTP layer, on raw sockets against the real server:
// every limit on the request head and on connections is hit, answered in
// the contract's JSON shape (or by closing an idle socket), and the server
// keeps serving everyone else.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/raw_http.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::ConnectLoopback;
using regd::testing::Exchange;
using regd::testing::RawRequest;
using regd::testing::RawResponse;
using regd::testing::ReadResponse;
using regd::testing::TestServer;
using Clock = std::chrono::steady_clock;

namespace {

void CheckJson(const RawResponse& r, int status) {
  INFO(r.head << "\n\n" << r.body);
  REQUIRE(r.status == status);
  json j = json::parse(r.body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["code"] == status);
  CHECK_FALSE(j["errmsg"].get<std::string>().empty());
}

bool Healthy(TestServer& s) {
  auto r = s.Client().Get("/healthz");
  return r && r->status == 200;
}

// Seconds until the server closes fd (recv returns 0 or fails); fd's
// receive timeout is 10 s, so at most ~limit_s.
double SecondsUntilClosed(int fd, double limit_s) {
  auto start = Clock::now();
  char buf[512];
  while (std::chrono::duration<double>(Clock::now() - start).count() < limit_s) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

long Metric(TestServer& s, const std::string& line_prefix) {
  auto r = s.Client().Get("/metrics");
  REQUIRE(r);
  size_t at = r->body.find(line_prefix);
  REQUIRE(at != std::string::npos);
  return std::atol(r->body.c_str() + at + line_prefix.size());
}

}  // namespace

TEST_CASE("a request line over 8 KiB is a JSON 414", "[hostile]") {
  TestServer s;
  CheckJson(RawRequest(s.port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            414);
  CHECK(Healthy(s));
}

TEST_CASE("a header line over 8 KiB is a JSON 431 that says so", "[hostile]") {
  TestServer s;
  auto answer = RawRequest(s.port(), "GET /whoami HTTP/1.1\r\nHost: x\r\nUser-Agent: " +
                                         std::string(9000, 'a') + "\r\n\r\n");
  CheckJson(answer, 431);
  CHECK(answer.body.find("request headers too large") != std::string::npos);
  // A long line still under the limit is served.
  auto fine = RawRequest(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: a=" +
                                       std::string(8000, 'c') + "\r\n\r\n");
  CHECK(fine.status == 200);
  CHECK(Healthy(s));
}

TEST_CASE("a request head over 32 KiB is a JSON 431 and the connection is closed", "[hostile]") {
  TestServer s;
  // 40 headers of 1 KiB: each line is fine, the head is not. Then a flood
  // that a server without the limit would buffer whole (50 MiB).
  std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 40; ++i)
    head += "X-" + std::to_string(i) + ": " + std::string(1000, 'h') + "\r\n";
  CheckJson(RawRequest(s.port(), head + "\r\n"), 431);
  int fd = ConnectLoopback(s.port());
  REQUIRE(fd >= 0);
  std::string line = "X-Flood: " + std::string(1000, 'f') + "\r\n";
  std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  size_t sent = 0;
  for (int i = 0; i < 50 * 1024; ++i) {
    if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) <= 0) break;
    sent += line.size();
  }
  close(fd);
  INFO("sent " << sent << " bytes before the server closed");
  CHECK(sent < 10u * 1024 * 1024);
  CHECK(Metric(s, "regd_http_requests_refused_total{reason=\"too_large\"} ") >= 2);
  CHECK(Healthy(s));
}

TEST_CASE("a request trickled for over 5 s is a JSON 408, and others are served meanwhile",
          "[hostile]") {
  TestServer s;
  int fd = ConnectLoopback(s.port());
  REQUIRE(fd >= 0);
  std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  auto began = Clock::now();
  std::string answer;
  while (std::chrono::duration<double>(Clock::now() - began).count() < 20) {
    if (send(fd, "s", 1, MSG_NOSIGNAL) <= 0) break;  // one byte a second: each read is quick
    CHECK(Healthy(s));                               // the server serves others
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      answer.assign(buf, static_cast<size_t>(n));
      break;
    }
    if (n == 0) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  double took = std::chrono::duration<double>(Clock::now() - began).count();
  close(fd);
  INFO(answer);
  CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
  CHECK(answer.find("\"code\":408") != std::string::npos);
  CHECK(took >= 4.5);
  CHECK(took < 10);
  CHECK(Metric(s, "regd_http_requests_refused_total{reason=\"too_slow\"} ") == 1);
}

TEST_CASE("a connection that sends nothing is closed after the 5 s read timeout", "[hostile]") {
  TestServer s;
  int fd = ConnectLoopback(s.port());
  REQUIRE(fd >= 0);
  double took = SecondsUntilClosed(fd, 10);
  close(fd);
  CHECK(took >= 4.5);
  CHECK(took < 8);
}

TEST_CASE("an idle keep-alive connection is closed after 5 s", "[hostile]") {
  TestServer s;
  int fd = ConnectLoopback(s.port());
  REQUIRE(fd >= 0);
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(send(fd, req.data(), req.size(), MSG_NOSIGNAL) > 0);
  char buf[1024];
  REQUIRE(recv(fd, buf, sizeof buf, 0) > 0);
  double took = SecondsUntilClosed(fd, 10);
  close(fd);
  CHECK(took >= 4.5);
  CHECK(took < 8);
}

TEST_CASE("a keep-alive connection serves 100 requests, POSTs included, then closes", "[hostile]") {
  TestServer s;
  int fd = ConnectLoopback(s.port());
  REQUIRE(fd >= 0);
  std::string body = R"({"username":"nobody_1","password":"wrong_pass_1"})";
  std::string post =
      "POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  int answered = 0;
  std::string last_head;
  for (int i = 0; i < 101; ++i) {
    const std::string& req = i % 2 ? get : post;
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) <= 0) break;
    RawResponse r = ReadResponse(fd);
    if (r.status == 0) break;
    ++answered;
    last_head = r.head;
    CHECK((r.status == 200 || r.status == 400));
  }
  close(fd);
  CHECK(answered == 100);
  CHECK(last_head.find("Connection: close") != std::string::npos);
}

TEST_CASE("a Range header never cuts an answer: errors, JSON and pages come whole", "[hostile]") {
  TestServer s;
  auto cli = s.Client();
  auto plain_error = cli.Get("/nope");
  auto plain_page = cli.Get("/register.html");
  REQUIRE(plain_error);
  REQUIRE(plain_page);
  REQUIRE(plain_page->status == 200);
  for (const char* range : {"bytes=0-9", "bytes=0-1,3-4", "bytes=-5", "bytes=99999999-"}) {
    INFO(range);
    auto error = cli.Get("/nope", {{"Range", range}});
    REQUIRE(error);
    CHECK(error->status == 404);
    CHECK(error->body == plain_error->body);
    CHECK_FALSE(error->has_header("Content-Range"));
    CHECK(error->get_header_value("Accept-Ranges") == "none");
    auto health = cli.Get("/healthz", {{"Range", range}});
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(json::parse(health->body, nullptr, false)["status"] == "ok");
    auto page = cli.Get("/register.html", {{"Range", range}});
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->body == plain_page->body);
  }
}

TEST_CASE("a thousand ranges of the page get the page once", "[hostile]") {
  // httplib alone answered one copy of the file per range: 4 MB for 6 KB.
  TestServer s;
  std::string ranges = "bytes=0-";
  for (int i = 1; i < 1000; ++i) ranges += ",0-";
  auto cli = s.Client();
  auto plain = cli.Get("/register.html");
  auto many = cli.Get("/register.html", {{"Range", ranges}});
  REQUIRE(plain);
  REQUIRE(many);
  CHECK(many->status == 200);
  CHECK(many->body.size() == plain->body.size());
  CHECK(many->get_header_value("Content-Type") == plain->get_header_value("Content-Type"));
}

TEST_CASE("an unparseable Range header is a JSON 416", "[hostile]") {
  TestServer s;
  CheckJson(
      RawRequest(s.port(), "GET /register.html HTTP/1.1\r\nHost: x\r\nRange: bytes=abc\r\n\r\n"),
      416);
  CHECK(Healthy(s));
}
