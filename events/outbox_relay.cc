#include "events/outbox_relay.h"

#include <chrono>
#include <string>
#include <vector>

#include "events/event_job.h"
#include "sms/sms_job.h"
#include "sms/sms_provider.h"
#include "storage/log.h"

namespace regd::events {

OutboxRelay::OutboxRelay(storage::UserStore* users, storage::LmdbEnv* env, queue::JobQueue* queue,
                         const Clock* clock, Options options)
    : users_(users), env_(env), queue_(queue), clock_(clock), options_(options) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  thread_ = std::thread([this] { Run(); });
}

void OutboxRelay::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

Result<size_t> OutboxRelay::RelayOnce() {
  auto events = users_->UnrelayedEvents(kBatch);
  if (!events.ok()) return events.status();
  if (events->empty()) return size_t{0};
  auto stats = queue_->CachedStats(1000);
  if (!stats.ok()) return stats.status();
  const size_t held = stats->ready + stats->delayed + stats->leased + stats->dead;
  if (held >= options_.max_queued_jobs) {
    return Status::Full(std::to_string(held) +
                        " jobs are queued or dead (the relay fills the "
                        "queue up to " +
                        std::to_string(options_.max_queued_jobs) +
                        "); account events wait in the outbox until it drains "
                        "(regd queue stats; retry-dead once the receiver is back, or purge-dead)");
  }
  std::vector<int64_t> ids;
  for (const auto& e : *events) ids.push_back(e.id);
  const int64_t now = clock_->NowMs();
  bool queued = false;
  Status s = env_->Update([&](storage::Txn& txn) -> Status {
    queued = false;  // a batch rerun after a map resize starts over
    for (const auto& e : *events) {
      if (e.type == storage::UserEventType(storage::UserEvent::kMobileChanged) &&
          !e.previous_mobile.empty()) {
        const std::string key = "notice:" + std::to_string(e.id);
        queue::EnqueueOptions o;
        o.dedup_key = key;
        sms::SmsJob notice{e.previous_mobile, "", e.at_ms + kNoticeTtlMs,
                           sms::kSmsPurposeMobileChanged};
        auto id = queue_->Enqueue(txn, sms::kSmsJobType, sms::EncodeSmsJob(notice), now, o);
        if (!id.ok()) return id.status();
        queued = true;
      }
      if (!options_.deliver) continue;
      const std::string key = "event:" + std::to_string(e.id);
      queue::EnqueueOptions o;
      o.dedup_key = key;
      auto id = queue_->Enqueue(txn, kEventJobType, EncodeEventJob(MakeEventJob(e)), now, o);
      if (!id.ok()) return id.status();
      queued = true;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (queued) queue_->NotifyEnqueued();
  s = users_->MarkRelayed(ids);
  if (!s.ok()) return s;
  return ids.size();
}

Result<int64_t> OutboxRelay::Prune() {
  const int64_t keep_ms = int64_t{options_.audit_days} * 86'400'000;
  return users_->PruneEvents(clock_->NowMs() - keep_ms);
}

void OutboxRelay::Run() {
  auto next_prune = std::chrono::steady_clock::now();
  auto next_full_log = next_prune;
  for (;;) {
    auto relayed = RelayOnce();
    if (relayed.status().code() == Status::Code::kFull) {
      if (std::chrono::steady_clock::now() >= next_full_log) {  // once a minute, not per poll
        LogWarn("events: %s", relayed.status().message().c_str());
        next_full_log = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      }
    } else if (!relayed.ok()) {
      LogError("events: cannot relay the outbox: %s", relayed.status().ToString().c_str());
    }
    if (std::chrono::steady_clock::now() >= next_prune) {
      auto pruned = Prune();
      if (!pruned.ok()) {
        LogError("events: cannot prune the audit: %s", pruned.status().ToString().c_str());
      } else if (*pruned > 0) {
        LogInfo("events: %lld events older than %d days deleted", static_cast<long long>(*pruned),
                options_.audit_days);
      }
      next_prune = std::chrono::steady_clock::now() + std::chrono::hours(1);
    }
    // A full batch: more are waiting, go on at once.
    const bool more = relayed.ok() && *relayed == kBatch;
    std::unique_lock<std::mutex> lock(mu_);
    if (!more) {
      auto wait =
          relayed.ok() ? std::chrono::milliseconds(options_.poll_ms) : std::chrono::seconds(1);
      cv_.wait_for(lock, wait, [this] { return stopping_ || notified_; });
    }
    if (stopping_) return;
    notified_ = false;
  }
}

}  // namespace regd::events
