// DataCheck: verifies a regd data dir, or a backup (it has the same layout),
// without changing its data. `regd check` prints its report; `regd backup`
// and `regd restore` check what they wrote before they put it in place.
//
// What is damage (a problem):
//  - users.sqlite3: PRAGMA integrity_check is not "ok"; PRAGMA user_version
//    is not the schema version this regd writes (UserStore::kSchemaVersion);
//    the users table does not read with its columns.
//  - lmdb/data.mdb: the env does not open (bad meta pages); one of regd's
//    named databases is missing; reading any entry fails (a damaged page);
//    "kv": a value without its 8-byte expiry or without its "kv_exp" index
//    entry, an index entry without its value (expiring_kv.h);
//    "jobs": a record DecodeJob rejects, a job without its "jobs_due" entry
//    (it would never run), a dead letter DecodeJob rejects, a "jobs_meta"
//    next id not above every id in use (the next job would overwrite one).
// What is only noted: "jobs_due" entries without a job and dedup keys that
// name no pending job (the queue tolerates and clears both).
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
