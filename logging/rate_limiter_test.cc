#include "logging/rate_limiter.h"

#include "gtest/gtest.h"

namespace framerpc::logging {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000000);

TEST(RateLimiterTest, BurstThenRateAndTheHeldBackAreCounted) {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3);
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Admit(kStart, &suppressed)) << i;
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Admit(kStart, &suppressed));
  EXPECT_FALSE(limiter.Admit(kStart + absl::Milliseconds(400), &suppressed));  // 0.8 tokens
  ASSERT_TRUE(limiter.Admit(kStart + absl::Milliseconds(500), &suppressed));    // 1 token
  EXPECT_EQ(suppressed, 6u);
  // A long quiet time refills the burst, no more.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Admit(kStart + absl::Hours(1), &suppressed)) << i;
    EXPECT_EQ(suppressed, 0u);
  }
  EXPECT_FALSE(limiter.Admit(kStart + absl::Hours(1), &suppressed));
  EXPECT_EQ(limiter.TakeSuppressed(), 1u);
  EXPECT_EQ(limiter.TakeSuppressed(), 0u);
  EXPECT_EQ(limiter.suppressed_total(), 7u);
}

TEST(RateLimiterTest, ClockGoingBackwardsGivesNothing) {
  RateLimiter limiter(1, 1);
  uint64_t suppressed = 0;
  EXPECT_TRUE(limiter.Admit(kStart, &suppressed));
  EXPECT_FALSE(limiter.Admit(kStart - absl::Hours(1), &suppressed));
  EXPECT_FALSE(limiter.Admit(kStart + absl::Milliseconds(500), &suppressed));
  EXPECT_TRUE(limiter.Admit(kStart + absl::Seconds(1), &suppressed));
  EXPECT_EQ(suppressed, 2u);
}

TEST(RateLimiterTest, Unlimited) {
  RateLimiter limiter(0, 1);
  uint64_t suppressed = 0;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Admit(kStart, &suppressed));
  EXPECT_EQ(limiter.suppressed_total(), 0u);
}

}  // namespace
}  // namespace framerpc::logging
