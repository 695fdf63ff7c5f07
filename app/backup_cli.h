// `regd backup DEST` and `regd restore SRC`: a hot backup of a data dir while
// its server runs, and putting a backup back into a data dir whose server is
// stopped.
//
//   regd backup DEST [--data-dir DIR]
//     DEST must not exist or be an empty directory. The stores are copied
//     (storage/backup.h: LMDB first, then SQLite, each from one read
//     transaction) into DEST.partial, the copy is checked (data_check.h), a
//     manifest backup.json is added, everything is flushed, and DEST.partial
//     is renamed to DEST: a directory named DEST is always a whole backup. A
//     DEST.partial left by an interrupted run is reported, never reused.
//   regd restore SRC [--data-dir DIR] [--force]
//     SRC must be a backup (it has backup.json). DIR is created if missing.
//     Refused while DIR is in use: restore takes DIR's DirLock (held by a
//     running server) and refuses if any process has DIR/lmdb open (LMDB's
//     lock file has a POSIX lock: `regd queue`, `backup` or `check` beside
//     it). Refused if DIR holds anything but its lock file, unless --force,
//     which replaces regd's files in DIR and leaves other files alone. The
//     backup is copied into DIR/.restore.partial, checked, and then renamed
//     into place; an interrupted restore leaves DIR without complete data
//     and is simply run again (with --force).
// --data-dir defaults to REGD_DATA_DIR, else ./data.
//
// Thread-safety: each runs on main's thread and returns an exit code.
#pragma once

#include <string>
#include <vector>

namespace regd::app {

// args are the words after "backup" / "restore"; env is "NAME=value"
// strings. Returns the exit code: 0 done, 1 refused or failed, 2 usage.
int RunBackupCli(const std::vector<std::string>& args, const std::vector<std::string>& env);
int RunRestoreCli(const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace regd::app
