// LmdbEnv: the one LMDB environment of a regd process, shared by every store
// that keeps data in DATA_DIR/lmdb (expiring key-value store, job queue).
//
// LMDB's rules, which every user of this file follows:
//  - One MDB_env per process. Named databases (DBIs) are opened once at start,
//    by the stores' Open functions, before any other thread uses the env;
//    never inside concurrent transactions.
//  - A transaction and its cursors belong to the thread that began them. The
//    env is opened with MDB_NOTLS so read transactions are not tied to a
//    thread-local slot (regd serves requests from a thread pool).
//  - Keep read transactions short: a long reader stops page reuse and the
//    file grows.
//  - One writer: Update hands its function to GroupCommit, whose thread runs
//    the waiting functions in one write transaction (a nested transaction
//    each) and commits them with one flush (group_commit.h). Commit flushes
//    to disk (no MDB_NOSYNC / MDB_NOMETASYNC): a committed write survives
//    kill -9 and power loss. BeginWrite is for start-up and tests only. mdb_txn_commit frees the
//    transaction even when it fails, so a failed commit is never aborted.
//  - Close cursors before commit (Cursor's destructor does it; keep cursors
//    in an inner scope).
//  - The map starts at Options::map_size (or the data's size, if larger) and
//    doubles when a write batch hits MDB_MAP_FULL, up to max_map_size. The
//    resize (mdb_env_set_mapsize) needs no transaction open in the process:
//    the writer thread has none between batches, and every View holds a
//    shared lock that the resize takes exclusively (a View must not run
//    another View inside it). At the maximum, writes
//    that do not fit fail with Status::Code::kFull (503), logged once a minute;
//    reads go on and nothing committed is touched.
//  - Stale reader slots left by a dead process are cleared at Open
//    (mdb_reader_check).
//  - Ordered indexes use fixed-width big-endian keys so byte order is
//    numeric order (see PutBigEndian64).
//  - Tools beside a live server (`regd queue`, `regd backup`, `regd check`)
//    are other processes with an env of their own; a process never opens
//    the same env twice (closing the second would drop the first one's
//    locks). Read-only tools open with Options::read_only.
//
// Thread-safety: LmdbEnv is safe to use from many threads. Txn and Cursor are
// not: each belongs to one thread.
#pragma once

#include <lmdb.h>

#include <pthread.h>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/group_commit.h"
#include "storage/status.h"

namespace regd::storage {

// Appends v as 8 big-endian bytes, so that byte order equals numeric order.
void PutBigEndian64(std::string* dst, uint64_t v);
// Reads 8 big-endian bytes from the start of src; src must hold at least 8.
uint64_t GetBigEndian64(std::string_view src);

inline MDB_val ToVal(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view FromVal(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// Maps an LMDB return code to a Status (MDB_MAP_FULL -> kFull with
// retry_after_s 60, others -> kInternal).
Status LmdbStatus(int rc, std::string_view what);
// True for the Status LmdbStatus makes of MDB_MAP_FULL (the only kFull an
// LMDB call reports).
bool IsMapFull(const Status& s);

// Txn owns one MDB_txn. Its destructor aborts it unless Commit() was called.
class Txn {
 public:
  Txn() = default;
  Txn(MDB_txn* txn, bool read_only) : txn_(txn), read_only_(read_only) {}
  Txn(Txn&& o) noexcept : txn_(o.txn_), read_only_(o.read_only_) { o.txn_ = nullptr; }
  Txn& operator=(Txn&& o) noexcept;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();

  // Commits; after this call the Txn is empty whether or not commit succeeded.
  Status Commit();
  void Abort();

  MDB_txn* get() const { return txn_; }
  bool read_only() const { return read_only_; }

  // The value stored under key, or nullopt. The view is valid until the
  // transaction ends or the key is written.
  Result<std::optional<std::string_view>> Get(MDB_dbi dbi, std::string_view key);
  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  // Deletes key; deleting a missing key is not an error.
  Status Del(MDB_dbi dbi, std::string_view key);

 private:
  MDB_txn* txn_ = nullptr;
  bool read_only_ = false;
};

// Cursor owns one MDB_cursor; closed in its destructor (before the txn ends).
class Cursor {
 public:
  static Result<Cursor> Open(Txn& txn, MDB_dbi dbi);
  Cursor(Cursor&& o) noexcept : cur_(o.cur_) { o.cur_ = nullptr; }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  Cursor& operator=(Cursor&&) = delete;
  ~Cursor();

  // Positions at the first key >= key (MDB_SET_RANGE). False at the end.
  // key must not be empty (LMDB rejects empty keys); use First() instead.
  Result<bool> Seek(std::string_view key);
  Result<bool> First();
  Result<bool> Next();
  std::string_view key() const { return FromVal(k_); }
  std::string_view value() const { return FromVal(v_); }
  // Deletes the entry under the cursor; the cursor then points at the next one.
  Status DeleteCurrent();

 private:
  explicit Cursor(MDB_cursor* c) : cur_(c) {}
  Result<bool> Move(MDB_cursor_op op);
  MDB_cursor* cur_ = nullptr;
  MDB_val k_{0, nullptr};
  MDB_val v_{0, nullptr};
};

class LmdbEnv {
 public:
  struct Options {
    std::string path;                       // a directory; created if missing
    size_t map_size = size_t{64} << 20;     // bytes to start with; the file is sparse
    size_t max_map_size = size_t{1} << 30;  // the map doubles up to this
    unsigned max_dbs = 16;
    // MDB_RDONLY: for tools. No writer thread (Update and BeginWrite fail),
    // path is not created, and the map size is the one the file was
    // written with (map_size is ignored).
    bool read_only = false;
    // MDB_NOLOCK: no lock file is used or created. Only for a copy no other
    // process can know of (a backup being verified).
    bool private_copy = false;
  };

  // Opens (creating if needed) the environment and clears stale readers.
  static Result<std::unique_ptr<LmdbEnv>> Open(const Options& options);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  // Opens (creating) a named database. Call only at start, before other
  // threads use the env.
  Result<MDB_dbi> OpenDb(const char* name);
  // Opens an existing named database without creating it; nullopt if there
  // is none. Also works read-only. Call before other threads use the env.
  Result<std::optional<MDB_dbi>> FindDb(const char* name);

  // Writes a compacted copy (MDB_CP_COMPACT) of the env to dir/data.mdb;
  // dir must exist and hold no data.mdb. The copy is made from one read
  // transaction, so it holds exactly the transactions committed before it
  // began, whatever writers (in this or other processes) do meanwhile; it is
  // flushed (fsync) before this returns. Errors: kInternal/kUnavailable with
  // LMDB's or the OS's reason.
  Status CopyTo(const std::string& dir);
  // The env's statistics (main database) and its map/reader information.
  Result<MDB_stat> Stat();
  Result<MDB_envinfo> Info();

  // Bare transactions, for start-up and tests only: a BeginRead transaction
  // is not covered by the resize lock (use View).
  Result<Txn> BeginRead();
  Result<Txn> BeginWrite();

  // Runs fn in a write transaction (batched with concurrent callers, see
  // group_commit.h) and keeps its writes if fn returns ok; when this returns
  // ok the writes are on disk. fn runs on the writer thread and must not call
  // Update. fn's error is returned as is, and its writes are discarded.
  Status Update(const std::function<Status(Txn&)>& fn);
  // Batches committed and writes done through Update (for benchmarks).
  uint64_t commit_batches() const;
  uint64_t commit_writes() const;
  // Runs fn in a read transaction.
  Status View(const std::function<Status(Txn&)>& fn);

  MDB_env* get() const { return env_; }
  // The map's current size in bytes.
  size_t map_size() const;

 private:
  LmdbEnv(MDB_env* env, bool read_only) : env_(env), read_only_(read_only) {}
  // Runs begin, and once more after adopting the file's larger map when
  // another process grew it (MDB_MAP_RESIZED; read-only envs only).
  int RetryResized(const std::function<int()>& begin);
  MDB_env* env_;
  const bool read_only_;
  // GroupCommit's Resize: doubles the map (or adopts another process's size).
  bool Resize(bool adopt);

  // A readers-writer lock that lets no new reader in while the resize waits
  // (glibc's default lets readers starve it). Not recursive: a View must
  // not run another View inside it.
  class ResizeLock {
   public:
    ResizeLock();
    ~ResizeLock();
    void LockShared();
    void UnlockShared();
    void Lock();
    void Unlock();

   private:
    pthread_rwlock_t lock_;
  };

  size_t max_map_size_ = 0;
  ResizeLock resize_mu_;                                   // View: shared; Resize: exclusive
  std::chrono::steady_clock::time_point last_full_log_{};  // writer thread only
  std::unique_ptr<GroupCommit> writer_;                    // stopped before env_ closes
};

}  // namespace regd::storage
