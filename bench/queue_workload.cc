#include "bench/queue_workload.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "queue/consumer_pool.h"
#include "queue/job_queue.h"
#include "storage/clock.h"
#include "storage/lmdb_env.h"

namespace regd::bench {
namespace {

using Steady = std::chrono::steady_clock;

// Sends this process's stderr to a file for the lifetime of the object.
class StderrToFile {
 public:
  explicit StderrToFile(const std::string& path) {
    fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
  }
  ~StderrToFile() {
    fflush(stderr);
    if (saved_ >= 0) {
      dup2(saved_, STDERR_FILENO);
      close(saved_);
    }
  }
  StderrToFile(const StderrToFile&) = delete;
  StderrToFile& operator=(const StderrToFile&) = delete;

 private:
  int saved_ = -1;
};

}  // namespace

QueueRun RunQueueWorkload(const QueueRunOptions& o) {
  QueueRun run;
  const regd::Clock* clock = SystemClock::Get();
  storage::LmdbEnv::Options lmdb;
  lmdb.path = o.dir + "/lmdb";
  auto env = storage::LmdbEnv::Open(lmdb);
  if (!env.ok()) {
    run.error = env.status().ToString();
    return run;
  }
  auto queue = queue::JobQueue::Open(env->get(), clock);
  if (!queue.ok()) {
    run.error = queue.status().ToString();
    return run;
  }
  StderrToFile quiet(o.dir + "/queue.log");

  queue::ConsumerPool::Options pool_options;
  pool_options.workers = o.consumers;
  queue::ConsumerPool pool(queue->get(), clock, pool_options);
  pool.Register("noop", [](const queue::Job&) { return queue::HandlerResult{}; });
  pool.Start();

  std::atomic<uint64_t> enqueued{0};
  std::atomic<uint64_t> failed{0};
  const auto start = Steady::now();
  const auto end = start + o.duration;
  std::vector<std::thread> producers;
  for (int i = 0; i < o.producers; ++i) {
    producers.emplace_back([&] {
      const std::string payload(32, 'x');
      while (Steady::now() < end) {
        auto id = (*queue)->EnqueueNow("noop", payload);
        (id.ok() ? enqueued : failed).fetch_add(1);
      }
    });
  }
  for (auto& t : producers) t.join();
  const auto produced_end = Steady::now();
  // Drain: every enqueued job acked, or give up after 30 s.
  const auto drain_deadline = produced_end + std::chrono::seconds(30);
  while (pool.stats().done.load() < enqueued.load() && Steady::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto last_ack = Steady::now();
  pool.Stop();

  run.enqueued = enqueued.load();
  run.done = pool.stats().done.load();
  run.elapsed_s = std::chrono::duration<double>(last_ack - start).count();
  run.jobs_per_s = run.elapsed_s > 0 ? run.done / run.elapsed_s : 0;
  run.enqueue_per_s = run.enqueued / std::chrono::duration<double>(produced_end - start).count();
  run.drain_ms = std::chrono::duration<double, std::milli>(last_ack - produced_end).count();
  run.commit_batches = (*env)->commit_batches();
  run.commit_writes = (*env)->commit_writes();
  run.ok = failed.load() == 0 && run.done == run.enqueued;
  if (!run.ok) {
    run.error = std::to_string(failed.load()) + " enqueue(s) failed, " +
                std::to_string(run.enqueued - run.done) + " job(s) not acked";
  }
  return run;
}

}  // namespace regd::bench
