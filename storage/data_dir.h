// DataDir: the layout of a regd data dir, named in one place. A backup has
// the same layout (plus its manifest), so the same checks apply to both.
//
//   DIR/users.sqlite3       UserStore (SQLite; -wal and -shm beside it while open)
//   DIR/lmdb/data.mdb       LmdbEnv (lock.mdb beside it: LMDB's reader table)
//   DIR/secret.key          ServerSecret (0600): keys the stored codes and
//                           seals the queued ones; a backup carries it
//   DIR/regd.lock           DirLock: held by the server and by `regd restore`
//
// Reading a data dir can create files in it: SQLite's -wal and -shm when no
// connection had the database open, LMDB's lock.mdb when no env was ever
// opened. KeepOwnership gives those the data dir's owner, so a tool run as
// root beside a service user leaves nothing that user cannot open.
//
// Thread-safety: pure functions; KeepOwnership touches only file owners.
#pragma once

#include <string>

#include "storage/status.h"

namespace regd::storage {

inline std::string UsersDbPath(const std::string& dir) { return dir + "/users.sqlite3"; }
inline std::string LmdbDirPath(const std::string& dir) { return dir + "/lmdb"; }
inline std::string LmdbDataPath(const std::string& dir) { return dir + "/lmdb/data.mdb"; }
inline std::string LmdbLockPath(const std::string& dir) { return dir + "/lmdb/lock.mdb"; }
inline std::string SecretPath(const std::string& dir) { return dir + "/secret.key"; }
inline std::string DirLockPath(const std::string& dir) { return dir + "/regd.lock"; }

// Gives the files a reader may have created in dir (see above) the owner and
// group of dir. Does nothing for files that are missing or already match.
Status KeepOwnership(const std::string& dir);

}  // namespace regd::storage
