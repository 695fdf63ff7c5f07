// JobQueue::Check (`regd check` for the queue's DBIs): a healthy queue has no
// findings and is counted; each kind of damage the queue could not live
// with is a problem, each oddity it clears by itself a note.
#include <catch2/catch.hpp>

#include "queue/job_queue.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using regd::Status;
using regd::queue::Job;
using regd::queue::JobQueue;
using regd::queue::QueueCheckCounts;
using regd::storage::Findings;
using regd::storage::LmdbEnv;
using regd::storage::Txn;
using regd::testing::FakeClock;
using regd::testing::TempDir;

namespace {

struct Queue {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<LmdbEnv> env;
  std::unique_ptr<JobQueue> q;
  Findings found;

  Queue() {
    auto e = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto opened = JobQueue::Open(env.get(), &clock);
    REQUIRE(opened.ok());
    q = std::move(opened).value();
  }
  uint64_t Add(const std::string& payload, std::string_view dedup_key = {}) {
    uint64_t id = 0;
    REQUIRE(env->Update([&](Txn& t) -> Status {
                 auto r = q->Enqueue(t, "t", payload, clock.NowMs(), {dedup_key});
                 if (!r.ok()) return r.status();
                 id = *r;
                 return Status::Ok();
               })
                .ok());
    return id;
  }
  // Writes raw bytes into one of the queue's DBIs, as damage would.
  void WriteRaw(const char* db, const std::function<Status(Txn&, MDB_dbi)>& fn) {
    auto dbi = env->FindDb(db);
    REQUIRE(dbi.ok());
    REQUIRE(dbi->has_value());
    REQUIRE(env->Update([&](Txn& t) { return fn(t, **dbi); }).ok());
  }
  QueueCheckCounts Check() {
    std::array<MDB_dbi, JobQueue::kDbNames.size()> dbs{};
    for (size_t i = 0; i < dbs.size(); ++i) {
      auto dbi = env->FindDb(JobQueue::kDbNames[i]);
      REQUIRE(dbi.ok());
      REQUIRE(dbi->has_value());
      dbs[i] = **dbi;
    }
    found = Findings();
    QueueCheckCounts n;
    REQUIRE(env->View([&](Txn& t) {
                 n = JobQueue::Check(t, dbs, &found);
                 return Status::Ok();
               })
                .ok());
    return n;
  }
  std::string Problems() const {
    std::string all;
    for (const std::string& p : found.problems) all += p + "\n";
    return all;
  }
  std::string Notes() const {
    std::string all;
    for (const std::string& n : found.notes) all += n + "\n";
    return all;
  }
};

std::string Id(uint64_t id) {
  std::string k;
  regd::storage::PutBigEndian64(&k, id);
  return k;
}

}  // namespace

TEST_CASE("a healthy queue checks clean and is counted", "[job_queue_check]") {
  Queue f;
  QueueCheckCounts empty = f.Check();
  CHECK(f.found.problems.empty());
  CHECK(empty.pending == 0);
  CHECK(empty.next_id == 1);
  f.Add("a", "sms:1");
  f.Add("b");
  uint64_t third = f.Add("c");
  auto leased = f.q->Lease(30'000);  // a lease is in memory: the format is unchanged
  REQUIRE(leased.ok());
  REQUIRE(leased->has_value());
  REQUIRE(f.q->Bury(**leased, "gave up").ok());
  QueueCheckCounts n = f.Check();
  INFO(f.Problems() << f.Notes());
  CHECK(f.found.problems.empty());
  CHECK(f.found.notes.empty());
  CHECK(n.pending == 2);
  CHECK(n.dead == 1);
  CHECK(n.next_id == third + 1);
}

TEST_CASE("check finds a job record the queue cannot decode", "[job_queue_check]") {
  Queue f;
  f.Add("a");
  f.WriteRaw("jobs", [](Txn& t, MDB_dbi jobs) { return t.Put(jobs, Id(99), "not a job record"); });
  f.WriteRaw("jobs", [](Txn& t, MDB_dbi jobs) { return t.Put(jobs, Id(98), "nor this"); });
  f.WriteRaw("jobs_dead", [](Txn& t, MDB_dbi dead) { return t.Put(dead, Id(97), "x"); });
  f.WriteRaw("jobs", [](Txn& t, MDB_dbi jobs) { return t.Put(jobs, "short", ""); });
  f.Check();
  CHECK_THAT(f.Problems(), Contains("jobs: record 98 cannot be decoded (and 1 more)") &&
                               Contains("jobs_dead: record 97 cannot be decoded") &&
                               Contains("jobs: a key is not an 8-byte id"));
}

TEST_CASE("check finds a job that would never run and an id that would be reused",
          "[job_queue_check]") {
  Queue f;
  f.Add("a");
  Job job;
  job.id = 77;
  job.type = "sms";
  job.payload = "x";
  job.run_at_ms = 1;
  f.WriteRaw("jobs", [&](Txn& t, MDB_dbi jobs) {
    return t.Put(jobs, Id(77), regd::queue::EncodeJob(job));  // no jobs_due entry
  });
  f.Check();
  CHECK_THAT(f.Problems(), Contains("jobs: job 77 has no jobs_due entry (it would never run)") &&
                               Contains("jobs_meta: next_id 2 is not above job id 77"));
  f.WriteRaw("jobs_meta", [](Txn& t, MDB_dbi meta) { return t.Put(meta, "next_id", "1234"); });
  f.Check();
  CHECK_THAT(f.Problems(), Contains("jobs_meta: next_id is not 8 bytes"));
}

TEST_CASE("check notes index entries and dedup keys the queue clears by itself",
          "[job_queue_check]") {
  Queue f;
  f.Add("a");
  f.WriteRaw("jobs_due", [](Txn& t, MDB_dbi due) { return t.Put(due, Id(5) + Id(55), ""); });
  f.WriteRaw("jobs_dedup", [](Txn& t, MDB_dbi dedup) { return t.Put(dedup, "sms:2", Id(56)); });
  f.Check();
  INFO(f.Problems());
  CHECK(f.found.problems.empty());
  CHECK_THAT(f.Notes(), Contains("jobs_due: an index entry names no job") &&
                            Contains("jobs_dedup: a key names no pending job"));
}
