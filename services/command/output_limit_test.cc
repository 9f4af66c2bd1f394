#include "services/command/output_limit.h"

#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

TEST(OutputLimitTest, AdmitsUpToTheLimitThenCuts) {
  OutputLimit limit(10);
  EXPECT_EQ(limit.Admit(4), 4u);
  EXPECT_FALSE(limit.truncated());
  EXPECT_EQ(limit.Admit(6), 6u);
  EXPECT_FALSE(limit.truncated());  // exactly the limit
  EXPECT_EQ(limit.Admit(1), 0u);
  EXPECT_TRUE(limit.truncated());
  EXPECT_EQ(limit.delivered(), 10u);
}

TEST(OutputLimitTest, CutsInsideAChunk) {
  OutputLimit limit(10);
  EXPECT_EQ(limit.Admit(7), 7u);
  EXPECT_EQ(limit.Admit(7), 3u);
  EXPECT_TRUE(limit.truncated());
  EXPECT_EQ(limit.Admit(7), 0u);
  EXPECT_EQ(limit.delivered(), 10u);
}

TEST(OutputLimitTest, ZeroLimit) {
  OutputLimit limit(0);
  EXPECT_EQ(limit.Admit(0), 0u);
  EXPECT_FALSE(limit.truncated());
  EXPECT_EQ(limit.Admit(1), 0u);
  EXPECT_TRUE(limit.truncated());
}

}  // namespace
}  // namespace framerpc::command
