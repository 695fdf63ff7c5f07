// The `connections` workload (issue 11, item 3): count throughput and
// latency with wrk at 32 connections, first alone, then while 1,000 idle
// keep-alive connections (each sending a request every 3 s) and 500 silent
// ones (reconnected whenever regd closes them) are held open from many
// loopback addresses (127.0.x.y, at most 40 per address, under the default
// per-client cap of 64). Before regd served connections from an event loop,
// each idle connection held an HTTP thread and the second run timed out.
//
// Thread-safety: called by the benchmark's one driving thread; it runs the
// holder on a thread of its own for the duration.
#pragma once

#include "bench/child_process.h"
#include "bench/workloads.h"

namespace regd::bench {

void RunConnections(BenchContext& ctx, ChildProcess& regd);

}  // namespace regd::bench
