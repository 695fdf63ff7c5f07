// The SMS path of the queue end to end, in-process: JobQueue + ConsumerPool +
// the SMS handler + the webhook provider talking to a loopback FakeSmsServer.
// A FakeClock drives expiry; consumers sleep on real time, so the test
// advances the fake clock and then wakes them.
#include <catch2/catch.hpp>
#include <thread>

#include "queue/consumer_pool.h"
#include "queue/job_queue.h"
#include "queue/sms_job.h"
#include "queue/sms_provider.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_sms_server.h"
#include "tests/support/temp_dir.h"

using namespace regd;
using regd::testing::FakeClock;
using regd::testing::FakeSmsServer;
using regd::testing::TempDir;

namespace {

bool WaitFor(const std::function<bool()>& cond, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace

TEST_CASE("a code that expires while its SMS is being retried is never sent", "[sms_delivery]") {
  TempDir dir;
  FakeClock clock;
  FakeSmsServer phone;
  phone.SetDefaultStatus(503);
  auto env = storage::LmdbEnv::Open({dir.Join("lmdb")});
  REQUIRE(env.ok());
  auto q = queue::JobQueue::Open(env->get(), &clock);
  REQUIRE(q.ok());
  queue::SmsProviderConfig pc;
  pc.name = "webhook";
  pc.webhook_url = phone.url();
  auto provider = queue::MakeSmsProvider(pc);
  REQUIRE(provider.ok());
  queue::ConsumerPool::Options po;
  po.workers = 1;
  po.backoff_base_ms = 1000;
  po.max_attempts = 10;
  queue::ConsumerPool pool(q->get(), &clock, po);
  pool.Register(queue::kSmsJobType, queue::MakeSmsJobHandler(provider->get(), &clock));
  pool.Start();

  int64_t expires = clock.NowMs() + 300'000;
  REQUIRE(
      (*q)->EnqueueNow(queue::kSmsJobType, queue::EncodeSmsJob({"13800138000", "123456", expires}))
          .ok());
  REQUIRE(WaitFor([&] { return phone.RequestCount() == 1; }));  // first try fails (503)
  REQUIRE(WaitFor([&] { return pool.stats().retried == 1; }));

  // The provider recovers, but only after the code's 5 minutes are over.
  phone.SetDefaultStatus(200);
  clock.Advance(301'000);
  (*q)->NotifyEnqueued();
  REQUIRE(WaitFor([&] { return pool.stats().expired == 1; }));
  CHECK(phone.RequestCount() == 1);  // no second request: the dead code was not sent
  CHECK(phone.Accepted().empty());
  auto dead = (*q)->List(queue::JobState::kDead, 10);
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 1);
  CHECK((*dead)[0].first.last_error.find("expired") != std::string::npos);
  pool.Stop();
}

TEST_CASE("over the send rate, SMS jobs wait for tokens and all are sent", "[sms_delivery]") {
  TempDir dir;
  FakeSmsServer phone;
  auto env = storage::LmdbEnv::Open({dir.Join("lmdb")});
  REQUIRE(env.ok());
  auto q = queue::JobQueue::Open(env->get(), SystemClock::Get());
  REQUIRE(q.ok());
  queue::SmsProviderConfig pc;
  pc.name = "webhook";
  pc.webhook_url = phone.url();
  auto provider = queue::MakeSmsProvider(pc);
  REQUIRE(provider.ok());
  queue::TokenBucket rate(20, 1);  // 20/s, no burst: 10 sends take >= ~450 ms
  queue::ConsumerPool pool(q->get(), SystemClock::Get(), {});
  pool.Register(queue::kSmsJobType,
                queue::MakeSmsJobHandler(provider->get(), SystemClock::Get(), &rate));
  auto start = std::chrono::steady_clock::now();
  pool.Start();
  int64_t expires = SystemClock::Get()->NowMs() + 300'000;
  for (int i = 0; i < 10; ++i) {
    REQUIRE((*q)->EnqueueNow(queue::kSmsJobType,
                             queue::EncodeSmsJob({"1380013800" + std::to_string(i), "1", expires}))
                .ok());
  }
  REQUIRE(phone.WaitForAccepted(10, std::chrono::seconds(10)));
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= std::chrono::milliseconds(400));  // the limit held them back
  CHECK(pool.stats().transient_failures == 0);       // waiting is not failing
  pool.Stop();
}
