#include "queue/job_queue.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

using regd::Status;
using regd::queue::DecodeJob;
using regd::queue::EncodeJob;
using regd::queue::Job;
using regd::queue::JobQueue;
using regd::storage::LmdbEnv;
using regd::storage::Txn;
using regd::testing::FakeClock;
using regd::testing::TempDir;

namespace {

constexpr int64_t kLeaseMs = 30'000;

struct Fixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<LmdbEnv> env;
  std::unique_ptr<JobQueue> queue;

  Fixture() { Open(); }

  // Opens (or, after Close, reopens) the env and queue: a process start.
  void Open() {
    auto e = LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto q = JobQueue::Open(env.get(), &clock);
    INFO(q.status().ToString());
    REQUIRE(q.ok());
    queue = std::move(q).value();
  }
  void Restart() {
    queue.reset();
    env.reset();
    Open();
  }

  uint64_t Enqueue(const std::string& type, const std::string& payload, int64_t run_at_ms) {
    uint64_t id = 0;
    REQUIRE(env->Update([&](Txn& t) -> Status {
                 auto r = queue->Enqueue(t, type, payload, run_at_ms);
                 if (!r.ok()) return r.status();
                 id = *r;
                 return Status::Ok();
               })
                .ok());
    queue->NotifyEnqueued();
    return id;
  }
  uint64_t EnqueueNow(const std::string& payload = "p") { return Enqueue("t", payload, Now()); }

  std::optional<Job> Lease(int64_t lease_ms = kLeaseMs) {
    auto r = queue->Lease(lease_ms);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }
  size_t Depth() {
    auto d = queue->Depth();
    REQUIRE(d.ok());
    return *d;
  }
  size_t Dead() {
    auto d = queue->DeadCount();
    REQUIRE(d.ok());
    return *d;
  }
  std::optional<int64_t> NextDue() {
    auto n = queue->NextDueMs();
    REQUIRE(n.ok());
    return *n;
  }
  int64_t Now() const { return clock.NowMs(); }
};

}  // namespace

TEST_CASE("an enqueued job is leased with its type, payload and attempts 1", "[job_queue]") {
  Fixture f;
  int64_t created = f.Now();
  uint64_t id = f.Enqueue("sms", "payload bytes", f.Now());
  CHECK(f.Depth() == 1);
  auto job = f.Lease();
  REQUIRE(job.has_value());
  CHECK(job->id == id);
  CHECK(job->type == "sms");
  CHECK(job->payload == "payload bytes");
  CHECK(job->attempts == 1);
  CHECK(job->created_at_ms == created);
  CHECK(job->lease_until_ms == f.Now() + kLeaseMs);
  CHECK(job->last_error.empty());
  // Leasing does not remove the job: it is deleted only by Ack.
  CHECK(f.Depth() == 1);
}

TEST_CASE("an empty queue leases nothing", "[job_queue]") {
  Fixture f;
  CHECK_FALSE(f.Lease().has_value());
  CHECK(f.Depth() == 0);
  CHECK(f.Dead() == 0);
}

TEST_CASE("enqueued jobs get distinct, increasing ids", "[job_queue]") {
  Fixture f;
  uint64_t a = f.EnqueueNow();
  uint64_t b = f.EnqueueNow();
  uint64_t c = f.EnqueueNow();
  CHECK(a < b);
  CHECK(b < c);
}

TEST_CASE("ids are not reused after a restart", "[job_queue]") {
  Fixture f;
  uint64_t a = f.EnqueueNow();
  auto leased = f.Lease();
  REQUIRE(leased.has_value());
  REQUIRE(f.queue->Ack(*leased).ok());
  f.Restart();
  uint64_t b = f.EnqueueNow();
  CHECK(b > a);
}

TEST_CASE("a job due in the future is not leased until the clock reaches it", "[job_queue]") {
  Fixture f;
  uint64_t id = f.Enqueue("t", "p", f.Now() + 5'000);
  CHECK_FALSE(f.Lease().has_value());
  f.clock.Advance(4'999);
  CHECK_FALSE(f.Lease().has_value());
  f.clock.Advance(1);
  auto job = f.Lease();
  REQUIRE(job.has_value());
  CHECK(job->id == id);
  CHECK(job->attempts == 1);
}

TEST_CASE("jobs are leased in due order, ties in enqueue order", "[job_queue]") {
  Fixture f;
  int64_t t0 = f.Now();
  uint64_t late = f.Enqueue("t", "late", t0 + 300);
  uint64_t early = f.Enqueue("t", "early", t0 + 100);
  uint64_t mid1 = f.Enqueue("t", "mid1", t0 + 200);
  uint64_t mid2 = f.Enqueue("t", "mid2", t0 + 200);
  f.clock.Advance(300);
  std::vector<uint64_t> order;
  while (auto job = f.Lease()) order.push_back(job->id);
  CHECK(order == std::vector<uint64_t>{early, mid1, mid2, late});
}

TEST_CASE("ack deletes the job", "[job_queue]") {
  Fixture f;
  f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  REQUIRE(f.queue->Ack(*job).ok());
  CHECK(f.Depth() == 0);
  CHECK(f.Dead() == 0);
  CHECK_FALSE(f.NextDue().has_value());
  f.clock.Advance(10 * kLeaseMs);
  CHECK_FALSE(f.Lease().has_value());
}

TEST_CASE("ack of a job that is gone is not an error", "[job_queue]") {
  Fixture f;
  Job ghost;
  ghost.id = 12345;
  CHECK(f.queue->Ack(ghost).ok());
  f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  REQUIRE(f.queue->Ack(*job).ok());
  CHECK(f.queue->Ack(*job).ok());
}

TEST_CASE("a leased job is not leased again before its lease expires", "[job_queue]") {
  Fixture f;
  f.EnqueueNow();
  REQUIRE(f.Lease().has_value());
  CHECK_FALSE(f.Lease().has_value());
  f.clock.Advance(kLeaseMs - 1);
  CHECK_FALSE(f.Lease().has_value());
}

TEST_CASE("a leased job is due again after its lease expires", "[job_queue]") {
  // At least once: a consumer that hangs past its lease loses the job.
  Fixture f;
  uint64_t id = f.EnqueueNow("hello");
  auto first = f.Lease();
  REQUIRE(first.has_value());
  f.clock.Advance(kLeaseMs);
  auto second = f.Lease();
  REQUIRE(second.has_value());
  CHECK(second->id == id);
  CHECK(second->payload == "hello");
  CHECK(second->attempts == 2);
  CHECK(f.Depth() == 1);
}

TEST_CASE("retry makes a leased job due at the given time with its error", "[job_queue]") {
  Fixture f;
  uint64_t id = f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  int64_t run_at = f.Now() + 5'000;
  REQUIRE(f.queue->Retry(*job, run_at, "provider said 503").ok());
  CHECK(f.NextDue() == std::optional<int64_t>(run_at));
  CHECK_FALSE(f.Lease().has_value());
  f.clock.Advance(4'999);
  CHECK_FALSE(f.Lease().has_value());
  f.clock.Advance(1);
  auto again = f.Lease();
  REQUIRE(again.has_value());
  CHECK(again->id == id);
  CHECK(again->attempts == 2);
  CHECK(again->last_error == "provider said 503");
  CHECK(again->run_at_ms == run_at);
}

TEST_CASE("retry wakes consumers because the next due time changed", "[job_queue]") {
  Fixture f;
  f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  uint64_t seen = f.queue->generation();
  REQUIRE(f.queue->Retry(*job, f.Now() + 1'000, "e").ok());
  CHECK(f.queue->generation() != seen);
}

TEST_CASE("retry after the lease was lost is ignored", "[job_queue]") {
  Fixture f;
  uint64_t id = f.EnqueueNow();
  auto stale = f.Lease();
  REQUIRE(stale.has_value());
  f.clock.Advance(kLeaseMs);
  auto current = f.Lease();  // another consumer took over
  REQUIRE(current.has_value());
  REQUIRE(current->id == id);

  CHECK(f.queue->Retry(*stale, f.Now() + 1, "stale consumer").ok());
  // Still leased by the current consumer until its lease ends.
  CHECK(f.NextDue() == std::optional<int64_t>(current->lease_until_ms));
  f.clock.Advance(1);
  CHECK_FALSE(f.Lease().has_value());

  // The current consumer's retry still works, and the stale error was not kept.
  REQUIRE(f.queue->Retry(*current, f.Now(), "current consumer").ok());
  auto third = f.Lease();
  REQUIRE(third.has_value());
  CHECK(third->attempts == 3);
  CHECK(third->last_error == "current consumer");
}

TEST_CASE("retry of a job that is gone is ignored", "[job_queue]") {
  Fixture f;
  f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  REQUIRE(f.queue->Ack(*job).ok());
  CHECK(f.queue->Retry(*job, f.Now(), "late").ok());
  CHECK(f.Depth() == 0);
  CHECK_FALSE(f.Lease().has_value());
}

TEST_CASE("bury moves a job to the dead letters", "[job_queue]") {
  Fixture f;
  f.EnqueueNow();
  f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  REQUIRE(f.queue->Bury(*job, "rejected by provider").ok());
  CHECK(f.Dead() == 1);
  CHECK(f.Depth() == 1);
  // The other job is untouched; the buried one never comes back.
  auto other = f.Lease();
  REQUIRE(other.has_value());
  CHECK(other->id != job->id);
  REQUIRE(f.queue->Ack(*other).ok());
  f.clock.Advance(10 * kLeaseMs);
  CHECK_FALSE(f.Lease().has_value());
  CHECK(f.Depth() == 0);
  CHECK(f.Dead() == 1);
}

TEST_CASE("a buried job stays dead after a restart", "[job_queue]") {
  Fixture f;
  f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  REQUIRE(f.queue->Bury(*job, "no").ok());
  f.Restart();
  CHECK(f.Dead() == 1);
  CHECK(f.Depth() == 0);
  CHECK_FALSE(f.Lease().has_value());
}

TEST_CASE("after a restart a leased job is due at once", "[job_queue]") {
  Fixture f;
  uint64_t id = f.EnqueueNow("survives");
  auto job = f.Lease();
  REQUIRE(job.has_value());
  f.clock.Advance(1'000);  // well inside the lease
  f.Restart();
  REQUIRE(f.NextDue().has_value());
  CHECK(*f.NextDue() <= f.Now());
  auto again = f.Lease();
  REQUIRE(again.has_value());
  CHECK(again->id == id);
  CHECK(again->payload == "survives");
  CHECK(again->attempts == 1);  // a lease is not written: the crashed try is not counted
  CHECK(f.Depth() == 1);
}

TEST_CASE("a failed attempt's count survives a restart", "[job_queue]") {
  Fixture f;
  f.EnqueueNow();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  REQUIRE(f.queue->Retry(*job, f.Now(), "503").ok());
  f.Restart();
  auto again = f.Lease();
  REQUIRE(again.has_value());
  CHECK(again->attempts == 2);
  CHECK(again->last_error == "503");
}

TEST_CASE("a restart leaves jobs that are not leased at their due time", "[job_queue]") {
  Fixture f;
  int64_t due = f.Now() + 60'000;
  uint64_t id = f.Enqueue("t", "later", due);
  f.Restart();
  CHECK(f.NextDue() == std::optional<int64_t>(due));
  CHECK_FALSE(f.Lease().has_value());
  f.clock.Advance(60'000);
  auto job = f.Lease();
  REQUIRE(job.has_value());
  CHECK(job->id == id);
  CHECK(job->attempts == 1);
}

TEST_CASE("a committed enqueue survives a restart", "[job_queue]") {
  Fixture f;
  uint64_t id = f.Enqueue("sms", "durable", f.Now());
  f.Restart();
  auto job = f.Lease();
  REQUIRE(job.has_value());
  CHECK(job->id == id);
  CHECK(job->type == "sms");
  CHECK(job->payload == "durable");
}

TEST_CASE("an enqueue in an aborted transaction leaves no job", "[job_queue]") {
  Fixture f;
  {
    auto txn = f.env->BeginWrite();
    REQUIRE(txn.ok());
    auto id = f.queue->Enqueue(*txn, "sms", "never", f.Now());
    REQUIRE(id.ok());
  }  // destroyed without commit
  CHECK(f.Depth() == 0);
  CHECK_FALSE(f.NextDue().has_value());
  CHECK_FALSE(f.Lease().has_value());
  // And one whose Update function fails.
  Status s = f.env->Update([&](Txn& t) -> Status {
    auto id = f.queue->Enqueue(t, "sms", "never either", f.Now());
    REQUIRE(id.ok());
    return Status::Invalid("the code could not be stored");
  });
  CHECK_FALSE(s.ok());
  CHECK(f.Depth() == 0);
  CHECK_FALSE(f.Lease().has_value());
}

TEST_CASE("enqueue commits atomically with the caller's other writes", "[job_queue]") {
  Fixture f;
  auto dbi = f.env->OpenDb("other");
  REQUIRE(dbi.ok());
  REQUIRE(f.env
              ->Update([&](Txn& t) -> Status {
                Status s = t.Put(*dbi, "sms:13800138000", "123456");
                if (!s.ok()) return s;
                return f.queue->Enqueue(t, "sms", "p", f.Now()).status();
              })
              .ok());
  CHECK(f.Depth() == 1);
  bool found = false;
  REQUIRE(f.env
              ->View([&](Txn& t) -> Status {
                auto r = t.Get(*dbi, "sms:13800138000");
                found = r.ok() && r->has_value();
                return r.status();
              })
              .ok());
  CHECK(found);
}

TEST_CASE("next due is the earliest due time, or the lease expiry of a leased job", "[job_queue]") {
  Fixture f;
  CHECK_FALSE(f.NextDue().has_value());
  int64_t t0 = f.Now();
  f.Enqueue("t", "a", t0 + 500);
  CHECK(f.NextDue() == std::optional<int64_t>(t0 + 500));
  f.Enqueue("t", "b", t0 + 100);
  CHECK(f.NextDue() == std::optional<int64_t>(t0 + 100));
  f.clock.Advance(100);
  auto b = f.Lease(1'000);
  REQUIRE(b.has_value());
  CHECK(b->payload == "b");
  // b now counts at its lease expiry (t0 + 1100), later than a.
  CHECK(f.NextDue() == std::optional<int64_t>(t0 + 500));
  f.clock.Advance(400);
  auto a = f.Lease(1'000);
  REQUIRE(a.has_value());
  REQUIRE(f.queue->Ack(*a).ok());
  CHECK(f.NextDue() == std::optional<int64_t>(t0 + 1'100));
  REQUIRE(f.queue->Ack(*b).ok());
  CHECK_FALSE(f.NextDue().has_value());
}

TEST_CASE("wait for work returns when a producer notifies", "[job_queue]") {
  Fixture f;
  uint64_t seen = f.queue->generation();
  f.queue->NotifyEnqueued();
  auto start = std::chrono::steady_clock::now();
  // Notified after `seen` was read: returns at once rather than at the deadline.
  f.queue->WaitForWork(seen, start + std::chrono::seconds(30));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

namespace {

Job SampleJob() {
  Job job;
  job.id = 77;
  job.type = "sms";
  job.payload = R"({"mobile":"13800138000","code":"123456","expires_at_ms":1790000300000})";
  job.attempts = 3;
  job.run_at_ms = 1'790'000'000'123;
  job.created_at_ms = 1'789'999'999'000;
  job.last_error = "webhook: HTTP 503";
  return job;
}

void CheckSame(const Job& a, const Job& b) {
  CHECK(a.id == b.id);
  CHECK(a.type == b.type);
  CHECK(a.payload == b.payload);
  CHECK(a.attempts == b.attempts);
  CHECK(a.run_at_ms == b.run_at_ms);
  CHECK(a.lease_until_ms == b.lease_until_ms);
  CHECK(a.created_at_ms == b.created_at_ms);
  CHECK(a.last_error == b.last_error);
}

}  // namespace

TEST_CASE("a job record round-trips through encode and decode", "[job_queue]") {
  Job job = SampleJob();
  auto back = DecodeJob(job.id, EncodeJob(job));
  REQUIRE(back.ok());
  CheckSame(*back, job);
}

TEST_CASE("a job record with empty fields and binary payload round-trips", "[job_queue]") {
  Job job;
  job.id = 1;
  job.payload = std::string("\0\x01\xff binary", 10);
  auto back = DecodeJob(job.id, EncodeJob(job));
  REQUIRE(back.ok());
  CheckSame(*back, job);

  job.payload.clear();
  back = DecodeJob(job.id, EncodeJob(job));
  REQUIRE(back.ok());
  CheckSame(*back, job);
}

TEST_CASE("decode rejects every truncation of a record", "[job_queue]") {
  // A record cut short anywhere, including inside the payload, is malformed.
  const std::string full = EncodeJob(SampleJob());
  for (size_t n = 0; n < full.size(); ++n) {
    INFO("prefix of " << n << " of " << full.size() << " bytes");
    CHECK_FALSE(DecodeJob(77, std::string_view(full).substr(0, n)).ok());
  }
}

TEST_CASE("decode rejects every truncation of the header of a record", "[job_queue]") {
  Job job = SampleJob();
  job.payload.clear();  // the record ends where the header does
  const std::string full = EncodeJob(job);
  for (size_t n = 0; n < full.size(); ++n) {
    INFO("prefix of " << n << " of " << full.size() << " bytes");
    CHECK_FALSE(DecodeJob(77, std::string_view(full).substr(0, n)).ok());
  }
}

// Regression (found by the job_record fuzz target's round-trip check): a
// record whose error was longer than EncodeJob ever writes decoded, but
// re-encoded to a different job (the error cut to 1024 bytes).
TEST_CASE("decode accepts only records encode writes: an error over 1024 bytes is rejected",
          "[job_queue]") {
  Job job = SampleJob();
  job.last_error = std::string(1024, 'e');
  std::string record = EncodeJob(job);
  auto back = DecodeJob(job.id, record);
  REQUIRE(back.ok());
  CHECK(EncodeJob(*back) == record);

  // The same record with a 1025-byte error, as no version of EncodeJob writes.
  job.last_error = std::string(1025, 'e');
  std::string longer = EncodeJob(job);  // cut to 1024
  CHECK(DecodeJob(job.id, longer).ok());
  size_t at = longer.find(std::string(1024, 'e'));
  REQUIRE(at != std::string::npos);
  longer.insert(at, "e");
  longer[at - 1] = 0x01;  // error_len 1024 (0x00000400) becomes 1025 (0x00000401)
  CHECK_FALSE(DecodeJob(job.id, longer).ok());
}

TEST_CASE("decode rejects garbage", "[job_queue]") {
  CHECK_FALSE(DecodeJob(1, "").ok());
  CHECK_FALSE(DecodeJob(1, "garbage").ok());
  CHECK_FALSE(DecodeJob(1, std::string(64, '\xff')).ok());
  std::string bad_version = EncodeJob(SampleJob());
  bad_version[0] = 2;
  CHECK_FALSE(DecodeJob(1, bad_version).ok());
  bad_version[0] = 0;
  CHECK_FALSE(DecodeJob(1, bad_version).ok());
}
