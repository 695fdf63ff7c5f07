// GroupCommit: the single writer of an LmdbEnv. Every LmdbEnv::Update call
// hands its write function to this writer and waits; the writer runs the
// functions that are waiting in ONE LMDB write transaction and commits it
// with one disk flush, so many concurrent requests share the cost of a sync.
//
// Algorithm (one writer thread):
//   1. wait until at least one function is queued;
//   2. take every queued function (at most kMaxBatch);
//   3. begin a write transaction; for each function begin a nested
//      transaction, run the function in it, commit the nested transaction if
//      the function returned ok, abort it otherwise (so a failing function
//      leaves no trace and does not affect the others in the batch);
//   4. commit the outer transaction (the flush); hand each caller its own
//      result: the function's error, or the commit's status.
// A caller is answered only after the commit that holds its writes returned,
// so "ok" still means "on disk". Functions run in submission order; each sees
// the writes of the functions before it in the batch.
//
// Map full: when a function or the commit hits MDB_MAP_FULL, the whole batch
// is aborted and `resize` is called (no transaction of the writer is open);
// if it made room (the map grew), the batch runs again from the start. If it
// could not (the configured maximum), the batch runs once more with the
// functions that fit committed and the others answered kBusy. A function may
// therefore run more than once: it must write only through its Txn and only
// assign (not accumulate into) what it captures. MDB_MAP_RESIZED (another
// process grew the map) is handled the same way, with resize adopting the
// new size.
//
// Constraints: a function must not call Update itself (it runs on the writer
// thread, inside the batch), and must not keep Txn or cursors beyond its
// return. Functions run on the writer thread, not the caller's.
//
// Thread-safety: Submit may be called from any thread. The destructor stops
// and joins the writer after the queued functions ran.
#pragma once

#include <lmdb.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "storage/status.h"

namespace regd::storage {

class Txn;

class GroupCommit {
 public:
  static constexpr size_t kMaxBatch = 512;

  // Makes room when the map is full (adopt: another process grew it; take
  // its size). Returns false when no room can be made. Runs on the writer
  // thread with no transaction open.
  using Resize = std::function<bool(bool adopt)>;

  GroupCommit(MDB_env* env, Resize resize);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs fn in the next batch and returns once that batch is committed.
  Status Submit(const std::function<Status(Txn&)>& fn);

  // Batches committed and functions run so far (for benchmarks and tests).
  uint64_t batches() const;
  uint64_t writes() const;

 private:
  // One waiting caller, on its stack. The writer wakes exactly this caller
  // (its own mutex and condition variable), so a commit wakes only the
  // callers whose writes it holds, not every thread waiting for a later batch.
  struct Pending {
    const std::function<Status(Txn&)>* fn;
    Status result;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;  // guarded by mu
  };

  void Run();
  // Runs and commits one batch. Returns what stopped it: 0 (done),
  // MDB_MAP_FULL or MDB_MAP_RESIZED (only when retry is true: then nothing
  // was committed).
  int RunBatch(std::deque<Pending*>& batch, bool retry);

  MDB_env* const env_;
  const Resize resize_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for work
  std::deque<Pending*> queue_;       // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  uint64_t batches_ = 0;             // guarded by mu_
  uint64_t writes_ = 0;              // guarded by mu_
  std::thread writer_;
};

}  // namespace regd::storage
