#include "storage/group_commit.h"

#include "storage/lmdb_env.h"

namespace regd::storage {

GroupCommit::GroupCommit(MDB_env* env, Resize resize) : env_(env), resize_(std::move(resize)) {
  writer_ = std::thread([this] { Run(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Status GroupCommit::Submit(const std::function<Status(Txn&)>& fn) {
  Pending p;
  p.fn = &fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return Status::Unavailable("storage is shutting down");
    queue_.push_back(&p);
  }
  work_cv_.notify_one();
  std::unique_lock<std::mutex> lock(p.mu);
  p.cv.wait(lock, [&p] { return p.done; });
  return p.result;
}

uint64_t GroupCommit::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

uint64_t GroupCommit::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

void GroupCommit::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and nothing left to write
    std::deque<Pending*> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    for (;;) {
      int stopped = RunBatch(batch, /*retry=*/true);
      if (stopped == 0) break;
      if (!resize_ || !resize_(stopped == MDB_MAP_RESIZED)) {
        RunBatch(batch, /*retry=*/false);  // commit what fits; the rest get kBusy
        break;
      }
    }
    lock.lock();
    ++batches_;
    writes_ += batch.size();
    lock.unlock();
    // Notify under p->mu: once the caller sees done it returns and its
    // Pending is gone, so the writer must not touch p after unlocking.
    for (Pending* p : batch) {
      std::lock_guard<std::mutex> done_lock(p->mu);
      p->done = true;
      p->cv.notify_one();
    }
    lock.lock();
  }
}

int GroupCommit::RunBatch(std::deque<Pending*>& batch, bool retry) {
  for (Pending* p : batch) p->result = Status::Ok();
  MDB_txn* outer = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &outer);
  if (rc == MDB_MAP_RESIZED && retry) return rc;
  if (rc != MDB_SUCCESS) {
    for (Pending* p : batch) p->result = LmdbStatus(rc, "begin write");
    return 0;
  }
  Txn parent(outer, false);
  bool any_ok = false;
  for (Pending* p : batch) {
    MDB_txn* inner = nullptr;
    rc = mdb_txn_begin(env_, parent.get(), 0, &inner);
    if (rc != MDB_SUCCESS) {
      if (rc == MDB_MAP_FULL && retry) return rc;  // ~Txn aborts the batch
      p->result = LmdbStatus(rc, "begin nested write");
      continue;
    }
    Txn child(inner, false);
    Status s = (*p->fn)(child);
    if (s.ok()) s = child.Commit();  // into the parent: no flush yet
    if (IsMapFull(s) && retry) return MDB_MAP_FULL;
    p->result = s;  // a failed function's child is aborted by ~Txn
    any_ok = any_ok || s.ok();
  }
  if (!any_ok) return 0;  // nothing to write; ~Txn aborts the parent
  Status committed = parent.Commit();
  if (IsMapFull(committed) && retry) return MDB_MAP_FULL;  // nothing was committed
  if (!committed.ok()) {
    for (Pending* p : batch) {
      if (p->result.ok()) p->result = committed;
    }
  }
  return 0;
}

}  // namespace regd::storage
