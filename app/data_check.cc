#include "app/data_check.h"

#include <functional>
#include <optional>

#include "queue/job_queue.h"
#include "storage/data_dir.h"
#include "storage/files.h"
#include "storage/lmdb_env.h"
#include "storage/sqlite_db.h"
#include "storage/user_store.h"

namespace regd::app {
namespace {

using storage::Cursor;
using storage::GetBigEndian64;
using storage::PutBigEndian64;
using storage::Txn;

// Counts findings of one kind and keeps the first example, so a badly
// damaged store gives one line per kind, not one per entry.
class Tally {
 public:
  explicit Tally(std::string what) : what_(std::move(what)) {}
  void Add(const std::string& example) {
    if (n_++ == 0) first_ = example;
  }
  void ReportTo(std::vector<std::string>& out) const {
    if (n_ == 0) return;
    out.push_back(what_ + ": " + first_ +
                  (n_ > 1 ? " (and " + std::to_string(n_ - 1) + " more)" : ""));
  }

 private:
  std::string what_;
  std::string first_;
  size_t n_ = 0;
};

// The namespace of an expiring key ("sms:", "sess:", ...): keys hold mobiles
// and session hashes, which a report does not show.
std::string KeyKind(std::string_view key) {
  size_t colon = key.find(':');
  return colon == std::string_view::npos ? "an unprefixed key"
                                         : "'" + std::string(key.substr(0, colon + 1)) + "'";
}

std::string Be64(uint64_t v) {
  std::string k;
  PutBigEndian64(&k, v);
  return k;
}

// Calls fn for every entry of dbi; a failing read is the returned error.
Status Walk(Txn& txn, MDB_dbi dbi,
            const std::function<void(std::string_view, std::string_view)>& fn) {
  auto cur = Cursor::Open(txn, dbi);
  if (!cur.ok()) return cur.status();
  auto more = cur->First();
  for (; more.ok() && *more; more = cur->Next()) fn(cur->key(), cur->value());
  return more.status();
}

bool Has(Txn& txn, MDB_dbi dbi, std::string_view key) {
  auto v = txn.Get(dbi, key);
  return v.ok() && v->has_value();
}

void CheckUsers(const std::string& dir, CheckReport& r) {
  const std::string name = "users.sqlite3";
  auto db = storage::SqliteDb::OpenReadOnly(storage::UsersDbPath(dir));
  if (!db.ok()) {
    r.problems.push_back(name + ": " + db.status().message());
    return;
  }
  std::vector<std::string> errors;
  auto integrity = (*db)->Prepare("PRAGMA integrity_check(10)");
  if (!integrity.ok()) {
    r.problems.push_back(name + ": cannot be read: " + integrity.status().message());
    return;
  }
  for (;;) {
    auto row = integrity->Step();
    if (!row.ok()) {
      errors.push_back(row.status().message());
      break;
    }
    if (!*row) break;
    if (std::string line = integrity->ColumnText(0); line != "ok") errors.push_back(line);
  }
  for (const std::string& e : errors) r.problems.push_back(name + ": integrity_check: " + e);
  if (!errors.empty()) return;

  auto version = (*db)->Prepare("PRAGMA user_version");
  auto has_row = version.ok() ? version->Step() : Result<bool>(version.status());
  if (!has_row.ok()) {
    r.problems.push_back(name + ": " + has_row.status().message());
    return;
  }
  int64_t v = version->ColumnInt64(0);
  if (v != storage::UserStore::kSchemaVersion) {
    r.problems.push_back(name + ": schema version " + std::to_string(v) + ", expected " +
                         std::to_string(storage::UserStore::kSchemaVersion) +
                         (v == 0 ? " (not a regd users database)" : ""));
    return;
  }
  // Naming every column checks the table's shape as well.
  auto count = (*db)->Prepare(
      "SELECT count(*) FROM (SELECT id, username, mobile, password_hash, created_at_ms FROM "
      "users)");
  auto counted = count.ok() ? count->Step() : Result<bool>(count.status());
  if (!counted.ok()) {
    r.problems.push_back(name + ": the users table does not read: " + counted.status().message());
    return;
  }
  r.users = count->ColumnInt64(0);
  r.lines.push_back(name + ": ok (integrity_check ok, schema version " + std::to_string(v) + ", " +
                    std::to_string(r.users) + " users)");
}

// The named databases of the LMDB env (expiring_kv.h, job_queue.h).
struct Dbs {
  MDB_dbi kv, kv_exp, jobs, due, dead, meta, dedup;
};

void CheckKv(Txn& txn, const Dbs& db, CheckReport& r, size_t* entries) {
  Tally no_expiry("kv"), unindexed("kv"), bad_index("kv_exp"), dangling("kv_exp");
  Status s = Walk(txn, db.kv, [&](std::string_view key, std::string_view value) {
    ++*entries;
    if (value.size() < 8) return no_expiry.Add("an entry under " + KeyKind(key) + " has no expiry");
    std::string index = Be64(GetBigEndian64(value));
    index.append(key);
    if (!Has(txn, db.kv_exp, index)) {
      unindexed.Add("an entry under " + KeyKind(key) + " has no kv_exp index entry");
    }
  });
  if (!s.ok()) r.problems.push_back("kv: cannot be read: " + s.message());
  s = Walk(txn, db.kv_exp, [&](std::string_view key, std::string_view) {
    if (key.size() < 8) return bad_index.Add("an index key is shorter than its expiry");
    auto value = txn.Get(db.kv, key.substr(8));
    if (!value.ok() || !value->has_value() || (*value)->size() < 8 ||
        GetBigEndian64(**value) != GetBigEndian64(key)) {
      dangling.Add("an index entry under " + KeyKind(key.substr(8)) + " has no matching kv entry");
    }
  });
  if (!s.ok()) r.problems.push_back("kv_exp: cannot be read: " + s.message());
  for (const Tally* t : {&no_expiry, &unindexed, &bad_index, &dangling}) t->ReportTo(r.problems);
}

void CheckJobs(Txn& txn, const Dbs& db, CheckReport& r, size_t* pending, size_t* dead,
               uint64_t* next_id) {
  Tally bad_key("jobs"), undecodable("jobs"), unindexed("jobs"), bad_dead("jobs_dead");
  Tally orphan("jobs_due"), stale_dedup("jobs_dedup");
  uint64_t max_id = 0;
  Status s = Walk(txn, db.jobs, [&](std::string_view key, std::string_view value) {
    ++*pending;
    if (key.size() != 8) return bad_key.Add("a key is not an 8-byte id");
    uint64_t id = GetBigEndian64(key);
    max_id = std::max(max_id, id);
    auto job = queue::DecodeJob(id, value);
    if (!job.ok()) return undecodable.Add("record " + std::to_string(id) + " cannot be decoded");
    int64_t due = job->lease_until_ms != 0 ? job->lease_until_ms : job->run_at_ms;
    std::string due_key = Be64(static_cast<uint64_t>(due < 0 ? 0 : due)) + std::string(key);
    if (!Has(txn, db.due, due_key)) {
      unindexed.Add("job " + std::to_string(id) + " has no jobs_due entry (it would never run)");
    }
  });
  if (!s.ok()) r.problems.push_back("jobs: cannot be read: " + s.message());
  s = Walk(txn, db.dead, [&](std::string_view key, std::string_view value) {
    ++*dead;
    if (key.size() != 8) return bad_dead.Add("a key is not an 8-byte id");
    uint64_t id = GetBigEndian64(key);
    max_id = std::max(max_id, id);
    if (!queue::DecodeJob(id, value).ok()) {
      bad_dead.Add("record " + std::to_string(id) + " cannot be decoded");
    }
  });
  if (!s.ok()) r.problems.push_back("jobs_dead: cannot be read: " + s.message());
  s = Walk(txn, db.due, [&](std::string_view key, std::string_view) {
    if (key.size() != 16 || !Has(txn, db.jobs, key.substr(8))) {
      orphan.Add("an index entry names no job (the queue drops it when it comes due)");
    }
  });
  if (!s.ok()) r.problems.push_back("jobs_due: cannot be read: " + s.message());
  s = Walk(txn, db.dedup, [&](std::string_view, std::string_view value) {
    if (value.size() != 8 || !Has(txn, db.jobs, value)) {
      stale_dedup.Add("a key names no pending job (the next enqueue replaces it)");
    }
  });
  if (!s.ok()) r.problems.push_back("jobs_dedup: cannot be read: " + s.message());

  auto next = txn.Get(db.meta, "next_id");
  if (!next.ok()) {
    r.problems.push_back("jobs_meta: cannot be read: " + next.status().message());
  } else if (next->has_value() && (*next)->size() != 8) {
    r.problems.push_back("jobs_meta: next_id is not 8 bytes");
  } else {
    *next_id = next->has_value() ? GetBigEndian64(**next) : 1;
    if (max_id != 0 && *next_id <= max_id) {
      r.problems.push_back("jobs_meta: next_id " + std::to_string(*next_id) +
                           " is not above job id " + std::to_string(max_id) +
                           " (a new job would overwrite it)");
    }
  }
  for (const Tally* t : {&bad_key, &undecodable, &unindexed, &bad_dead}) t->ReportTo(r.problems);
  for (const Tally* t : {&orphan, &stale_dedup}) t->ReportTo(r.notes);
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
  Dbs db{};
  bool all = true;
  for (auto [dbi, db_name] :
       {std::pair{&db.kv, "kv"}, std::pair{&db.kv_exp, "kv_exp"}, std::pair{&db.jobs, "jobs"},
        std::pair{&db.due, "jobs_due"}, std::pair{&db.dead, "jobs_dead"},
        std::pair{&db.meta, "jobs_meta"}, std::pair{&db.dedup, "jobs_dedup"}}) {
    auto found = (*env)->FindDb(db_name);
    if (!found.ok() || !found->has_value()) {
      r.problems.push_back(
          name + ": database '" + db_name + "' " +
          (found.ok() ? "is missing" : "cannot be opened: " + found.status().message()));
      all = false;
      continue;
    }
    *dbi = **found;
  }
  if (!all) return;
  auto txn = (*env)->BeginRead();
  if (!txn.ok()) {
    r.problems.push_back(name + ": " + txn.status().message());
    return;
  }
  size_t before = r.problems.size(), kv_entries = 0, pending = 0, dead = 0;
  uint64_t next_id = 0;
  CheckKv(*txn, db, r, &kv_entries);
  CheckJobs(*txn, db, r, &pending, &dead, &next_id);
  txn->Abort();
  if (r.problems.size() != before) return;
  r.pending_jobs = static_cast<int64_t>(pending);
  r.dead_jobs = static_cast<int64_t>(dead);
  auto info = (*env)->Info();
  auto stat = (*env)->Stat();
  std::string size;
  if (info.ok() && stat.ok()) {
    size = std::to_string((info->me_last_pgno + 1) * stat->ms_psize / 1024) + " KiB in use of a " +
           std::to_string(info->me_mapsize >> 20) + " MiB map, ";
  }
  r.lines.push_back(name + ": ok (" + size + std::to_string(kv_entries) + " kv entries, " +
                    std::to_string(pending) + " pending jobs, " + std::to_string(dead) +
                    " dead, next job id " + std::to_string(next_id) + ")");
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
