#include "cli/args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace framerpc::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(TakeRepeatedFlagTest, TakesEverySpellingAndKeepsTheRest) {
  std::vector<std::string> args = {
      "prog", "--metadata=a=1", "call", "-metadata=b=2",     "--metadata",
      "c=3",  "--address",      "x",    "--metadata_other=1"};
  EXPECT_THAT(TakeRepeatedFlag("metadata", &args), ElementsAre("a=1", "b=2", "c=3"));
  EXPECT_THAT(args, ElementsAre("prog", "call", "--address", "x", "--metadata_other=1"));
}

TEST(TakeRepeatedFlagTest, StopsAtTerminatorAndLeavesDanglingFlag) {
  std::vector<std::string> args = {"prog", "--metadata", "--", "--metadata=a=1", "-"};
  EXPECT_TRUE(TakeRepeatedFlag("metadata", &args).empty());
  EXPECT_THAT(args, ElementsAre("prog", "--metadata", "--", "--metadata=a=1", "-"));

  std::vector<std::string> trailing = {"prog", "--metadata"};
  EXPECT_TRUE(TakeRepeatedFlag("metadata", &trailing).empty());
  EXPECT_THAT(trailing, ElementsAre("prog", "--metadata"));
}

TEST(ParseMetadataTest, SplitsCommasAndFirstEquals) {
  absl::StatusOr<Metadata> metadata = ParseMetadata({"a=1,b=x=y", "c=", "a=2"});
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_THAT(*metadata,
              ElementsAre(Pair("a", "1"), Pair("b", "x=y"), Pair("c", ""), Pair("a", "2")));
}

TEST(ParseMetadataTest, RejectsEntriesWithoutKey) {
  for (const char* bad : {"novalue", "=v", "a=1,oops"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseMetadata({bad}).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace framerpc::cli
