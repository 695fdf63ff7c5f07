#include "storage/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/data_dir.h"

namespace regd::storage {

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir) {
  std::string path = DirLockPath(dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot open " + path + ": " + std::strerror(errno));
  std::unique_ptr<DirLock> lock(new DirLock(fd));
  int rc;
  while ((rc = ::flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
  }
  if (rc != 0) {
    if (errno != EWOULDBLOCK) {
      return Status::Unavailable("cannot lock " + path + ": " + std::strerror(errno));
    }
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status::Conflict(dir + " is in use by regd" + (pid.empty() ? "" : " (pid " + pid + ")"));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return Status::Unavailable("cannot write " + path + ": " + std::strerror(errno));
  }
  return lock;
}

DirLock::~DirLock() { ::close(fd_); }

Result<int> LmdbEnvUser(const std::string& dir) {
  std::string path = LmdbLockPath(dir);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    return Status::Unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  struct flock probe = {};
  probe.l_type = F_WRLCK;  // would a write lock on the whole file conflict?
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 0;
  int rc = ::fcntl(fd, F_GETLK, &probe);
  int err = errno;
  ::close(fd);  // this process holds no lock on it, so closing drops none
  if (rc != 0) return Status::Unavailable("cannot query locks on " + path + ": " + strerror(err));
  return probe.l_type == F_UNLCK ? 0 : static_cast<int>(probe.l_pid);
}

}  // namespace regd::storage
