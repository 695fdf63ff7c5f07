// GET /healthz and /metrics over real HTTP: health is {"status":"ok"}; the
// metrics are Prometheus text whose request, queue and SMS counters follow
// what happened, a provider's retry included.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/route_checks.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::BodyJson;
using regd::testing::CheckOk;
using regd::testing::CodeFor;
using regd::testing::PostJson;
using regd::testing::RegisterForm;
using regd::testing::TestServer;

namespace {

// The value of a sample line "name value" (or "name{...} value") in metrics
// text; -1 when absent.
double MetricValue(const std::string& text, const std::string& sample) {
  size_t pos = 0;
  while ((pos = text.find(sample + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      return std::atof(text.c_str() + pos + sample.size() + 1);
    }
    pos += sample.size();
  }
  return -1;
}

// Polls /metrics until sample reaches at least min; returns the last value.
double WaitForMetric(TestServer& server, const std::string& sample, double min) {
  double v = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    auto res = server.Client().Get("/metrics");
    if (res && res->status == 200) v = MetricValue(res->body, sample);
    if (v >= min) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return v;
}

}  // namespace

TEST_CASE("healthz answers 200 {\"status\":\"ok\"}", "[api]") {
  TestServer server;
  auto res = server.Client().Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  CHECK(BodyJson(*res) == json{{"status", "ok"}});
}

TEST_CASE("metrics is Prometheus text with requests, queue depth, sent, retried and dead",
          "[api]") {
  TestServer server;
  std::string code = CodeFor(server, "13800000036");
  auto res = server.Client().Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  for (const char* name : {"regd_http_requests_total", "regd_queue_depth", "regd_sms_sent_total",
                           "regd_sms_retried_total", "regd_sms_dead_total"}) {
    INFO(name);
    CHECK(res->body.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
  CHECK(WaitForMetric(server, "regd_http_requests_total{code=\"200\"}", 1) >= 1);
  CHECK(WaitForMetric(server, "regd_sms_sent_total", 1) >= 1);
  CHECK(MetricValue(server.Client().Get("/metrics")->body, "regd_queue_depth") >= 0);
  CHECK(MetricValue(server.Client().Get("/metrics")->body, "regd_sms_dead_total") == 0);
}

TEST_CASE("an SMS the provider first answers 503 still arrives after a retry", "[api]") {
  TestServer server;
  server.sms().ScriptStatuses({503});
  REQUIRE(server.RequestCode("13800000037") == 200);
  auto code = server.sms().WaitForCode("13800000037", std::chrono::seconds(15));
  REQUIRE(code.has_value());
  CHECK(server.sms().RequestCount() >= 2);
  CHECK(server.sms().Accepted().size() == 1);
  CHECK(WaitForMetric(server, "regd_sms_retried_total", 1) >= 1);
  // The delivered code registers.
  CheckOk(PostJson(server, "/register/", RegisterForm("alice", "13800000037", *code).dump()));
}
