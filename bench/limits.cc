#include "bench/limits.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include "bench/stats.h"

namespace regd::bench {
namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// "vda (virtio disk)" or "sda (<model>)": the block device holding path.
std::string DiskOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "unknown";
  std::string sys =
      "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  std::string name;
  std::ifstream uevent(sys + "/uevent");
  for (std::string line; std::getline(uevent, line);) {
    if (line.rfind("DEVNAME=", 0) == 0) name = line.substr(8);
  }
  if (name.empty()) return "unknown (not a block device: overlay or tmpfs?)";
  std::string model = ReadLine(sys + "/device/model");
  if (model.empty()) model = ReadLine(sys + "/../device/model");  // a partition
  if (model.empty()) return name + (name.rfind("vd", 0) == 0 ? " (virtio disk)" : "");
  return name + " (" + model + ")";
}

}  // namespace

FsyncRun MeasureFdatasync(const std::string& dir, std::chrono::milliseconds duration,
                          SyncPattern pattern) {
  FsyncRun r;
  std::string path = dir + "/fdatasync.bench";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return r;
  std::vector<char> block(4096, 'x');
  // Allocate the block first so the loop measures data syncs, not metadata.
  if (pwrite(fd, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()) ||
      fsync(fd) != 0) {
    close(fd);
    return r;
  }
  std::vector<int64_t> us;
  auto start = std::chrono::steady_clock::now();
  auto end = start + duration;
  for (auto now = start; now < end;) {
    block[0] = static_cast<char>(r.syncs);
    off_t at =
        pattern == SyncPattern::kAppend ? static_cast<off_t>((r.syncs + 1) * block.size()) : 0;
    if (pwrite(fd, block.data(), block.size(), at) != static_cast<ssize_t>(block.size())) break;
    if (fdatasync(fd) != 0) break;
    auto after = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(after - now).count());
    now = after;
    ++r.syncs;
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  unlink(path.c_str());
  r.per_s = r.syncs / elapsed;
  LatencySummary s = Summarize(std::move(us));
  r.mean_us = s.mean_ms * 1000;
  r.p99_us = s.p99_ms * 1000;
  return r;
}

MachineInfo DescribeMachine(const std::string& data_dir) {
  MachineInfo m;
  m.cores = std::thread::hardware_concurrency();
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      m.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  for (std::string line; std::getline(mem, line);) {
    if (line.rfind("MemTotal:", 0) == 0) m.mem_total_mb = std::atol(line.c_str() + 9) / 1024;
  }
  utsname u;
  if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  m.disk = DiskOf(data_dir);
  return m;
}

}  // namespace regd::bench
