#include "bench/flows.h"

#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

namespace regd::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MicrosSince(SteadyTime from, SteadyTime to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

void ConfigureClient(httplib::Client& c) {
  c.set_keep_alive(true);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(30, 0);
  c.set_write_timeout(5, 0);
}

// The value of cookie `name` among a response's Set-Cookie headers.
std::string SetCookieValue(const httplib::Response& res, const std::string& name) {
  auto range = res.headers.equal_range("Set-Cookie");
  for (auto it = range.first; it != range.second; ++it) {
    const std::string& v = it->second;
    if (v.compare(0, name.size() + 1, name + "=") == 0) {
      return v.substr(name.size() + 1, v.find(';') - name.size() - 1);
    }
  }
  return "";
}

FlowOutcome Fail(const httplib::Result& r) {
  FlowOutcome o;
  o.status = r ? r->status : 0;
  return o;
}

// Steps 1 and 2 of sendcode and register.
FlowOutcome SendCode(httplib::Client& c, const std::string& mobile, const std::string& captcha) {
  std::string uuid = RandomUuid();
  auto img = c.Get(("/image_codes/" + uuid + "/").c_str());
  if (!img || img->status != 200) return Fail(img);
  auto sms = c.Get(
      ("/sms_codes/" + mobile + "/?image_code=" + captcha + "&image_code_id=" + uuid).c_str());
  if (!sms || sms->status != 200) return Fail(sms);
  FlowOutcome o;
  o.ok = true;
  o.status = 200;
  o.mobile = mobile;
  o.code_acked_at = Clock::now();
  return o;
}

}  // namespace

MobileSource::MobileSource() : base_(std::random_device{}() % 500'000'000) {}

std::string MobileSource::Next() {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "13%09llu",
                static_cast<unsigned long long>((base_ + next_.fetch_add(1)) % 1'000'000'000));
  return buf;
}

std::string MobileSource::NextUsername() {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "bench%09llu",
                static_cast<unsigned long long>((base_ + next_.fetch_add(1)) % 1'000'000'000));
  return buf;
}

std::string RandomUuid() {
  uint64_t a = Rng()(), b = Rng()();
  a = (a & ~0xf000ULL) | 0x4000ULL;                  // version 4
  b = (b & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  char buf[40];
  std::snprintf(
      buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
      static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xffff),
      static_cast<unsigned long long>(a & 0xffff), static_cast<unsigned long long>(b >> 48),
      static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

FlowRun RunFlows(const std::string& host, int port, const LoadShape& shape, const Flow& flow) {
  std::mutex mu;
  FlowRun run;
  LatencyRecorder latencies;
  std::atomic<uint64_t> next_index{0};
  const bool open_loop = shape.rate_per_s > 0;
  const uint64_t total =
      open_loop ? static_cast<uint64_t>(shape.rate_per_s * shape.duration.count() / 1000.0) : 0;
  const auto period = std::chrono::duration<double>(open_loop ? 1.0 / shape.rate_per_s : 0);
  const SteadyTime start = Clock::now() + std::chrono::milliseconds(20);  // threads are up
  const SteadyTime end = start + shape.duration;

  auto worker = [&] {
    httplib::Client client(host, port);
    ConfigureClient(client);
    std::vector<std::pair<std::string, SteadyTime>> acked;
    std::map<int, uint64_t> failures;
    uint64_t ok = 0, failed = 0;
    std::this_thread::sleep_until(start);
    while (true) {
      SteadyTime due;
      if (open_loop) {
        uint64_t i = next_index.fetch_add(1);
        if (i >= total) break;
        due = start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
        std::this_thread::sleep_until(due);
      } else {
        due = Clock::now();
        if (due >= end) break;
      }
      FlowOutcome o = flow(client);
      SteadyTime done = Clock::now();
      if (o.ok) {
        ++ok;
        latencies.Add(MicrosSince(due, done));
        if (!o.mobile.empty()) acked.emplace_back(o.mobile, o.code_acked_at);
      } else {
        ++failed;
        ++failures[o.status];
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    run.ok += ok;
    run.failed += failed;
    for (auto& [status, n] : failures) run.failures_by_status[status] += n;
    run.acked.insert(run.acked.end(), acked.begin(), acked.end());
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < shape.threads; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  run.load_end = Clock::now();
  run.elapsed_s = std::chrono::duration<double>(run.load_end - start).count();
  run.latency = latencies.Summarize();
  return run;
}

Flow SendCodeFlow(MobileSource* mobiles, std::string captcha) {
  return [mobiles, captcha](httplib::Client& c) { return SendCode(c, mobiles->Next(), captcha); };
}

Flow RegisterFlow(MobileSource* mobiles, std::string captcha, FakeProvider* provider) {
  return [mobiles, captcha, provider](httplib::Client& c) {
    std::string mobile = mobiles->Next();
    FlowOutcome sent = SendCode(c, mobile, captcha);
    if (!sent.ok) return sent;
    auto code = provider->WaitForCode(mobile, std::chrono::seconds(10));
    if (!code) return FlowOutcome{};  // status 0: the SMS never came
    std::string username = mobiles->NextUsername();
    nlohmann::json body = {{"username", username},       {"password", "benchpass_1"},
                           {"password2", "benchpass_1"}, {"mobile", mobile},
                           {"sms_code", *code},          {"allow", true}};
    auto reg = c.Post("/register/", body.dump(), "application/json");
    if (!reg || reg->status != 200) return Fail(reg);
    std::string session = SetCookieValue(*reg, "sessionid");
    httplib::Headers cookie = {{"Cookie", "sessionid=" + session}};
    auto info = c.Get("/info/", cookie);
    if (!info || info->status != 200) return Fail(info);
    auto j = nlohmann::json::parse(info->body, nullptr, false);
    FlowOutcome o;
    o.ok = j.is_object() && j.contains("info_data") && j["info_data"].is_object() &&
           j["info_data"].value("username", "") == username;
    o.status = o.ok ? 200 : -1;  // -1: 200 with the wrong user
    return o;
  };
}

DeliveryRun MatchDeliveries(FakeProvider* provider, const FlowRun& run,
                            std::chrono::milliseconds idle, std::chrono::milliseconds cap) {
  DeliveryRun d;
  d.acked = run.acked.size();
  const SteadyTime deadline = run.load_end + cap;
  uint64_t seen = provider->received();
  SteadyTime progress_at = Clock::now();
  bool gave_up = false;
  std::vector<int64_t> us;
  SteadyTime last = run.load_end;
  for (const auto& [mobile, acked_at] : run.acked) {
    std::optional<Arrival> a = provider->Find(mobile);
    while (!a && !gave_up) {
      SteadyTime now = Clock::now();
      if (uint64_t n = provider->received(); n != seen) {
        seen = n;
        progress_at = now;
      }
      gave_up = now >= deadline || now - progress_at >= idle;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      a = provider->Find(mobile);
    }
    if (!a) continue;
    ++d.delivered;
    us.push_back(std::max<int64_t>(0, MicrosSince(acked_at, a->at)));
    if (a->at > run.load_end) ++d.backlog_at_end;
    if (a->at > last) last = a->at;
  }
  d.latency = Summarize(std::move(us));
  d.drain_ms = std::chrono::duration<double, std::milli>(last - run.load_end).count();
  return d;
}

BurstRun RunLoginBurst(const std::string& host, int port, int clients) {
  BurstRun b;
  b.clients = clients;
  std::mutex mu;
  LatencyRecorder latencies;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c(host, port);
      c.set_connection_timeout(10, 0);
      c.set_read_timeout(120, 0);
      nlohmann::json body = {{"username", "nobody" + std::to_string(100000 + i)},
                             {"password", "wrong_password"}};
      std::string payload = body.dump();
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      SteadyTime t0 = Clock::now();
      auto r = c.Post("/login/", payload, "application/json");
      latencies.Add(MicrosSince(t0, Clock::now()));
      std::lock_guard<std::mutex> lock(mu);
      ++b.statuses[r ? r->status : 0];
    });
  }
  while (ready.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  SteadyTime start = Clock::now();
  go.store(true);
  for (auto& t : threads) t.join();
  b.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  b.latency = latencies.Summarize();
  return b;
}

}  // namespace regd::bench
