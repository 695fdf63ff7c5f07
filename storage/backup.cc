#include "storage/backup.h"

#include "storage/data_dir.h"
#include "storage/files.h"

namespace regd::storage {

Status CopyOpenStores(LmdbEnv& env, SqliteDb& users, const std::string& out_dir) {
  // The copies hold password hashes, mobiles and live codes: owner only,
  // whatever the umask made of them. LMDB first, then SQLite: see
  // "Consistency" in backup.h.
  std::string lmdb_out = LmdbDirPath(out_dir);
  Status s = MakeDir(lmdb_out);
  if (s.ok()) s = env.CopyTo(lmdb_out);
  if (s.ok()) s = MakeOwnerOnly(LmdbDataPath(out_dir));
  if (s.ok()) s = SyncPath(lmdb_out);
  if (s.ok()) s = users.BackupTo(UsersDbPath(out_dir));
  if (s.ok()) s = MakeOwnerOnly(UsersDbPath(out_dir));
  return s;
}

Status CopySecret(const std::string& data_dir, const std::string& out_dir) {
  // Written once at first start and never changed: a plain copy is exact.
  if (!PathExists(SecretPath(data_dir))) return Status::Ok();
  Status s = CopyFile(SecretPath(data_dir), SecretPath(out_dir));
  if (s.ok()) s = MakeOwnerOnly(SecretPath(out_dir));
  return s;
}

Status CopyStores(const std::string& data_dir, const std::string& out_dir) {
  if (!PathExists(LmdbDataPath(data_dir)) || !PathExists(UsersDbPath(data_dir))) {
    return Status::NotFound("no regd data in " + data_dir);
  }
  Status s;
  {
    LmdbEnv::Options options;
    options.path = LmdbDirPath(data_dir);
    options.read_only = true;
    auto env = LmdbEnv::Open(options);
    if (!env.ok()) return env.status();
    auto users = SqliteDb::OpenReadOnly(UsersDbPath(data_dir));
    if (!users.ok()) return users.status();
    s = CopyOpenStores(**env, **users, out_dir);
  }
  if (s.ok())
    s = CopySecret(data_dir, out_dir);  // closed: whatever they created in data_dir exists now
  Status owned = KeepOwnership(data_dir);
  return s.ok() ? owned : s;
}

}  // namespace regd::storage
