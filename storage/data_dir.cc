#include "storage/data_dir.h"

#include "storage/files.h"

namespace regd::storage {

Status KeepOwnership(const std::string& dir) {
  for (const std::string& path : {UsersDbPath(dir) + "-wal", UsersDbPath(dir) + "-shm",
                                  LmdbLockPath(dir), LmdbDirPath(dir), UsersDbPath(dir)}) {
    if (!PathExists(path)) continue;
    Status s = OwnLike(path, dir);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace regd::storage
