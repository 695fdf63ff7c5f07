#include "app/data_check.h"

#include <array>

#include "queue/job_queue.h"
#include "storage/data_dir.h"
#include "storage/expiring_kv.h"
#include "storage/files.h"
#include "storage/format_check.h"
#include "storage/lmdb_env.h"
#include "storage/sqlite_db.h"
#include "storage/user_store.h"

namespace regd::app {
namespace {

// Moves an owner's findings into the report, each line prefixed.
void Take(storage::Findings& f, const std::string& prefix, CheckReport& r) {
  for (std::string& p : f.problems) r.problems.push_back(prefix + p);
  for (std::string& n : f.notes) r.notes.push_back(prefix + n);
}

void CheckUsers(const std::string& dir, CheckReport& r) {
  const std::string name = "users.sqlite3";
  auto db = storage::SqliteDb::OpenReadOnly(storage::UsersDbPath(dir));
  if (!db.ok()) {
    r.problems.push_back(name + ": " + db.status().message());
    return;
  }
  storage::Findings f;
  int64_t users = storage::UserStore::Check(**db, &f);
  Take(f, name + ": ", r);
  if (users < 0) return;
  r.users = users;
  r.lines.push_back(name + ": ok (integrity_check ok, schema version " +
                    std::to_string(storage::UserStore::kSchemaVersion) + ", " +
                    std::to_string(r.users) + " users)");
}

// Finds the named DBIs into dbis; a missing one is a problem.
template <size_t N>
bool FindDbs(storage::LmdbEnv& env, const std::array<const char*, N>& names,
             std::array<MDB_dbi, N>& dbis, const std::string& file, CheckReport& r) {
  bool all = true;
  for (size_t i = 0; i < N; ++i) {
    auto found = env.FindDb(names[i]);
    if (!found.ok() || !found->has_value()) {
      r.problems.push_back(
          file + ": database '" + names[i] + "' " +
          (found.ok() ? "is missing" : "cannot be opened: " + found.status().message()));
      all = false;
      continue;
    }
    dbis[i] = **found;
  }
  return all;
}

void CheckLmdb(const std::string& dir, const CheckOptions& options, CheckReport& r) {
  const std::string name = "lmdb/data.mdb";
  if (!storage::PathExists(storage::LmdbDataPath(dir))) {
    r.problems.push_back(name + ": missing");
    return;
  }
  storage::LmdbEnv::Options o;
  o.path = storage::LmdbDirPath(dir);
  o.read_only = true;
  // Without a lock file no process has the env open (LMDB creates the file
  // at open): read it without one rather than add one to the dir.
  o.private_copy = options.private_copy || !storage::PathExists(storage::LmdbLockPath(dir));
  auto env = storage::LmdbEnv::Open(o);
  if (!env.ok()) {
    r.problems.push_back(name + ": cannot be opened: " + env.status().message());
    return;
  }
  // Every DBI is found before the read transaction begins (a DBI opened
  // later is not visible in it).
  std::array<MDB_dbi, storage::ExpiringKv::kDbNames.size()> kv_dbs{};
  std::array<MDB_dbi, queue::JobQueue::kDbNames.size()> queue_dbs{};
  bool found = FindDbs(**env, storage::ExpiringKv::kDbNames, kv_dbs, name, r);
  found = FindDbs(**env, queue::JobQueue::kDbNames, queue_dbs, name, r) && found;
  if (!found) return;
  auto txn = (*env)->BeginRead();
  if (!txn.ok()) {
    r.problems.push_back(name + ": " + txn.status().message());
    return;
  }
  storage::Findings f;
  size_t kv_entries = storage::ExpiringKv::Check(*txn, kv_dbs, &f);
  queue::QueueCheckCounts jobs = queue::JobQueue::Check(*txn, queue_dbs, &f);
  txn->Abort();
  const bool damaged = !f.problems.empty();
  Take(f, "", r);
  if (damaged) return;
  r.pending_jobs = static_cast<int64_t>(jobs.pending);
  r.dead_jobs = static_cast<int64_t>(jobs.dead);
  auto info = (*env)->Info();
  auto stat = (*env)->Stat();
  std::string size;
  if (info.ok() && stat.ok()) {
    size = std::to_string((info->me_last_pgno + 1) * stat->ms_psize / 1024) + " KiB in use of a " +
           std::to_string(info->me_mapsize >> 20) + " MiB map, ";
  }
  r.lines.push_back(name + ": ok (" + size + std::to_string(kv_entries) + " kv entries, " +
                    std::to_string(jobs.pending) + " pending jobs, " + std::to_string(jobs.dead) +
                    " dead, next job id " + std::to_string(jobs.next_id) + ")");
}

}  // namespace

CheckReport CheckDataDir(const std::string& dir, const CheckOptions& options) {
  CheckReport r;
  if (!storage::IsDir(dir)) {
    r.problems.push_back(dir + " is not a directory");
    return r;
  }
  CheckUsers(dir, r);
  CheckLmdb(dir, options, r);
  Status owned = storage::KeepOwnership(dir);  // both stores are closed again
  if (!owned.ok()) r.notes.push_back(owned.message());
  return r;
}

}  // namespace regd::app
