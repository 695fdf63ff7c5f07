// SessionBook: the login sessions of every account, in the ExpiringKv, so
// that a session can be found by its cookie, listed by its account, and
// ended one by one or all at once (password reset, password change, the
// sessions page).
//
// Keys:
//   sess:<hex BLAKE2b(cookie id)>  "<user id>:<handle>"   (a session from
//                                  before handles existed reads "<user id>")
//   usess:<user id>:<handle>       JSON {"k": hex hash, "c": created ms,
//                                  "s": last seen ms, "ip", "ua"}
//   uepoch:<user id>               16 hex digits, new at each EndAll; absent
//                                  until the first (kept kEpochTtlMs)
// Sessions written without a handle (by a regd before handles) are given
// one by AdoptAll, which the server runs once at start, so EndAll ends them
// too.
// Both keys of a session share its expiry and are written and deleted in
// one transaction. The handle is 12 random bytes (hex), the session's
// public name on the sessions page: it is not derived from the cookie, so
// showing it gives nothing away. Only the cookie's hash is stored, so a
// copy of the data dir hands out no live session.
//
// Bounds: an account holds at most kMaxPerUser sessions (opening one more
// ends the oldest), "ua" is cut to kMaxUserAgent bytes and "ip" is stored
// masked (MaskAddress), so no client can grow the table per account beyond
// kMaxPerUser * ~600 bytes, and logins are already rate-limited.
//
// last seen is written at most once per kTouchEveryMs per session, so a
// page view costs a write at most once a minute.
//
// The epoch closes the race between a login and a change that ends the
// account's sessions (password change or reset, disable, erase). A login
// reads the epoch before it reads the account, and opens its session in a
// transaction that first checks the epoch is unchanged (CheckEpoch). The
// change commits in SQLite first, then ends the sessions (EndAll, a new
// epoch). So either the session is written before that EndAll, which ends
// it, or the check sees the new epoch, or the epoch was read after EndAll and
// the account after the change: no session outlives a change on the strength
// of what the account was before it.
//
// Thread-safety: immutable after construction; each call runs in the
// caller's transaction, or in one of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/clock.h"
#include "storage/expiring_kv.h"
#include "storage/status.h"

namespace regd::account {

// Where a session was opened from, as the sessions page shows it.
struct SessionClient {
  std::string address;     // the client's IP address (stored masked)
  std::string user_agent;  // as sent (stored cut)
};

// A live session of an account, as GET /sessions/ lists it.
struct SessionInfo {
  std::string handle;
  int64_t created_ms = 0;
  int64_t last_seen_ms = 0;
  std::string ip;  // masked
  std::string user_agent;
  std::string key_hash;  // hex hash of the cookie id (never shown)
};

// What a cookie names: its account and its handle (empty for a session from
// before handles).
struct SessionRef {
  int64_t user_id = 0;
  std::string handle;
};

// 203.0.113.7 -> "203.0.113.*"; 2001:db8:1:2::5 -> "2001:db8:1::*"; anything
// else -> "*".
std::string MaskAddress(std::string_view address);

class SessionBook {
 public:
  static constexpr size_t kMaxPerUser = 64;
  static constexpr size_t kMaxUserAgent = 256;
  static constexpr int64_t kTouchEveryMs = 60'000;
  // Far longer than any login takes between reading the epoch and opening.
  static constexpr int64_t kEpochTtlMs = 86'400'000;

  SessionBook(storage::ExpiringKv* kv, const Clock* clock) : kv_(kv), clock_(clock) {}

  // A new cookie id (32 random bytes, base64url) and whether id has that shape.
  static std::string NewId();
  static bool IsIdShaped(std::string_view id);

  // Stores a session for user_id with cookie id until expires_ms, in txn;
  // ends the account's oldest sessions beyond kMaxPerUser - 1 first.
  Status Open(storage::Txn& txn, int64_t user_id, std::string_view id, int64_t expires_ms,
              const SessionClient& client);
  // The session a cookie names, or nullopt (unknown, expired, ill-shaped).
  // With touch, records it as seen now if it was last seen kTouchEveryMs ago
  // or more (a write of its own).
  Result<std::optional<SessionRef>> Find(std::string_view id, bool touch);
  // Ends the session with cookie id in txn (no error if there is none).
  Status End(storage::Txn& txn, std::string_view id);
  // Ends user_id's session handle in txn; kNotFound if it has none such.
  Status EndByHandle(storage::Txn& txn, int64_t user_id, std::string_view handle);
  // Ends every session of user_id but the one with handle keep (empty: all)
  // and gives the account a new epoch.
  Status EndAll(storage::Txn& txn, int64_t user_id, std::string_view keep);
  // user_id's epoch ("" before its first EndAll), in txn or in a read of its own.
  Result<std::string> Epoch(storage::Txn& txn, int64_t user_id);
  Result<std::string> Epoch(int64_t user_id);
  // kConflict if user_id's epoch in txn is not epoch: an EndAll came between.
  Status CheckEpoch(storage::Txn& txn, int64_t user_id, std::string_view epoch);
  // Gives every session written without a handle its handle and index entry
  // (at most kMaxPerUser per account, as Open keeps); returns how many it
  // adopted. Reads every sess: key, a page per read transaction, and writes
  // only the pages that hold such sessions.
  Result<size_t> AdoptAll();
  // user_id's live sessions, newest first.
  Result<std::vector<SessionInfo>> List(storage::Txn& txn, int64_t user_id);

 private:
  // Writes a session's two keys with a new handle, created now or at
  // not_before_ms if that is later; returns the handle.
  Result<std::string> Index(storage::Txn& txn, int64_t user_id, const std::string& key_hash,
                            int64_t expires_ms, const SessionClient& client,
                            int64_t not_before_ms = 0);
  // Stores a session under key_hash for user_id (its sess: key is written
  // too), ending the account's oldest beyond kMaxPerUser - 1 first.
  Status Add(storage::Txn& txn, int64_t user_id, const std::string& key_hash, int64_t expires_ms,
             const SessionClient& client);

  storage::ExpiringKv* const kv_;
  const Clock* const clock_;
};

}  // namespace regd::account
