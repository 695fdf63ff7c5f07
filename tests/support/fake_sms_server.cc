#include "tests/support/fake_sms_server.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace regd::testing {

FakeSmsServer::FakeSmsServer() {
  server_.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  server_.Post("/sms", [this](const httplib::Request& req, httplib::Response& res) {
    auto arrived_at = std::chrono::steady_clock::now();
    int status;
    std::chrono::milliseconds delay;
    std::string retry_after;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    std::string to = body.is_object() ? body.value("mobile", "") : "";
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
      if (!reject_prefix_.empty() && to.rfind(reject_prefix_, 0) == 0) {
        status = reject_status_;
      } else if (!scripted_.empty()) {
        status = scripted_.front();
        scripted_.pop_front();
      } else {
        status = default_status_;
      }
      delay = delay_;
      retry_after = retry_after_;
    }
    ReceivedSms sms;
    sms.raw_body = req.body;
    sms.content_type = req.get_header_value("Content-Type");
    sms.arrived_at = arrived_at;
    if (body.is_object()) {
      sms.mobile = body.value("mobile", "");
      sms.code = body.value("code", "");
      sms.ttl_minutes = body.value("ttl_minutes", 0);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(sms);
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    res.status = status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      if (status >= 200 && status < 300) accepted_.push_back(sms);
    }
    if (status >= 200 && status < 300) {
      cv_.notify_all();
      res.set_content(R"({"ok":true})", "application/json");
    } else {
      if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
      res.set_content(R"({"error":"scripted failure"})", "application/json");
    }
  });
  // One request per connection: a client that keeps its connection open
  // (regd's providers do) would otherwise hold a server thread, and delay
  // stop(), for the whole keep-alive timeout.
  server_.set_keep_alive_max_count(1);
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeSmsServer::~FakeSmsServer() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

void FakeSmsServer::ScriptStatuses(std::vector<int> statuses) {
  std::lock_guard<std::mutex> lock(mu_);
  scripted_.assign(statuses.begin(), statuses.end());
}

void FakeSmsServer::SetDefaultStatus(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  default_status_ = status == 0 ? 200 : status;
}

void FakeSmsServer::SetDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

void FakeSmsServer::RejectMobilesStartingWith(std::string prefix, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  reject_prefix_ = std::move(prefix);
  reject_status_ = status;
}

void FakeSmsServer::SetRetryAfter(std::string value) {
  std::lock_guard<std::mutex> lock(mu_);
  retry_after_ = std::move(value);
}

std::vector<ReceivedSms> FakeSmsServer::Accepted() {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

std::vector<ReceivedSms> FakeSmsServer::Received() {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

size_t FakeSmsServer::RequestCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int FakeSmsServer::PeakInFlight() {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_in_flight_;
}

bool FakeSmsServer::WaitForAccepted(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return accepted_.size() >= n; });
}

std::optional<std::string> FakeSmsServer::WaitForCode(const std::string& mobile,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<std::string> code;
  cv_.wait_for(lock, timeout, [&] {
    for (auto it = accepted_.rbegin(); it != accepted_.rend(); ++it) {
      if (it->mobile == mobile) {
        code = it->code;
        return true;
      }
    }
    return false;
  });
  return code;
}

size_t FakeSmsServer::AcceptedCount(const std::string& mobile) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& m : accepted_) n += m.mobile == mobile;
  return n;
}

std::optional<std::string> FakeSmsServer::WaitForCodeAfter(const std::string& mobile, size_t after,
                                                           std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<std::string> code;
  cv_.wait_for(lock, timeout, [&] {
    size_t seen = 0;
    for (const auto& m : accepted_) {
      if (m.mobile == mobile && ++seen > after) {
        code = m.code;
        return true;
      }
    }
    return false;
  });
  return code;
}

}  // namespace regd::testing
