// regd's entry point: `regd queue|backup|restore|check|events|users ...` go to their
// commands; otherwise parse the configuration, open the log, start the App,
// then wait for signals: SIGHUP reopens the log file (nothing else is
// reloaded), SIGINT or SIGTERM shut down in reverse order and exit 0.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "app/app.h"
#include "app/backup_cli.h"
#include "app/check_cli.h"
#include "app/config.h"
#include "app/events_cli.h"
#include "app/queue_cli.h"
#include "app/users_cli.h"
#include "app/version.h"
#include "storage/log.h"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc), env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  if (!args.empty()) {
    const std::string& command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "queue") return regd::app::RunQueueCli(rest, env);
    if (command == "backup") return regd::app::RunBackupCli(rest, env);
    if (command == "restore") return regd::app::RunRestoreCli(rest, env);
    if (command == "check") return regd::app::RunCheckCli(rest, env);
    if (command == "events") return regd::app::RunEventsCli(rest, env);
    if (command == "users") return regd::app::RunUsersCli(rest, env);
  }
  auto config = regd::app::ParseConfig(args, env);
  if (!config.ok()) {
    std::fprintf(stderr, "regd: %s\n%s", config.status().message().c_str(),
                 regd::app::Usage().c_str());
    return 2;
  }
  if (config->show_help) {
    std::fputs(regd::app::Usage().c_str(), stdout);
    return 0;
  }
  if (config->show_version) {
    std::puts(regd::app::VersionLine().c_str());
    return 0;
  }
  regd::Status log = regd::ConfigureLog(config->log_format, config->log_file);
  if (!log.ok()) {
    std::fprintf(stderr, "regd: %s\n", log.message().c_str());
    return 1;
  }

  // Block the signals main waits for in every thread.
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGINT);
  sigaddset(&waited, SIGTERM);
  sigaddset(&waited, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &waited, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto app = regd::app::App::Start(*config);
  if (!app.ok()) {
    regd::LogError("cannot start: %s", app.status().ToString().c_str());
    return 1;
  }
  std::printf("regd listening on http://%s:%d\n", config->host.c_str(), (*app)->port());
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&waited, &sig) == 0 && sig == SIGHUP) {
    std::string file = regd::LogFilePath();
    regd::Status reopened = regd::ReopenLog();
    if (!reopened.ok()) {
      regd::LogError("received SIGHUP: %s", reopened.message().c_str());
    } else if (file.empty()) {
      regd::LogInfo("received SIGHUP: nothing to reload (the log goes to stderr)");
    } else {
      regd::LogInfo("received SIGHUP: reopened the log file %s", file.c_str());
    }
  }
  regd::LogInfo("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*app)->Shutdown();
  regd::LogInfo("stopped");
  return 0;
}
