#include "storage/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace regd::storage {
namespace {

Status IoError(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  return err == ENOENT ? Status::NotFound(msg) : Status::Unavailable(msg);
}

// Closes a descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error close(2) gives (a delayed write error).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace

Status SyncPath(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("cannot open", path, errno);
  if (::fsync(fd.get()) != 0) return IoError("cannot flush", path, errno);
  return Status::Ok();
}

Result<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return IoError("cannot list", path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return IoError("cannot list", path, err);
  std::sort(names.begin(), names.end());
  return names;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) return Status::Ok();
  if (errno == EEXIST) return Status::Conflict(path + " already exists");
  return IoError("cannot create", path, errno);
}

Status CopyFile(const std::string& src, const std::string& dst) {
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return IoError("cannot open", src, errno);
  Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return IoError("cannot create", dst, errno);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", src, errno);
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return IoError("cannot write", dst, errno);
      done += w;
    }
  }
  if (::fsync(out.get()) != 0) return IoError("cannot flush", dst, errno);
  if (out.Close() != 0) return IoError("cannot write", dst, errno);
  return Status::Ok();
}

Status WriteNewFile(const std::string& path, const std::string& content) {
  Fd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return IoError("cannot create", path, errno);
  for (size_t done = 0; done < content.size();) {
    ssize_t w = ::write(out.get(), content.data() + done, content.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return IoError("cannot write", path, errno);
    done += static_cast<size_t>(w);
  }
  if (::fsync(out.get()) != 0) return IoError("cannot flush", path, errno);
  if (out.Close() != 0) return IoError("cannot write", path, errno);
  return Status::Ok();
}

Status MakeOwnerOnly(const std::string& path) {
  if (::chmod(path.c_str(), 0600) != 0) return IoError("cannot restrict", path, errno);
  return Status::Ok();
}

Status OwnLike(const std::string& path, const std::string& reference) {
  struct stat want, have;
  if (::stat(reference.c_str(), &want) != 0) return IoError("cannot stat", reference, errno);
  if (::lstat(path.c_str(), &have) != 0) return IoError("cannot stat", path, errno);
  if (have.st_uid == want.st_uid && have.st_gid == want.st_gid) return Status::Ok();
  if (::lchown(path.c_str(), want.st_uid, want.st_gid) != 0) {
    return IoError("cannot change the owner of", path, errno);
  }
  return Status::Ok();
}

Status RemoveTree(const std::string& path) {
  if (!PathExists(path)) return Status::Ok();
  auto remove = [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); };
  if (::nftw(path.c_str(), remove, 16, FTW_DEPTH | FTW_PHYS) != 0) {
    return IoError("cannot remove", path, errno);
  }
  return Status::Ok();
}

Status RenamePath(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return IoError("cannot rename " + from + " to", to, errno);
  }
  return Status::Ok();
}

std::string ParentDir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

}  // namespace regd::storage
