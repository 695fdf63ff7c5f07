// Backup: a consistent copy of a data dir's two stores, taken while a server
// writes to them (`regd backup`), into a directory laid out like a data dir
// (data_dir.h): OUT/lmdb/data.mdb, OUT/users.sqlite3 and OUT/secret.key
// (without it the codes sealed in queued jobs could not be sent).
//
// Consistency. Each store is copied from a single read transaction: LMDB's
// compacting copy (mdb_env_copy2) reads one MVCC snapshot while writers
// commit new pages beside it, and SQLite's one-step online backup reads one
// WAL snapshot while writers append to the WAL. So each copy holds exactly
// the transactions committed before its copy began. The two stores cannot be
// snapshotted together; their order makes the pair consistent: LMDB first,
// then SQLite. The one reference between them points from LMDB to SQLite (a
// session names a user id) and the server commits a user (SQLite) before its
// session (LMDB), so every session in the LMDB copy names a user that is in
// the later SQLite copy. (The other order could keep a session whose user is
// missing, and SQLite would give that id to the next user who registers.) A
// user who registered between the two copies is in the backup without a
// session: they log in again.
//
// Thread-safety: plain functions. CopyStores opens its own read-only
// handles, so it must not run in a process that has the same LMDB env open
// (LMDB's rule); `regd backup` is a process of its own. CopyOpenStores uses
// handles the caller already has.
#pragma once

#include <string>

#include "storage/lmdb_env.h"
#include "storage/sqlite_db.h"
#include "storage/status.h"

namespace regd::storage {

// Copies the stores of data_dir into out_dir, which must exist and be empty
// and is left holding the copies, each flushed (the caller flushes out_dir
// itself and renames it into place). kNotFound if data_dir holds no regd
// data; errors of either store otherwise.
Status CopyStores(const std::string& data_dir, const std::string& out_dir);
// The same from open handles: env is the data dir's LMDB env, users a
// connection to its users database.
Status CopyOpenStores(LmdbEnv& env, SqliteDb& users, const std::string& out_dir);
// Copies data_dir's secret.key into out_dir (0600), if there is one.
Status CopySecret(const std::string& data_dir, const std::string& out_dir);

}  // namespace regd::storage
