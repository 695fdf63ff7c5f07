// deploy/nginx.conf with Debian's real nginx (unprivileged paths in a temp
// prefix, loopback only) in front of a real regd and a small shop backend:
// the page and the API work through the proxy, /api/ reaches the backend
// only with a live session and then with that customer's X-User-Id, an
// identity header the client forges never arrives, and regd's per-address
// limits see the client's address, not nginx's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fake_sms_server.h"
#include "tests/support/regd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using nlohmann::json;
using regd::testing::FakeSmsServer;
using regd::testing::RegdProcess;
using regd::testing::TempDir;
using regd::testing::TestRegdArgs;
using regd::testing::TestServer;

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kNginxAddress = "127.0.0.9";  // nginx's side of its upstream connections

// The shop's backend: answers every request and keeps the headers it got.
class Backend {
 public:
  Backend() {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(req.headers);
      res.set_content(R"({"orders":[]})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Backend() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<httplib::Headers> Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<httplib::Headers> seen_;
};

struct Reply {
  int status = -1;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// One HTTP/1.0 request (so nothing is chunked) from source address `from`
// to 127.0.0.1:port; the whole reply, read until nginx closes.
Reply Fetch(const std::string& from, int port, const std::string& method, const std::string& path,
            const std::vector<std::string>& header_lines = {}, const std::string& body = "") {
  Reply r;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, from.c_str(), &src.sin_addr);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) == 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) == 0);
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: shop.example\r\n";
  for (const std::string& h : header_lines) req += h + "\r\n";
  if (!body.empty()) {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  std::string raw;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) raw.append(buf, n);
  ::close(fd);
  size_t end = raw.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace(name, line.substr(line.find_first_not_of(' ', colon + 1)));
  }
  r.body = raw.substr(end + 4);
  return r;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// text with its one `from` replaced by `to`; fails the test if `from` is
// not there exactly once (deploy/nginx.conf changed under the test).
std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  INFO("deploy/nginx.conf: " << from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  return text.replace(at, from.size(), to);
}

// nginx in the foreground with deploy/nginx.conf included from a minimal
// main config whose paths are all under dir.
class Nginx {
 public:
  Nginx(const TempDir& dir, int regd_port, int backend_port) : port_(FreePort()) {
    std::string site = ReadFile(std::string(REGD_SOURCE_DIR) + "/deploy/nginx.conf");
    site = ReplaceOnce(site, "server 127.0.0.1:8000;",
                       "server 127.0.0.1:" + std::to_string(regd_port) + ";");
    site = ReplaceOnce(site, "server 127.0.0.1:9000;",
                       "server 127.0.0.1:" + std::to_string(backend_port) + ";");
    site = ReplaceOnce(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(port_) + ";");
    std::ofstream(dir.Join("regd-site.conf")) << site;
    const std::string p = dir.path();
    std::ofstream(dir.Join("nginx.conf"))
        << "daemon off;\nmaster_process off;\npid " << p << "/nginx.pid;\nerror_log " << p
        << "/nginx-error.log;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"
        << "  client_body_temp_path " << p << "/body;\n  proxy_temp_path " << p << "/proxy;\n"
        << "  fastcgi_temp_path " << p << "/fastcgi;\n  uwsgi_temp_path " << p << "/uwsgi;\n"
        << "  scgi_temp_path " << p << "/scgi;\n  proxy_bind " << kNginxAddress << ";\n"
        << "  include " << p << "/regd-site.conf;\n}\n";
    error_log_ = p + "/nginx-error.log";
    pid_ = fork();
    if (pid_ == 0) {
      execl(kNginx, kNginx, "-p", p.c_str(), "-c", (p + "/nginx.conf").c_str(), "-e",
            error_log_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && !Accepting(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ~Nginx() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  bool Accepting() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
  }
  std::string ErrorLog() const { return ReadFile(error_log_); }

 private:
  int port_;
  pid_t pid_ = -1;
  std::string error_log_;
};

std::string SessionCookieOf(const Reply& r) {
  auto range = r.headers.equal_range("set-cookie");
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.rfind("sessionid=", 0) == 0) {
      return it->second.substr(10, it->second.find(';') - 10);
    }
  }
  return "";
}

std::vector<std::string> Values(const httplib::Headers& h, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : h) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == name) out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("nginx with deploy/nginx.conf puts regd in front of a shop backend", "[nginx]") {
  TempDir dir;
  FakeSmsServer sms;
  Backend backend;
  RegdProcess regd(
      TestRegdArgs(dir.Join("data"), sms.url(), {"--trust-proxy", "--ip-count-rate", "3/m"}),
      dir.Join("regd.log"));
  REQUIRE(regd.started());
  Nginx nginx(dir, regd.port(), backend.port());
  INFO(nginx.ErrorLog());
  REQUIRE(nginx.Accepting());
  const int port = nginx.port();

  // Sign-up through the proxy: the page, the captcha, the code, register.
  Reply page = Fetch("127.0.0.1", port, "GET", "/register.html");
  CHECK(page.status == 200);
  CHECK(page.body.find("<html") != std::string::npos);
  std::string uuid = TestServer::NewUuid();
  CHECK(Fetch("127.0.0.1", port, "GET", "/image_codes/" + uuid + "/").status == 200);
  Reply sent = Fetch("127.0.0.1", port, "GET",
                     "/sms_codes/13800007001/?image_code=ABCD&image_code_id=" + uuid);
  REQUIRE(sent.status == 200);
  auto code = sms.WaitForCode("13800007001", std::chrono::seconds(10));
  REQUIRE(code);
  json form = {{"username", "alice"},     {"password", "password_1"}, {"password2", "password_1"},
               {"mobile", "13800007001"}, {"sms_code", *code},        {"allow", true}};
  Reply reg = Fetch("127.0.0.1", port, "POST", "/register/", {}, form.dump());
  REQUIRE(reg.status == 200);
  json login = {{"username", "alice"}, {"password", "password_1"}};
  Reply logged = Fetch("127.0.0.1", port, "POST", "/login/", {}, login.dump());
  REQUIRE(logged.status == 200);
  const std::string cookie = "Cookie: sessionid=" + SessionCookieOf(logged);
  Reply who = Fetch("127.0.0.1", port, "GET", "/whoami", {cookie});
  REQUIRE(who.status == 200);
  const std::string id = std::to_string(json::parse(who.body)["user"]["id"].get<int64_t>());

  SECTION("with the cookie the backend sees the customer's id") {
    Reply orders = Fetch("127.0.0.1", port, "GET", "/api/orders", {cookie});
    CHECK(orders.status == 200);
    CHECK(orders.body == R"({"orders":[]})");
    auto seen = backend.Seen();
    REQUIRE(seen.size() == 1);
    CHECK(Values(seen[0], "x-user-id") == std::vector<std::string>{id});
    CHECK(Values(seen[0], "x-username") == std::vector<std::string>{"alice"});
  }
  SECTION("without a live session /api/ is a JSON 401 and the backend hears nothing") {
    for (const std::vector<std::string>& headers :
         {std::vector<std::string>{},
          {"Cookie: sessionid=forged"},
          {"X-User-Id: " + id},
          {"X-Regd-User-Id: " + id, "X-Regd-Username: alice"}}) {
      Reply r = Fetch("127.0.0.1", port, "GET", "/api/orders", headers);
      CHECK(r.status == 401);
      CHECK(r.Header("content-type") == "application/json");
      CHECK(json::parse(r.body, nullptr, false)["code"] == 401);
    }
    CHECK(backend.Seen().empty());
    // A session ended by logout is refused at once.
    REQUIRE(Fetch("127.0.0.1", port, "DELETE", "/logout/", {cookie}).status == 200);
    CHECK(Fetch("127.0.0.1", port, "GET", "/api/orders", {cookie}).status == 401);
    CHECK(backend.Seen().empty());
  }
  SECTION("identity headers the client forges never arrive") {
    Reply r = Fetch("127.0.0.1", port, "GET", "/api/orders",
                    {cookie, "X-User-Id: 999", "x-user-id: 998", "X-Regd-User-Id: 997",
                     "X-REGD-USERNAME: mallory", "X-Username: mallory", "X_User_Id: 996"});
    CHECK(r.status == 200);
    auto seen = backend.Seen();
    REQUIRE(seen.size() == 1);
    CHECK(Values(seen[0], "x-user-id") == std::vector<std::string>{id});
    CHECK(Values(seen[0], "x-username") == std::vector<std::string>{"alice"});
    CHECK(Values(seen[0], "x-regd-user-id").empty());
    CHECK(Values(seen[0], "x-regd-username").empty());
    CHECK(Values(seen[0], "x_user_id").empty());
  }
  SECTION("regd's per-address limits see the client's address, not nginx's") {
    // --ip-count-rate 3/m: a fourth count from one address is refused...
    for (int i = 0; i < 3; ++i) {
      CHECK(Fetch("127.0.0.2", port, "GET", "/usernames/bobby/count/").status == 200);
    }
    Reply limited = Fetch("127.0.0.2", port, "GET", "/usernames/bobby/count/");
    CHECK(limited.status == 429);
    CHECK(!limited.Header("retry-after").empty());
    // ...while another customer behind the same nginx is not.
    CHECK(Fetch("127.0.0.3", port, "GET", "/usernames/bobby/count/").status == 200);
  }
}
