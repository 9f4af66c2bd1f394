#include "base/sharded_counters.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(ShardedCountersTest, SumsEveryThreadsAdds) {
  ShardedCounters counters(20);  // more than one cache line's worth
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {  // more threads than shards: some share one
    threads.emplace_back([&counters, t] {
      for (int i = 0; i < 10000; ++i) {
        counters.Add(0);
        counters.Add(19, 3);
        counters.Add(static_cast<size_t>(t % 20));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counters.Sum(19), 12u * 10000 * 3);
  EXPECT_EQ(counters.Sum(0), 12u * 10000 + 10000);  // thread 0 adds to index 0 twice
  EXPECT_EQ(counters.Sum(5), 10000u);
  EXPECT_EQ(counters.Sum(13), 0u);
  EXPECT_EQ(counters.size(), 20u);
}

}  // namespace
}  // namespace framerpc
