// RequireOk: unwraps a Result<T> inside a Catch2 test. On an error it fails
// the running test (REQUIRE) and reports the Status; otherwise it returns the
// value, moved out of the Result.
//
// Thread-safety: call only on the thread running the test (Catch2's
// assertions are not thread-safe).
#pragma once

#include <catch2/catch.hpp>
#include <utility>

#include "storage/status.h"

namespace regd::testing {

template <typename T>
T RequireOk(Result<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return std::move(result).value();
}

}  // namespace regd::testing
