#include "account/session_book.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace regd::account {

using storage::Txn;

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  std::string hex(n * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), p, n);
  hex.pop_back();
  return hex;
}

std::string KeyHash(std::string_view id) {
  unsigned char h[32];
  crypto_generichash(h, sizeof(h), reinterpret_cast<const unsigned char*>(id.data()), id.size(),
                     nullptr, 0);
  return Hex(h, sizeof(h));
}

constexpr const char* kSessPrefix = "sess:";

std::string SessKey(const std::string& hash) { return kSessPrefix + hash; }
std::string UserPrefix(int64_t user_id) { return "usess:" + std::to_string(user_id) + ":"; }
std::string EpochKey(int64_t user_id) { return "uepoch:" + std::to_string(user_id); }

// "<user id>[:<handle>]" -> ref; false when malformed.
bool ParseRef(std::string_view v, SessionRef* ref) {
  size_t colon = v.find(':');
  std::string id(v.substr(0, colon));
  if (id.empty() || id.size() > 19 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  ref->user_id = std::atoll(id.c_str());
  ref->handle = colon == std::string_view::npos ? "" : std::string(v.substr(colon + 1));
  return true;
}

bool ParseInfo(std::string_view handle, std::string_view value, SessionInfo* out) {
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_object() || !j.contains("k") || !j["k"].is_string() || !j.contains("c") ||
      !j["c"].is_number_integer() || !j.contains("s") || !j["s"].is_number_integer()) {
    return false;
  }
  out->handle = std::string(handle);
  out->key_hash = j["k"].get<std::string>();
  out->created_ms = j["c"].get<int64_t>();
  out->last_seen_ms = j["s"].get<int64_t>();
  out->ip = j.value("ip", "");
  out->user_agent = j.value("ua", "");
  return true;
}

std::string EncodeInfo(const SessionInfo& info) {
  return nlohmann::json{{"k", info.key_hash},
                        {"c", info.created_ms},
                        {"s", info.last_seen_ms},
                        {"ip", info.ip},
                        {"ua", info.user_agent}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Deletes both keys of the session info describes.
Status Drop(storage::ExpiringKv* kv, Txn& txn, int64_t user_id, const SessionInfo& info) {
  Status s = kv->Delete(txn, SessKey(info.key_hash));
  return s.ok() ? kv->Delete(txn, UserPrefix(user_id) + info.handle) : s;
}

}  // namespace

std::string MaskAddress(std::string_view address) {
  std::string a(address);
  unsigned char b[16];
  if (inet_pton(AF_INET, a.c_str(), b) == 1) {
    return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + ".*";
  }
  if (inet_pton(AF_INET6, a.c_str(), b) == 1) {
    char out[64];
    std::snprintf(out, sizeof(out), "%x:%x:%x::*", b[0] << 8 | b[1], b[2] << 8 | b[3],
                  b[4] << 8 | b[5]);
    return out;
  }
  return "*";
}

std::string SessionBook::NewId() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof(raw));
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return b64;
}

bool SessionBook::IsIdShaped(std::string_view id) {
  return id.size() == 43 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

Status SessionBook::Open(Txn& txn, int64_t user_id, std::string_view id, int64_t expires_ms,
                         const SessionClient& client) {
  return Add(txn, user_id, KeyHash(id), expires_ms, client);
}

Status SessionBook::Add(Txn& txn, int64_t user_id, const std::string& key_hash, int64_t expires_ms,
                        const SessionClient& client) {
  auto live = List(txn, user_id);
  if (!live.ok()) return live.status();
  // List is newest first: the oldest are at the end.
  for (size_t i = kMaxPerUser - 1; i < live->size(); ++i) {
    Status s = Drop(kv_, txn, user_id, (*live)[i]);
    if (!s.ok()) return s;
  }
  // Strictly after the account's newest, so "newest first" and "the oldest
  // ends" never meet a tie (two logins in one millisecond).
  const int64_t after = live->empty() ? 0 : (*live)[0].created_ms + 1;
  return Index(txn, user_id, key_hash, expires_ms, client, after).status();
}

Result<std::string> SessionBook::Index(Txn& txn, int64_t user_id, const std::string& key_hash,
                                       int64_t expires_ms, const SessionClient& client,
                                       int64_t not_before_ms) {
  unsigned char raw[12];
  randombytes_buf(raw, sizeof(raw));
  SessionInfo info;
  info.handle = Hex(raw, sizeof(raw));
  info.key_hash = key_hash;
  info.created_ms = info.last_seen_ms = std::max(clock_->NowMs(), not_before_ms);
  info.ip = MaskAddress(client.address);
  info.user_agent = client.user_agent.substr(0, kMaxUserAgent);
  Status s = kv_->Put(txn, SessKey(info.key_hash), std::to_string(user_id) + ":" + info.handle,
                      expires_ms);
  if (s.ok()) s = kv_->Put(txn, UserPrefix(user_id) + info.handle, EncodeInfo(info), expires_ms);
  if (!s.ok()) return s;
  return info.handle;
}

Result<std::optional<SessionRef>> SessionBook::Find(std::string_view id, bool touch) {
  if (!IsIdShaped(id)) return std::optional<SessionRef>();
  const int64_t now = clock_->NowMs();
  std::optional<SessionRef> ref;
  std::optional<storage::ExpiringKv::Entry> index;
  Status s = kv_->env()->View([&](Txn& txn) -> Status {
    ref.reset();
    index.reset();
    auto e = kv_->Get(txn, SessKey(KeyHash(id)), now);
    if (!e.ok()) return e.status();
    SessionRef r;
    if (!e->has_value() || !ParseRef((*e)->value, &r)) return Status::Ok();
    ref = r;
    if (!touch || r.handle.empty()) return Status::Ok();
    auto i = kv_->Get(txn, UserPrefix(r.user_id) + r.handle, now);
    if (!i.ok()) return i.status();
    index = std::move(i).value();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  SessionInfo info;
  if (index && ParseInfo(ref->handle, index->value, &info) &&
      now - info.last_seen_ms >= kTouchEveryMs) {
    info.last_seen_ms = now;
    const std::string key = UserPrefix(ref->user_id) + ref->handle;
    const std::string value = EncodeInfo(info);
    // Only if the session is still there: it may have ended meanwhile.
    Status t = kv_->env()->Update([&](Txn& txn) -> Status {
      auto still = kv_->Get(txn, key, now);
      if (!still.ok()) return still.status();
      if (!still->has_value()) return Status::Ok();
      return kv_->Put(txn, key, value, (*still)->expires_at_ms);
    });
    if (!t.ok()) return t;
  }
  return ref;
}

Result<size_t> SessionBook::AdoptAll() {
  constexpr size_t kBatch = 256;
  size_t adopted = 0;
  std::string after;
  for (;;) {
    // Read a page; write only for the pages that hold old sessions, so a
    // start on an up-to-date data dir costs reads alone.
    std::vector<std::pair<std::string, storage::ExpiringKv::Entry>> page;
    Status s = kv_->env()->View([&](Txn& txn) -> Status {
      auto listed = kv_->List(txn, kSessPrefix, clock_->NowMs(), kBatch, after);
      if (!listed.ok()) return listed.status();
      page = std::move(listed).value();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    std::vector<std::string> old;
    for (const auto& [key, entry] : page) {
      SessionRef ref;
      if (ParseRef(entry.value, &ref) && ref.handle.empty()) old.push_back(key);
    }
    size_t in_page = 0;
    if (!old.empty()) {
      s = kv_->env()->Update([&](Txn& txn) -> Status {
        in_page = 0;  // the function may run again (group_commit.h)
        for (const std::string& key : old) {
          auto e = kv_->Get(txn, key, clock_->NowMs());
          if (!e.ok()) return e.status();
          SessionRef ref;
          if (!e->has_value() || !ParseRef((*e)->value, &ref) || !ref.handle.empty()) continue;
          Status a = Add(txn, ref.user_id, key.substr(std::string_view(kSessPrefix).size()),
                         (*e)->expires_at_ms, SessionClient{});
          if (!a.ok()) return a;
          ++in_page;
        }
        return Status::Ok();
      });
      if (!s.ok()) return s;
    }
    adopted += in_page;
    if (page.size() < kBatch) return adopted;
    after = page.back().first;
  }
}

Status SessionBook::End(Txn& txn, std::string_view id) {
  if (!IsIdShaped(id)) return Status::Ok();
  const std::string key = SessKey(KeyHash(id));
  auto e = kv_->Get(txn, key, clock_->NowMs());
  if (!e.ok()) return e.status();
  SessionRef r;
  if (e->has_value() && ParseRef((*e)->value, &r) && !r.handle.empty()) {
    Status s = kv_->Delete(txn, UserPrefix(r.user_id) + r.handle);
    if (!s.ok()) return s;
  }
  return kv_->Delete(txn, key);
}

Status SessionBook::EndByHandle(Txn& txn, int64_t user_id, std::string_view handle) {
  const Status kMissing = Status::NotFound("no such session");
  if (handle.empty() || handle.size() > 64 || handle.find(':') != std::string_view::npos) {
    return kMissing;
  }
  auto e = kv_->Get(txn, UserPrefix(user_id) + std::string(handle), clock_->NowMs());
  if (!e.ok()) return e.status();
  SessionInfo info;
  if (!e->has_value() || !ParseInfo(handle, (*e)->value, &info)) return kMissing;
  return Drop(kv_, txn, user_id, info);
}

Status SessionBook::EndAll(Txn& txn, int64_t user_id, std::string_view keep) {
  auto live = List(txn, user_id);
  if (!live.ok()) return live.status();
  for (const SessionInfo& info : *live) {
    if (!keep.empty() && info.handle == keep) continue;
    Status s = Drop(kv_, txn, user_id, info);
    if (!s.ok()) return s;
  }
  unsigned char raw[8];
  randombytes_buf(raw, sizeof(raw));
  return kv_->Put(txn, EpochKey(user_id), Hex(raw, sizeof(raw)), clock_->NowMs() + kEpochTtlMs);
}

Result<std::string> SessionBook::Epoch(Txn& txn, int64_t user_id) {
  auto e = kv_->Get(txn, EpochKey(user_id), clock_->NowMs());
  if (!e.ok()) return e.status();
  return e->has_value() ? (*e)->value : std::string();
}

Result<std::string> SessionBook::Epoch(int64_t user_id) {
  std::string epoch;
  Status s = kv_->env()->View([&](Txn& txn) -> Status {
    auto e = Epoch(txn, user_id);
    if (!e.ok()) return e.status();
    epoch = std::move(e).value();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return epoch;
}

Status SessionBook::CheckEpoch(Txn& txn, int64_t user_id, std::string_view epoch) {
  auto now = Epoch(txn, user_id);
  if (!now.ok()) return now.status();
  return *now == epoch ? Status::Ok() : Status::Conflict("the account changed meanwhile");
}

Result<std::vector<SessionInfo>> SessionBook::List(Txn& txn, int64_t user_id) {
  const std::string prefix = UserPrefix(user_id);
  // Expired entries are skipped by List but still scanned until swept; the
  // limit bounds the answer, kMaxPerUser bounds the live ones.
  auto entries = kv_->List(txn, prefix, clock_->NowMs(), 4 * kMaxPerUser);
  if (!entries.ok()) return entries.status();
  std::vector<SessionInfo> out;
  for (const auto& [key, entry] : *entries) {
    SessionInfo info;
    if (ParseInfo(std::string_view(key).substr(prefix.size()), entry.value, &info)) {
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(), [](const SessionInfo& a, const SessionInfo& b) {
    return a.created_ms != b.created_ms ? a.created_ms > b.created_ms : a.handle > b.handle;
  });
  return out;
}

}  // namespace regd::account
