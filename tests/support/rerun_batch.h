// RunInRerunBatch: runs an operation that makes one LmdbEnv::Update so that
// its write function runs more than once, as GroupCommit does after a map
// resize (group_commit.h: "a function may therefore run more than once").
//
// How: the writer is held by a function that waits; the operation's Update
// is queued, then a filler Update that writes `filler_bytes` into `filler`
// (more than the map holds, so the batch hits MDB_MAP_FULL after the
// operation's function ran); the writer is let go. Both land in one batch,
// which is aborted, the map doubles and the batch runs again, the operation's
// function first each time, until the filler fits.
//
// env must be opened with a small map_size and a max_map_size above
// filler_bytes. `ran` tells, inside the filler's transaction, whether the
// operation's writes are there (so it ran before the filler in that run).
// Returns how many runs of the batch held the operation's writes: 2 or more
// means the operation's function ran again.
//
// Not thread-safe; call from the test's thread.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <functional>

#include "storage/lmdb_env.h"

namespace regd::testing {

int RunInRerunBatch(storage::LmdbEnv* env, MDB_dbi filler, size_t filler_bytes,
                    const std::function<void()>& operation,
                    const std::function<bool(storage::Txn&)>& ran);

}  // namespace regd::testing
