// libFuzzer target: the request -> response path. The input is one HTTP/1.1
// request as text ("METHOD TARGET HTTP/1.1", header lines, a blank line, the
// body), so the seed corpus (corpus/routes/) is readable and realistic. The
// harness parses it leniently into an httplib::Request the way httplib's
// server would (path URL-decoded, query into params) and calls what
// HttpServer calls for every request: Routes::Dispatch, then LocalizeError.
// No sockets.
//
// The Routes are real: LMDB and SQLite in a temporary directory made once per
// process (under $TMPDIR; scripts/fuzz.sh points it at /dev/shm), the
// embedded page, captcha answers fixed to "ABCD" (so the fuzzer can reach
// /sms_codes/ past the captcha), the cheapest password hashing, and a fake
// clock that moves one second per input (so codes, captchas and send flags
// expire and are swept during a run).
//
// Invariants checked on every answer (abort, so libFuzzer keeps the input):
//   - never a 500, and a status in 100..599;
//   - every answer >= 400 is application/json, a JSON object with an integer
//     "code" equal to the status and a non-empty string "errmsg";
//   - every application/json body is valid JSON;
//   - no crash, sanitizer report, leak or hang (libFuzzer's -timeout).
#include <httplib.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "queue/consumer_pool.h"
#include "queue/job_queue.h"
#include "storage/expiring_kv.h"
#include "storage/hash_pool.h"
#include "storage/lmdb_env.h"
#include "storage/password.h"
#include "storage/user_store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"
#include "web/json_reply.h"
#include "web/metrics.h"
#include "web/routes.h"
#include "web/signup_service.h"
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
  std::unique_ptr<storage::HashPool> hashes;
  storage::ServerSecret secret =
      storage::ServerSecret::FromBytes("routes fuzzer secret, 32 bytes!!");
  std::unique_ptr<web::AbuseGuard> guard;
  std::unique_ptr<web::SignupService> signup;
  std::unique_ptr<web::StaticFiles> files;
  web::Metrics metrics;
  std::unique_ptr<web::Routes> routes;
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
  w->hashes = std::make_unique<storage::HashPool>(1, 4);
  web::SignupOptions options;
  options.fixed_captcha = "ABCD";
  options.pwhash = storage::PwhashCost::Minimum();
  options.sms_budget_hour = 1000;
  options.sms_per_mobile_day = 10;
  w->signup = std::make_unique<web::SignupService>(w->kv.get(), w->queue.get(), w->users.get(),
                                                   w->hashes.get(), &w->secret, &w->clock, options);
  w->files = web::StaticFiles::Embedded();
  // The abuse limits on, as in production; the input's X-Forwarded-For picks
  // the client (trust_proxy), so both refused and served paths are reached.
  w->guard = std::make_unique<web::AbuseGuard>(web::AbuseOptions{});
  web::RouteOptions route_options;
  route_options.trust_proxy = true;
  route_options.allowed_origins = {"https://shop.example"};
  w->routes =
      std::make_unique<web::Routes>(w->signup.get(), w->files.get(), &w->metrics, w->queue.get(),
                                    &w->consumer_stats, w->guard.get(), route_options);
  return w;
}

// One line of head, without its line ending; advances *s past it.
std::string_view NextLine(std::string_view* s) {
  size_t nl = s->find('\n');
  std::string_view line = s->substr(0, nl);
  s->remove_prefix(nl == std::string_view::npos ? s->size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Parses the input as httplib's server would fill a Request: the method and
// target from the first line, the path URL-decoded, the query into params,
// headers as "Name: value", and everything after the first blank line as the
// body. Lenient: whatever is missing stays empty.
httplib::Request ParseRequest(std::string_view input) {
  httplib::Request req;
  size_t blank = input.find("\r\n\r\n");
  size_t skip = 4;
  if (blank == std::string_view::npos) {
    blank = input.find("\n\n");
    skip = 2;
  }
  std::string_view head = input.substr(0, blank);
  if (blank != std::string_view::npos) req.body = std::string(input.substr(blank + skip));

  std::string_view line = NextLine(&head);
  size_t sp = line.find(' ');
  req.method = std::string(line.substr(0, sp));
  std::string_view target = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  target = target.substr(0, target.find(' '));
  req.target = std::string(target);
  req.version = "HTTP/1.1";
  size_t q = target.find('?');
  req.path = httplib::detail::decode_url(std::string(target.substr(0, q)), false);
  if (q != std::string_view::npos) {
    httplib::detail::parse_query_text(std::string(target.substr(q + 1)), req.params);
  }
  for (int n = 0; !head.empty() && n < 64; ++n) {
    line = NextLine(&head);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    req.headers.emplace(std::string(line.substr(0, colon)), std::string(value));
  }
  req.remote_addr = "127.0.0.1";
  return req;
}

void CheckResponse(const httplib::Request& req, httplib::Response& res) {
  if (res.status == -1) res.status = 200;  // httplib's default for a handled request
  if (res.status == 500) Fail("status 500");
  if (res.status < 100 || res.status > 599) Fail("status out of range");
  const bool json_body = res.get_header_value("Content-Type") == "application/json";
  nlohmann::json body;
  if (json_body) {
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
  (void)req;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = MakeWorld();
  if (size > 64 * 1024) return -1;  // the server's own limits stop far less
  world->clock.Advance(1000);
  if (++world->inputs % 256 == 0) {
    (void)world->kv->SweepExpired(world->clock.NowMs(), 100'000);
  }
  httplib::Request req = ParseRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  httplib::Response res;
  world->routes->Dispatch(req, res);
  web::LocalizeError(req, res);
  CheckResponse(req, res);
  return 0;
}
