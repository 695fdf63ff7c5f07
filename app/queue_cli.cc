#include "app/queue_cli.h"

#include <sys/stat.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/config.h"
#include "events/event_job.h"
#include "queue/job_queue.h"
#include "sms/sms_job.h"
#include "storage/clock.h"
#include "storage/data_dir.h"
#include "storage/lmdb_env.h"

namespace regd::app {
namespace {

constexpr const char* kUsage =
    "usage: regd queue stats|list|retry ID|retry-dead|purge-dead [--data-dir DIR|--config FILE] "
    "[--json]\n"
    "       regd queue list [--state ready|leased|delayed|dead] [--limit N]\n";

std::optional<queue::JobState> ParseState(const std::string& s) {
  if (s == "ready") return queue::JobState::kReady;
  if (s == "delayed") return queue::JobState::kDelayed;
  if (s == "leased") return queue::JobState::kLeased;
  if (s == "dead") return queue::JobState::kDead;
  return std::nullopt;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "regd queue: %s\n", s.ToString().c_str());
  return 1;
}

struct Options {
  std::string command;
  std::string id;
  std::string data_dir;
  bool json = false;
  std::optional<queue::JobState> state;
  size_t limit = 100;
};

int Usage(const std::string& why) {
  std::fprintf(stderr, "regd queue: %s\n%s", why.c_str(), kUsage);
  return 2;
}

int Stats(queue::JobQueue& q, const Options& o) {
  auto st = q.Stats();
  if (!st.ok()) return Fail(st.status());
  if (o.json) {
    nlohmann::json j = {{"ready", st->ready},
                        {"delayed", st->delayed},
                        {"leased", st->leased},
                        {"dead", st->dead},
                        {"oldest_ready_age_ms", st->oldest_ready_age_ms}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%-8s %8s\n", "STATE", "JOBS");
  std::printf("%-8s %8zu\n%-8s %8zu\n%-8s %8zu\n%-8s %8zu\n", "ready", st->ready, "delayed",
              st->delayed, "leased", st->leased, "dead", st->dead);
  std::printf("oldest ready job waits %.1f s\n", st->oldest_ready_age_ms / 1000.0);
  return 0;
}

// Who an SMS job is for, as the sms layer summarizes it (the code is never
// read), or an event job's account and type; nullopt for other job types
// and unreadable payloads.
std::optional<sms::SmsJobSummary> Summary(const queue::Job& job) {
  if (job.type == events::kEventJobType) {  // the event's type in the purpose column
    auto event = events::SummarizeEventJob(job.payload);
    if (!event.ok()) return std::nullopt;
    return sms::SmsJobSummary{event->masked_mobile, event->type};
  }
  if (job.type != sms::kSmsJobType) return std::nullopt;
  auto summary = sms::SummarizeSmsJob(job.payload);
  if (!summary.ok()) return std::nullopt;
  return std::move(summary).value();
}

int List(queue::JobQueue& q, const Options& o) {
  auto jobs = q.List(o.state, o.limit);
  if (!jobs.ok()) return Fail(jobs.status());
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& [job, state] : *jobs) {
      auto summary = Summary(job);
      arr.push_back({{"id", job.id},
                     {"state", queue::JobStateName(state)},
                     {"type", job.type},
                     {"mobile", summary ? nlohmann::json(summary->masked_mobile) : nullptr},
                     {"purpose", summary ? nlohmann::json(summary->purpose) : nullptr},
                     {"attempts", job.attempts},
                     {"run_at", IsoUtc(job.run_at_ms)},
                     {"created_at", IsoUtc(job.created_at_ms)},
                     {"last_error", job.last_error}});
    }
    std::printf("%s\n", arr.dump().c_str());
    return 0;
  }
  std::printf("%-8s %-8s %-10s %-14s %-21s %8s  %-20s  %s\n", "ID", "STATE", "TYPE", "MOBILE",
              "PURPOSE", "ATTEMPTS", "RUN AT", "LAST ERROR");
  for (const auto& [job, state] : *jobs) {
    auto summary = Summary(job);
    std::printf("%-8llu %-8s %-10s %-14s %-21s %8u  %-20s  %s\n",
                static_cast<unsigned long long>(job.id), queue::JobStateName(state),
                job.type.c_str(), summary ? summary->masked_mobile.c_str() : "-",
                summary ? summary->purpose.c_str() : "-", job.attempts,
                IsoUtc(job.run_at_ms).c_str(), job.last_error.c_str());
  }
  return 0;
}

int Repair(queue::JobQueue& q, const Options& o) {
  if (o.command == "retry") {
    char* end = nullptr;
    unsigned long long id = std::strtoull(o.id.c_str(), &end, 10);
    if (o.id.empty() || *end != '\0') return Usage("retry needs a job id");
    Status s = q.RetryNow(id);
    if (!s.ok()) return Fail(s);
    std::printf(o.json ? "{\"retried\":%llu}\n" : "job %llu is due now\n", id);
    return 0;
  }
  auto n = o.command == "retry-dead" ? q.RetryAllDead() : q.PurgeDead();
  if (!n.ok()) return Fail(n.status());
  const char* what = o.command == "retry-dead" ? "retried" : "purged";
  if (o.json) {
    std::printf("{\"%s\":%zu}\n", what, *n);
  } else {
    std::printf("%s %zu dead job(s)\n", what, *n);
  }
  return 0;
}

}  // namespace

int RunQueueCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> words;
  auto config = ParseCommandConfig(args, env, &words);
  if (!config.ok()) return Usage(config.status().message());
  Options o;
  o.data_dir = config->data_dir;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& a = words[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= words.size()) return false;
      *out = words[++i];
      return true;
    };
    std::string v;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--state") {
      if (!value(&v) || !(o.state = ParseState(v))) {
        return Usage("--state must be ready, leased, delayed or dead");
      }
    } else if (a == "--limit") {
      if (!value(&v) || std::atoi(v.c_str()) <= 0)
        return Usage("--limit must be a positive number");
      o.limit = static_cast<size_t>(std::atoi(v.c_str()));
    } else if (o.command.empty()) {
      o.command = a;
    } else if (o.command == "retry" && o.id.empty()) {
      o.id = a;
    } else {
      return Usage("unexpected argument '" + a + "'");
    }
  }
  if (o.command != "stats" && o.command != "list" && o.command != "retry" &&
      o.command != "retry-dead" && o.command != "purge-dead") {
    return Usage(o.command.empty() ? "a command is needed" : "unknown command '" + o.command + "'");
  }
  std::string lmdb_dir = storage::LmdbDirPath(o.data_dir);
  struct stat st;
  if (stat(storage::LmdbDataPath(o.data_dir).c_str(), &st) != 0) {
    std::fprintf(stderr, "regd queue: no regd data in %s\n", o.data_dir.c_str());
    return 1;
  }
  auto env_or = storage::LmdbEnv::Open({lmdb_dir});
  if (!env_or.ok()) return Fail(env_or.status());
  auto q = queue::JobQueue::Open(env_or->get(), SystemClock::Get());
  if (!q.ok()) return Fail(q.status());
  if (o.command == "stats") return Stats(**q, o);
  if (o.command == "list") return List(**q, o);
  return Repair(**q, o);
}

}  // namespace regd::app
