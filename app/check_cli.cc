#include "app/check_cli.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "app/config.h"
#include "app/data_check.h"

namespace regd::app {
namespace {

char g_crash_message[512];  // written before the handlers are installed

void OnCrash(int) {
  ssize_t ignored = ::write(STDOUT_FILENO, g_crash_message, std::strlen(g_crash_message));
  (void)ignored;
  ::_exit(1);
}

int Usage(const std::string& why) {
  std::fprintf(stderr, "regd check: %s\nusage: regd check [--data-dir DIR|--config FILE]\n",
               why.c_str());
  return 2;
}

}  // namespace

int RunCheckCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> words;
  auto config = ParseCommandConfig(args, env, &words);
  if (!config.ok()) return Usage(config.status().message());
  if (!words.empty()) return Usage("unexpected argument '" + words[0] + "'");
  const std::string& dir = config->data_dir;
  std::printf("regd check %s\n", dir.c_str());
  std::fflush(stdout);
  std::snprintf(g_crash_message, sizeof(g_crash_message),
                "  DAMAGED  reading %s crashed: a store is damaged beyond what its library "
                "detects\ndamaged\n",
                dir.c_str());
  struct sigaction crash = {};
  crash.sa_handler = OnCrash;
  sigaction(SIGSEGV, &crash, nullptr);
  sigaction(SIGBUS, &crash, nullptr);
  CheckReport report = CheckDataDir(dir);
  signal(SIGSEGV, SIG_DFL);
  signal(SIGBUS, SIG_DFL);

  for (const std::string& line : report.lines) std::printf("  ok       %s\n", line.c_str());
  for (const std::string& line : report.notes) std::printf("  note     %s\n", line.c_str());
  for (const std::string& line : report.problems) std::printf("  DAMAGED  %s\n", line.c_str());
  if (report.healthy()) {
    std::printf("healthy\n");
    return 0;
  }
  std::printf("damaged: %zu problem(s)\n", report.problems.size());
  return 1;
}

}  // namespace regd::app
