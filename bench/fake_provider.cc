#include "bench/fake_provider.h"

#include <nlohmann/json.hpp>

namespace regd::bench {

FakeProvider::FakeProvider(int threads, std::chrono::milliseconds delay) {
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_.set_tcp_nodelay(true);
  server_.Post("/sms", [this, delay](const httplib::Request& req, httplib::Response& res) {
    if (delay.count() > 0) {
      int now = ++in_flight_;
      int peak = peak_in_flight_.load();
      while (now > peak && !peak_in_flight_.compare_exchange_weak(peak, now)) {
      }
      std::this_thread::sleep_for(delay);
      --in_flight_;
    }
    SteadyTime now = std::chrono::steady_clock::now();
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (!j.is_object() || !j.contains("mobile") || !j["mobile"].is_string()) {
      res.status = 400;
      return;
    }
    std::string code =
        j.contains("code") && j["code"].is_string() ? j["code"].get<std::string>() : std::string();
    {
      std::lock_guard<std::mutex> lock(mu_);
      arrivals_[j["mobile"].get<std::string>()] = Arrival{now, std::move(code)};
    }
    received_.fetch_add(1);
    cv_.notify_all();
    res.set_content("{}", "application/json");
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeProvider::~FakeProvider() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::optional<Arrival> FakeProvider::Find(const std::string& mobile) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = arrivals_.find(mobile);
  if (it == arrivals_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> FakeProvider::WaitForCode(const std::string& mobile,
                                                     std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto it = arrivals_.find(mobile);
    if (it != arrivals_.end()) return it->second.code;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
  }
}

}  // namespace regd::bench
