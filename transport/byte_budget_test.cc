#include "transport/byte_budget.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(ByteBudgetTest, ReservationsStayUnderTheLimit) {
  ByteBudget budget(800);
  EXPECT_TRUE(budget.TryReserve(500));
  EXPECT_FALSE(budget.TryReserve(301));
  EXPECT_TRUE(budget.TryReserve(300));
  EXPECT_FALSE(budget.TryReserve(1));
  EXPECT_FALSE(budget.over());
  budget.ForceReserve(10);  // queued output that is already there
  EXPECT_TRUE(budget.over());
  EXPECT_EQ(budget.used(), 810u);
  budget.Release(810);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_FALSE(budget.TryReserve(801));  // more than the whole budget: never
}

TEST(ByteBudgetTest, WaitersAreWokenAtTheLowWaterMarkOnce) {
  ByteBudget budget(800);  // low water 700
  ASSERT_TRUE(budget.TryReserve(800));
  int woken = 0;
  budget.WaitForRoom([&] { ++woken; });
  budget.WaitForRoom([&] { ++woken; });
  budget.Release(50);  // 750: not yet
  EXPECT_EQ(woken, 0);
  budget.Release(50);  // 700
  EXPECT_EQ(woken, 2);
  budget.Release(100);
  EXPECT_EQ(woken, 2);  // each once
  budget.WaitForRoom([&] { ++woken; });  // room already: at once
  EXPECT_EQ(woken, 3);
}

TEST(ByteBudgetTest, ConcurrentReservationsNeverOvershoot) {
  ByteBudget budget(1000);
  std::atomic<size_t> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        if (budget.TryReserve(7)) {
          taken.fetch_add(7);
          EXPECT_LE(budget.used(), 1000u);
          budget.Release(7);
          taken.fetch_sub(7);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace framerpc
