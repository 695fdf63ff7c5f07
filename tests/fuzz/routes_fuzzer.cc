// libFuzzer target: the request -> response path, from the bytes on the
// wire. The input is what a client sends on one connection: usually one
// HTTP/1.1 request as text ("METHOD TARGET HTTP/1.1", header lines, a blank
// line, the body), so the seed corpus (corpus/routes/) is readable and
// realistic, but anything goes (pipelined requests, bad request lines,
// chunked bodies, oversized heads).
//
// Each input is written to one end of a socketpair and the other end is
// served by regd's real HttpServer (HttpServer::ServeConnection): the same
// code as an accepted connection (EventServer's framing and deadlines,
// httplib's parser, the head and body limits, the error and exception
// handlers, the security headers, Routes::Dispatch, json_reply), without
// the accept loop. A thread drains the answer bytes meanwhile.
//
// The Routes are real: LMDB and SQLite in a temporary directory made once per
// process (under $TMPDIR; scripts/fuzz.sh points it at /dev/shm), the
// embedded page, captcha answers fixed to "ABCD" (so the fuzzer can reach
// /sms_codes/ past the captcha), the cheapest password hashing, the abuse
// limits on, and a fake clock that moves one second per input (so codes,
// captchas and send flags expire and are swept during a run).
//
// Invariants checked on every answer (abort, so libFuzzer keeps the input):
//   - never a 500, and a status in 100..599;
//   - every answer >= 400 is application/json, a JSON object with an integer
//     "code" equal to the status and a non-empty string "errmsg";
//   - every application/json body is valid JSON (unless compressed or a
//     206 range of it);
//   - the bytes on the wire, when there are any, begin with an HTTP/1.1
//     status line;
//   - no crash, sanitizer report, leak or hang (libFuzzer's -timeout).
#include <httplib.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "account/hash_pool.h"
#include "account/password.h"
#include "account/signup_service.h"
#include "queue/consumer_pool.h"
#include "queue/job_queue.h"
#include "storage/expiring_kv.h"
#include "storage/lmdb_env.h"
#include "storage/user_store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"
#include "web/http_server.h"
#include "web/json_reply.h"
#include "web/metrics.h"
#include "web/routes.h"
#include "web/static_files.h"

namespace {

using namespace regd;

// Everything a Routes needs, built once per process and never destroyed
// (the writer thread and the files live until exit).
struct World {
  testing::FakeClock clock;
  testing::TempDir dir;
  std::unique_ptr<storage::LmdbEnv> env;
  std::unique_ptr<storage::ExpiringKv> kv;
  std::unique_ptr<storage::UserStore> users;
  std::unique_ptr<queue::JobQueue> queue;
  queue::ConsumerStats consumer_stats;
  std::unique_ptr<account::HashPool> hashes;
  storage::ServerSecret secret =
      storage::ServerSecret::FromBytes("routes fuzzer secret, 32 bytes!!");
  std::unique_ptr<account::AbuseGuard> guard;
  std::unique_ptr<account::SignupService> signup;
  std::unique_ptr<web::StaticFiles> files;
  web::Metrics metrics;
  std::unique_ptr<web::Routes> routes;
  std::unique_ptr<web::HttpServer> http;
  uint64_t inputs = 0;
};

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "routes_fuzzer: %s\n", what);
  std::abort();
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "routes_fuzzer: %s: %s\n", what, r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

void CheckResponse(const httplib::Request&, const httplib::Response& res) {
  if (res.status == 500) Fail("status 500");
  if (res.status < 100 || res.status > 599) Fail("status out of range");
  const bool json_body = res.get_header_value("Content-Type") == "application/json";
  // What httplib wrote may be a compressed body or a range of it.
  const bool whole_body = !res.has_header("Content-Encoding") && res.status != 206;
  nlohmann::json body;
  if (json_body && whole_body) {
    body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) Fail("an application/json body is not JSON");
  }
  if (res.status >= 400) {
    if (!json_body) Fail("an error answer is not application/json");
    if (!body.is_object()) Fail("an error body is not a JSON object");
    auto code = body.find("code");
    auto errmsg = body.find("errmsg");
    if (code == body.end() || !code->is_number_integer() || code->get<int>() != res.status) {
      Fail("an error body's \"code\" is missing or differs from the status");
    }
    if (errmsg == body.end() || !errmsg->is_string() || errmsg->get<std::string>().empty()) {
      Fail("an error body has no \"errmsg\" string");
    }
  }
}

World* MakeWorld() {
  if (sodium_init() < 0) Fail("libsodium failed to initialise");
  static auto* w = new World;
  // libFuzzer ends a run with exit(): remove the data then (the World itself
  // stays, its writer thread may still run).
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(w->dir.path(), ec);
  });
  storage::LmdbEnv::Options lmdb;
  lmdb.path = w->dir.Join("lmdb");
  lmdb.map_size = size_t{256} << 20;
  w->env = Must(storage::LmdbEnv::Open(lmdb), "LmdbEnv::Open");
  w->kv = Must(storage::ExpiringKv::Open(w->env.get()), "ExpiringKv::Open");
  w->users = Must(storage::UserStore::Open(w->dir.Join("users.sqlite3")), "UserStore::Open");
  w->queue = Must(queue::JobQueue::Open(w->env.get(), &w->clock), "JobQueue::Open");
  w->hashes = std::make_unique<account::HashPool>(1, 4);
  account::SignupOptions options;
  options.fixed_captcha = "ABCD";
  options.pwhash = account::PwhashCost::Minimum();
  options.sms_budget_hour = 1000;
  options.sms_per_mobile_day = 10;
  w->signup = std::make_unique<account::SignupService>(
      w->kv.get(), w->queue.get(), w->users.get(), w->hashes.get(), &w->secret, &w->clock, options);
  w->files = web::StaticFiles::Embedded();
  // The abuse limits on, as in production; the input's X-Forwarded-For picks
  // the client (trust_proxy), so both refused and served paths are reached.
  w->guard = std::make_unique<account::AbuseGuard>(account::AbuseOptions{});
  web::RouteOptions route_options;
  route_options.trust_proxy = true;
  route_options.allowed_origins = {"https://shop.example"};
  w->routes =
      std::make_unique<web::Routes>(w->signup.get(), w->files.get(), &w->metrics, w->queue.get(),
                                    &w->consumer_stats, w->guard.get(), route_options);
  web::HttpOptions http;
  http.port = 0;  // bound (ServeConnection needs it) but never listening
  http.threads = 1;
  http.access_log = false;
  http.on_answer = CheckResponse;
  w->http = std::make_unique<web::HttpServer>(w->routes.get(), &w->metrics, http);
  Must(w->http->Bind(), "HttpServer::Bind");
  return w;
}

// Writes the whole input on a socketpair, serves the other end and returns
// the bytes the server answered.
std::string ServeOneConnection(World* w, std::string_view input) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) Fail("socketpair failed");
  // The input fits the socket's buffer (<= 64 KiB), so this cannot block.
  for (size_t off = 0; off < input.size();) {
    ssize_t n = ::write(sv[0], input.data() + off, input.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fail("writing the input to the socketpair failed");
    off += static_cast<size_t>(n);
  }
  ::shutdown(sv[0], SHUT_WR);  // the client has said everything
  std::string wire;
  std::thread drain([&wire, fd = sv[0]] {
    char buf[16 * 1024];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      wire.append(buf, static_cast<size_t>(n));
    }
  });
  w->http->ServeConnection(sv[1]);  // closes sv[1]
  drain.join();
  ::close(sv[0]);
  return wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = MakeWorld();
  if (size > 64 * 1024) return -1;  // the server's own limits stop far less
  world->clock.Advance(1000);
  if (++world->inputs % 256 == 0) {
    (void)world->kv->SweepExpired(world->clock.NowMs(), 100'000);
  }
  std::string wire =
      ServeOneConnection(world, std::string_view(reinterpret_cast<const char*>(data), size));
  if (!wire.empty() && wire.rfind("HTTP/1.1 ", 0) != 0) {
    Fail("the answer on the wire does not begin with an HTTP/1.1 status line");
  }
  return 0;
}
