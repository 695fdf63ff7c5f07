#include "queue/job_queue.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "storage/log.h"

namespace regd::queue {

using storage::Cursor;
using storage::GetBigEndian64;
using storage::PutBigEndian64;
using storage::Txn;

namespace {

constexpr char kRecordVersion = 1;
// EncodeJob keeps at most this much of last_error; DecodeJob rejects more, so
// every record it accepts is one EncodeJob writes (decode(encode(j)) == j).
constexpr size_t kMaxErrorBytes = 1024;
constexpr std::string_view kNextIdKey = "next_id";

std::string IdKey(uint64_t id) {
  std::string k;
  PutBigEndian64(&k, id);
  return k;
}

std::string DueKey(int64_t due_ms, uint64_t id) {
  std::string k;
  PutBigEndian64(&k, static_cast<uint64_t>(due_ms < 0 ? 0 : due_ms));
  PutBigEndian64(&k, id);
  return k;
}

void PutU32(std::string* dst, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift));
}

// A bounds-checked reader over a record.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool U8(uint8_t* v) {
    if (s_.size() < 1) return false;
    *v = static_cast<uint8_t>(s_[0]);
    s_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* v) {
    if (s_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<unsigned char>(s_[i]);
    s_.remove_prefix(4);
    return true;
  }
  bool I64(int64_t* v) {
    if (s_.size() < 8) return false;
    *v = static_cast<int64_t>(GetBigEndian64(s_));
    s_.remove_prefix(8);
    return true;
  }
  bool Bytes(size_t n, std::string* out) {
    if (s_.size() < n) return false;
    out->assign(s_.substr(0, n));
    s_.remove_prefix(n);
    return true;
  }
  std::string_view rest() const { return s_; }

 private:
  std::string_view s_;
};

// Visits the due index in due order: visit(due_ms, id) is called for each
// well-formed entry until it returns false or fails (its Status is returned).
template <typename Visit>
Status ForEachDue(Txn& txn, MDB_dbi due_dbi, Visit visit) {
  auto cur = Cursor::Open(txn, due_dbi);
  if (!cur.ok()) return cur.status();
  for (auto more = cur->First(); more.ok() && *more; more = cur->Next()) {
    if (cur->key().size() != 16) continue;
    int64_t due = static_cast<int64_t>(GetBigEndian64(cur->key()));
    Result<bool> go_on = visit(due, GetBigEndian64(cur->key().substr(8)));
    if (!go_on.ok()) return go_on.status();
    if (!*go_on) break;
  }
  return Status::Ok();
}

}  // namespace

// version(1) type_len(1) type attempts(4) run_at(8) lease_until(8)
// created_at(8) error_len(4) error dedup_len(4) dedup payload_len(4) payload;
// nothing may follow. lease_until is always 0: leases live in memory
// (job_queue.h), the field stays for the format's sake, and a record with
// another value is not one regd wrote (no release wrote durable leases), so
// DecodeJob rejects it.
std::string EncodeJob(const Job& job) {
  std::string r;
  r.push_back(kRecordVersion);
  std::string_view type = std::string_view(job.type).substr(0, 255);
  r.push_back(static_cast<char>(type.size()));
  r.append(type);
  PutU32(&r, job.attempts);
  PutBigEndian64(&r, static_cast<uint64_t>(job.run_at_ms));
  PutBigEndian64(&r, 0);  // lease_until: a lease is never written
  PutBigEndian64(&r, static_cast<uint64_t>(job.created_at_ms));
  std::string_view err = std::string_view(job.last_error).substr(0, kMaxErrorBytes);
  PutU32(&r, static_cast<uint32_t>(err.size()));
  r.append(err);
  PutU32(&r, static_cast<uint32_t>(job.dedup_key.size()));
  r.append(job.dedup_key);
  PutU32(&r, static_cast<uint32_t>(job.payload.size()));
  r.append(job.payload);
  return r;
}

Result<Job> DecodeJob(uint64_t id, std::string_view bytes) {
  Reader in(bytes);
  Job job;
  job.id = id;
  uint8_t version = 0, type_len = 0;
  uint32_t err_len = 0, dedup_len = 0, payload_len = 0;
  int64_t lease_until = 0;
  if (!in.U8(&version) || version != kRecordVersion || !in.U8(&type_len) ||
      !in.Bytes(type_len, &job.type) || !in.U32(&job.attempts) || !in.I64(&job.run_at_ms) ||
      !in.I64(&lease_until) || lease_until != 0 || !in.I64(&job.created_at_ms) ||
      !in.U32(&err_len) || err_len > kMaxErrorBytes || !in.Bytes(err_len, &job.last_error) ||
      !in.U32(&dedup_len) || !in.Bytes(dedup_len, &job.dedup_key) || !in.U32(&payload_len) ||
      !in.Bytes(payload_len, &job.payload) || !in.rest().empty()) {
    return Status::Internal("malformed job record " + std::to_string(id));
  }
  return job;
}

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kReady:
      return "ready";
    case JobState::kDelayed:
      return "delayed";
    case JobState::kLeased:
      return "leased";
    case JobState::kDead:
    default:
      return "dead";
  }
}

QueueCheckCounts JobQueue::Check(Txn& txn, const std::array<MDB_dbi, 5>& dbs,
                                 storage::Findings* out) {
  using storage::HasKey;
  using storage::Tally;
  using storage::WalkDb;
  const MDB_dbi jobs = dbs[0], due = dbs[1], dead = dbs[2], meta = dbs[3], dedup = dbs[4];
  QueueCheckCounts n;
  Tally bad_key("jobs"), undecodable("jobs"), unindexed("jobs"), bad_dead("jobs_dead");
  Tally orphan("jobs_due"), stale_dedup("jobs_dedup");
  uint64_t max_id = 0;
  Status s = WalkDb(txn, jobs, [&](std::string_view key, std::string_view value) {
    ++n.pending;
    if (key.size() != 8) return bad_key.Add("a key is not an 8-byte id");
    uint64_t id = GetBigEndian64(key);
    max_id = std::max(max_id, id);
    auto job = DecodeJob(id, value);
    if (!job.ok()) return undecodable.Add("record " + std::to_string(id) + " cannot be decoded");
    if (!HasKey(txn, due, DueKey(job->run_at_ms, id))) {
      unindexed.Add("job " + std::to_string(id) + " has no jobs_due entry (it would never run)");
    }
  });
  if (!s.ok()) out->problems.push_back("jobs: cannot be read: " + s.message());
  s = WalkDb(txn, dead, [&](std::string_view key, std::string_view value) {
    ++n.dead;
    if (key.size() != 8) return bad_dead.Add("a key is not an 8-byte id");
    uint64_t id = GetBigEndian64(key);
    max_id = std::max(max_id, id);
    if (!DecodeJob(id, value).ok()) {
      bad_dead.Add("record " + std::to_string(id) + " cannot be decoded");
    }
  });
  if (!s.ok()) out->problems.push_back("jobs_dead: cannot be read: " + s.message());
  s = WalkDb(txn, due, [&](std::string_view key, std::string_view) {
    if (key.size() != 16 || !HasKey(txn, jobs, key.substr(8))) {
      orphan.Add("an index entry names no job (the queue drops it when it comes due)");
    }
  });
  if (!s.ok()) out->problems.push_back("jobs_due: cannot be read: " + s.message());
  s = WalkDb(txn, dedup, [&](std::string_view, std::string_view value) {
    if (value.size() != 8 || !HasKey(txn, jobs, value)) {
      stale_dedup.Add("a key names no pending job (the next enqueue replaces it)");
    }
  });
  if (!s.ok()) out->problems.push_back("jobs_dedup: cannot be read: " + s.message());

  auto next = txn.Get(meta, kNextIdKey);
  if (!next.ok()) {
    out->problems.push_back("jobs_meta: cannot be read: " + next.status().message());
  } else if (next->has_value() && (*next)->size() != 8) {
    out->problems.push_back("jobs_meta: next_id is not 8 bytes");
  } else {
    n.next_id = next->has_value() ? GetBigEndian64(**next) : 1;
    if (max_id != 0 && n.next_id <= max_id) {
      out->problems.push_back("jobs_meta: next_id " + std::to_string(n.next_id) +
                              " is not above job id " + std::to_string(max_id) +
                              " (a new job would overwrite it)");
    }
  }
  for (const Tally* t : {&bad_key, &undecodable, &unindexed, &bad_dead}) {
    t->ReportTo(out->problems);
  }
  for (const Tally* t : {&orphan, &stale_dedup}) t->ReportTo(out->notes);
  return n;
}

Result<std::unique_ptr<JobQueue>> JobQueue::Open(storage::LmdbEnv* env, const Clock* clock) {
  std::unique_ptr<JobQueue> q(new JobQueue(env, clock));
  MDB_dbi* const dbis[] = {&q->jobs_, &q->due_, &q->dead_, &q->meta_, &q->dedup_};
  static_assert(std::size(dbis) == kDbNames.size());
  for (size_t i = 0; i < kDbNames.size(); ++i) {
    auto r = env->OpenDb(kDbNames[i]);
    if (!r.ok()) return r.status();
    *dbis[i] = *r;
  }
  return q;
}

Status JobQueue::MoveDue(Txn& txn, uint64_t id, int64_t from_ms, int64_t to_ms) {
  Status s = txn.Del(due_, DueKey(from_ms, id));
  if (!s.ok()) return s;
  return txn.Put(due_, DueKey(to_ms, id), "");
}

Result<uint64_t> JobQueue::Enqueue(Txn& txn, std::string_view type, std::string_view payload,
                                   int64_t run_at_ms, const EnqueueOptions& options,
                                   bool* duplicate) {
  if (duplicate) *duplicate = false;
  if (!options.dedup_key.empty()) {
    auto pending = txn.Get(dedup_, options.dedup_key);
    if (!pending.ok()) return pending.status();
    if (pending->has_value() && (*pending)->size() == 8) {
      uint64_t pid = GetBigEndian64(**pending);
      auto raw = txn.Get(jobs_, IdKey(pid));
      if (!raw.ok()) return raw.status();
      auto job = raw->has_value() ? DecodeJob(pid, **raw) : Result<Job>(Status::NotFound(""));
      if (job.ok() && !options.replace_pending) {
        if (duplicate) *duplicate = true;
        return pid;
      }
      if (job.ok() && !IsLeased(pid)) {  // replace the payload
        Status s = MoveDue(txn, pid, job->run_at_ms, run_at_ms);
        if (!s.ok()) return s;
        job->payload = std::string(payload);
        job->run_at_ms = run_at_ms;
        s = txn.Put(jobs_, IdKey(pid), EncodeJob(*job));
        if (!s.ok()) return s;
        if (duplicate) *duplicate = true;
        return pid;
      }
      // The pending job is being sent right now (or is gone): add a new one.
    }
  }
  auto next = txn.Get(meta_, kNextIdKey);
  if (!next.ok()) return next.status();
  uint64_t id = (next->has_value() && (*next)->size() == 8) ? GetBigEndian64(**next) : 1;
  Status s = txn.Put(meta_, kNextIdKey, IdKey(id + 1));
  if (!s.ok()) return s;
  Job job;
  job.id = id;
  job.type = std::string(type);
  job.payload = std::string(payload);
  job.run_at_ms = run_at_ms;
  job.created_at_ms = clock_->NowMs();
  job.dedup_key = std::string(options.dedup_key);
  s = txn.Put(jobs_, IdKey(id), EncodeJob(job));
  if (s.ok()) s = txn.Put(due_, DueKey(run_at_ms, id), "");
  if (s.ok() && !job.dedup_key.empty()) s = txn.Put(dedup_, job.dedup_key, IdKey(id));
  if (!s.ok()) return s;
  return id;
}

Result<uint64_t> JobQueue::EnqueueNow(std::string_view type, std::string_view payload) {
  uint64_t id = 0;
  Status s = env_->Update([&](Txn& txn) -> Status {
    auto r = Enqueue(txn, type, payload, clock_->NowMs());
    if (!r.ok()) return r.status();
    id = *r;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  NotifyEnqueued();
  return id;
}

Result<std::optional<Job>> JobQueue::Lease(int64_t lease_ms, bool* more_due) {
  std::optional<Job> taken;
  bool more = false;
  int64_t now = clock_->NowMs();
  std::vector<std::pair<uint64_t, int64_t>> orphans;  // due entries without a job
  // The read transaction begins after lease_mu_ is held: a job Acked after
  // this snapshot is still in leases_ (its holder erases the lease only after
  // the Ack committed and only under lease_mu_), so it cannot be taken twice.
  std::lock_guard<std::mutex> lock(lease_mu_);
  Status s = env_->View([&](Txn& txn) -> Status {
    return ForEachDue(txn, due_, [&](int64_t due, uint64_t id) -> Result<bool> {
      if (due > now) return false;
      auto held = leases_.find(id);
      if (held != leases_.end() && held->second.until_ms > now) return true;
      if (taken) {  // one more due job nobody holds (it may yet prove an orphan)
        more = true;
        return false;
      }
      auto raw = txn.Get(jobs_, IdKey(id));
      if (!raw.ok()) return raw.status();
      if (!raw->has_value()) {
        orphans.emplace_back(id, due);
        return true;
      }
      auto job = DecodeJob(id, **raw);
      if (!job.ok()) {
        orphans.emplace_back(id, due);
        return true;
      }
      // A lease that expired in a consumer's hands counts as an attempt.
      uint32_t before = held != leases_.end() ? held->second.attempts : job->attempts;
      job->attempts = before + 1;
      job->lease_until_ms =
          std::max(now + lease_ms, held != leases_.end() ? held->second.until_ms + 1 : int64_t{0});
      leases_[id] = Held{job->lease_until_ms, job->attempts};
      taken = std::move(job).value();
      return more_due != nullptr;  // look on only if the caller asks
    });
  });
  if (!s.ok()) return s;
  if (!orphans.empty()) DropOrphans(orphans);
  if (more_due != nullptr) *more_due = more;
  return taken;
}

// Index entries whose job is missing (an orphan) or unreadable (kept among
// the dead for inspection) are cleared so they are not looked at again.
void JobQueue::DropOrphans(const std::vector<std::pair<uint64_t, int64_t>>& orphans) {
  Status s = env_->Update([&](Txn& txn) -> Status {
    for (auto [id, due] : orphans) {
      auto raw = txn.Get(jobs_, IdKey(id));
      if (!raw.ok()) return raw.status();
      Status d = txn.Del(due_, DueKey(due, id));
      if (raw->has_value()) {
        if (d.ok()) d = txn.Put(dead_, IdKey(id), **raw);
        if (d.ok()) d = txn.Del(jobs_, IdKey(id));
      }
      if (!d.ok()) return d;
    }
    return Status::Ok();
  });
  if (!s.ok()) LogError("queue: cannot clear broken entries: %s", s.ToString().c_str());
}

bool JobQueue::IsLeased(uint64_t id) {
  std::lock_guard<std::mutex> lock(lease_mu_);
  auto held = leases_.find(id);
  return held != leases_.end() && held->second.until_ms > clock_->NowMs();
}

void JobQueue::Release(const Job& leased) {
  std::lock_guard<std::mutex> lock(lease_mu_);
  auto held = leases_.find(leased.id);
  if (held != leases_.end() && held->second.until_ms == leased.lease_until_ms) leases_.erase(held);
}

std::unordered_set<uint64_t> JobQueue::LeasedNow() {
  std::unordered_set<uint64_t> ids;
  int64_t now = clock_->NowMs();
  std::lock_guard<std::mutex> lock(lease_mu_);
  for (const auto& [id, held] : leases_) {
    if (held.until_ms > now) ids.insert(id);
  }
  return ids;
}

bool JobQueue::Holds(const Job& leased) {
  std::lock_guard<std::mutex> lock(lease_mu_);
  auto held = leases_.find(leased.id);
  return held != leases_.end() && held->second.until_ms == leased.lease_until_ms;
}

Status JobQueue::Remove(Txn& txn, const Job& job) {
  Status s = txn.Del(due_, DueKey(job.run_at_ms, job.id));
  if (s.ok() && !job.dedup_key.empty()) {
    auto owner = txn.Get(dedup_, job.dedup_key);
    if (!owner.ok()) return owner.status();
    if (owner->has_value() && (*owner)->size() == 8 && GetBigEndian64(**owner) == job.id) {
      s = txn.Del(dedup_, job.dedup_key);
    }
  }
  if (s.ok()) s = txn.Del(jobs_, IdKey(job.id));
  return s;
}

// The stored job may differ from the leased one: Enqueue with
// replace_pending may have put a new payload in while it was being sent. Then
// the job stays (it still has to be sent with the new payload) and only the
// lease is released.
Result<std::optional<Job>> JobQueue::LoadLeased(Txn& txn, const Job& leased, bool drop_damaged) {
  auto raw = txn.Get(jobs_, IdKey(leased.id));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<Job>();
  auto job = DecodeJob(leased.id, **raw);
  if (!job.ok()) {
    Status s = drop_damaged ? txn.Del(jobs_, IdKey(leased.id)) : Status::Ok();
    if (!s.ok()) return s;
    return std::optional<Job>();
  }
  if (job->payload != leased.payload) return std::optional<Job>();  // replaced while sent
  return std::optional<Job>(std::move(job).value());
}

Status JobQueue::Ack(const Job& leased) {
  Status s = env_->Update([&](Txn& txn) -> Status {
    auto job = LoadLeased(txn, leased, /*drop_damaged=*/true);
    if (!job.ok()) return job.status();
    return job->has_value() ? Remove(txn, **job) : Status::Ok();
  });
  if (s.ok()) Release(leased);
  return s;
}

Status JobQueue::Retry(const Job& leased, int64_t run_at_ms, std::string_view error,
                       bool count_attempt) {
  if (!Holds(leased)) return Status::Ok();  // the lease was lost to another consumer
  Status s = env_->Update([&](Txn& txn) -> Status {
    auto stored = LoadLeased(txn, leased, /*drop_damaged=*/false);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) return Status::Ok();
    Job& job = **stored;
    Status m = MoveDue(txn, job.id, job.run_at_ms, run_at_ms);
    if (!m.ok()) return m;
    job.run_at_ms = run_at_ms;
    job.attempts = count_attempt ? leased.attempts : leased.attempts - 1;
    if (count_attempt) job.last_error = std::string(error);
    return txn.Put(jobs_, IdKey(job.id), EncodeJob(job));
  });
  if (s.ok()) {
    Release(leased);
    NotifyEnqueued();  // the next due time changed
  }
  return s;
}

Status JobQueue::Bury(const Job& leased, std::string_view error) {
  Status s = env_->Update([&](Txn& txn) -> Status {
    auto stored = LoadLeased(txn, leased, /*drop_damaged=*/true);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) return Status::Ok();
    Job& job = **stored;
    Status r = Remove(txn, job);
    if (!r.ok()) return r;
    job.attempts = std::max(job.attempts, leased.attempts);
    job.last_error = std::string(error);
    return txn.Put(dead_, IdKey(job.id), EncodeJob(job));
  });
  if (s.ok()) Release(leased);
  return s;
}

// A leased job's index entry is not moved (a lease is not written), so a
// leased job counts with its lease expiry instead of its due time.
Result<std::optional<int64_t>> JobQueue::NextDueMs() {
  std::optional<int64_t> next;
  int64_t now = clock_->NowMs();
  std::lock_guard<std::mutex> lock(lease_mu_);
  Status s = env_->View([&](Txn& txn) -> Status {
    return ForEachDue(txn, due_, [&](int64_t due, uint64_t id) -> Result<bool> {
      if (next && due >= *next) return false;
      auto held = leases_.find(id);
      if (held != leases_.end() && held->second.until_ms > now) {
        next = next ? std::min(*next, held->second.until_ms) : held->second.until_ms;
        return true;
      }
      next = due;
      return false;
    });
  });
  if (!s.ok()) return s;
  return next;
}

Result<size_t> JobQueue::Entries(MDB_dbi dbi) {
  size_t n = 0;
  Status s = env_->View([&](Txn& txn) {
    MDB_stat st;
    int rc = mdb_stat(txn.get(), dbi, &st);
    if (rc != MDB_SUCCESS) return storage::LmdbStatus(rc, "stat");
    n = st.ms_entries;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return n;
}

Result<size_t> JobQueue::Depth() { return Entries(jobs_); }
Result<size_t> JobQueue::DeadCount() { return Entries(dead_); }

Result<QueueStats> JobQueue::CachedStats(int64_t max_age_ms) {
  std::lock_guard<std::mutex> lock(stats_mu_);
  int64_t now = clock_->NowMs();
  if (stats_ && now - stats_at_ms_ < max_age_ms && now >= stats_at_ms_) return *stats_;
  ++stats_reads_;
  auto st = Stats();
  if (!st.ok()) {
    stats_.reset();
    return st;
  }
  stats_ = *st;
  stats_at_ms_ = now;
  return st;
}

uint64_t JobQueue::cached_stats_reads() {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_reads_;
}

Result<QueueStats> JobQueue::Stats() {
  QueueStats st;
  int64_t now = clock_->NowMs();
  const std::unordered_set<uint64_t> leased = LeasedNow();
  int64_t oldest_ready = now;
  Status s = env_->View([&](Txn& txn) -> Status {
    auto cur = Cursor::Open(txn, jobs_);
    if (!cur.ok()) return cur.status();
    for (auto more = cur->First(); more.ok() && *more; more = cur->Next()) {
      if (cur->key().size() != 8) continue;
      auto job = DecodeJob(GetBigEndian64(cur->key()), cur->value());
      if (!job.ok()) continue;
      if (leased.count(job->id)) {
        ++st.leased;
      } else if (job->run_at_ms <= now) {
        ++st.ready;
        oldest_ready = std::min(oldest_ready, job->run_at_ms);
      } else {
        ++st.delayed;
      }
    }
    MDB_stat ds;
    int rc = mdb_stat(txn.get(), dead_, &ds);
    if (rc != MDB_SUCCESS) return storage::LmdbStatus(rc, "stat");
    st.dead = ds.ms_entries;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  st.oldest_ready_age_ms = st.ready ? now - oldest_ready : 0;
  return st;
}

Result<std::vector<std::pair<Job, JobState>>> JobQueue::List(std::optional<JobState> state,
                                                             size_t limit) {
  std::vector<std::pair<Job, JobState>> out;
  int64_t now = clock_->NowMs();
  const std::unordered_set<uint64_t> leased = LeasedNow();
  Status s = env_->View([&](Txn& txn) -> Status {
    for (MDB_dbi dbi : {jobs_, dead_}) {
      if (state && ((*state == JobState::kDead) != (dbi == dead_))) continue;
      auto cur = Cursor::Open(txn, dbi);
      if (!cur.ok()) return cur.status();
      for (auto more = cur->First(); more.ok() && *more && out.size() < limit; more = cur->Next()) {
        if (cur->key().size() != 8) continue;
        auto job = DecodeJob(GetBigEndian64(cur->key()), cur->value());
        if (!job.ok()) continue;
        JobState js = dbi == dead_            ? JobState::kDead
                      : leased.count(job->id) ? JobState::kLeased
                      : job->run_at_ms <= now ? JobState::kReady
                                              : JobState::kDelayed;
        if (!state || *state == js) out.emplace_back(std::move(job).value(), js);
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

// Puts a dead job back in the queue, due now, with its attempts reset.
Status JobQueue::Revive(Txn& txn, Job job) {
  Status s = txn.Del(dead_, IdKey(job.id));
  job.attempts = 0;
  job.run_at_ms = clock_->NowMs();
  job.dedup_key.clear();
  if (s.ok()) s = txn.Put(jobs_, IdKey(job.id), EncodeJob(job));
  if (s.ok()) s = txn.Put(due_, DueKey(job.run_at_ms, job.id), "");
  return s;
}

Status JobQueue::Cancel(uint64_t id) {
  Status outcome;
  Status s = env_->Update([&](Txn& txn) -> Status {
    auto raw = txn.Get(jobs_, IdKey(id));
    if (!raw.ok()) return raw.status();
    if (!raw->has_value()) {
      outcome = Status::NotFound("no pending job " + std::to_string(id));
      return Status::Ok();
    }
    auto job = DecodeJob(id, **raw);
    if (!job.ok()) return job.status();
    return Remove(txn, *job);
  });
  return s.ok() ? outcome : s;
}

Status JobQueue::RetryNow(uint64_t id) {
  Status outcome;
  Status s = env_->Update([&](Txn& txn) -> Status {
    auto raw = txn.Get(jobs_, IdKey(id));
    if (!raw.ok()) return raw.status();
    if (raw->has_value()) {
      auto job = DecodeJob(id, **raw);
      if (!job.ok()) return job.status();
      if (IsLeased(id)) {
        outcome = Status::Conflict("job " + std::to_string(id) + " is being run right now");
        return Status::Ok();
      }
      int64_t now = clock_->NowMs();
      Status m = MoveDue(txn, id, job->run_at_ms, now);
      job->run_at_ms = now;
      if (m.ok()) m = txn.Put(jobs_, IdKey(id), EncodeJob(*job));
      return m;
    }
    auto dead = txn.Get(dead_, IdKey(id));
    if (!dead.ok()) return dead.status();
    if (!dead->has_value()) {
      outcome = Status::NotFound("no job " + std::to_string(id));
      return Status::Ok();
    }
    auto job = DecodeJob(id, **dead);
    if (!job.ok()) return job.status();
    return Revive(txn, std::move(job).value());
  });
  if (!s.ok()) return s;
  if (outcome.ok()) NotifyEnqueued();
  return outcome;
}

Result<size_t> JobQueue::RetryAllDead() {
  size_t n = 0;  // assigned, never accumulated: the function may run again after a resize
  Status s = env_->Update([&](Txn& txn) -> Status {
    n = 0;
    std::vector<Job> dead;
    {
      auto cur = Cursor::Open(txn, dead_);
      if (!cur.ok()) return cur.status();
      for (auto more = cur->First(); more.ok() && *more; more = cur->Next()) {
        if (cur->key().size() != 8) continue;
        auto job = DecodeJob(GetBigEndian64(cur->key()), cur->value());
        if (job.ok()) dead.push_back(std::move(job).value());
      }
    }
    for (Job& job : dead) {
      Status r = Revive(txn, std::move(job));
      if (!r.ok()) return r;
    }
    n = dead.size();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  WakeAll();
  return n;
}

Result<size_t> JobQueue::PurgeDead() {
  size_t n = 0;
  Status s = env_->Update([&](Txn& txn) -> Status {
    MDB_stat st;
    int rc = mdb_stat(txn.get(), dead_, &st);
    if (rc != MDB_SUCCESS) return storage::LmdbStatus(rc, "stat");
    n = st.ms_entries;
    return storage::LmdbStatus(mdb_drop(txn.get(), dead_, 0), "drop dead letters");
  });
  if (!s.ok()) return s;
  return n;
}

void JobQueue::NotifyEnqueued() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  cv_.notify_one();  // one job, one consumer: waking all of them costs more than the job
}

void JobQueue::WakeAll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

uint64_t JobQueue::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void JobQueue::WaitForWork(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return generation_ != seen; });
}

}  // namespace regd::queue
