#include "tests/support/rerun_batch.h"

#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace regd::testing {

int RunInRerunBatch(storage::LmdbEnv* env, MDB_dbi filler, size_t filler_bytes,
                    const std::function<void()>& operation,
                    const std::function<bool(storage::Txn&)>& ran) {
  std::promise<void> holding, release;
  std::shared_future<void> released = release.get_future().share();
  std::thread holder([&] {
    env->Update([&](storage::Txn&) {
      holding.set_value();
      released.wait();
      return Status::Ok();
    });
  });
  holding.get_future().wait();  // the writer is busy: what follows queues up
  std::thread op([&] { operation(); });
  // Submit gives no sign that it queued; a generous pause keeps the order.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int runs_after_operation = 0;
  const std::string big(filler_bytes, 'f');
  std::thread fill([&] {
    env->Update([&](storage::Txn& t) {
      if (ran(t)) ++runs_after_operation;
      return t.Put(filler, "filler", big);
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  release.set_value();
  holder.join();
  op.join();
  fill.join();
  return runs_after_operation;
}

}  // namespace regd::testing
