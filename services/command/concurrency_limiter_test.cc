#include "services/command/concurrency_limiter.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "base/notification.h"
#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

TEST(ConcurrencyLimiterTest, RefusesOverTheLimitUntilReleased) {
  ConcurrencyLimiter limiter(2);
  absl::StatusOr<ConcurrencyLimiter::Permit> a = limiter.TryAcquire();
  absl::StatusOr<ConcurrencyLimiter::Permit> b = limiter.TryAcquire();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(limiter.in_use(), 2);
  absl::StatusOr<ConcurrencyLimiter::Permit> c = limiter.TryAcquire();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(c.status().message(), "too many commands running (limit 2)");

  a = absl::UnknownError("released");  // destroys the permit
  EXPECT_EQ(limiter.in_use(), 1);
  EXPECT_TRUE(limiter.TryAcquire().ok());  // acquired and released at once
  EXPECT_EQ(limiter.in_use(), 1);
}

TEST(ConcurrencyLimiterTest, MovedPermitReleasesOnce) {
  ConcurrencyLimiter limiter(1);
  {
    absl::StatusOr<ConcurrencyLimiter::Permit> permit = limiter.TryAcquire();
    ASSERT_TRUE(permit.ok());
    ConcurrencyLimiter::Permit moved = std::move(*permit);
    EXPECT_EQ(limiter.in_use(), 1);
    ConcurrencyLimiter::Permit assigned = std::move(moved);
    EXPECT_EQ(limiter.in_use(), 1);
  }
  EXPECT_EQ(limiter.in_use(), 0);
}

TEST(ConcurrencyLimiterTest, MoveAssignmentReleasesTheOverwrittenPermit) {
  ConcurrencyLimiter limiter(2);
  absl::StatusOr<ConcurrencyLimiter::Permit> a = limiter.TryAcquire();
  absl::StatusOr<ConcurrencyLimiter::Permit> b = limiter.TryAcquire();
  ASSERT_TRUE(a.ok() && b.ok());
  *a = std::move(*b);
  EXPECT_EQ(limiter.in_use(), 1);
}

TEST(ConcurrencyLimiterTest, ZeroLimitRefusesEverything) {
  ConcurrencyLimiter limiter(0);
  EXPECT_EQ(limiter.TryAcquire().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ConcurrencyLimiterTest, NeverExceedsTheLimitUnderContention) {
  constexpr int kLimit = 3;
  constexpr int kThreads = 8;
  constexpr int kIterations = 2000;
  ConcurrencyLimiter limiter(kLimit);
  std::atomic<int> holding{0};
  std::atomic<int> max_holding{0};
  std::atomic<int> granted{0};
  Notification start;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.WaitForNotification();
      for (int i = 0; i < kIterations; ++i) {
        absl::StatusOr<ConcurrencyLimiter::Permit> permit = limiter.TryAcquire();
        if (!permit.ok()) continue;
        granted.fetch_add(1);
        const int now = holding.fetch_add(1) + 1;
        int seen = max_holding.load();
        while (now > seen && !max_holding.compare_exchange_weak(seen, now)) {
        }
        holding.fetch_sub(1);
      }
    });
  }
  start.Notify();
  for (std::thread& t : threads) t.join();
  EXPECT_LE(max_holding.load(), kLimit);
  EXPECT_GT(granted.load(), 0);
  EXPECT_EQ(limiter.in_use(), 0);
}

}  // namespace
}  // namespace framerpc::command
