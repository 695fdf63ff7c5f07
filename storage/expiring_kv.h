// ExpiringKv: a key-value store in LMDB where every entry has an expiry time,
// standing in for the Redis keys of the seed system (captcha answers, SMS
// codes, send flags, wrong-try counters, sessions).
//
// Expiry follows Redis (src/expire.c): an expired entry is treated as absent
// by every read (expired on access), and a background sweep (ExpirySweeper)
// deletes expired entries in batches so the file does not grow.
//
// On disk (two named DBIs in the shared LmdbEnv):
//   "kv"     key -> expires_at_ms (8 bytes big-endian) ‖ value
//   "kv_exp" expires_at_ms (8 bytes big-endian) ‖ key -> ""   (sweep index)
// Invariant: every "kv" entry has exactly one "kv_exp" entry and vice versa.
// Key namespaces are a prefix chosen by the caller ("cap:", "sms:", ...).
// Check (for `regd check`) verifies exactly this layout and invariant.
//
// All operations run inside a caller's transaction, so a caller can combine
// several keys (and the job queue) in one atomic, durable write.
//
// Thread-safety: ExpiringKv is immutable after Open and safe to share; each
// Txn belongs to one thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/format_check.h"
#include "storage/lmdb_env.h"
#include "storage/status.h"

namespace regd::storage {

class ExpiringKv {
 public:
  struct Entry {
    std::string value;
    int64_t expires_at_ms = 0;
  };

  // The store's named DBIs: "kv", then "kv_exp" (the order Check takes).
  static constexpr std::array<const char*, 2> kDbNames = {"kv", "kv_exp"};

  // Opens the two DBIs; call at start, before other threads use env.
  static Result<std::unique_ptr<ExpiringKv>> Open(LmdbEnv* env);

  // Checks the store's layout (`regd check`) in txn, a read transaction of
  // an env whose kDbNames DBIs are dbs (LmdbEnv::FindDb, in that order).
  // Problems: an unreadable DBI; a "kv" value shorter than its 8-byte expiry
  // or without its "kv_exp" entry; a "kv_exp" key shorter than its expiry or
  // without a "kv" entry of that expiry. Findings name the key's namespace
  // ("'sess:'"), never the key. Returns the number of "kv" entries.
  static size_t Check(Txn& txn, const std::array<MDB_dbi, 2>& dbs, Findings* out);

  // Stores value under key until expires_at_ms, replacing any old entry.
  Status Put(Txn& txn, std::string_view key, std::string_view value, int64_t expires_at_ms);
  // The live entry under key at now_ms, or nullopt if absent or expired.
  Result<std::optional<Entry>> Get(Txn& txn, std::string_view key, int64_t now_ms);
  // Deletes key; a missing key is not an error.
  Status Delete(Txn& txn, std::string_view key);
  // The live entries whose key starts with prefix (not empty), in key order,
  // at most limit of them, from the first key after `after` if that is set:
  // (key, entry). O(entries under prefix), expired ones included, so
  // callers keep each prefix small and bounded, or page through it.
  Result<std::vector<std::pair<std::string, Entry>>> List(Txn& txn, std::string_view prefix,
                                                          int64_t now_ms, size_t limit,
                                                          std::string_view after = {});

  // Deletes up to limit entries that expired at or before now_ms, in one write
  // transaction. Returns how many were deleted.
  Result<size_t> SweepExpired(int64_t now_ms, size_t limit);
  // Number of entries, live or not yet swept (for metrics and tests).
  Result<size_t> Count();

  LmdbEnv* env() const { return env_; }

 private:
  ExpiringKv(LmdbEnv* env, MDB_dbi kv, MDB_dbi exp) : env_(env), kv_(kv), exp_(exp) {}
  static std::string IndexKey(int64_t expires_at_ms, std::string_view key);

  LmdbEnv* const env_;
  const MDB_dbi kv_;
  const MDB_dbi exp_;
};

}  // namespace regd::storage
