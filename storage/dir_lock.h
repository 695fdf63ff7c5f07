// DirLock: the exclusive claim on a data dir. The server holds it for its
// whole life and `regd restore` while it replaces the files, so a restore
// never runs under a live server, and two servers never share a data dir
// (each would lease the same jobs: leases live in one process's memory).
//
// It is flock(2) on DIR/regd.lock, which also holds the owner's pid for the
// message a second claimant gets. The kernel drops the lock when the owner
// exits in any way (kill -9 included), so a leftover file is harmless. Tools
// that may run beside a server (`regd queue`, `regd backup`, `regd check`)
// do not take it.
//
// Thread-safety: owned by one thread; the lock lasts until destruction.
#pragma once

#include <memory>
#include <string>

#include "storage/status.h"

namespace regd::storage {

class DirLock {
 public:
  // Takes the lock on dir (which must exist) without waiting. kConflict
  // "DIR is in use by regd (pid N)" if another process holds it;
  // kUnavailable if the lock file cannot be opened.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;  // the open lock file; closing it releases the lock
};

// The pid of a process that has the LMDB env of data dir dir open, or 0
// when none has (or dir has no LMDB env). LMDB keeps a POSIX record lock on
// lmdb/lock.mdb while an env is open; this asks the kernel about it
// (F_GETLK) without taking it. Locks of the calling process are not seen.
Result<int> LmdbEnvUser(const std::string& dir);

}  // namespace regd::storage
