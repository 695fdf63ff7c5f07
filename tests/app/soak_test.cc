// Soak test (issue #6): the real regd binary, its abuse limits on, for a
// bounded time on loopback, while normal customers sign up and sign in beside
// an attacker who pumps SMS codes to premium-looking numbers, guesses a
// customer's password and an SMS code, and holds connections open with slow
// requests. It shows that the customers get through and the attacker is held
// to the limits:
//
//   customers     every customer whose code was sent completes the whole
//                 flow (captcha, code, register, /info/, logout, login); the
//                 early ones (who arrive before the pumper) all do; the late
//                 ones (after the budget is spent) are refused only with the
//                 budget's 429; their logins, /info/ and logouts succeed
//                 throughout with p99 latency under kP99Bound;
//   SMS pumper    the fake provider receives exactly the codes answered 200,
//                 and those are exactly the hourly budget; no address gets
//                 more than the per-IP rate; /metrics shows the budget spent
//                 and counts every budget refusal a client saw;
//   brute force   five wrong passwords from one address, then only 429s,
//                 even for the right password; the owner, elsewhere, signs in;
//   code guesser  ten concurrent wrong codes get exactly five tries; the right
//                 code after them is refused (the code was spent);
//   slow clients  silent, half-sent and trickling (a byte every 500 ms)
//                 requests are cut by the server within its 5 s read timeout
//                 plus slack, whatever the kind;
//   everyone      no 5xx, no dropped connection, every API answer is JSON;
//                 /healthz is 200 at the end.
//
// Addresses are simulated with X-Forwarded-For (--trust-proxy). The budget
// counts per UTC hour: a run that crosses an hour boundary is allowed a
// budget per hour it touched. Timing is asserted only loosely (a noisy
// 2-core machine): actors wait for each other on flags, not on sleeps, and
// the bounds are several times what a quiet run needs. About 13 s.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_client.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::FakeSmsServer;
using regd::testing::NumberedMobile;
using regd::testing::RegdProcess;
using regd::testing::TempDir;
using regd::testing::TestServer;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kPassword = "password_1";
constexpr int kBudget = 40;        // --sms-budget-hour
constexpr int kIpSmsRate = 3;      // --ip-sms-rate 3/h
constexpr int kEarlyUsers = 6;     // sign up before the pumper starts
constexpr int kLateUsers = 3;      // arrive once the budget is spent
constexpr int kPumpers = 2;        // pumping threads
constexpr int kSlowClients = 21;   // 7 silent, 7 half-sent, 7 trickling
constexpr int kGuesses = 10;       // concurrent wrong SMS codes
constexpr int kMaxCodeTries = 5;   // SignupOptions::max_code_tries
constexpr int kPairLockAfter = 5;  // AbuseOptions::login_pair.threshold
constexpr int kLoginBurst = 30;    // --ip-login-rate 30/m
constexpr auto kRun = std::chrono::seconds(12);
constexpr auto kReadTimeout = std::chrono::seconds(5);  // HttpOptions::read_timeout_s
constexpr auto kSlack = std::chrono::seconds(5);        // a busy machine's scheduling
constexpr double kP99BoundMs = 2000;

// Messages the assertions tell apart (web/messages.cc, English).
constexpr const char* kBudgetSpent = "SMS codes cannot be sent right now; try again later";
constexpr const char* kTooManyRequests = "too many requests from your network; try again later";
constexpr const char* kWrongLogin = "wrong username or password";
constexpr const char* kLoginLocked = "too many failed logins; try again later";
constexpr const char* kSmsCodeWrong = "wrong SMS code";
constexpr const char* kSmsCodeTooManyTries = "wrong SMS code; too many tries, request a new code";
constexpr const char* kSmsCodeExpired = "SMS code expired; request a new one";

// The body as a JSON object (empty when it is not one), for lookups that
// must not throw on a thread.
json Body(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  return j.is_object() ? j : json::object();
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int64_t UtcHour() {
  return std::chrono::duration_cast<std::chrono::hours>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One answer as a client saw it; status -1: no answer (connection failed).
struct Reply {
  int status = -1;
  std::string body;
  std::string content_type;
  int retry_after = 0;
  std::string session;  // the sessionid cookie set, if any
  double ms = 0;

  std::string Errmsg() const {
    json j = json::parse(body, nullptr, false);
    return j.is_object() && j.contains("errmsg") && j["errmsg"].is_string()
               ? j["errmsg"].get<std::string>()
               : "";
  }
};

// Every answer any HTTP actor got, checked for the rules that hold for all
// of them: no 5xx, no dropped connection, JSON from every API path.
// Thread-safe; read it after the actors are joined.
class Ledger {
 public:
  void Record(const std::string& actor, const std::string& method, const std::string& path,
              const Reply& r) {
    const bool api = path.rfind("/image_codes/", 0) != 0 && path != "/metrics";
    std::string problem;
    if (r.status < 0) {
      problem = "no answer";
    } else if (r.status >= 500) {
      problem = "status " + std::to_string(r.status);
    } else if (api && (r.content_type.rfind("application/json", 0) != 0 ||
                       json::parse(r.body, nullptr, false).is_discarded())) {
      problem = "not JSON (" + r.content_type + ")";
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++answers_;
    ++by_status_[r.status];
    if (!problem.empty() && problems_.size() < 20) {
      problems_.push_back(actor + ": " + method + " " + path + " -> " + problem + ": " +
                          r.body.substr(0, 200));
    }
    if (!problem.empty()) ++problem_count_;
  }
  size_t problem_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return problem_count_;
  }
  std::string Summary() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string s = std::to_string(answers_) + " answers;";
    for (auto [status, n] : by_status_) s += " " + std::to_string(status) + "x" + std::to_string(n);
    for (const auto& p : problems_) s += "\n  " + p;
    return s;
  }

 private:
  std::mutex mu_;
  size_t answers_ = 0;                 // guarded by mu_
  std::map<int, size_t> by_status_;    // guarded by mu_
  std::vector<std::string> problems_;  // guarded by mu_; the first 20
  size_t problem_count_ = 0;           // guarded by mu_
};

// What every actor shares. The flags and counters are the only state
// actors exchange; each actor's own findings live in its own struct, read by
// the test thread after the join.
struct Soak {
  int port = 0;
  FakeSmsServer* sms = nullptr;
  Ledger ledger;
  std::atomic<bool> stop{false};
  std::atomic<int> early_codes_answered{0};  // early users + guesser: code request answered
  std::atomic<bool> target_registered{false};
  std::atomic<bool> budget_spent_seen{false};
  std::atomic<int> budget_refusals{0};  // 429 "budget spent" seen by any client
  std::atomic<int> codes_ok{0};         // /sms_codes/ answered 200, any client

  // One request from address `ip` (X-Forwarded-For), recorded in the ledger.
  Reply Call(const std::string& actor, const std::string& ip, const std::string& method,
             const std::string& path, const std::string& body = "",
             const std::string& session = "") {
    httplib::Client cli("127.0.0.1", port);
    cli.set_connection_timeout(std::chrono::seconds(5));
    cli.set_read_timeout(std::chrono::seconds(15));
    httplib::Headers headers = {{"X-Forwarded-For", ip}};
    if (!session.empty()) headers.emplace("Cookie", "sessionid=" + session);
    auto start = Clock::now();
    httplib::Result res = method == "GET" ? cli.Get(path.c_str(), headers)
                          : method == "DELETE"
                              ? cli.Delete(path.c_str(), headers)
                              : cli.Post(path.c_str(), headers, body, "application/json");
    Reply r;
    r.ms = Ms(Clock::now() - start);
    if (res) {
      r.status = res->status;
      r.body = res->body;
      r.content_type = res->get_header_value("Content-Type");
      r.retry_after = std::atoi(res->get_header_value("Retry-After").c_str());
      r.session = regd::testing::SetCookieValue(*res, "sessionid");
    }
    ledger.Record(actor, method, path, r);
    return r;
  }

  // A new captcha, then a code for mobile with its answer.
  Reply RequestCode(const std::string& actor, const std::string& ip, const std::string& mobile,
                    Reply* captcha = nullptr) {
    std::string uuid = TestServer::NewUuid();
    Reply img = Call(actor, ip, "GET", "/image_codes/" + uuid + "/");
    if (captcha != nullptr) *captcha = img;
    Reply r = Call(
        actor, ip, "GET",
        "/sms_codes/" + mobile + "/?image_code=" + TestServer::kCaptcha + "&image_code_id=" + uuid);
    if (r.status == 200) ++codes_ok;
    if (r.status == 429 && r.Errmsg() == kBudgetSpent) {
      ++budget_refusals;
      budget_spent_seen = true;
    }
    return r;
  }

  // Sleeps up to d, waking early at stop; false once stopped.
  bool Pause(Clock::duration d) {
    auto until = Clock::now() + d;
    while (!stop && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return !stop;
  }
};

// --- normal users ---

struct UserRun {
  std::string username, mobile, ip;
  bool late = false;
  bool target = false;        // the brute forcer's target
  Reply code;                 // the /sms_codes/ answer
  bool completed = false;     // the whole flow, through the second /info/
  std::string failed;         // the step that went wrong, if any
  std::vector<double> op_ms;  // login, /info/, logout latencies
  int ops = 0, ops_ok = 0;
};

// The page's flow: rules, both count checks, captcha, code, register,
// /info/, logout, login, /info/; then, until the end, logout, login and
// /info/ about once a second (well inside --ip-login-rate).
void RunUser(Soak& soak, UserRun& u) {
  const std::string actor = "user " + u.username;
  auto fail = [&](const std::string& step, const Reply& r) {
    u.failed = step + ": " + std::to_string(r.status) + " " + r.body;
  };
  auto op = [&](const Reply& r) {
    ++u.ops;
    if (r.status == 200) ++u.ops_ok;
    u.op_ms.push_back(r.ms);
    return r.status == 200;
  };
  Reply r = soak.Call(actor, u.ip, "GET", "/rules.json");
  if (r.status != 200) return fail("rules", r);
  r = soak.Call(actor, u.ip, "GET", "/usernames/" + u.username + "/count/");
  if (r.status != 200 || Body(r.body)["count"] != 0) return fail("username count", r);
  r = soak.Call(actor, u.ip, "GET", "/mobiles/" + u.mobile + "/count/");
  if (r.status != 200 || Body(r.body)["count"] != 0) return fail("mobile count", r);
  Reply captcha;
  u.code = soak.RequestCode(actor, u.ip, u.mobile, &captcha);
  if (!u.late) ++soak.early_codes_answered;
  if (captcha.status != 200) return fail("captcha", captcha);
  if (u.code.status != 200) return fail("code", u.code);
  auto code = soak.sms->WaitForCode(u.mobile, std::chrono::seconds(15));
  if (!code) return fail("code never reached the phone", u.code);
  json form = {{"username", u.username}, {"password", kPassword}, {"password2", kPassword},
               {"mobile", u.mobile},     {"sms_code", *code},     {"allow", true}};
  r = soak.Call(actor, u.ip, "POST", "/register/", form.dump());
  if (r.status != 200 || r.session.empty()) return fail("register", r);
  std::string session = r.session;
  if (u.target) soak.target_registered = true;
  r = soak.Call(actor, u.ip, "GET", "/info/", "", session);
  if (!op(r) || Body(r.body)["info_data"]["username"] != u.username) return fail("info", r);
  json login = {{"username", u.username}, {"password", kPassword}, {"remembered", true}};
  for (bool first = true; first || soak.Pause(std::chrono::milliseconds(700)); first = false) {
    r = soak.Call(actor, u.ip, "DELETE", "/logout/", "", session);
    if (!op(r)) return fail("logout", r);
    r = soak.Call(actor, u.ip, "GET", "/info/", "", session);
    if (r.status != 401) return fail("info after logout", r);
    // Alternate username and mobile, as a customer might.
    login["username"] = u.ops % 2 ? u.mobile : u.username;
    r = soak.Call(actor, u.ip, "POST", "/login/", login.dump());
    if (!op(r) || r.session.empty()) return fail("login", r);
    session = r.session;
    r = soak.Call(actor, u.ip, "GET", "/info/", "", session);
    if (!op(r) || Body(r.body)["info_data"]["mobile"] != u.mobile) return fail("info", r);
    u.completed = true;
  }
}

// --- the SMS pumper ---

struct PumperRun {
  int ok = 0, budget_refused = 0, ip_refused = 0, other = 0;
  std::map<std::string, int> ok_by_ip;
  std::string other_example;
};

// Requests codes for premium-looking numbers (170…, one per request, so the
// 60 s per-mobile interval never applies) as fast as it can, solving the
// captcha, moving to a new address whenever the per-IP rate refuses it.
void RunPumper(Soak& soak, int id, PumperRun& p) {
  // The early users and the guesser ask for their codes first (or give up).
  auto head_start = Clock::now() + std::chrono::seconds(5);
  while (soak.early_codes_answered < kEarlyUsers + 1 && Clock::now() < head_start) {
    if (!soak.Pause(std::chrono::milliseconds(10))) return;
  }
  int address = 0;
  for (int i = 0; !soak.stop; ++i) {
    std::string ip = "10." + std::to_string(66 + id) + "." + std::to_string(address / 250) + "." +
                     std::to_string(address % 250 + 1);
    Reply r = soak.RequestCode("pumper", ip, NumberedMobile("170", id * 1000000 + i));
    if (r.status == 200) {
      ++p.ok;
      ++p.ok_by_ip[ip];
    } else if (r.status == 429 && r.Errmsg() == kBudgetSpent) {
      ++p.budget_refused;
    } else if (r.status == 429 && r.Errmsg() == kTooManyRequests) {
      ++p.ip_refused;
      ++address;
    } else {
      ++p.other;
      p.other_example = std::to_string(r.status) + " " + r.body;
    }
  }
}

// --- the password guesser ---

struct BruteRun {
  std::vector<std::pair<int, std::string>> answers;  // status, errmsg, in order
  std::vector<bool> right_password;                  // per answer
};

// Guesses the target's password from one address: wrong guesses, and once
// the lock should hold, the right password every fifth try (as if the
// guesser had found it).
void RunBruteForcer(Soak& soak, const std::string& target, BruteRun& b) {
  while (!soak.target_registered) {
    if (!soak.Pause(std::chrono::milliseconds(10))) return;
  }
  for (int i = 0; soak.Pause(std::chrono::milliseconds(50)); ++i) {
    bool right = i >= kPairLockAfter && i % 5 == 0;
    json body = {{"username", target},
                 {"password", right ? kPassword : "guess_" + std::to_string(i) + "_pw"}};
    Reply r = soak.Call("brute forcer", "10.99.0.1", "POST", "/login/", body.dump());
    b.answers.push_back({r.status, r.Errmsg()});
    b.right_password.push_back(right);
  }
}

// --- the SMS code guesser ---

struct GuesserRun {
  Reply code;
  std::vector<Reply> guesses;  // the concurrent wrong codes
  Reply right;                 // the right code, after them
  bool got_code = false;
};

// Gets a code sent to a mobile it does not own, then sends kGuesses wrong
// codes at once from one address, then the right one (read off the phone,
// as if the guesser had finally hit it).
void RunCodeGuesser(Soak& soak, GuesserRun& g) {
  const std::string ip = "10.98.0.1", mobile = "13999990000";
  g.code = soak.RequestCode("code guesser", ip, mobile);
  ++soak.early_codes_answered;
  if (g.code.status != 200) return;
  auto code = soak.sms->WaitForCode(mobile, std::chrono::seconds(15));
  if (!code) return;
  g.got_code = true;
  auto form = [&](int i, const std::string& c) {
    return json{{"username", "guesser_" + std::to_string(i)},
                {"password", kPassword},
                {"password2", kPassword},
                {"mobile", mobile},
                {"sms_code", c},
                {"allow", true}}
        .dump();
  };
  g.guesses.resize(kGuesses);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kGuesses; ++i) {
    threads.emplace_back([&, i] {
      char wrong[8];
      std::snprintf(wrong, sizeof(wrong), "%06d", (std::stoi(*code) + 1 + i) % 1000000);
      ++ready;
      while (ready < kGuesses) std::this_thread::yield();
      g.guesses[i] = soak.Call("code guesser", ip, "POST", "/register/", form(i, wrong));
    });
  }
  for (auto& t : threads) t.join();
  g.right = soak.Call("code guesser", ip, "POST", "/register/", form(kGuesses, *code));
}

// --- slow clients ---

struct SlowRun {
  int opened = 0, closed = 0;
  double longest_s[3] = {0, 0, 0};   // by kind: the longest a connection stayed open
  std::vector<std::string> answers;  // first line of whatever the server wrote
};

// Keeps kSlowClients raw connections open at all times: a third say
// nothing, a third send half a request line and stop, a third trickle an
// endless header one byte every 500 ms. A connection the server closes is
// replaced by a new one of the same kind.
void RunSlowClients(Soak& soak, SlowRun& s) {
  enum Kind { kSilent, kHalf, kTrickle };
  struct Conn {
    int fd = -1;
    Kind kind;
    Clock::time_point opened, last_send;
    size_t sent = 0;
    std::string received;
  };
  const std::string trickle =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(8000, 'a');
  auto open = [&](Conn& c) {
    c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(soak.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    ::fcntl(c.fd, F_SETFL, O_NONBLOCK);
    c.opened = c.last_send = Clock::now();
    c.sent = 0;
    c.received.clear();
    if (c.kind == kHalf) ::send(c.fd, "GET /healthz HT", 15, MSG_NOSIGNAL);
    ++s.opened;
  };
  std::vector<Conn> conns(kSlowClients);
  for (int i = 0; i < kSlowClients; ++i) {
    conns[i].kind = static_cast<Kind>(i % 3);
    open(conns[i]);
  }
  while (soak.Pause(std::chrono::milliseconds(50))) {
    auto now = Clock::now();
    for (Conn& c : conns) {
      if (c.fd < 0) {
        open(c);
        continue;
      }
      if (c.kind == kTrickle && now - c.last_send >= std::chrono::milliseconds(500) &&
          c.sent < trickle.size()) {
        if (::send(c.fd, trickle.data() + c.sent, 1, MSG_NOSIGNAL) == 1) ++c.sent;
        c.last_send = now;
      }
      char buf[512];
      ssize_t n;
      while ((n = ::recv(c.fd, buf, sizeof(buf), 0)) > 0) c.received.append(buf, n);
      const bool closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
      s.longest_s[c.kind] = std::max(s.longest_s[c.kind], Ms(now - c.opened) / 1000);
      if (closed) {
        ++s.closed;
        if (!c.received.empty()) s.answers.push_back(c.received.substr(0, c.received.find('\r')));
        ::close(c.fd);
        c.fd = -1;
      }
    }
  }
  for (Conn& c : conns) {
    if (c.fd >= 0) ::close(c.fd);
  }
}

// Joins every thread it holds, after setting stop (also when a REQUIRE in
// the test body throws).
struct Actors {
  Soak& soak;
  std::vector<std::thread> threads;
  ~Actors() { JoinAll(); }
  void JoinAll() {
    soak.stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
};

// The value of a /metrics line "name value" ("name{label} value").
double Metric(const std::string& page, const std::string& name) {
  std::smatch m;
  std::regex re("(^|\n)" +
                std::regex_replace(name, std::regex(R"([{}\[\]().*+?^$|\\])"), R"(\$&)") +
                " ([0-9.e+-]+)");
  if (!std::regex_search(page, m, re)) return -1;
  return std::stod(m[2]);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

TEST_CASE("under a mixed attack customers still sign up and the attacker is held to the limits",
          "[soak]") {
  const auto test_start = Clock::now();
  TempDir dir;
  FakeSmsServer sms;
  RegdProcess regd({"--port", "0", "--data-dir", dir.Join("data"), "--sms-provider", "webhook",
                    "--sms-webhook-url", sms.url(), "--pwhash", "min", "--dev-fixed-captcha",
                    TestServer::kCaptcha, "--trust-proxy", "--sms-budget-hour",
                    std::to_string(kBudget), "--ip-sms-rate", std::to_string(kIpSmsRate) + "/h"},
                   dir.Join("regd.log"));
  REQUIRE(regd.started());
  const int64_t first_hour = UtcHour();

  Soak soak;
  soak.port = regd.port();
  soak.sms = &sms;
  std::vector<UserRun> users(kEarlyUsers + kLateUsers);
  for (int i = 0; i < kEarlyUsers + kLateUsers; ++i) {
    users[i].username = "soak_user_" + std::to_string(i);
    users[i].mobile = NumberedMobile("1380", i * 10);
    users[i].ip = "10.1.0." + std::to_string(i + 1);
    users[i].late = i >= kEarlyUsers;
    users[i].target = i == 0;
  }
  std::vector<PumperRun> pumpers(kPumpers);
  BruteRun brute;
  GuesserRun guesser;
  SlowRun slow;
  {
    Actors actors{soak, {}};
    actors.threads.emplace_back([&] { RunSlowClients(soak, slow); });
    for (int i = 0; i < kEarlyUsers; ++i) {
      actors.threads.emplace_back([&, i] { RunUser(soak, users[i]); });
    }
    actors.threads.emplace_back([&] { RunCodeGuesser(soak, guesser); });
    for (int i = 0; i < kPumpers; ++i) {
      actors.threads.emplace_back([&, i] { RunPumper(soak, i, pumpers[i]); });
    }
    actors.threads.emplace_back([&] { RunBruteForcer(soak, users[0].username, brute); });
    // The late users come once a client has been refused for the budget.
    actors.threads.emplace_back([&] {
      while (!soak.budget_spent_seen) {
        if (!soak.Pause(std::chrono::milliseconds(10))) return;
      }
      std::vector<std::thread> late;
      for (int i = kEarlyUsers; i < kEarlyUsers + kLateUsers; ++i) {
        late.emplace_back([&, i] { RunUser(soak, users[i]); });
      }
      for (auto& t : late) t.join();
    });
    std::this_thread::sleep_for(kRun);
    actors.JoinAll();
  }
  const int64_t hours = UtcHour() - first_hour + 1;  // UTC hours the budget counted in
  INFO("answers: " << soak.ledger.Summary());

  // Every SMS answered 200 reaches the phone, and nothing else does.
  const int codes_ok = soak.codes_ok;
  CHECK(sms.WaitForAccepted(codes_ok, std::chrono::seconds(15)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const size_t delivered = sms.Accepted().size();

  // --- everyone ---
  CHECK(soak.ledger.problem_count() == 0);
  auto health = httplib::Client("127.0.0.1", regd.port()).Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(Body(health->body)["status"] == "ok");
  CHECK(regd.Running());

  // --- customers ---
  std::vector<double> op_ms;
  int early_completed = 0;
  for (const UserRun& u : users) {
    INFO(u.username << (u.late ? " (late)" : "") << ": " << u.failed);
    op_ms.insert(op_ms.end(), u.op_ms.begin(), u.op_ms.end());
    CHECK(u.ops == u.ops_ok);  // every login, /info/ and logout succeeded
    if (u.code.status == 200) {
      CHECK(u.completed);  // a customer whose code was sent always got through
      CHECK(u.failed.empty());
    } else {
      // The only refusal a customer may meet is the spent budget.
      CHECK(u.late);
      CHECK(u.code.status == 429);
      CHECK(u.code.Errmsg() == kBudgetSpent);
      CHECK(u.code.retry_after > 0);
    }
    if (!u.late && u.completed) ++early_completed;
    if (u.late && hours == 1) CHECK(u.code.status == 429);  // arrived after the budget
  }
  CHECK(early_completed == kEarlyUsers);
  const double p99 = Percentile(op_ms, 0.99);
  INFO("customer logins, /info/, logouts: " << op_ms.size() << ", p50 " << Percentile(op_ms, 0.5)
                                            << " ms, p99 " << p99 << " ms");
  CHECK(op_ms.size() >= kEarlyUsers * 6);
  CHECK(p99 < kP99BoundMs);

  // --- the SMS pumper ---
  PumperRun pump;
  for (const PumperRun& p : pumpers) {
    pump.ok += p.ok;
    pump.budget_refused += p.budget_refused;
    pump.ip_refused += p.ip_refused;
    pump.other += p.other;
    for (auto [ip, n] : p.ok_by_ip) pump.ok_by_ip[ip] += n;
    if (!p.other_example.empty()) pump.other_example = p.other_example;
  }
  INFO("pumper: " << pump.ok << " sent, " << pump.budget_refused << " budget 429, "
                  << pump.ip_refused << " per-IP 429, " << pump.other << " other ("
                  << pump.other_example << "), " << pump.ok_by_ip.size() << " addresses used");
  INFO("codes answered 200: " << codes_ok << ", SMS delivered: " << delivered
                              << ", UTC hours: " << hours);
  CHECK(pump.ok > 0);
  CHECK(pump.budget_refused > 0);
  CHECK(pump.ip_refused > 0);
  CHECK(pump.other == 0);
  for (auto [ip, n] : pump.ok_by_ip) {
    INFO(ip);
    CHECK(n <= kIpSmsRate);
  }
  CHECK(delivered == static_cast<size_t>(codes_ok));
  CHECK(codes_ok <= kBudget * hours);
  if (hours == 1) CHECK(codes_ok == kBudget);  // the pumper spent all that was left

  auto metrics = httplib::Client("127.0.0.1", regd.port()).Get("/metrics");
  REQUIRE(metrics);
  if (hours == 1) CHECK(Metric(metrics->body, "regd_sms_budget_spent") == 1);
  CHECK(Metric(metrics->body, "regd_limited_total{limit=\"sms_budget\"}") ==
        soak.budget_refusals.load());
  CHECK(Metric(metrics->body, "regd_sms_requested_total") == codes_ok);
  CHECK(Metric(metrics->body, "regd_limited_total{limit=\"ip_sms\"}") >= pump.ip_refused);
  CHECK(Metric(metrics->body, "regd_limited_total{limit=\"login_locked\"}") > 0);
  CHECK(regd.Log().find("SMS BUDGET SPENT") != std::string::npos);

  // --- the password guesser ---
  INFO("brute forcer: " << brute.answers.size() << " attempts");
  REQUIRE(brute.answers.size() > kPairLockAfter + 5);
  bool tried_right_password_when_locked = false;
  for (size_t i = 0; i < brute.answers.size(); ++i) {
    INFO("attempt " << i << ": " << brute.answers[i].first << " " << brute.answers[i].second);
    CHECK(brute.answers[i].first != 200);
    if (i < kPairLockAfter) {
      CHECK(brute.answers[i].first == 400);
      CHECK(brute.answers[i].second == kWrongLogin);
    } else if (i < kLoginBurst) {
      CHECK(brute.answers[i].first == 429);  // locked, before any hashing
      CHECK(brute.answers[i].second == kLoginLocked);
      if (brute.right_password[i]) tried_right_password_when_locked = true;
    } else {
      CHECK(brute.answers[i].first == 429);  // locked, or beyond the per-IP login rate
    }
  }
  CHECK(tried_right_password_when_locked);
  // The owner, from another address, signed in throughout (checked above
  // with every customer); make sure it did so after the lock, too.
  CHECK(users[0].ops > 6);

  // --- the SMS code guesser ---
  REQUIRE(guesser.code.status == 200);
  REQUIRE(guesser.got_code);
  std::map<std::string, int> verdicts;
  for (const Reply& r : guesser.guesses) {
    INFO(r.status << " " << r.body);
    CHECK(r.status == 400);
    ++verdicts[r.Errmsg()];
  }
  CHECK(verdicts[kSmsCodeWrong] == kMaxCodeTries - 1);
  CHECK(verdicts[kSmsCodeTooManyTries] == 1);
  CHECK(verdicts[kSmsCodeExpired] == kGuesses - kMaxCodeTries);
  CHECK(guesser.right.status == 400);
  CHECK(guesser.right.Errmsg() == kSmsCodeExpired);

  // --- slow clients ---
  INFO("slow clients: " << slow.opened << " opened, " << slow.closed
                        << " closed by the server; longest open: silent " << slow.longest_s[0]
                        << " s, half-sent " << slow.longest_s[1] << " s, trickling "
                        << slow.longest_s[2] << " s");
  CHECK(slow.closed >= kSlowClients);  // the first of each were cut before the end
  for (double longest : slow.longest_s) {
    CHECK(longest <= std::chrono::duration<double>(kReadTimeout + kSlack).count());
  }
  for (const std::string& answer : slow.answers) {
    INFO(answer);
    CHECK(answer.rfind("HTTP/1.1 4", 0) == 0);  // at most a 4xx, never a 5xx
  }

  const double took_s = Ms(Clock::now() - test_start) / 1000;
  CHECK(took_s < 40);
  WARN("soak: " << took_s << " s; customers' logins, /info/, logouts: " << op_ms.size() << ", p99 "
                << p99 << " ms; pumper: " << pump.ok << " codes sent, " << pump.budget_refused
                << " refused by the budget, " << pump.ip_refused
                << " by the per-IP rate; brute forcer: " << brute.answers.size()
                << " attempts, none let in; slow clients: " << slow.opened << " opened, "
                << slow.closed << " cut by the server");
}
