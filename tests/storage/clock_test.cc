#include "storage/clock.h"

#include <catch2/catch.hpp>

TEST_CASE("IsoUtc writes Unix ms as ISO 8601 UTC to the second", "[clock]") {
  CHECK(regd::IsoUtc(0) == "1970-01-01T00:00:00Z");
  CHECK(regd::IsoUtc(1'795'754'779'999) == "2026-11-27T04:46:19Z");  // ms are cut, not rounded
}

TEST_CASE("the system clock reads Unix time in ms", "[clock]") {
  int64_t now = regd::SystemClock::Get()->NowMs();
  CHECK(now > 1'767'225'600'000);  // after 2026-01-01
  CHECK(regd::IsoUtc(now).size() == 20);
}
