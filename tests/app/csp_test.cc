// The Content-Security-Policy of the HTML pages (--csp): the strict policy
// for the built-in page, none for a shop's --web-root page unless the shop
// sets one, and a bad policy refused before regd serves.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "app/config.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"
#include "web/http_server.h"

using Catch::Matchers::Contains;
using regd::testing::RegdProcess;
using regd::testing::RunRegdCapturing;
using regd::testing::TempDir;
using regd::testing::TestServer;

namespace {

// A web root holding register.html, as a shop's front end would.
struct ShopSite {
  TempDir dir;
  std::string root = dir.Join("www");
  ShopSite() {
    REQUIRE(mkdir(root.c_str(), 0700) == 0);
    std::ofstream(root + "/register.html") << "<html><body>the shop's page</body></html>";
  }
};

// GET path; the answer must be a 200 HTML page, which is sent X-Frame-Options
// DENY whatever the policy. Returns its Content-Security-Policy header, or
// "(none)" when it has none.
std::string PolicyOf(TestServer& server, const char* path = "/register.html") {
  auto res = server.Client().Get(path);
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/html", 0) == 0);
  CHECK(res->get_header_value("X-Frame-Options") == "DENY");
  return res->has_header("Content-Security-Policy")
             ? res->get_header_value("Content-Security-Policy")
             : "(none)";
}

}  // namespace

TEST_CASE("the built-in page is sent with the strict Content-Security-Policy", "[csp]") {
  TestServer server;
  CHECK(PolicyOf(server) == regd::web::kStrictContentSecurityPolicy);
  CHECK(PolicyOf(server, "/login.html") == regd::web::kStrictContentSecurityPolicy);
}

TEST_CASE("a --web-root page is sent without a CSP (the strict one blanked the seed's Vue page)",
          "[csp]") {
  ShopSite site;
  TestServer server([&](regd::app::Config& c) { c.web_root = site.root; });
  CHECK(PolicyOf(server) == "(none)");
}

TEST_CASE("a policy given with --csp is sent as given, for a --web-root page and the built-in one",
          "[csp]") {
  const std::string policy = "default-src 'self'; script-src 'self' 'unsafe-eval'";
  ShopSite site;
  TestServer shop([&](regd::app::Config& c) {
    c.web_root = site.root;
    c.csp = policy;
  });
  CHECK(PolicyOf(shop) == policy);
  TestServer builtin([&](regd::app::Config& c) { c.csp = policy; });
  CHECK(PolicyOf(builtin) == policy);
}

TEST_CASE("with --csp off no CSP is sent, also for the built-in page", "[csp]") {
  auto parsed = regd::app::ParseConfig({"--csp", "off"}, {});
  REQUIRE(parsed.ok());
  TestServer server([&](regd::app::Config& c) { c.csp = parsed->csp; });
  CHECK(PolicyOf(server) == "(none)");
}

TEST_CASE("regd refuses to start with an empty or non-printable --csp", "[csp]") {
  TempDir dir;
  for (const std::string& bad :
       {std::string(""), std::string("   "), std::string("default-src 'self'\r\nX-Evil: 1"),
        std::string("default-src \x01'self'"), std::string("default-src 'self' \xc3\xa9")}) {
    INFO(bad);
    auto r = RunRegdCapturing({"--port", "0", "--data-dir", dir.Join("data"), "--csp", bad});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--csp takes a Content-Security-Policy"));
    CHECK(r.out.find("listening") == std::string::npos);
  }
}

TEST_CASE("regd with --web-root says at start that its pages get no CSP", "[csp]") {
  ShopSite site;
  std::string log = site.dir.Join("regd.log");
  RegdProcess regd({"--port", "0", "--data-dir", site.dir.Join("data"), "--web-root", site.root},
                   log);
  REQUIRE(regd.started());
  CHECK_THAT(regd.Log(), Contains("INFO --web-root: the pages are sent without a "
                                  "Content-Security-Policy"));
}
