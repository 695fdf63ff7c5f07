// FormatCheck: what a store's own Check found in its on-disk data, and the
// small tools those checks share. Each on-disk format is checked by the code
// that writes it (ExpiringKv::Check, JobQueue::Check, UserStore::Check);
// `regd check` (app/data_check) only opens the files and gathers the
// findings.
//
// A finding is either a problem (damage: data the owner would lose, misread
// or never act on) or a note (an oddity the owner tolerates and clears by
// itself). Finding text is for people: it names the DBI or table and never
// shows keys that hold personal data (mobiles, session hashes).
//
// Thread-safety: plain values and functions; a Txn belongs to one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/lmdb_env.h"
#include "storage/status.h"

namespace regd::storage {

struct Findings {
  std::vector<std::string> problems;  // damage; empty when healthy
  std::vector<std::string> notes;     // harmless oddities
};

// Counts findings of one kind and keeps the first example, so a badly
// damaged store gives one line per kind ("jobs: record 9 cannot be decoded
// (and 41 more)"), not one per entry.
class Tally {
 public:
  explicit Tally(std::string what) : what_(std::move(what)) {}
  void Add(const std::string& example) {
    if (n_++ == 0) first_ = example;
  }
  // Appends the line, if anything was added.
  void ReportTo(std::vector<std::string>& out) const;

 private:
  std::string what_;
  std::string first_;
  size_t n_ = 0;
};

// Calls fn for every entry of dbi in key order; a failing read (a damaged
// page) is the returned error.
Status WalkDb(Txn& txn, MDB_dbi dbi,
              const std::function<void(std::string_view key, std::string_view value)>& fn);
// Whether dbi holds key; a failing read counts as absent.
bool HasKey(Txn& txn, MDB_dbi dbi, std::string_view key);

}  // namespace regd::storage
