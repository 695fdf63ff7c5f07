// Key64: a uint64 as the 8-byte big-endian key LMDB tables sort by (job ids,
// expiry times), for tests that read or write the tables' raw records.
#pragma once

#include <cstdint>
#include <string>

#include "storage/lmdb_env.h"

namespace regd::testing {

inline std::string Key64(uint64_t v) {
  std::string k;
  regd::storage::PutBigEndian64(&k, v);
  return k;
}

}  // namespace regd::testing
