#include "bench/stats.h"

#include "gtest/gtest.h"

namespace framerpc::bench {
namespace {

TEST(PercentileTest, NearestRank) {
  std::vector<int64_t> values;
  for (int64_t i = 100; i >= 1; --i) values.push_back(i);
  EXPECT_EQ(Percentile(&values, 0.50), 50);
  EXPECT_EQ(Percentile(&values, 0.99), 99);
  EXPECT_EQ(Percentile(&values, 1.0), 100);
}

TEST(PercentileTest, SmallAndEmpty) {
  std::vector<int64_t> empty;
  EXPECT_EQ(Percentile(&empty, 0.5), 0);
  std::vector<int64_t> one = {7};
  EXPECT_EQ(Percentile(&one, 0.5), 7);
  EXPECT_EQ(Percentile(&one, 0.99), 7);
}

TEST(SummarizeTest, RateAndMicroseconds) {
  Samples samples{std::vector<int64_t>(1000, 20000), absl::Seconds(2)};  // 20 us each
  const RowResult row = Summarize(samples);
  EXPECT_EQ(row.calls, 1000);
  EXPECT_DOUBLE_EQ(row.calls_per_sec, 500);
  EXPECT_DOUBLE_EQ(row.p50_us, 20);
  EXPECT_DOUBLE_EQ(row.p99_us, 20);
}

TEST(SamplesTest, AppendConcatenatesWindows) {
  Samples a{{1, 2}, absl::Seconds(1)};
  a.Append(Samples{{3}, absl::Seconds(2)});
  EXPECT_EQ(a.latencies_ns, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.elapsed, absl::Seconds(3));
}

TEST(RatioTest, ZeroDenominator) {
  EXPECT_DOUBLE_EQ(Ratio(3, 0), 0);
  EXPECT_DOUBLE_EQ(Ratio(3, 2), 1.5);
}

}  // namespace
}  // namespace framerpc::bench
