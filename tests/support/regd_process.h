// RegdProcess: the real regd binary run as a child process, for tests that
// must kill it (SIGKILL at any moment) or stop it with a signal. Start waits
// for the "listening on http://HOST:PORT" line and reads the port from it;
// stderr (the log) goes to a file the test can read.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace regd::testing {

class RegdProcess {
 public:
  // Starts REGD_BINARY with args (add --port 0); log goes to log_path.
  RegdProcess(std::vector<std::string> args, std::string log_path);
  ~RegdProcess();  // SIGKILLs the process if it still runs

  bool started() const { return port_ > 0; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Sends sig and waits for the exit; returns the exit status as from
  // waitpid (use WIFEXITED etc.), or -1 if it did not exit within timeout_ms.
  int Signal(int sig, int timeout_ms = 15000);
  void Kill9() { Signal(9); }
  // Sends sig without waiting (e.g. SIGHUP, which must not stop regd).
  void Send(int sig);
  // True while the process has not exited.
  bool Running();
  pid_t pid() const { return pid_; }
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// The flags a test's regd starts with unless it is about one of them: any
// free port, data in data_dir, SMS to the fake phone at sms_url (webhook),
// the cheapest password hashing, "ABCD" answering every captcha, no access
// log; then `more` (a flag given twice takes its last value).
std::vector<std::string> TestRegdArgs(const std::string& data_dir, const std::string& sms_url,
                                      const std::vector<std::string>& more = {});

// Runs REGD_BINARY with args to completion (e.g. `regd queue stats`);
// returns its exit code and what it printed on stdout.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult RunRegd(const std::vector<std::string>& args);
// The same, with stderr captured too (after stdout, in `err`).
struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandOutput RunRegdCapturing(const std::vector<std::string>& args);
// "exit N", stdout and stderr, for a failed check's message.
std::string Describe(const CommandOutput& r);

}  // namespace regd::testing
