// DataCheck: verifies a regd data dir, or a backup (it has the same layout),
// without changing its data. `regd check` prints its report; `regd backup`
// and `regd restore` check what they wrote before they put it in place.
//
// This file only orchestrates: which files must exist, how each is opened
// (read-only), and how the findings become a report. What counts as damage
// (a problem) or a harmless oddity (a note) in a store is decided by the
// store that writes the format (storage/format_check.h):
//  - users.sqlite3: UserStore::Check (integrity, schema version, columns);
//    a file that does not open is a problem here.
//  - lmdb/data.mdb: an env that does not open (bad meta pages) or a missing
//    named database (ExpiringKv::kDbNames, JobQueue::kDbNames) is a problem
//    here; the records are ExpiringKv::Check's and JobQueue::Check's.
//
// The LMDB walk runs in one read transaction, so a live server's data dir is
// checked as one consistent snapshot (it holds a reader while it walks: the
// file cannot reuse pages meanwhile). SQLite is opened read-only; for a WAL
// database no connection had open, SQLite still creates -wal and -shm files,
// which are given the data dir's owner (KeepOwnership in data_dir.h). An env
// without lock.mdb is read without one, so checking a backup adds nothing.
//
// Thread-safety: a plain function. It opens the data dir's LMDB env itself,
// so it must not run in a process that has that env open (LMDB's rule).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace regd::app {

struct CheckReport {
  std::vector<std::string> lines;     // what was found, one line per store
  std::vector<std::string> problems;  // damage; empty when healthy
  std::vector<std::string> notes;     // harmless oddities
  // What the stores hold (-1: not known, the store could not be read).
  int64_t users = -1;
  int64_t pending_jobs = -1;
  int64_t dead_jobs = -1;
  bool healthy() const { return problems.empty(); }
};

struct CheckOptions {
  // The dir is a copy no other process knows of (a backup being written or
  // restored): LMDB is opened without its lock file, so none is added.
  bool private_copy = false;
};

CheckReport CheckDataDir(const std::string& dir, const CheckOptions& options = {});

}  // namespace regd::app
