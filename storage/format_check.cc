#include "storage/format_check.h"

namespace regd::storage {

void Tally::ReportTo(std::vector<std::string>& out) const {
  if (n_ == 0) return;
  out.push_back(what_ + ": " + first_ +
                (n_ > 1 ? " (and " + std::to_string(n_ - 1) + " more)" : ""));
}

Status WalkDb(Txn& txn, MDB_dbi dbi,
              const std::function<void(std::string_view, std::string_view)>& fn) {
  auto cur = Cursor::Open(txn, dbi);
  if (!cur.ok()) return cur.status();
  auto more = cur->First();
  for (; more.ok() && *more; more = cur->Next()) fn(cur->key(), cur->value());
  return more.status();
}

bool HasKey(Txn& txn, MDB_dbi dbi, std::string_view key) {
  auto v = txn.Get(dbi, key);
  return v.ok() && v->has_value();
}

}  // namespace regd::storage
