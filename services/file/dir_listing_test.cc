#include "services/file/dir_listing.h"

#include <fcntl.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

class DirListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"d", "b", "e", "a", "c"}) {
      TestTree::WriteFile(tree_.InRoot(name), name);
    }
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  absl::StatusOr<DirListing> ListRoot(size_t max_entries, absl::string_view start_after,
                                      absl::string_view hidden_prefix = "") {
    ScopedFd fd(::open(tree_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    return ReadDirectory(std::move(fd), ".", max_entries, start_after, hidden_prefix);
  }

  static std::vector<std::string> Names(const DirListing& listing) {
    std::vector<std::string> names;
    for (const DirEntry& entry : listing.entries) names.push_back(entry.name);
    return names;
  }

  TestTree tree_;
};

TEST_F(DirListingTest, ListsEverythingSortedWhenItFits) {
  auto listing = ListRoot(10, "");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(Names(*listing), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_FALSE(listing->truncated);
  EXPECT_EQ(listing->entries[0].info.type, FileType::kRegular);
  EXPECT_EQ(listing->entries[0].info.size, 1u);
}

TEST_F(DirListingTest, ExactlyFullIsNotTruncated) {
  auto listing = ListRoot(5, "");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(listing->entries.size(), 5u);
  EXPECT_FALSE(listing->truncated);
}

TEST_F(DirListingTest, PagesThroughInOrder) {
  std::vector<std::string> all;
  std::string start_after;
  int pages = 0;
  for (;; ++pages) {
    auto listing = ListRoot(2, start_after);
    ASSERT_TRUE(listing.ok()) << listing.status();
    for (const DirEntry& entry : listing->entries) all.push_back(entry.name);
    if (!listing->truncated) break;
    ASSERT_FALSE(listing->entries.empty());
    start_after = listing->entries.back().name;
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(all, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST_F(DirListingTest, StartAfterSkipsSmallerAndEqualNames) {
  auto listing = ListRoot(10, "c");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(Names(*listing), (std::vector<std::string>{"d", "e"}));
  EXPECT_FALSE(listing->truncated);
}

// Hidden names take no place in a page: five visible names fill a page of five exactly.
TEST_F(DirListingTest, HiddenNamesNeitherAppearNorCount) {
  for (const char* name : {".h1", ".h2", ".hz"}) TestTree::WriteFile(tree_.InRoot(name), name);
  auto listing = ListRoot(5, "", ".h");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(Names(*listing), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_FALSE(listing->truncated);
  auto everything = ListRoot(10, "");
  ASSERT_TRUE(everything.ok()) << everything.status();
  EXPECT_EQ(everything->entries.size(), 8u);
}

TEST_F(DirListingTest, SymlinksAreReportedNotFollowed) {
  TestTree::Symlink(tree_.canary(), tree_.InRoot("z_link"));
  auto listing = ListRoot(10, "e");
  ASSERT_TRUE(listing.ok()) << listing.status();
  ASSERT_EQ(listing->entries.size(), 1u);
  EXPECT_EQ(listing->entries[0].name, "z_link");
  EXPECT_EQ(listing->entries[0].info.type, FileType::kSymlink);
  EXPECT_EQ(listing->entries[0].info.size, tree_.canary().size());
}

}  // namespace
}  // namespace framerpc::file
