#include "storage/server_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/log.h"

namespace regd::storage {
namespace {

constexpr size_t kMasterBytes = crypto_kdf_KEYBYTES;  // 32
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "regdsecr";

Status Errno(const std::string& what) {
  return Status::Internal(what + ": " + std::strerror(errno));
}

bool ReadAll(int fd, unsigned char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

void ServerSecret::Derive(const unsigned char* master) {
  crypto_kdf_derive_from_key(mac_key_.data(), mac_key_.size(), 1, kKdfContext, master);
  crypto_kdf_derive_from_key(box_key_.data(), box_key_.size(), 2, kKdfContext, master);
}

ServerSecret ServerSecret::FromBytes(std::string_view key32) {
  unsigned char master[kMasterBytes] = {};
  std::memcpy(master, key32.data(), std::min(key32.size(), kMasterBytes));
  ServerSecret s;
  s.Derive(master);
  sodium_memzero(master, sizeof master);
  return s;
}

Result<ServerSecret> ServerSecret::LoadOrCreate(const std::string& dir) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  const std::string path = dir + "/" + kFileName;
  unsigned char master[kMasterBytes];
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {  // first start: a new secret, on disk before it is used
    randombytes_buf(master, sizeof master);
    bool ok =
        write(fd, master, sizeof master) == static_cast<ssize_t>(sizeof master) && fsync(fd) == 0;
    close(fd);
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ok = ok && fsync(dfd) == 0;
      close(dfd);
    }
    if (!ok) {
      unlink(path.c_str());
      return Errno("cannot write " + path);
    }
    LogInfo("created the server secret %s (mode 0600; keep it with the data)", path.c_str());
  } else {
    if (errno != EEXIST) return Errno("cannot create " + path);
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot read " + path);
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && st.st_size == static_cast<off_t>(kMasterBytes) &&
              ReadAll(fd, master, sizeof master);
    if (ok && (st.st_mode & 077) != 0) {
      LogWarn("%s is readable by others (mode %03o); making it 0600", path.c_str(),
              static_cast<unsigned>(st.st_mode & 0777));
      fchmod(fd, 0600);
    }
    close(fd);
    if (!ok) {
      return Status::Internal(path +
                              " is not a 32-byte secret; restore it from the backup "
                              "or move it away to start with a new one");
    }
  }
  ServerSecret s;
  s.Derive(master);
  sodium_memzero(master, sizeof master);
  return s;
}

std::string ServerSecret::Mac(std::string_view domain, std::string_view message) const {
  crypto_generichash_state st;
  crypto_generichash_init(&st, mac_key_.data(), mac_key_.size(), 32);
  unsigned char len = static_cast<unsigned char>(std::min<size_t>(domain.size(), 255));
  crypto_generichash_update(&st, &len, 1);  // length-prefixed: no domain/message ambiguity
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(domain.data()), len);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(message.data()),
                            message.size());
  std::string out(32, '\0');
  crypto_generichash_final(&st, reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}

std::string ServerSecret::Seal(std::string_view plain) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce,
                        box_key_.data());
  return out;
}

Result<std::string> ServerSecret::Open(std::string_view sealed) const {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return Status::Invalid("sealed value too short");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* box = nonce + crypto_secretbox_NONCEBYTES;
  size_t box_len = sealed.size() - crypto_secretbox_NONCEBYTES;
  std::string plain(box_len - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), box, box_len,
                                 nonce, box_key_.data()) != 0) {
    return Status::Invalid("sealed value does not open with this server's secret");
  }
  return plain;
}

}  // namespace regd::storage
