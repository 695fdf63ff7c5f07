// JobQueue: a durable queue of background jobs in the process's LMDB env.
// It replaces the seed's Celery broker (Redis list) for work that must not
// happen inside an HTTP request, such as sending an SMS.
//
// A job is (type, payload bytes). Producers enqueue inside their own write
// transaction, so a job commits atomically with the data it belongs to (the
// SMS code and its send flag), and call NotifyEnqueued() after the commit.
// Consumers (ConsumerPool) Lease a due job, run its handler, then Ack, Retry
// or Bury it.
//
// Delivery guarantee: at least once. A job is deleted only by Ack, which the
// consumer calls after the handler succeeded.
//
// Leases live in memory only: Lease reads (no disk write) and records in this
// process that a consumer has the job until now + lease; a consumer that hangs
// past its lease loses the job to another consumer. Lease takes the lease map
// before it begins its read transaction, and a lease is released only after
// the Ack (or Retry, Bury) that ends it committed: so a job acked after a
// consumer's snapshot is still leased when that consumer looks, and is never
// taken twice. A lease is not worth a
// disk flush because it never outlives the process: after a crash or restart
// every job that was leased is simply due again. The attempt count of a lease
// is written by Retry and Bury (a crash in the middle of a send does not count
// it). Ack, Retry and Bury compare the stored payload with the leased one: a
// job whose payload was replaced while it was being sent (replace_pending) is
// not deleted, retried or buried; its lease is released and the new payload
// is sent.
//
// On disk (named DBIs):
//   "jobs"      id (8 bytes BE) -> record (see EncodeJob; its lease_until
//               field is always 0, a lease is never written)
//   "jobs_due"  due_ms (8 BE) ‖ id (8 BE) -> ""   due_ms = run_at; exactly
//               one entry per job in "jobs"
//   "jobs_dead" id (8 BE) -> record with last_error  (dead letters)
//   "jobs_meta" "next_id" -> 8 BE
//   "jobs_dedup" dedup key -> id (8 BE)  while that job is pending
// The due index is ordered by time, so the next job is the first key (no
// scan), and NextDueMs tells a consumer exactly how long to sleep.
// Check (for `regd check`) verifies this layout; it is the only reader of
// these DBIs outside this class.
//
// Deduplication: a producer may give a job a key. While a job with that key
// is pending (in "jobs", leased or not), Enqueue with the same key adds no
// second job and returns the pending one's id; with replace_pending the
// pending job's payload and run-at time are replaced instead, unless it is
// leased (being sent right now), in which case a new job is added and the key
// points to it. Ack and Bury release the key.
//
// States, as `regd queue` shows them: ready (due now), delayed (due later),
// leased (a consumer of this process has it; another process, such as the
// `regd queue` CLI beside a running server, sees a leased job as ready), dead
// (in the dead letters).
//
// Thread-safety: safe to share between threads; each call runs its own
// transaction except Enqueue, which runs in the caller's.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "storage/clock.h"
#include "storage/format_check.h"
#include "storage/lmdb_env.h"
#include "storage/status.h"

namespace regd::queue {

struct Job {
  uint64_t id = 0;
  std::string type;
  std::string payload;
  uint32_t attempts = 0;       // times leased so far, including the current lease
  int64_t run_at_ms = 0;       // when the job becomes due
  int64_t lease_until_ms = 0;  // Lease: when this lease expires (its identity); memory only
  int64_t created_at_ms = 0;
  std::string last_error;
  std::string dedup_key;  // empty: none
};

enum class JobState { kReady, kDelayed, kLeased, kDead };
const char* JobStateName(JobState state);

struct QueueStats {
  size_t ready = 0;
  size_t delayed = 0;
  size_t leased = 0;
  size_t dead = 0;
  int64_t oldest_ready_age_ms = 0;  // 0 when nothing is ready
};

struct EnqueueOptions {
  // A view: the key must outlive the Enqueue call (never a temporary).
  std::string_view dedup_key;    // empty: no deduplication
  bool replace_pending = false;  // see "Deduplication" above
};

// Record encoding, versioned: decoding rejects anything malformed, and a
// non-zero lease_until field (EncodeJob writes 0 whatever job holds).
std::string EncodeJob(const Job& job);
Result<Job> DecodeJob(uint64_t id, std::string_view bytes);

// What JobQueue::Check counted.
struct QueueCheckCounts {
  size_t pending = 0;    // records in "jobs"
  size_t dead = 0;       // records in "jobs_dead"
  uint64_t next_id = 0;  // the id the next job gets
};

class JobQueue {
 public:
  // The queue's named DBIs, in the order Check takes them.
  static constexpr std::array<const char*, 5> kDbNames = {"jobs", "jobs_due", "jobs_dead",
                                                          "jobs_meta", "jobs_dedup"};

  // Checks the queue's format (`regd check`) in txn, a read transaction of
  // an env whose kDbNames DBIs are dbs (LmdbEnv::FindDb, in that order).
  // Problems (damage): an unreadable DBI; a "jobs" or "jobs_dead" key that is
  // not an 8-byte id or a record DecodeJob rejects; a job without its
  // "jobs_due" entry (it would never run); a "jobs_meta" next_id that is not
  // 8 bytes or not above every id in use (a new job would overwrite one).
  // Notes (the queue tolerates and clears both): a "jobs_due" entry that
  // names no job; a dedup key that names no pending job.
  static QueueCheckCounts Check(storage::Txn& txn, const std::array<MDB_dbi, 5>& dbs,
                                storage::Findings* out);

  // Opens the DBIs (call at start). Nothing is recovered: a lease never
  // outlives its process, so a job leased before a crash or restart is
  // simply due.
  static Result<std::unique_ptr<JobQueue>> Open(storage::LmdbEnv* env, const Clock* clock);

  // Adds a job due at run_at_ms, inside the caller's write transaction.
  // Returns its id (the pending job's id when deduplicated; *duplicate says
  // which, if given). Call NotifyEnqueued() after the transaction commits.
  Result<uint64_t> Enqueue(storage::Txn& txn, std::string_view type, std::string_view payload,
                           int64_t run_at_ms, const EnqueueOptions& options = {},
                           bool* duplicate = nullptr);
  // Convenience: Enqueue in a transaction of its own, then notify.
  Result<uint64_t> EnqueueNow(std::string_view type, std::string_view payload);

  // Takes the first job due at or before now, leasing it for lease_ms.
  // nullopt when no job is due. With more_due, also says whether another
  // job is due now that nobody holds (the consumer pool grows on it).
  Result<std::optional<Job>> Lease(int64_t lease_ms, bool* more_due = nullptr);
  // Deletes a leased job after its handler succeeded (unless its payload was
  // replaced meanwhile, see above) and releases the lease. A missing job is
  // not an error.
  Status Ack(const Job& leased);
  // Makes a leased job due again at run_at_ms, recording error and the
  // attempt count. Ignored (ok) if the lease was lost (expired and taken by
  // another consumer) or the job is gone. With
  // count_attempt false the lease is not counted as an attempt (the job was
  // put off, not tried).
  Status Retry(const Job& job, int64_t run_at_ms, std::string_view error,
               bool count_attempt = true);
  // Moves a job to the dead letters with error.
  Status Bury(const Job& job, std::string_view error);

  // Time the first job becomes due (or its lease expires); nullopt if empty.
  Result<std::optional<int64_t>> NextDueMs();
  Result<size_t> Depth();
  Result<size_t> DeadCount();

  // Inspection and repair (`regd queue`). Stats and List read every record:
  // O(jobs), meant for operators, not for hot paths.
  Result<QueueStats> Stats();
  // Stats at most max_age_ms old by the clock, for /metrics, which anyone
  // may call at any rate: the records are read at most once per max_age_ms
  // (callers that arrive during a read wait for it and share its result).
  // The first call reads. A failed read is returned and not kept.
  Result<QueueStats> CachedStats(int64_t max_age_ms);
  // How many times CachedStats has read the records (for tests).
  uint64_t cached_stats_reads();
  // Up to limit jobs in state (all states when nullopt), oldest id first.
  Result<std::vector<std::pair<Job, JobState>>> List(std::optional<JobState> state, size_t limit);
  // Makes job id due now: a waiting job is moved forward, a dead one is
  // revived with its attempts reset. kNotFound if there is no such job;
  // kConflict if it is leased.
  Status RetryNow(uint64_t id);
  // Revives every dead job; returns how many.
  Result<size_t> RetryAllDead();
  // Deletes every dead job; returns how many.
  Result<size_t> PurgeDead();
  // Deletes the pending job id (ready, delayed or leased: a lease held by a
  // consumer, here or in another process, then acks a missing job, which is
  // no error), releasing its dedup key. kNotFound if there is no such job.
  Status Cancel(uint64_t id);

  // Wakes one consumer waiting in WaitForWork (one more job is due, or the
  // next due time changed). A busy consumer looks again before it waits.
  void NotifyEnqueued();
  // Wakes every waiting consumer (many jobs became due; shutdown).
  void WakeAll();
  // Waits until NotifyEnqueued is called after `seen` was read from
  // generation(), or until deadline (steady clock), whichever comes first.
  uint64_t generation();
  void WaitForWork(uint64_t seen, std::chrono::steady_clock::time_point deadline);

 private:
  JobQueue(storage::LmdbEnv* env, const Clock* clock) : env_(env), clock_(clock) {}
  Status MoveDue(storage::Txn& txn, uint64_t id, int64_t from_ms, int64_t to_ms);
  Result<size_t> Entries(MDB_dbi dbi);
  // Deletes job's "jobs" and "jobs_due" entries and releases its dedup key.
  Status Remove(storage::Txn& txn, const Job& job);
  // The stored record of a leased job for Ack, Retry and Bury to act on;
  // nullopt when the job is gone, its payload was replaced while it was
  // sent, or its record no longer decodes (then deleted if drop_damaged).
  Result<std::optional<Job>> LoadLeased(storage::Txn& txn, const Job& leased, bool drop_damaged);
  Status Revive(storage::Txn& txn, Job job);
  void DropOrphans(const std::vector<std::pair<uint64_t, int64_t>>& orphans);
  // In-memory leases; each takes lease_mu_.
  bool IsLeased(uint64_t id);
  bool Holds(const Job& leased);  // leased's lease is still the current one
  void Release(const Job& leased);
  std::unordered_set<uint64_t> LeasedNow();

  storage::LmdbEnv* const env_;
  const Clock* const clock_;
  MDB_dbi jobs_ = 0, due_ = 0, dead_ = 0, meta_ = 0, dedup_ = 0;

  // A lease: until when, and the attempt it is (so a lease that expired in a
  // hung consumer's hands still counts when the job is leased again). The
  // lease's until_ms is also its identity (Job::lease_until_ms).
  struct Held {
    int64_t until_ms;
    uint32_t attempts;
  };
  std::mutex lease_mu_;                        // never held while waiting for the writer
  std::unordered_map<uint64_t, Held> leases_;  // guarded by lease_mu_

  std::mutex stats_mu_;              // held while CachedStats reads
  std::optional<QueueStats> stats_;  // guarded by stats_mu_; what it read last
  int64_t stats_at_ms_ = 0;          // guarded by stats_mu_; when
  uint64_t stats_reads_ = 0;         // guarded by stats_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;  // guarded by mu_
};

}  // namespace regd::queue
