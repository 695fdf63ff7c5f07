// JobQueue::Check (`regd check` for the queue's DBIs): a healthy queue has no
// findings and is counted; each kind of damage the queue could not live
// with is a problem, each oddity it clears by itself a note.
#include <catch2/catch.hpp>

#include "queue/job_queue.h"
#include "tests/support/job_queue_fixture.h"
#include "tests/support/lmdb_keys.h"

using Catch::Matchers::Contains;
using regd::Status;
using regd::queue::Job;
using regd::queue::JobQueue;
using regd::queue::QueueCheckCounts;
using regd::storage::Findings;
using regd::storage::Txn;
using regd::testing::Key64;

namespace {

// The shared queue, and what its last Check found.
struct Queue : regd::testing::QueueFixture {
  Findings found;

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

}  // namespace

TEST_CASE("a healthy queue checks clean and is counted", "[job_queue_check]") {
  Queue f;
  QueueCheckCounts empty = f.Check();
  CHECK(f.found.problems.empty());
  CHECK(empty.pending == 0);
  CHECK(empty.next_id == 1);
  f.Add("a", {"sms:1"});
  f.Add("b");
  uint64_t third = f.Add("c").first;
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
  f.WriteRaw("jobs",
             [](Txn& t, MDB_dbi jobs) { return t.Put(jobs, Key64(99), "not a job record"); });
  f.WriteRaw("jobs", [](Txn& t, MDB_dbi jobs) { return t.Put(jobs, Key64(98), "nor this"); });
  f.WriteRaw("jobs_dead", [](Txn& t, MDB_dbi dead) { return t.Put(dead, Key64(97), "x"); });
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
    return t.Put(jobs, Key64(77), regd::queue::EncodeJob(job));  // no jobs_due entry
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
  f.WriteRaw("jobs_due", [](Txn& t, MDB_dbi due) { return t.Put(due, Key64(5) + Key64(55), ""); });
  f.WriteRaw("jobs_dedup", [](Txn& t, MDB_dbi dedup) { return t.Put(dedup, "sms:2", Key64(56)); });
  f.Check();
  INFO(f.Problems());
  CHECK(f.found.problems.empty());
  CHECK_THAT(f.Notes(), Contains("jobs_due: an index entry names no job") &&
                            Contains("jobs_dedup: a key names no pending job"));
}
