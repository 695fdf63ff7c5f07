#include "storage/expiring_kv.h"

namespace regd::storage {

Result<std::unique_ptr<ExpiringKv>> ExpiringKv::Open(LmdbEnv* env) {
  auto kv = env->OpenDb("kv");
  if (!kv.ok()) return kv.status();
  auto exp = env->OpenDb("kv_exp");
  if (!exp.ok()) return exp.status();
  return std::unique_ptr<ExpiringKv>(new ExpiringKv(env, *kv, *exp));
}

std::string ExpiringKv::IndexKey(int64_t expires_at_ms, std::string_view key) {
  std::string k;
  k.reserve(8 + key.size());
  PutBigEndian64(&k, static_cast<uint64_t>(expires_at_ms));
  k.append(key);
  return k;
}

Status ExpiringKv::Put(Txn& txn, std::string_view key, std::string_view value,
                       int64_t expires_at_ms) {
  Status s = Delete(txn, key);
  if (!s.ok()) return s;
  std::string v;
  v.reserve(8 + value.size());
  PutBigEndian64(&v, static_cast<uint64_t>(expires_at_ms));
  v.append(value);
  s = txn.Put(kv_, key, v);
  if (!s.ok()) return s;
  return txn.Put(exp_, IndexKey(expires_at_ms, key), "");
}

Result<std::optional<ExpiringKv::Entry>> ExpiringKv::Get(Txn& txn, std::string_view key,
                                                         int64_t now_ms) {
  auto raw = txn.Get(kv_, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value() || (*raw)->size() < 8) return std::optional<Entry>();
  int64_t expires = static_cast<int64_t>(GetBigEndian64(**raw));
  if (expires <= now_ms) return std::optional<Entry>();
  return std::optional<Entry>(Entry{std::string((*raw)->substr(8)), expires});
}

Status ExpiringKv::Delete(Txn& txn, std::string_view key) {
  auto raw = txn.Get(kv_, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return Status::Ok();
  if ((*raw)->size() >= 8) {
    int64_t old = static_cast<int64_t>(GetBigEndian64(**raw));
    Status s = txn.Del(exp_, IndexKey(old, key));
    if (!s.ok()) return s;
  }
  return txn.Del(kv_, key);
}

Result<size_t> ExpiringKv::SweepExpired(int64_t now_ms, size_t limit) {
  // The function may run again after a map resize (group_commit.h): it counts
  // in a local and only assigns `deleted`, so a rerun neither adds to the
  // count nor stops early.
  size_t deleted = 0;
  Status s = env_->Update([&](Txn& txn) -> Status {
    deleted = 0;
    size_t n = 0;
    auto cur = Cursor::Open(txn, exp_);
    if (!cur.ok()) return cur.status();
    auto more = cur->First();
    while (more.ok() && *more && n < limit) {
      std::string_view ik = cur->key();
      if (ik.size() < 8 || static_cast<int64_t>(GetBigEndian64(ik)) > now_ms) break;
      Status d = txn.Del(kv_, ik.substr(8));
      if (!d.ok()) return d;
      d = cur->DeleteCurrent();
      if (!d.ok()) return d;
      ++n;
      more = cur->First();  // the index is ordered: the next candidate is first again
    }
    if (!more.ok()) return more.status();
    deleted = n;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return deleted;
}

Result<size_t> ExpiringKv::Count() {
  size_t n = 0;
  Status s = env_->View([&](Txn& txn) {
    MDB_stat st;
    int rc = mdb_stat(txn.get(), kv_, &st);
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "stat");
    n = st.ms_entries;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return n;
}

}  // namespace regd::storage
