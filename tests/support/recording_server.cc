#include "tests/support/recording_server.h"

namespace regd::testing {

using namespace std::chrono_literals;

RecordingServer::RecordingServer(int default_status, std::string default_body,
                                 std::string content_type)
    : default_reply_{default_status, std::move(default_body), ""},
      content_type_(std::move(content_type)) {
  server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
    Reply reply = default_reply_;
    std::chrono::milliseconds delay;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back({req.method, req.path, req.target, req.body, req.headers, req.params});
      if (!replies_.empty()) {
        reply = replies_.front();
        replies_.pop_front();
      }
      delay = delay_;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    res.status = reply.status;
    if (!reply.retry_after.empty()) res.set_header("Retry-After", reply.retry_after);
    res.set_content(reply.body, content_type_);
  });
  // One request per connection: a client that keeps its connection open
  // (regd's providers do) would otherwise hold a server thread, and delay
  // stop(), for the whole keep-alive timeout.
  server_.set_keep_alive_max_count(1);
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(1ms);
}

RecordingServer::~RecordingServer() {
  server_.stop();
  thread_.join();
}

void RecordingServer::Script(int status, std::string body, std::string retry_after) {
  std::lock_guard<std::mutex> lock(mu_);
  replies_.push_back({status, std::move(body), std::move(retry_after)});
}

void RecordingServer::SetDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

std::vector<RecordingServer::Request> RecordingServer::Requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<std::string> HeaderValues(const httplib::Headers& headers, const std::string& name) {
  std::vector<std::string> out;
  auto range = headers.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

}  // namespace regd::testing
