// Deduplication, inspection (Stats, List) and repair (RetryNow,
// RetryAllDead, PurgeDead) of the job queue, on real LMDB.
#include <catch2/catch.hpp>

#include "queue/job_queue.h"
#include "tests/support/fake_clock.h"
#include "tests/support/job_queue_fixture.h"
#include "tests/support/lmdb_keys.h"
#include "tests/support/rerun_batch.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::queue::EnqueueOptions;
using regd::queue::Job;
using regd::queue::JobQueue;
using regd::queue::JobState;
using regd::storage::LmdbEnv;
using regd::storage::Txn;
using regd::testing::FakeClock;
using regd::testing::Key64;
using regd::testing::TempDir;

using Queue = regd::testing::QueueFixture;

TEST_CASE("a pending job's dedup key stops a second job", "[job_queue_ops]") {
  Queue f;
  auto [first, dup1] = f.Add("one", {"k"});
  auto [second, dup2] = f.Add("two", {"k"});
  CHECK_FALSE(dup1);
  CHECK(dup2);
  CHECK(second == first);
  CHECK(*f.q->Depth() == 1);
  CHECK(f.Lease().payload == "one");  // the first payload is kept
}

TEST_CASE("replace_pending swaps the payload of a waiting job", "[job_queue_ops]") {
  Queue f;
  auto [first, dup1] = f.Add("old code", {"sms:1", true}, 5'000);
  auto [second, dup2] = f.Add("new code", {"sms:1", true}, 0);
  CHECK(dup2);
  CHECK(second == first);
  CHECK(*f.q->Depth() == 1);
  Job j = f.Lease();  // also due earlier now: the new run-at time counts
  CHECK(j.payload == "new code");
}

TEST_CASE("replace_pending adds a new job while the old one is being sent", "[job_queue_ops]") {
  Queue f;
  auto [first, dup1] = f.Add("old", {"sms:1", true});
  Job leased = f.Lease();
  auto [second, dup2] = f.Add("new", {"sms:1", true});
  CHECK_FALSE(dup2);
  CHECK(second != first);
  // Acking the old job does not release the key the new job now holds.
  REQUIRE(f.q->Ack(leased).ok());
  auto [third, dup3] = f.Add("newer", {"sms:1"});
  CHECK(dup3);
  CHECK(third == second);
}

TEST_CASE("ack and bury release the dedup key", "[job_queue_ops]") {
  Queue f;
  f.Add("a", {"k"});
  REQUIRE(f.q->Ack(f.Lease()).ok());
  auto [id2, dup2] = f.Add("b", {"k"});
  CHECK_FALSE(dup2);
  REQUIRE(f.q->Bury(f.Lease(), "boom").ok());
  auto [id3, dup3] = f.Add("c", {"k"});
  CHECK_FALSE(dup3);
  CHECK(id3 != id2);
}

TEST_CASE("jobs without a dedup key are never merged", "[job_queue_ops]") {
  Queue f;
  f.Add("a");
  f.Add("a");
  CHECK(*f.q->Depth() == 2);
}

TEST_CASE("stats count jobs by state and the age of the oldest ready job", "[job_queue_ops]") {
  Queue f;
  f.Add("ready1");
  f.clock.Advance(1'500);
  f.Add("ready2");
  f.Add("later", {}, 60'000);
  f.Add("leased");
  // Lease takes the first due job (ready1), so lease again to pick another.
  Job a = f.Lease();
  REQUIRE(f.q->Bury(a, "x").ok());  // ready1 -> dead
  f.Lease();                        // ready2 -> leased
  auto st = f.Stats();
  CHECK(st.ready == 1);
  CHECK(st.delayed == 1);
  CHECK(st.leased == 1);
  CHECK(st.dead == 1);
  f.clock.Advance(2'000);
  CHECK(f.Stats().oldest_ready_age_ms == 2'000);
}

TEST_CASE("list filters by state and never hides dead jobs", "[job_queue_ops]") {
  Queue f;
  f.Add("a");
  f.Add("b", {}, 60'000);
  REQUIRE(f.q->Bury(f.Lease(), "provider said no").ok());
  auto all = f.q->List(std::nullopt, 100);
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  auto dead = f.q->List(JobState::kDead, 100);
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 1);
  CHECK((*dead)[0].first.last_error == "provider said no");
  auto delayed = f.q->List(JobState::kDelayed, 100);
  REQUIRE(delayed.ok());
  CHECK(delayed->size() == 1);
  auto limited = f.q->List(std::nullopt, 1);
  REQUIRE(limited.ok());
  CHECK(limited->size() == 1);
}

TEST_CASE("retry-now makes a delayed job due and revives a dead one", "[job_queue_ops]") {
  Queue f;
  auto [delayed, d1] = f.Add("later", {}, 60'000);
  REQUIRE(f.q->RetryNow(delayed).ok());
  Job j = f.Lease();
  CHECK(j.id == delayed);
  REQUIRE(f.q->Bury(j, "dead").ok());
  REQUIRE(f.q->RetryNow(delayed).ok());
  Job again = f.Lease();
  CHECK(again.id == delayed);
  CHECK(again.attempts == 1);  // attempts were reset when it was revived
  CHECK(f.q->RetryNow(again.id).code() == Status::Code::kConflict);  // leased
  CHECK(f.q->RetryNow(999).code() == Status::Code::kNotFound);
}

TEST_CASE("retry-dead revives every dead job and purge-dead deletes them", "[job_queue_ops]") {
  Queue f;
  for (int i = 0; i < 3; ++i) f.Add("p" + std::to_string(i));
  for (int i = 0; i < 3; ++i) REQUIRE(f.q->Bury(f.Lease(), "x").ok());
  CHECK(f.Stats().dead == 3);
  auto revived = f.q->RetryAllDead();
  REQUIRE(revived.ok());
  CHECK(*revived == 3);
  CHECK(f.Stats().ready == 3);
  for (int i = 0; i < 3; ++i) REQUIRE(f.q->Bury(f.Lease(), "x").ok());
  auto purged = f.q->PurgeDead();
  REQUIRE(purged.ok());
  CHECK(*purged == 3);
  CHECK(f.Stats().dead == 0);
  CHECK(*f.q->Depth() == 0);
}

TEST_CASE("retry-dead that runs again after a map resize reports the true count",
          "[job_queue_ops]") {
  TempDir dir;
  FakeClock clock;
  LmdbEnv::Options o;
  o.path = dir.Join("lmdb");
  o.map_size = 64 * 1024;  // small: the filler makes the batch grow it, twice or more
  o.max_map_size = 16 * 1024 * 1024;
  auto env = LmdbEnv::Open(o);
  REQUIRE(env.ok());
  auto q = JobQueue::Open(env->get(), &clock);
  REQUIRE(q.ok());
  auto dead_dbi = (*env)->OpenDb("jobs_dead");
  auto filler = (*env)->OpenDb("filler");
  REQUIRE(dead_dbi.ok());
  REQUIRE(filler.ok());
  for (int i = 0; i < 3; ++i) REQUIRE((*q)->EnqueueNow("t", "p" + std::to_string(i)).ok());
  for (int i = 0; i < 3; ++i) {
    auto j = (*q)->Lease(30'000);
    REQUIRE(j.ok());
    REQUIRE(j->has_value());
    REQUIRE((*q)->Bury(**j, "x").ok());
  }
  regd::Result<size_t> revived = Status::Internal("not run");
  int runs = regd::testing::RunInRerunBatch(
      env->get(), *filler, 256 * 1024, [&] { revived = (*q)->RetryAllDead(); },
      [&](Txn& t) {
        auto first = t.Get(*dead_dbi, Key64(1));
        return first.ok() && !first->has_value();
      });
  REQUIRE(runs >= 2);  // the revive's function ran again
  REQUIRE(revived.ok());
  CHECK(*revived == 3);
  auto stats = (*q)->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->ready == 3);
  CHECK(stats->dead == 0);
}

TEST_CASE("a lease is not written: another process sees a leased job as ready", "[job_queue_ops]") {
  Queue f;
  f.Add("in flight");
  f.Lease();
  CHECK(f.Stats().leased == 1);
  f.Open();  // what `regd queue` does beside a running server
  CHECK(f.Stats().leased == 0);
  CHECK(f.Stats().ready == 1);
}

TEST_CASE("a record holding a lease is damage: rejected, then kept among the dead",
          "[job_queue_ops]") {
  // No release wrote a lease to disk; the record's lease_until field is
  // always 0 (EncodeJob writes 0 whatever the job holds).
  Queue f;
  auto [id, dup] = f.Add("odd");
  Job in_memory = f.Lease();
  REQUIRE(in_memory.lease_until_ms != 0);
  std::string record = regd::queue::EncodeJob(in_memory);
  auto back = regd::queue::DecodeJob(id, record);
  REQUIRE(back.ok());
  CHECK(back->lease_until_ms == 0);
  REQUIRE(f.q->Ack(in_memory).ok());

  // The same record with a lease_until written: after version(1), type_len(1),
  // type, attempts(4) and run_at(8).
  const size_t lease_at = 1 + 1 + in_memory.type.size() + 4 + 8;
  record[lease_at + 7] = 1;
  CHECK_FALSE(regd::queue::DecodeJob(id, record).ok());
  auto [other, dup2] = f.Add("other");
  auto jobs = f.env->OpenDb("jobs");
  REQUIRE(jobs.ok());
  REQUIRE(f.env->Update([&](Txn& t) { return t.Put(*jobs, Key64(other), record); }).ok());
  CHECK_FALSE(f.q->Lease(30'000)->has_value());  // never run ...
  CHECK(*f.q->Depth() == 0);
  CHECK(f.Stats().dead == 1);  // ... but kept for inspection
}

TEST_CASE("a job whose payload was replaced while it was sent is not acked, retried or buried",
          "[job_queue_ops]") {
  Queue f;
  for (int outcome = 0; outcome < 3; ++outcome) {
    auto [id, dup] = f.Add("code 1", {"sms:9", true});
    Job sending = f.Lease();
    // The replacement commits after the consumer's read but before its
    // Ack: modelled by replacing the payload in the record directly.
    auto jobs = f.env->OpenDb("jobs");
    REQUIRE(jobs.ok());
    REQUIRE(f.env
                ->Update([&](Txn& t) -> Status {
                  Job j = sending;
                  j.payload = "code 2";
                  j.lease_until_ms = 0;
                  j.attempts = 0;
                  return t.Put(*jobs, Key64(id), regd::queue::EncodeJob(j));
                })
                .ok());
    Status s = outcome == 0   ? f.q->Ack(sending)
               : outcome == 1 ? f.q->Retry(sending, f.clock.NowMs() + 60'000, "e")
                              : f.q->Bury(sending, "e");
    REQUIRE(s.ok());
    Job next = f.Lease();  // released, due at its own time
    CHECK(next.id == id);
    CHECK(next.payload == "code 2");
    REQUIRE(f.q->Ack(next).ok());
    CHECK(*f.q->Depth() == 0);
    CHECK(f.Stats().dead == 0);
  }
}

TEST_CASE("a put-off job does not spend an attempt", "[job_queue_ops]") {
  Queue f;
  f.Add("p");
  Job j = f.Lease();
  CHECK(j.attempts == 1);
  REQUIRE(f.q->Retry(j, f.clock.NowMs(), "over the send rate", /*count_attempt=*/false).ok());
  Job again = f.Lease();
  CHECK(again.attempts == 1);
  CHECK(again.last_error.empty());
}
