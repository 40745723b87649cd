// Pieces of lib/server/ that need no socket: the rate limiter.

#include <catch2/catch.hpp>

#include "lib/server/context.h"

namespace voisinage {
namespace {

TEST_CASE("the rate limiter allows bursts of two seconds, then asks to wait", "[server]") {
  RateLimiter limiter(5);
  for (int i = 0; i < 10; ++i) CHECK(limiter.Take("10.0.0.1") == 0);
  const int wait = limiter.Take("10.0.0.1");
  CHECK(wait >= 1);
  CHECK(wait <= 1);
  // Another client has its own bucket.
  CHECK(limiter.Take("10.0.0.2") == 0);
}

TEST_CASE("a rate of zero means no limit", "[server]") {
  RateLimiter unlimited(0);
  for (int i = 0; i < 10000; ++i) REQUIRE(unlimited.Take("client") == 0);
}

TEST_CASE("a slow rate gives a longer Retry-After", "[server]") {
  RateLimiter slow(0.1);  // one request every ten seconds; a burst is at least one request
  CHECK(slow.Take("x") == 0);
  CHECK(slow.Take("x") >= 9);
}

}  // namespace
}  // namespace voisinage
