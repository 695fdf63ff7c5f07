#include "tests/support/job_queue_fixture.h"

#include <catch2/catch.hpp>

namespace regd::testing {

void QueueFixture::Open() {
  q.reset();
  env.reset();
  auto e = storage::LmdbEnv::Open({dir.Join("lmdb")});
  REQUIRE(e.ok());
  env = std::move(e).value();
  auto opened = queue::JobQueue::Open(env.get(), &clock);
  REQUIRE(opened.ok());
  q = std::move(opened).value();
}

std::pair<uint64_t, bool> QueueFixture::Add(const std::string& payload,
                                            const queue::EnqueueOptions& o, int64_t delay_ms) {
  uint64_t id = 0;
  bool dup = false;
  REQUIRE(env->Update([&](storage::Txn& t) -> Status {
               auto r = q->Enqueue(t, "t", payload, clock.NowMs() + delay_ms, o, &dup);
               if (!r.ok()) return r.status();
               id = *r;
               return Status::Ok();
             })
              .ok());
  return {id, dup};
}

queue::Job QueueFixture::Lease() {
  auto j = q->Lease(30'000);
  REQUIRE(j.ok());
  REQUIRE(j->has_value());
  return **j;
}

queue::QueueStats QueueFixture::Stats() {
  auto s = q->Stats();
  REQUIRE(s.ok());
  return *s;
}

}  // namespace regd::testing
