// regd's entry point: `regd queue ...` goes to the queue CLI; otherwise parse
// the configuration, start the App, wait for SIGINT or SIGTERM, shut down in
// reverse order, exit 0.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "app/app.h"
#include "app/config.h"
#include "app/queue_cli.h"
#include "storage/log.h"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc), env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  if (!args.empty() && args[0] == "queue") {
    return regd::app::RunQueueCli({args.begin() + 1, args.end()}, env);
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
    std::puts("regd 0.1.0");
    return 0;
  }

  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto app = regd::app::App::Start(*config);
  if (!app.ok()) {
    regd::LogError("cannot start: %s", app.status().ToString().c_str());
    return 1;
  }
  std::printf("regd listening on http://%s:%d\n", config->host.c_str(), (*app)->port());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  regd::LogInfo("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*app)->Shutdown();
  regd::LogInfo("stopped");
  return 0;
}
