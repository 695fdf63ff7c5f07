#include "storage/lmdb_env.h"

#include "storage/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace regd::storage {

void PutBigEndian64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

uint64_t GetBigEndian64(std::string_view src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}

Status LmdbStatus(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) return Status::Full("storage is full (" + msg + ")", 60);
  return Status::Internal(msg);
}

bool IsMapFull(const Status& s) { return s.code() == Status::Code::kFull; }

Txn& Txn::operator=(Txn&& o) noexcept {
  if (this != &o) {
    Abort();
    txn_ = o.txn_;
    read_only_ = o.read_only_;
    o.txn_ = nullptr;
  }
  return *this;
}

Txn::~Txn() { Abort(); }

void Txn::Abort() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

Status Txn::Commit() {
  MDB_txn* t = txn_;
  txn_ = nullptr;  // mdb_txn_commit frees the txn even on failure: never abort it after.
  return LmdbStatus(mdb_txn_commit(t), "commit");
}

Result<std::optional<std::string_view>> Txn::Get(MDB_dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "get");
  return std::optional<std::string_view>(FromVal(v));
}

Status Txn::Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = ToVal(key), v = ToVal(value);
  return LmdbStatus(mdb_put(txn_, dbi, &k, &v, flags), "put");
}

Status Txn::Del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return Status::Ok();
  return LmdbStatus(rc, "del");
}

Result<Cursor> Cursor::Open(Txn& txn, MDB_dbi dbi) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn.get(), dbi, &c);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "cursor open");
  return Cursor(c);
}

Cursor::~Cursor() {
  if (cur_ != nullptr) mdb_cursor_close(cur_);
}

Result<bool> Cursor::Move(MDB_cursor_op op) {
  int rc = mdb_cursor_get(cur_, &k_, &v_, op);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "cursor get");
  return true;
}

Result<bool> Cursor::Seek(std::string_view key) {
  k_ = ToVal(key);
  return Move(MDB_SET_RANGE);
}

Result<bool> Cursor::First() { return Move(MDB_FIRST); }
Result<bool> Cursor::Next() { return Move(MDB_NEXT); }

Status Cursor::DeleteCurrent() { return LmdbStatus(mdb_cursor_del(cur_, 0), "cursor del"); }

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::Open(const Options& options) {
  if (!options.read_only && mkdir(options.path.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Unavailable("cannot create " + options.path + ": " + std::strerror(errno));
  }
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_create");
  std::unique_ptr<LmdbEnv> owner(new LmdbEnv(env, options.read_only));
  if ((!options.read_only && (rc = mdb_env_set_mapsize(env, options.map_size)) != MDB_SUCCESS) ||
      (rc = mdb_env_set_maxdbs(env, options.max_dbs)) != MDB_SUCCESS ||
      (rc = mdb_env_set_maxreaders(env, 512)) != MDB_SUCCESS) {
    return LmdbStatus(rc, "mdb_env_set");
  }
  unsigned flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (options.private_copy) flags |= MDB_NOLOCK;
  rc = mdb_env_open(env, options.path.c_str(), flags, 0600);
  if (rc != MDB_SUCCESS)
    return Status::Unavailable("open " + options.path + ": " + mdb_strerror(rc));
  if (!options.private_copy) {
    int dead = 0;
    mdb_reader_check(env, &dead);
  }
  owner->max_map_size_ = std::max(options.max_map_size, options.map_size);
  if (!options.read_only) {
    LmdbEnv* self = owner.get();
    owner->writer_ =
        std::make_unique<GroupCommit>(env, [self](bool adopt) { return self->Resize(adopt); });
  }
  return owner;
}

int LmdbEnv::RetryResized(const std::function<int()>& begin) {
  int rc = begin();
  if (rc == MDB_MAP_RESIZED && read_only_) {
    // Another process grew the map; no transaction of ours is open (tools
    // are single-threaded), so adopting the new size is allowed.
    rc = mdb_env_set_mapsize(env_, 0);
    if (rc == MDB_SUCCESS) rc = begin();
  }
  return rc;
}

Result<std::optional<MDB_dbi>> LmdbEnv::FindDb(const char* name) {
  auto txn = BeginRead();
  if (!txn.ok()) return txn.status();
  MDB_dbi dbi;
  int rc = mdb_dbi_open(txn->get(), name, 0, &dbi);
  if (rc == MDB_NOTFOUND) return std::optional<MDB_dbi>();
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, std::string("open db ") + name);
  Status s = txn->Commit();  // keeps the handle open beyond this transaction
  if (!s.ok()) return s;
  return std::optional<MDB_dbi>(dbi);
}

Status LmdbEnv::CopyTo(const std::string& dir) {
  int rc = RetryResized([&] { return mdb_env_copy2(env_, dir.c_str(), MDB_CP_COMPACT); });
  if (rc != MDB_SUCCESS) {
    return Status::Unavailable("copy LMDB to " + dir + ": " + mdb_strerror(rc));
  }
  // mdb_env_copy2 does not flush what it wrote.
  std::string copy = dir + "/data.mdb";
  int fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable("open " + copy + ": " + std::strerror(errno));
  int synced = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (synced != 0) return Status::Unavailable("flush " + copy + ": " + std::strerror(err));
  return Status::Ok();
}

Result<MDB_stat> LmdbEnv::Stat() {
  MDB_stat st;
  int rc = mdb_env_stat(env_, &st);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_stat");
  return st;
}

Result<MDB_envinfo> LmdbEnv::Info() {
  MDB_envinfo info;
  int rc = mdb_env_info(env_, &info);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_info");
  return info;
}

LmdbEnv::~LmdbEnv() {
  writer_.reset();
  mdb_env_close(env_);
}

Result<MDB_dbi> LmdbEnv::OpenDb(const char* name) {
  auto txn = BeginWrite();
  if (!txn.ok()) return txn.status();
  MDB_dbi dbi;
  int rc = mdb_dbi_open(txn->get(), name, MDB_CREATE, &dbi);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, std::string("open db ") + name);
  Status s = txn->Commit();
  if (!s.ok()) return s;
  return dbi;
}

Result<Txn> LmdbEnv::BeginRead() {
  MDB_txn* t = nullptr;
  int rc = RetryResized([&] { return mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t); });
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "begin read");
  return Txn(t, true);
}

Result<Txn> LmdbEnv::BeginWrite() {
  if (read_only_) return Status::Internal("begin write: the env is open read-only");
  MDB_txn* t = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &t);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "begin write");
  return Txn(t, false);
}

Status LmdbEnv::Update(const std::function<Status(Txn&)>& fn) {
  if (!writer_) return Status::Internal("update: the env is open read-only");
  return writer_->Submit(fn);
}

uint64_t LmdbEnv::commit_batches() const { return writer_ ? writer_->batches() : 0; }
uint64_t LmdbEnv::commit_writes() const { return writer_ ? writer_->writes() : 0; }

size_t LmdbEnv::map_size() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

bool LmdbEnv::Resize(bool adopt) {
  size_t now = map_size();
  size_t next = adopt ? 0 : std::min(max_map_size_, now * 2);
  if (!adopt && next <= now) {
    auto t = std::chrono::steady_clock::now();
    if (t - last_full_log_ > std::chrono::minutes(1)) {
      last_full_log_ = t;
      LogError(
          "LMDB map full at %zu MiB, its maximum (--lmdb-map-mb): writes are refused with "
          "503 until expired data is swept or the maximum is raised; reads go on",
          now >> 20);
    }
    return false;
  }
  resize_mu_.Lock();  // waits for the Views in progress; lets no new one in
  int rc = mdb_env_set_mapsize(env_, next);
  resize_mu_.Unlock();
  if (rc != MDB_SUCCESS) {
    LogError("cannot resize the LMDB map: %s", mdb_strerror(rc));
    return false;
  }
  if (!adopt) LogInfo("LMDB map grown from %zu MiB to %zu MiB", now >> 20, next >> 20);
  return true;
}

LmdbEnv::ResizeLock::ResizeLock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&lock_, &attr);
  pthread_rwlockattr_destroy(&attr);
}
LmdbEnv::ResizeLock::~ResizeLock() { pthread_rwlock_destroy(&lock_); }
void LmdbEnv::ResizeLock::LockShared() { pthread_rwlock_rdlock(&lock_); }
void LmdbEnv::ResizeLock::UnlockShared() { pthread_rwlock_unlock(&lock_); }
void LmdbEnv::ResizeLock::Lock() { pthread_rwlock_wrlock(&lock_); }
void LmdbEnv::ResizeLock::Unlock() { pthread_rwlock_unlock(&lock_); }

Status LmdbEnv::View(const std::function<Status(Txn&)>& fn) {
  struct Shared {  // held for the whole read transaction
    ResizeLock& lock;
    explicit Shared(ResizeLock& l) : lock(l) { lock.LockShared(); }
    ~Shared() { lock.UnlockShared(); }
  };
  Shared shared(resize_mu_);
  MDB_txn* t = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t);
  if (rc == MDB_MAP_RESIZED) {  // another process grew the map: adopt its size
    resize_mu_.UnlockShared();
    resize_mu_.Lock();
    mdb_env_set_mapsize(env_, 0);
    resize_mu_.Unlock();
    resize_mu_.LockShared();
    rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t);
  }
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "begin read");
  Txn txn(t, true);  // ends before `shared` is released
  return fn(txn);
}

}  // namespace regd::storage
