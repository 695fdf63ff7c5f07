// `regd check [--data-dir DIR]`: verifies a data dir (data_check.h), also
// beside a running server, and prints a short report:
//
//   regd check ./data
//     ok       users.sqlite3: ok (integrity_check ok, schema version 1, 12 users)
//     ok       lmdb/data.mdb: ok (... 3 pending jobs, 0 dead, next job id 40)
//     note     jobs_due: ...
//     DAMAGED  users.sqlite3: integrity_check: ...
//   healthy            (or: damaged: N problem(s))
//
// LMDB trusts its file: a page damaged in the wrong place can make it read
// out of bounds. A crash while checking is therefore caught (SIGSEGV,
// SIGBUS) and reported as damage with exit code 1.
// --data-dir defaults to REGD_DATA_DIR, else ./data.
//
// Thread-safety: runs on main's thread and returns an exit code.
#pragma once

#include <string>
#include <vector>

namespace regd::app {

// args are the words after "check"; env is "NAME=value" strings. Returns the
// exit code: 0 healthy, 1 damaged (or unreadable), 2 usage.
int RunCheckCli(const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace regd::app
