#include "queue/token_bucket.h"

#include <catch2/catch.hpp>

using regd::queue::ParseRate;
using regd::queue::TokenBucket;

TEST_CASE("a token bucket allows its burst at once, then its rate", "[token_bucket]") {
  TokenBucket b(10, 3);  // 10/s, burst 3
  int64_t t = 1'000'000;
  CHECK(b.TryTake(t) == 0);
  CHECK(b.TryTake(t) == 0);
  CHECK(b.TryTake(t) == 0);
  int64_t wait = b.TryTake(t);
  CHECK(wait == 100);              // one token every 100 ms
  CHECK(b.TryTake(t + 99) > 0);    // not yet
  CHECK(b.TryTake(t + 100) == 0);  // now
}

TEST_CASE("a token bucket never holds more than its burst", "[token_bucket]") {
  TokenBucket b(100, 2);
  int64_t t = 0;
  CHECK(b.TryTake(t) == 0);
  t += 60'000;  // a long quiet time refills only up to the burst
  CHECK(b.TryTake(t) == 0);
  CHECK(b.TryTake(t) == 0);
  CHECK(b.TryTake(t) > 0);
}

TEST_CASE("reservations take tokens that are not there yet, one after another", "[token_bucket]") {
  TokenBucket b(10, 1);  // 10/s, burst 1
  int64_t t = 1'000'000;
  auto r = b.Reserve(t, 1000);
  CHECK(r.reserved);
  CHECK(r.wait_ms == 0);
  // Ten threads asking at the same moment get ten different slots, 100 ms
  // apart: none of them is promised a token another one gets.
  for (int i = 1; i <= 10; ++i) {
    r = b.Reserve(t, 1000);
    CHECK(r.reserved);
    CHECK(r.wait_ms == 100 * i);
  }
  r = b.Reserve(t, 1000);  // the next slot is further than the most it would wait
  CHECK_FALSE(r.reserved);
  CHECK(r.wait_ms == 1100);
  CHECK(b.TryTake(t + 900) > 0);                 // the promised tokens are not there for others
  CHECK_FALSE(b.Reserve(t + 1000, 0).reserved);  // the tenth slot's
  CHECK(b.Reserve(t + 1100, 0).reserved);
}

TEST_CASE("rates parse per second, minute and hour", "[token_bucket]") {
  double r = 0;
  REQUIRE(ParseRate("20/s", &r));
  CHECK(r == Approx(20));
  REQUIRE(ParseRate("300/m", &r));
  CHECK(r == Approx(5));
  REQUIRE(ParseRate("3600/h", &r));
  CHECK(r == Approx(1));
  REQUIRE(ParseRate("7", &r));
  CHECK(r == Approx(7));
  CHECK_FALSE(ParseRate("", &r));
  CHECK_FALSE(ParseRate("0/s", &r));
  CHECK_FALSE(ParseRate("-1/s", &r));
  CHECK_FALSE(ParseRate("5/d", &r));
  CHECK_FALSE(ParseRate("fast", &r));
}
