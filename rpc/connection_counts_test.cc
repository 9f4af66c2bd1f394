#include "rpc/connection_counts.h"

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(ConnectionCountsTest, TotalAndPerPeerLimits) {
  ConnectionCounts counts(/*max_total=*/3, /*max_per_peer=*/2);
  EXPECT_EQ(counts.TryAdmit("a"), ConnectionCounts::Verdict::kAdmit);
  EXPECT_EQ(counts.TryAdmit("a"), ConnectionCounts::Verdict::kAdmit);
  EXPECT_EQ(counts.TryAdmit("a"), ConnectionCounts::Verdict::kOverPeer);
  EXPECT_EQ(counts.TryAdmit("b"), ConnectionCounts::Verdict::kAdmit);
  EXPECT_EQ(counts.TryAdmit("c"), ConnectionCounts::Verdict::kOverTotal);
  EXPECT_EQ(counts.total(), 3u);
  EXPECT_EQ(counts.from("a"), 2u);
  counts.Remove("a");
  EXPECT_EQ(counts.TryAdmit("c"), ConnectionCounts::Verdict::kAdmit);
  counts.Add("c");  // in place of one being shed: over the total for a moment
  EXPECT_EQ(counts.total(), 4u);
  counts.Remove("nobody");  // not counted: no effect
  EXPECT_EQ(counts.total(), 4u);
}

TEST(ConnectionCountsTest, NoPerPeerLimitWhenZero) {
  ConnectionCounts counts(100, 0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(counts.TryAdmit("a"), ConnectionCounts::Verdict::kAdmit);
  EXPECT_EQ(counts.TryAdmit("a"), ConnectionCounts::Verdict::kOverTotal);
}

}  // namespace
}  // namespace framerpc
