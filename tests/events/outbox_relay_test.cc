// The outbox relay moves committed account events from SQLite into the job
// queue (real SQLite and LMDB in a temp dir), never losing one and never
// queueing one twice while it is pending.
#include "events/outbox_relay.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "events/event_job.h"
#include "sms/sms_job.h"
#include "sms/sms_provider.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

using regd::events::DecodeEventJob;
using regd::events::OutboxRelay;
using regd::queue::Job;
using regd::queue::JobQueue;
using regd::storage::UserStore;
using regd::testing::FakeClock;
using regd::testing::TempDir;

namespace {

struct RelayRig {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<regd::storage::LmdbEnv> env;
  std::unique_ptr<JobQueue> queue;
  std::unique_ptr<UserStore> users;

  RelayRig() {
    auto e = regd::storage::LmdbEnv::Open({dir.Join("lmdb")});
    REQUIRE(e.ok());
    env = std::move(e).value();
    auto q = JobQueue::Open(env.get(), &clock);
    REQUIRE(q.ok());
    queue = std::move(q).value();
    auto u = UserStore::Open(dir.Join("users.sqlite3"));
    REQUIRE(u.ok());
    users = std::move(u).value();
  }

  OutboxRelay Relay(bool deliver, int audit_days = 90, size_t max_queued_jobs = 100'000) {
    OutboxRelay::Options o;
    o.deliver = deliver;
    o.audit_days = audit_days;
    o.poll_ms = 50;
    o.max_queued_jobs = max_queued_jobs;
    return OutboxRelay(users.get(), env.get(), queue.get(), &clock, o);
  }

  std::vector<Job> EventJobs() {
    auto all = queue->List(std::nullopt, 1000);
    REQUIRE(all.ok());
    std::vector<Job> out;
    for (const auto& [job, state] : *all) {
      if (job.type == regd::events::kEventJobType) out.push_back(job);
    }
    return out;
  }

  // What a crash between the queue's commit and SQLite's would leave.
  void ForgetRelayed() {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.Join("users.sqlite3").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE events SET relayed = 0", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
  }
};

}  // namespace

TEST_CASE("the relay queues each committed event once, in order", "[outbox_relay]") {
  RelayRig f;
  auto id = f.users->Create("alice", "13800138000", "h", f.clock.NowMs());
  REQUIRE(id.ok());
  REQUIRE(f.users->SetMobile(*id, "13900139000", f.clock.NowMs()).ok());
  OutboxRelay relay = f.Relay(/*deliver=*/true);
  auto n = relay.RelayOnce();
  REQUIRE(n.ok());
  CHECK(*n == 2);
  auto jobs = f.EventJobs();
  REQUIRE(jobs.size() == 2);
  auto first = DecodeEventJob(jobs[0].payload);
  auto second = DecodeEventJob(jobs[1].payload);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->body.find("user.registered") != std::string::npos);
  CHECK(second->body.find("user.mobile_changed") != std::string::npos);
  auto again = relay.RelayOnce();
  REQUIRE(again.ok());
  CHECK(*again == 0);
  CHECK(f.EventJobs().size() == 2);
}

TEST_CASE("a relay interrupted before marking queues no second job", "[outbox_relay]") {
  RelayRig f;
  REQUIRE(f.users->Create("alice", "13800138000", "h", f.clock.NowMs()).ok());
  OutboxRelay relay = f.Relay(true);
  REQUIRE(relay.RelayOnce().ok());
  f.ForgetRelayed();  // queued, but SQLite never heard
  auto n = relay.RelayOnce();
  REQUIRE(n.ok());
  CHECK(*n == 1);                    // relayed again...
  CHECK(f.EventJobs().size() == 1);  // ...into the pending job, not a second one
  CHECK(f.users->UnrelayedEvents(10)->empty());
}

TEST_CASE("events wait in the outbox while the queue holds max_queued_jobs", "[outbox_relay]") {
  RelayRig f;
  auto id = f.users->Create("alice", "13800138000", "h", f.clock.NowMs());
  REQUIRE(id.ok());
  for (int i = 0; i < 4; ++i) {
    REQUIRE(f.users
                ->SetPasswordHash(*id, "h" + std::to_string(i),
                                  regd::storage::UserEvent::kPasswordChanged, f.clock.NowMs())
                .ok());
  }
  OutboxRelay relay = f.Relay(true, 90, /*max_queued_jobs=*/3);
  auto first = relay.RelayOnce();  // the queue was empty: the whole batch goes
  REQUIRE(first.ok());
  CHECK(*first == 5);
  // The receiver is down for good: the jobs go dead, and dead ones count.
  for (int i = 0; i < 5; ++i) {
    auto job = f.queue->Lease(60'000);
    REQUIRE(job.ok());
    REQUIRE(job->has_value());
    REQUIRE(f.queue->Bury(**job, "receiver down").ok());
  }
  REQUIRE(
      f.users
          ->SetPasswordHash(*id, "h9", regd::storage::UserEvent::kPasswordChanged, f.clock.NowMs())
          .ok());
  f.clock.Advance(1001);  // past the cached count's age
  auto held = relay.RelayOnce();
  CHECK(held.status().code() == regd::Status::Code::kFull);
  CHECK(f.users->UnrelayedEvents(10)->size() == 1);  // waiting, not lost
  CHECK(f.EventJobs().size() == 5);

  auto purged = f.queue->PurgeDead();  // the owner drops the dead letters
  REQUIRE(purged.ok());
  f.clock.Advance(1001);
  auto resumed = relay.RelayOnce();
  REQUIRE(resumed.ok());
  CHECK(*resumed == 1);
  CHECK(f.users->UnrelayedEvents(10)->empty());
}

TEST_CASE("without a receiver events are kept for the audit and queue nothing", "[outbox_relay]") {
  RelayRig f;
  auto id = f.users->Create("alice", "13800138000", "h", f.clock.NowMs());
  REQUIRE(id.ok());
  OutboxRelay relay = f.Relay(/*deliver=*/false);
  REQUIRE(relay.RelayOnce().ok());
  CHECK(f.EventJobs().empty());
  CHECK(f.users->UnrelayedEvents(10)->empty());
  CHECK(f.users->EventsOf(*id, 10)->size() == 1);
}

TEST_CASE("the audit keeps events for audit_days", "[outbox_relay]") {
  RelayRig f;
  auto id = f.users->Create("alice", "13800138000", "h", f.clock.NowMs());
  REQUIRE(id.ok());
  OutboxRelay relay = f.Relay(false, /*audit_days=*/2);
  REQUIRE(relay.RelayOnce().ok());
  f.clock.Advance(86'400'000);  // one day: kept
  CHECK(*relay.Prune() == 0);
  f.clock.Advance(86'400'000 + 1);  // past two days: gone
  CHECK(*relay.Prune() == 1);
  CHECK(f.users->EventsOf(*id, 10)->empty());
}

TEST_CASE("the running relay picks up an event committed by another connection", "[outbox_relay]") {
  RelayRig f;
  OutboxRelay relay = f.Relay(true);
  relay.Start();
  // Another process (`regd users`) writes through its own connection.
  auto other = UserStore::Open(f.dir.Join("users.sqlite3"));
  REQUIRE(other.ok());
  REQUIRE((*other)->Create("alice", "13800138000", "h", f.clock.NowMs()).ok());
  bool queued = false;
  for (int i = 0; i < 200 && !queued; ++i) {
    queued = f.EventJobs().size() == 1;
    if (!queued) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  relay.Stop();
  CHECK(queued);
}

TEST_CASE("a change of mobile queues the notice to the old mobile from its event, once",
          "[outbox_relay]") {
  RelayRig f;
  auto id = f.users->Create("alice", "13800138000", "h", f.clock.NowMs());
  REQUIRE(id.ok());
  REQUIRE(f.users->SetMobile(*id, "13900139000", f.clock.NowMs()).ok());
  OutboxRelay relay = f.Relay(/*deliver=*/false);  // no receiver: the notice all the same
  REQUIRE(relay.RelayOnce().ok());
  f.ForgetRelayed();  // a crash before SQLite heard: relayed again
  REQUIRE(relay.RelayOnce().ok());
  auto all = f.queue->List(std::nullopt, 100);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  const Job& job = (*all)[0].first;
  CHECK(job.type == regd::sms::kSmsJobType);
  auto sms = regd::sms::DecodeSmsJob(job.payload);
  REQUIRE(sms.ok());
  CHECK(sms->mobile == "13800138000");  // the mobile it left
  CHECK(sms->code.empty());
  CHECK(sms->purpose == regd::sms::kSmsPurposeMobileChanged);
  CHECK(sms->expires_at_ms == f.clock.NowMs() + OutboxRelay::kNoticeTtlMs);
}
