// `regd events secret [flags]`: prints the secret that signs account events
// ("whsec_..."), for the shop's receiver: --events-secret when it is set
// (flag, REGD_EVENTS_SECRET or the --config file), else the one in
// DATA_DIR/events.secret, made now if the server has not made it yet. Takes
// the server's flags, so it reads the same configuration.
//
// Thread-safety: runs on main's thread and returns an exit code.
#pragma once

#include <string>
#include <vector>

namespace regd::app {

// args are the words after "events"; env is "NAME=value" strings. Returns
// the exit code: 0 printed, 1 the secret cannot be read or made, 2 usage.
int RunEventsCli(const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace regd::app
