#include "storage/expiring_kv.h"

namespace regd::storage {
namespace {

// The namespace of a key ("sms:", "sess:", ...): keys hold mobiles and
// session hashes, which a finding does not show.
std::string KeyKind(std::string_view key) {
  size_t colon = key.find(':');
  return colon == std::string_view::npos ? "an unprefixed key"
                                         : "'" + std::string(key.substr(0, colon + 1)) + "'";
}

}  // namespace

Result<std::unique_ptr<ExpiringKv>> ExpiringKv::Open(LmdbEnv* env) {
  auto kv = env->OpenDb(kDbNames[0]);
  if (!kv.ok()) return kv.status();
  auto exp = env->OpenDb(kDbNames[1]);
  if (!exp.ok()) return exp.status();
  return std::unique_ptr<ExpiringKv>(new ExpiringKv(env, *kv, *exp));
}

size_t ExpiringKv::Check(Txn& txn, const std::array<MDB_dbi, 2>& dbs, Findings* out) {
  const MDB_dbi kv = dbs[0], exp = dbs[1];
  size_t entries = 0;
  Tally no_expiry("kv"), unindexed("kv"), bad_index("kv_exp"), dangling("kv_exp");
  Status s = WalkDb(txn, kv, [&](std::string_view key, std::string_view value) {
    ++entries;
    if (value.size() < 8) return no_expiry.Add("an entry under " + KeyKind(key) + " has no expiry");
    if (!HasKey(txn, exp, IndexKey(static_cast<int64_t>(GetBigEndian64(value)), key))) {
      unindexed.Add("an entry under " + KeyKind(key) + " has no kv_exp index entry");
    }
  });
  if (!s.ok()) out->problems.push_back("kv: cannot be read: " + s.message());
  s = WalkDb(txn, exp, [&](std::string_view key, std::string_view) {
    if (key.size() < 8) return bad_index.Add("an index key is shorter than its expiry");
    auto value = txn.Get(kv, key.substr(8));
    if (!value.ok() || !value->has_value() || (*value)->size() < 8 ||
        GetBigEndian64(**value) != GetBigEndian64(key)) {
      dangling.Add("an index entry under " + KeyKind(key.substr(8)) + " has no matching kv entry");
    }
  });
  if (!s.ok()) out->problems.push_back("kv_exp: cannot be read: " + s.message());
  for (const Tally* t : {&no_expiry, &unindexed, &bad_index, &dangling}) t->ReportTo(out->problems);
  return entries;
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

Result<std::vector<std::pair<std::string, ExpiringKv::Entry>>> ExpiringKv::List(
    Txn& txn, std::string_view prefix, int64_t now_ms, size_t limit, std::string_view after) {
  std::vector<std::pair<std::string, Entry>> out;
  if (prefix.empty()) return Status::Invalid("List needs a prefix");
  auto cur = Cursor::Open(txn, kv_);
  if (!cur.ok()) return cur.status();
  for (auto more = cur->Seek(after > prefix ? after : prefix); out.size() < limit;
       more = cur->Next()) {
    if (!more.ok()) return more.status();
    if (!*more || cur->key().substr(0, prefix.size()) != prefix) break;
    if (cur->key() == after) continue;
    std::string_view raw = cur->value();
    if (raw.size() < 8) continue;
    int64_t expires = static_cast<int64_t>(GetBigEndian64(raw));
    if (expires <= now_ms) continue;
    out.emplace_back(std::string(cur->key()), Entry{std::string(raw.substr(8)), expires});
  }
  return out;
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
