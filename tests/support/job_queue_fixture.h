// QueueFixture: a JobQueue on LMDB in a fresh directory, on a FakeClock, with
// the REQUIRE-checked steps the queue's tests share (enqueue, lease, stats).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "queue/job_queue.h"
#include "storage/lmdb_env.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace regd::testing {

struct QueueFixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<storage::LmdbEnv> env;
  std::unique_ptr<queue::JobQueue> q;

  QueueFixture() { Open(); }
  // Opens (again): what a restart, or `regd queue` beside a server, does.
  void Open();
  // Enqueues a job of type "t", due delay_ms from now; returns (id, duplicate).
  std::pair<uint64_t, bool> Add(const std::string& payload, const queue::EnqueueOptions& o = {},
                                int64_t delay_ms = 0);
  // Leases the next due job (for 30 s); there must be one.
  queue::Job Lease();
  queue::QueueStats Stats();
};

}  // namespace regd::testing
