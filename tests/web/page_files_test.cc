// The page and its files over real HTTP (web/static_files.h behind the
// routes): / redirects to the page, every asset is served with its type and
// nosniff, an unknown file is a JSON 404, and no traversal, encoded or not,
// reaches a file outside the built-in page or --web-root.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/raw_http.h"
#include "tests/support/route_checks.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::CheckJsonError;
using regd::testing::RawRequest;
using regd::testing::RawResponse;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

RawResponse RawGet(int port, const std::string& target) {
  return RawRequest(port,
                    "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// A traversal attempt was refused: a JSON 400 or 404, and none of the secret.
void CheckRefused(const RawResponse& r, const std::string& secret) {
  INFO("head: " << r.head << "\nbody: " << r.body);
  CHECK((r.status == 400 || r.status == 404));
  CHECK(r.body.find(secret) == std::string::npos);
  CHECK(r.body.find("root:") == std::string::npos);
  json j = json::parse(r.body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["code"] == r.status);
}

std::vector<std::string> TraversalTargets(const std::string& file) {
  return {
      "/../" + file,
      "/../../../../../../" + file,
      "/%2e%2e/" + file,
      "/%2E%2E/%2e%2e/" + file,
      "/..%2f" + file,
      "/%2e%2e%2f%2e%2e%2f" + file,
      "/css/../../" + file,
      "/css/%2e%2e/%2e%2e/" + file,
      "/css/..%5c..%5c" + file,
      "/.%2e/" + file,
      "//" + file,
      "/register.html/../../" + file,
      "/register.html%00/../../" + file,
  };
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out);
  out << data;
}

}  // namespace

TEST_CASE("GET / redirects to /register.html with a 302", "[api]") {
  TestServer server;
  auto res = server.Client().Get("/");
  REQUIRE(res);
  CHECK(res->status == 302);
  std::string location = res->get_header_value("Location");
  CHECK((location == "/register.html" ||
         location == "http://127.0.0.1:" + std::to_string(server.port()) + "/register.html"));
}

TEST_CASE("GET /register.html is the page as text/html with CSP and nosniff", "[api]") {
  TestServer server;
  auto res = server.Client().Get("/register.html");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/html", 0) == 0);
  CHECK_FALSE(res->get_header_value("Content-Security-Policy").empty());
  CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(res->body.find("<html") != std::string::npos);
}

TEST_CASE("every local asset the pages link to is served with its type", "[api]") {
  TestServer server;
  auto cli = server.Client();
  std::regex link("(?:src|href)=\"(/[^\"]*)\"");
  std::set<std::string> assets;
  for (const char* page : {"/register.html", "/login.html", "/user.html"}) {
    auto res = cli.Get(page);
    REQUIRE(res);
    INFO(page);
    REQUIRE(res->status == 200);
    CHECK(res->get_header_value("Content-Type").rfind("text/html", 0) == 0);
    for (std::sregex_iterator it(res->body.begin(), res->body.end(), link), end; it != end; ++it) {
      assets.insert((*it)[1].str());
    }
  }
  CHECK(assets.count("/js/register.js") == 1);
  for (const std::string& asset : assets) {
    INFO(asset);
    auto res = cli.Get(asset.c_str());
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK_FALSE(res->body.empty());
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
    std::string type = res->get_header_value("Content-Type");
    if (asset.size() > 3 && asset.substr(asset.size() - 3) == ".js") {
      CHECK(type.find("javascript") != std::string::npos);
    } else if (asset.size() > 4 && asset.substr(asset.size() - 4) == ".css") {
      CHECK(type.rfind("text/css", 0) == 0);
    }
  }
}

TEST_CASE("an unknown file is a JSON 404", "[api]") {
  TestServer server;
  auto cli = server.Client();
  for (const char* path : {"/nope.html", "/css/nope.css", "/js/", "/image_codes/",
                           "/usernames/alice/", "/api/v1/users", "/favicon.ico"}) {
    INFO(path);
    CheckJsonError(cli.Get(path), 404);
  }
}

TEST_CASE("path traversal never serves a file outside the built-in page", "[api]") {
  TestServer server;
  for (const std::string& target : TraversalTargets("etc/passwd")) {
    INFO(target);
    CheckRefused(RawGet(server.port(), target), "root:x:0:0");
  }
}

TEST_CASE("path traversal never serves a file outside --web-root", "[api]") {
  TempDir site;
  REQUIRE(mkdir(site.Join("www").c_str(), 0700) == 0);
  REQUIRE(mkdir(site.Join("www/css").c_str(), 0700) == 0);
  WriteFile(site.Join("www/register.html"), "<html>the shop's own page</html>");
  WriteFile(site.Join("secret.txt"), "SECRET-OUTSIDE-THE-ROOT");
  REQUIRE(symlink(site.Join("secret.txt").c_str(), site.Join("www/link.txt").c_str()) == 0);
  TestServer server([&](regd::app::Config& c) { c.web_root = site.Join("www"); });

  auto page = server.Client().Get("/register.html");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body == "<html>the shop's own page</html>");
  for (const std::string& target : TraversalTargets("secret.txt")) {
    INFO(target);
    CheckRefused(RawGet(server.port(), target), "SECRET-OUTSIDE-THE-ROOT");
  }
  CheckRefused(RawGet(server.port(), "/link.txt"), "SECRET-OUTSIDE-THE-ROOT");
}

TEST_CASE("a malformed request line gets a JSON error, not HTML", "[api]") {
  TestServer server;
  RawResponse r = RawGet(server.port(), "no-leading-slash HTTP/1.1 extra");
  INFO(r.head << "\n" << r.body);
  CHECK(r.status >= 400);
  CHECK(r.status < 500);
  CHECK(json::parse(r.body, nullptr, false).is_object());
}
