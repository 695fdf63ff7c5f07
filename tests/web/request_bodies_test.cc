// Request bodies over real HTTP: over 16 KiB is a JSON 413, with a
// Content-Length or chunked; just under is read; deeply nested JSON is a
// JSON 400; a burst of simultaneous POSTs is answered, none dropped.
#include <catch2/catch.hpp>
#include <cstdio>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/raw_http.h"
#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::kPassword;
using regd::testing::PostJson;
using regd::testing::RawRequest;
using regd::testing::RawResponse;
using regd::testing::RegisterForm;
using regd::testing::TestServer;

namespace {

// body in Transfer-Encoding: chunked, 4 KiB a chunk.
std::string Chunked(const std::string& body) {
  std::string out;
  char size[16];
  for (size_t i = 0; i < body.size(); i += 4096) {
    std::string chunk = body.substr(i, 4096);
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    out += size + chunk + "\r\n";
  }
  return out + "0\r\n\r\n";
}

}  // namespace

TEST_CASE("a burst of 50 simultaneous POSTs is answered, none dropped", "[api]") {
  // Every request gets its JSON answer: here a 400 (no code was sent), or a
  // 503 when the server is overloaded. None is reset or left unanswered.
  TestServer server;
  const std::string form = RegisterForm("alice", "13800000040", "000000").dump();
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<std::string>> answers;
  for (int i = 0; i < 50; ++i) {
    answers.push_back(std::async(std::launch::async, [&server, &form, start] {
      start.wait();
      auto res = PostJson(server, "/register/", form);
      if (!res) return "no answer: " + httplib::to_string(res.error());
      return std::to_string(res->status);
    }));
  }
  go.set_value();
  std::map<std::string, int> outcomes;
  for (auto& a : answers) ++outcomes[a.get()];
  for (const auto& [outcome, n] : outcomes) {
    INFO(n << " x " << outcome);
    CHECK((outcome == "400" || outcome == "503"));
  }
}

TEST_CASE("a body over 16 KiB is a JSON 413", "[api]") {
  TestServer server;
  json big = RegisterForm(std::string(17 * 1024, 'a'), "13800000034", "123456");
  CheckJsonError(PostJson(server, "/register/", big.dump()), 413);
  json big_login = {{"username", std::string(17 * 1024, 'a')}, {"password", kPassword}};
  CheckJsonError(PostJson(server, "/login/", big_login.dump()), 413);
}

TEST_CASE("a chunked body over 16 KiB is a JSON 413", "[api]") {
  // No Content-Length to check up front: the limit must hold while reading.
  TestServer server;
  json big_login = {{"username", std::string(64 * 1024, 'a')}, {"password", kPassword}};
  for (const char* path : {"/login/", "/register/"}) {
    INFO(path);
    RawResponse r = RawRequest(server.port(), std::string("POST ") + path +
                                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                  "Connection: close\r\n"
                                                  "Content-Type: application/json\r\n"
                                                  "Transfer-Encoding: chunked\r\n\r\n" +
                                                  Chunked(big_login.dump()));
    INFO(r.head << "\n" << r.body);
    CHECK(r.status == 413);
    json j = json::parse(r.body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["code"] == 413);
  }
}

TEST_CASE("a body just under 16 KiB is read, not refused as too large", "[api]") {
  TestServer server;
  json form = RegisterForm("alice", "13800000035", "123456");
  form["padding"] = std::string(15 * 1024, 'x');
  REQUIRE(form.dump().size() < 16 * 1024);
  CheckJsonError(PostJson(server, "/register/", form.dump()), 400);  // no code was sent
}

TEST_CASE("deeply nested JSON is a JSON 400", "[api]") {
  TestServer server;
  std::string deep_array = std::string(5000, '[') + std::string(5000, ']');
  std::string deep_field =
      R"({"username": )" + std::string(5000, '[') + std::string(5000, ']') + "}";
  std::string deep_object;
  for (int i = 0; i < 1000; ++i) deep_object += R"({"a":)";
  deep_object += "1" + std::string(1000, '}');
  for (const std::string& body : {deep_array, deep_field, deep_object}) {
    CheckJsonError(PostJson(server, "/register/", body), 400);
    CheckJsonError(PostJson(server, "/login/", body), 400);
  }
  // The server is still fine.
  CHECK(server.Client().Get("/healthz")->status == 200);
}
