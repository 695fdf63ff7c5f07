// RequestFramer (web/request_framer.h) on bytes in memory: where a request
// ends, which framings it refuses (RFC 9112 §6.3, §11.2) and with which
// status, the limits, and the header lines kept exactly as sent.
#include "web/request_framer.h"

#include <catch2/catch.hpp>
#include <string>

using regd::web::FrameLimits;
using regd::web::RequestFramer;
using State = RequestFramer::State;

namespace {

// Scans data at once with the default limits.
RequestFramer Framed(const std::string& data, FrameLimits limits = {}) {
  RequestFramer f(limits);
  f.Scan(data);
  return f;
}

int RefusalOf(const std::string& data) {
  RequestFramer f = Framed(data);
  INFO(data);
  REQUIRE(f.state() == State::kRefused);
  return f.refusal();
}

const std::string kPost = "POST /register/ HTTP/1.1\r\nHost: a\r\n";

}  // namespace

TEST_CASE("framer: a GET ends at its empty line and the next request is not part of it",
          "[framer]") {
  std::string first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestFramer f = Framed(first + "GET /b HTTP/1.1\r\n\r\n");
  REQUIRE(f.state() == State::kComplete);
  CHECK(f.length() == first.size());
  CHECK(f.skip() == 0);
}

TEST_CASE("framer: a Content-Length body is part of its request", "[framer]") {
  std::string req = kPost + "Content-Length: 5\r\n\r\nhello";
  RequestFramer f = Framed(req + "GET / HTTP/1.1\r\n\r\n");
  REQUIRE(f.state() == State::kComplete);
  CHECK(f.length() == req.size());
}

TEST_CASE("framer: a request trickled one byte at a time is found whole once", "[framer]") {
  std::string req = kPost + "Content-Length: 3\r\n\r\nabc";
  RequestFramer f({});
  for (size_t n = 1; n < req.size(); ++n) {
    INFO(n);
    REQUIRE(f.Scan(std::string_view(req).substr(0, n)) == State::kNeedMore);
  }
  REQUIRE(f.Scan(req) == State::kComplete);
  CHECK(f.length() == req.size());
}

TEST_CASE("framer: empty lines before a request are skipped, not a request", "[framer]") {
  RequestFramer f = Framed("\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  REQUIRE(f.state() == State::kComplete);
  CHECK(f.skip() == 4);
  CHECK(f.started());
  RequestFramer only_blank = Framed("\r\n\r\n");
  CHECK(only_blank.state() == State::kNeedMore);
  CHECK_FALSE(only_blank.started());
}

TEST_CASE("framer: a chunked body ends after its last chunk and trailers", "[framer]") {
  std::string req =
      kPost +
      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
  RequestFramer f = Framed(req + "GET / HTTP/1.1\r\n\r\n");
  REQUIRE(f.state() == State::kComplete);
  CHECK(f.length() == req.size());
}

TEST_CASE("framer: two different Content-Length values are refused 400", "[framer]") {
  CHECK(RefusalOf(kPost + "Content-Length: 5\r\nContent-Length: 50\r\n\r\nhello") == 400);
  CHECK(RefusalOf(kPost + "Content-Length: 5, 50\r\n\r\nhello") == 400);
  // The same value twice says one thing.
  CHECK(Framed(kPost + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello").state() ==
        State::kComplete);
}

TEST_CASE("framer: a Content-Length that is not all digits is refused 400", "[framer]") {
  for (const char* v : {"+5", "-1", "5 5", "0x10", "5a", "", " "}) {
    INFO(v);
    CHECK(RefusalOf(kPost + "Content-Length: " + v + "\r\n\r\nhello") == 400);
  }
}

TEST_CASE("framer: Content-Length with Transfer-Encoding is refused 400", "[framer]") {
  CHECK(RefusalOf(kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
        400);
}

TEST_CASE("framer: a Transfer-Encoding other than plain chunked is refused 400", "[framer]") {
  for (const char* v :
       {"gzip, chunked", "chunked, chunked", "identity", "Chunked;q=1", "xchunked"}) {
    INFO(v);
    CHECK(RefusalOf(kPost + "Transfer-Encoding: " + v + "\r\n\r\n0\r\n\r\n") == 400);
  }
  CHECK(RefusalOf(kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        400);
}

TEST_CASE("framer: obsolete line folding is refused 400", "[framer]") {
  CHECK(RefusalOf(kPost + "X-A: 1\r\n continued\r\n\r\n") == 400);
  CHECK(RefusalOf(kPost + "X-A: 1\r\n\tcontinued\r\n\r\n") == 400);
}

TEST_CASE("framer: a header name that is not a token, or a line without a colon, is 400",
          "[framer]") {
  CHECK(RefusalOf(kPost + "Content-Length : 5\r\n\r\nhello") == 400);
  CHECK(RefusalOf(kPost + "no colon here\r\n\r\n") == 400);
  CHECK(RefusalOf(kPost + ": empty name\r\n\r\n") == 400);
}

TEST_CASE("framer: a NUL or a lone CR in a header value is refused 400", "[framer]") {
  CHECK(RefusalOf(kPost + std::string("Cookie: sessionid=x\0y\r\n\r\n", 25)) == 400);
  CHECK(RefusalOf(kPost + "X-A: a\rb\r\n\r\n") == 400);
}

TEST_CASE("framer: a declared body over the limit is 413 before any of it arrives", "[framer]") {
  RequestFramer f = Framed(kPost + "Content-Length: 16385\r\n\r\n");
  REQUIRE(f.state() == State::kRefused);
  CHECK(f.refusal() == 413);
  CHECK(Framed(kPost + "Content-Length: 99999999999999999999999\r\n\r\n").refusal() == 413);
  // Exactly the limit is fine.
  CHECK(Framed(kPost + "Content-Length: 16384\r\n\r\n" + std::string(16384, 'x')).state() ==
        State::kComplete);
}

TEST_CASE("framer: chunked data over the body limit is 413", "[framer]") {
  FrameLimits small;
  small.max_body_bytes = 8;
  RequestFramer f =
      Framed(kPost + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n", small);
  REQUIRE(f.state() == State::kRefused);
  CHECK(f.refusal() == 413);
}

TEST_CASE("framer: a bad chunk size or a missing CRLF after chunk data is 400", "[framer]") {
  CHECK(RefusalOf(kPost + "Transfer-Encoding: chunked\r\n\r\nzz\r\n") == 400);
  CHECK(RefusalOf(kPost + "Transfer-Encoding: chunked\r\n\r\n2\r\nabXX") == 400);
}

TEST_CASE("framer: endless chunk extensions or empty-chunk padding are bounded", "[framer]") {
  // One size line longer than 1 KiB.
  CHECK(RefusalOf(kPost + "Transfer-Encoding: chunked\r\n\r\n1;" + std::string(2000, 'a')) == 400);
  // Many tiny chunks: overhead grows while decoded data stays small.
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "1\r\na\r\n";
  RequestFramer f = Framed(kPost + "Transfer-Encoding: chunked\r\n\r\n" + many);
  REQUIRE(f.state() == State::kRefused);
  CHECK((f.refusal() == 413 || f.refusal() == 400));
}

TEST_CASE("framer: a line over 8 KiB is 414 as the request line, 431 as a header", "[framer]") {
  CHECK(RefusalOf("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n") == 414);
  CHECK(RefusalOf("GET /" + std::string(9000, 'a')) == 414);  // refused before its end
  CHECK(RefusalOf("GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n") == 431);
  CHECK(RefusalOf("GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'b')) == 431);
  // A line of exactly the limit, its CRLF included, is fine.
  std::string line = "X-Big: " + std::string(8 * 1024 - 9, 'b') + "\r\n";
  REQUIRE(line.size() == 8 * 1024);
  CHECK(Framed("GET / HTTP/1.1\r\n" + line + "\r\n").state() == State::kComplete);
}

TEST_CASE("framer: a head with no end within 32 KiB is 431", "[framer]") {
  std::string head = "GET / HTTP/1.1\r\n";
  while (head.size() < 33 * 1024) head += "X-Pad: " + std::string(100, 'p') + "\r\n";
  CHECK(RefusalOf(head) == 431);
}

TEST_CASE("framer: header lines are kept as sent, nothing percent-decoded", "[framer]") {
  RequestFramer f = Framed(
      "GET / HTTP/1.1\r\nX-Forwarded-For: 10.9.9.7%00, 127.0.0.1\r\n"
      "Origin:  https://shop%2Eexample \r\nX-Forwarded-For: 127.0.0.2\r\n\r\n");
  REQUIRE(f.state() == State::kComplete);
  REQUIRE(f.headers().size() == 3);
  CHECK(f.headers()[0].name == "X-Forwarded-For");
  CHECK(f.headers()[0].value == "10.9.9.7%00, 127.0.0.1");
  CHECK(f.headers()[1].value == "https://shop%2Eexample");
  CHECK(f.headers()[2].value == "127.0.0.2");
}

TEST_CASE("framer: Expect 100-continue is noticed only when a body is due", "[framer]") {
  RequestFramer with_body = Framed(kPost + "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  CHECK(with_body.state() == State::kNeedMore);
  CHECK(with_body.has_head());
  CHECK(with_body.expects_continue());
  RequestFramer no_body = Framed("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
  CHECK_FALSE(no_body.expects_continue());
}

TEST_CASE("framer: Reset starts over for the next request", "[framer]") {
  std::string a = "GET /a HTTP/1.1\r\n\r\n";
  std::string b = kPost + "Content-Length: 2\r\n\r\nok";
  RequestFramer f({});
  REQUIRE(f.Scan(a + b) == State::kComplete);
  size_t used = f.length();
  f.Reset();
  REQUIRE(f.Scan(std::string_view(a + b).substr(used)) == State::kComplete);
  CHECK(f.length() == b.size());
}
