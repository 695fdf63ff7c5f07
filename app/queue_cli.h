// `regd queue ...`: inspect and repair the job queue of a data dir, also
// while a server runs on it (LMDB allows a second process; this one never
// recovers leases, so it does not disturb the live consumers).
//
//   regd queue stats                      jobs per state, oldest ready age
//   regd queue list [--state S] [--limit N]  S: ready|leased|delayed|dead;
//                                         an SMS job's mobile (masked,
//                                         150****3112) and purpose; an
//                                         event job's mobile and type
//   regd queue retry ID                   make a waiting or dead job due now
//                                         (a running server's idle consumers
//                                         look again every second)
//   regd queue retry-dead                 revive every dead job (the same)
//   regd queue purge-dead                 delete every dead job
// Common flags: --data-dir DIR (default ./data, or REGD_DATA_DIR), --json.
// Payloads are never printed: an SMS job's payload holds a live code (sealed).
//
// Thread-safety: runs on main's thread and returns an exit code.
#pragma once

#include <string>
#include <vector>

namespace regd::app {

// args are the words after "queue"; env is "NAME=value" strings. Output goes
// to stdout, errors to stderr. Returns the process exit code (0 ok, 1 failed,
// 2 usage).
int RunQueueCli(const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace regd::app
