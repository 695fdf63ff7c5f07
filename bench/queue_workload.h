// The `queue` workload: regd's job queue alone, in this process, no HTTP.
// Producer threads call JobQueue::EnqueueNow in a loop for a fixed time
// while a ConsumerPool leases each job, runs a no-op handler and acks it.
// Every step is a durable LMDB write (through group commit, as in regd); the
// figure is jobs through enqueue -> lease -> ack per second, from the first
// enqueue until the last ack.
//
// The consumer pool logs one line per job (as in regd); stderr goes to a
// file in `dir` while the workload runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace regd::bench {

struct QueueRunOptions {
  std::string dir;  // a fresh directory on the disk to measure
  int producers = 8;
  int consumers = 32;
  std::chrono::milliseconds duration{3000};  // producers stop after this
};

struct QueueRun {
  bool ok = false;
  std::string error;
  uint64_t enqueued = 0;
  uint64_t done = 0;
  double elapsed_s = 0;      // first enqueue to last ack
  double jobs_per_s = 0;     // done / elapsed_s
  double enqueue_per_s = 0;  // while producers ran
  double drain_ms = 0;       // producers' stop to the last ack
  uint64_t commit_batches = 0;
  uint64_t commit_writes = 0;  // writes per batch = commit_writes / commit_batches
};

QueueRun RunQueueWorkload(const QueueRunOptions& options);

}  // namespace regd::bench
