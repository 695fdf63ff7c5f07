#include "app/events_cli.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdio>

#include "app/config.h"
#include "events/webhook_signer.h"

namespace regd::app {

int RunEventsCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  if (args.empty() || args[0] != "secret") {
    std::fprintf(stderr,
                 "usage: regd events secret [--data-dir DIR] [--config FILE]\n"
                 "  prints the whsec_ secret that signs account events (--events-url)\n");
    return 2;
  }
  auto config = ParseConfig(std::vector<std::string>(args.begin() + 1, args.end()), env);
  if (!config.ok()) {
    std::fprintf(stderr, "regd events: %s\n", config.status().message().c_str());
    return 2;
  }
  if (sodium_init() < 0) return 1;
  Result<events::WebhookSecret> secret = Status::Internal("unset");
  if (!config->events_secret.empty()) {
    secret = events::WebhookSecret::Parse(config->events_secret);
  } else {
    ::mkdir(config->data_dir.c_str(), 0700);
    secret = events::WebhookSecret::LoadOrCreate(config->data_dir);
  }
  if (!secret.ok()) {
    std::fprintf(stderr, "regd events: %s\n", secret.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", secret->Text().c_str());
  return 0;
}

}  // namespace regd::app
