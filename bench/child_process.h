// ChildProcess: a server the benchmark runs as a child process (regd, or the
// bare hello-world). Start forks and execs it, with stderr going to a log
// file, and waits for the "listening on http://HOST:PORT" line on its stdout
// to learn the port. It also reads the child's memory from /proc.
//
// Ownership: owns the child; the destructor stops it (SIGTERM, then SIGKILL).
// Thread-safety: one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace regd::bench {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] with argv; false (and an error on stderr) if it did not
  // print its listening line within 20 s.
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  // SIGTERM and wait (up to 15 s, then SIGKILL). Returns the exit status.
  int Stop();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string base_url() const { return "http://" + host_port(); }
  // When Start forked the child (steady clock).
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }

  // A "VmRSS"/"VmHWM"-style field of /proc/<pid>/status in KiB; -1 if unreadable.
  long StatusKb(const char* field) const;
  // Resets the peak (VmHWM) to the current RSS (clear_refs "5"); false if
  // the kernel refused.
  bool ResetPeak() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::chrono::steady_clock::time_point started_at_;
};

}  // namespace regd::bench
