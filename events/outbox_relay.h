// OutboxRelay: moves account events from the SQLite outbox (the events
// table, written in the same transaction as each account change) into the
// durable job queue, where consumers deliver them (event_job.h).
//
// Algorithm, one thread: read up to kBatch unrelayed events, oldest first;
// enqueue each as an "event" job in one LMDB transaction, with the dedup key
// "event:<id>"; after that commit, mark them relayed in SQLite. A crash
// between the two commits relays the batch again at the next start: the
// dedup key adds no second job while the first is pending, and a job already
// delivered is delivered again (at least once; the stable webhook-id lets a
// receiver drop the repeat). Nothing is marked before it is in the queue, so
// no event is lost. Without a receiver (deliver = false) events are marked
// relayed without a job: they stay as the audit trail only.
// A user.mobile_changed event also queues, in the same LMDB transaction and
// whether or not there is a receiver, the notice SMS to the mobile the
// account left (dedup key "notice:<id>", valid kNoticeTtlMs): the change
// and its notice cannot come apart, whatever crashes when.
// The relay looks every poll_ms (events written by `regd users` in another
// process are seen that way) and at once after Notify (this process).
// Once an hour it deletes relayed events older than audit_days.
// Bound: while the queue holds max_queued_jobs jobs or more (pending or
// dead, by JobQueue::CachedStats, at most a second old), the relay moves
// nothing: a receiver that is down for long (its jobs go dead after their
// retries) cannot fill the LMDB map that sessions and codes share. The
// events wait in the outbox, on disk, unrelayed, and go on once the queue
// drains (the receiver is back and `regd queue retry-dead`, or
// `regd queue purge-dead`). A batch may pass the bound by up to kBatch.
//
// Thread-safety: Start, Stop from one thread; Notify from any thread. The
// stores must outlive the relay.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "queue/job_queue.h"
#include "storage/clock.h"
#include "storage/lmdb_env.h"
#include "storage/user_store.h"

namespace regd::events {

class OutboxRelay {
 public:
  static constexpr size_t kBatch = 256;
  // How long the old mobile's notice of a change may wait in the queue.
  static constexpr int64_t kNoticeTtlMs = 24LL * 3600 * 1000;

  struct Options {
    bool deliver = false;  // a receiver is configured (--events-url)
    int audit_days = 90;   // relayed events are kept this long (--audit-days)
    int64_t poll_ms = 250;
    size_t max_queued_jobs = 100'000;
  };

  OutboxRelay(storage::UserStore* users, storage::LmdbEnv* env, queue::JobQueue* queue,
              const Clock* clock, Options options);
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  void Start();
  void Stop();
  // An event was committed: relay it now rather than at the next poll.
  void Notify();
  // One pass: relays up to kBatch events; returns how many (tests, Run).
  // kFull (nothing relayed) while the queue is at max_queued_jobs.
  Result<size_t> RelayOnce();
  // Deletes relayed events older than audit_days; returns how many.
  Result<int64_t> Prune();

 private:
  void Run();

  storage::UserStore* const users_;
  storage::LmdbEnv* const env_;
  queue::JobQueue* const queue_;
  const Clock* const clock_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool notified_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace regd::events
