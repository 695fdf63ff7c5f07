#include "tests/support/regd_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace regd::testing {

std::vector<std::string> TestRegdArgs(const std::string& data_dir, const std::string& sms_url,
                                      const std::vector<std::string>& more) {
  std::vector<std::string> args = {"--port",         "0",       "--data-dir",          data_dir,
                                   "--sms-provider", "webhook", "--sms-webhook-url",   sms_url,
                                   "--pwhash",       "min",     "--dev-fixed-captcha", "ABCD",
                                   "--access-log",   "false"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

RegdProcess::RegdProcess(std::vector<std::string> args, std::string log_path)
    : log_path_(std::move(log_path)) {
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out[1], STDOUT_FILENO);
    if (log >= 0) dup2(log, STDERR_FILENO);
    close(out[0]);
    std::vector<char*> argv;
    std::string bin = REGD_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  // Read stdout until the listening line, for at most 20 s.
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    seen.append(buf, n);
    size_t at = seen.find("listening on http://");
    size_t nl = at == std::string::npos ? std::string::npos : seen.find('\n', at);
    if (nl != std::string::npos) {
      size_t colon = seen.rfind(':', nl);
      port_ = std::atoi(seen.substr(colon + 1, nl - colon - 1).c_str());
      break;
    }
  }
  close(out[0]);  // regd ignores SIGPIPE; later stdout writes just fail
}

RegdProcess::~RegdProcess() {
  if (pid_ > 0) Signal(SIGKILL);
}

int RegdProcess::Signal(int sig, int timeout_ms) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

void RegdProcess::Send(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

bool RegdProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string RegdProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandOutput RunRegdCapturing(const std::vector<std::string>& args) {
  CommandOutput result;
  FILE* err = std::tmpfile();  // stderr goes here: two pipes could deadlock
  int out[2];
  if (err == nullptr || pipe(out) != 0) return result;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    close(out[0]);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    std::string bin = REGD_BINARY;
    argv.push_back(bin.data());
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof(buf))) > 0) result.out.append(buf, n);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::rewind(err);
  while ((n = static_cast<ssize_t>(std::fread(buf, 1, sizeof(buf), err))) > 0) {
    result.err.append(buf, n);
  }
  std::fclose(err);
  return result;
}

CommandResult RunRegd(const std::vector<std::string>& args) {
  CommandOutput full = RunRegdCapturing(args);
  std::fputs(full.err.c_str(), stderr);  // as if stderr had been inherited
  return {full.exit_code, std::move(full.out)};
}

std::string Describe(const CommandOutput& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

}  // namespace regd::testing
