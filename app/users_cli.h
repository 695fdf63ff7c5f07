// `regd users ...`: the shop owner's customer administration, also beside a
// running server on the same data dir (account/account_admin.h says how each
// change reaches it at once):
//
//   regd users list [--json] [--limit N]   newest first (default 50)
//   regd users show USER [--json]          account, created, last login,
//                                          live sessions, recent events
//   regd users disable USER                login, SMS login and reset get
//                                          403 "account disabled"; every
//                                          session ends now
//   regd users enable USER
//   regd users delete USER                 erasure: the account, sessions,
//                                          codes, pending SMS; username and
//                                          mobile are free again
//   regd users unlock USER                 lifts the login locks (at the
//                                          customer's next attempt)
// USER is a username or a mobile. Common flag: --data-dir DIR (default
// ./data, or REGD_DATA_DIR).
//
// Thread-safety: runs on main's thread and returns an exit code.
#pragma once

#include <string>
#include <vector>

namespace regd::app {

// args are the words after "users"; env is "NAME=value" strings. Returns the
// exit code: 0 done, 1 failed (no such customer, storage), 2 usage.
int RunUsersCli(const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace regd::app
