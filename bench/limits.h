// The `limit` workload's machine ceilings, and what the report says about
// the machine: the raw fdatasync rate of the disk under a directory, the CPU,
// the disk's name.
#pragma once

#include <chrono>
#include <string>

namespace regd::bench {

struct FsyncRun {
  uint64_t syncs = 0;
  double per_s = 0;
  double mean_us = 0;
  double p99_us = 0;
};

// Writes 4 KiB to a file in dir and fdatasyncs it, again and again, for
// duration. Overwriting one preallocated block: the most durable commits per
// second one writer can get from this disk. Appending (each block new, so
// every sync also commits the file system's block allocation): closer to an
// LMDB file that is still growing.
enum class SyncPattern { kOverwrite, kAppend };
FsyncRun MeasureFdatasync(const std::string& dir, std::chrono::milliseconds duration,
                          SyncPattern pattern);

struct MachineInfo {
  unsigned cores = 0;
  std::string cpu_model;
  long mem_total_mb = 0;
  std::string kernel;
  std::string disk;  // block device holding the data dir, and its kind
};
MachineInfo DescribeMachine(const std::string& data_dir);

}  // namespace regd::bench
