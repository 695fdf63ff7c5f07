// Request smuggling at the HTTP edge (web/request_framer.h, RFC 9112 §6.3
// and §11.2), on raw loopback sockets against the real server: a body the
// server does not read is never parsed as further requests, and a framing
// that two parsers (a proxy and regd) could read two ways is a 400 JSON
// answer and a closed connection.
#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/raw_http.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::Conversation;
using regd::testing::Converse;
using regd::testing::TestServer;

namespace {

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";

// received holds exactly one answer, with status and the JSON error shape,
// and the server closed the connection after it.
void CheckOneJsonAnswerThenClosed(const Conversation& c, int status) {
  INFO(c.received.substr(0, 2000));
  CHECK(c.closed);
  REQUIRE(c.Answers() == 1);
  CHECK(c.received.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0) == 0);
  CHECK(c.received.find("Connection: close") != std::string::npos);
  size_t body = c.received.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  json j = json::parse(c.received.substr(body + 4), nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["code"] == status);
}

}  // namespace

TEST_CASE("a 413's unread body is not served as further requests", "[smuggling]") {
  TestServer s;
  std::string body;
  while (body.size() <= 20 * 1024) body += kHealthz;
  Conversation c = Converse(s.port(), "POST /register/ HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                                          std::to_string(body.size()) +
                                          "\r\nContent-Type: application/json\r\n\r\n" + body);
  CheckOneJsonAnswerThenClosed(c, 413);
}

TEST_CASE("a chunked body over the limit is a 413 and its rest is not served", "[smuggling]") {
  TestServer s;
  std::string chunk = std::string(8000, 'x');
  std::string req = "POST /register/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  for (int i = 0; i < 3; ++i) req += size + chunk + "\r\n";
  req += "0\r\n\r\n" + kHealthz;
  CheckOneJsonAnswerThenClosed(Converse(s.port(), req), 413);
}

TEST_CASE("ambiguous framings are a 400 and a close, never two requests", "[smuggling]") {
  TestServer s;
  const std::string post = "POST /login/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n";
  // Each would let a proxy and regd disagree on where the next request starts.
  struct Case {
    const char* what;
    std::string head;
  };
  for (const Case& k : {
           Case{"two different Content-Length values",
                "Content-Length: 2\r\nContent-Length: 40\r\n"},
           Case{"a Content-Length list that differs", "Content-Length: 2, 40\r\n"},
           Case{"a Content-Length with a sign", "Content-Length: +2\r\n"},
           Case{"a Content-Length in hex", "Content-Length: 0x2\r\n"},
           Case{"Content-Length with Transfer-Encoding",
                "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"},
           Case{"a Transfer-Encoding other than chunked", "Transfer-Encoding: gzip, chunked\r\n"},
           Case{"Transfer-Encoding identity", "Transfer-Encoding: identity\r\n"},
           Case{"obsolete line folding", "X-Note: one\r\n  two\r\nContent-Length: 2\r\n"},
           Case{"a space before the colon", "Content-Length : 2\r\n"},
       }) {
    INFO(k.what);
    CheckOneJsonAnswerThenClosed(Converse(s.port(), post + k.head + "\r\n{}" + kHealthz), 400);
  }
  auto health = s.Client().Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("an error answer to a whole request keeps the connection for the next one",
          "[smuggling]") {
  TestServer s;
  std::string bad_json =
      "POST /login/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 5\r\n\r\n{oops";
  Conversation c = Converse(s.port(), bad_json + kHealthz +
                                          "GET /healthz HTTP/1.1\r\nHost: a\r\n"
                                          "Connection: close\r\n\r\n");
  INFO(c.received);
  CHECK(c.Answers() == 3);
  CHECK(c.received.rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(c.closed);
}
