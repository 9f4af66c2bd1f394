// Upload atomicity: nothing at the target until Commit, nothing left behind by an abandoned
// upload, no-overwrite and overwrite semantics. Runs under every TestMode.
#include "services/file/pending_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/file/root_dir.h"
#include "services/file/temp_name.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

class PendingFileTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("d"));
    RootDirOptions options;
    options.writable = true;
    options.file_mode = 0640;
    ApplyTestMode(GetParam(), &options);
    auto root = RootDir::Open(tree_.root(), options);
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = std::move(root).value();
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  std::unique_ptr<PendingFile> Upload(absl::string_view path, absl::string_view content) {
    auto pending = root_->CreateTemp(path);
    EXPECT_TRUE(pending.ok()) << pending.status();
    if (!pending.ok()) return nullptr;
    TestTree::WriteAll((*pending)->fd(), content);
    return std::move(pending).value();
  }

  TestTree tree_;
  std::unique_ptr<RootDir> root_;
};

TEST_P(PendingFileTest, NothingAtTheTargetBeforeCommitAndNothingLeftWhenAbandoned) {
  std::unique_ptr<PendingFile> pending = Upload("d/new.txt", "partial");
  ASSERT_NE(pending, nullptr);
  EXPECT_EQ(pending->path(), "d/new.txt");
  EXPECT_TRUE(HasStatus(root_->Stat("d/new.txt").status(), Code::kNotFound));
  const Names during = TestTree::ListNames(tree_.InRoot("d"));
  if (GetParam().proc) {
    EXPECT_EQ(during, Names{});  // The data has no name at all.
  } else {
    ASSERT_EQ(during.size(), 1u);
    EXPECT_TRUE(absl::StartsWith(during[0], kTempNamePrefix)) << during[0];
  }
  pending.reset();
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("d")), Names{});
}

TEST_P(PendingFileTest, CommitPublishesTheWholeFileAndNothingElse) {
  std::unique_ptr<PendingFile> pending = Upload("d/new.txt", "all of it");
  ASSERT_NE(pending, nullptr);
  ASSERT_TRUE(pending->Commit(false).ok());
  EXPECT_TRUE(pending->committed());
  EXPECT_EQ(pending->fd(), -1);
  pending.reset();
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("d")), Names{"new.txt"});
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("d/new.txt")), "all of it");
  struct stat st;
  ASSERT_EQ(::stat(tree_.InRoot("d/new.txt").c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0640u & ~mask);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_P(PendingFileTest, UploadsToTheRootDirectoryItself) {
  std::unique_ptr<PendingFile> pending = Upload("top.txt", "top");
  ASSERT_NE(pending, nullptr);
  ASSERT_TRUE(pending->Commit(false).ok());
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("top.txt")), "top");
}

TEST_P(PendingFileTest, NoOverwriteLeavesTheOriginalThenOverwriteReplacesIt) {
  TestTree::WriteFile(tree_.InRoot("d/f.txt"), "original");
  std::unique_ptr<PendingFile> pending = Upload("d/f.txt", "replacement");
  ASSERT_NE(pending, nullptr);
  EXPECT_TRUE(HasStatus(pending->Commit(false), Code::kAlreadyExists, "'d/f.txt' already exists"));
  EXPECT_FALSE(pending->committed());
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("d/f.txt")), "original");
  ASSERT_TRUE(pending->Commit(true).ok());  // Retrying with overwrite is allowed.
  pending.reset();
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("d/f.txt")), "replacement");
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("d")), Names{"f.txt"});
}

// rename(2) semantics: a reader of the old file keeps it whole; new readers get the new one.
TEST_P(PendingFileTest, OverwriteIsAtomic) {
  TestTree::WriteFile(tree_.InRoot("d/f.txt"), "old");
  auto old_reader = root_->OpenForRead("d/f.txt");
  ASSERT_TRUE(old_reader.ok()) << old_reader.status();
  std::unique_ptr<PendingFile> pending = Upload("d/f.txt", "new contents");
  ASSERT_NE(pending, nullptr);
  ASSERT_TRUE(pending->Commit(true).ok());
  EXPECT_EQ(TestTree::ReadAll(old_reader->get()), "old");
  auto new_reader = root_->OpenForRead("d/f.txt");
  ASSERT_TRUE(new_reader.ok()) << new_reader.status();
  EXPECT_EQ(TestTree::ReadAll(new_reader->get()), "new contents");
  pending.reset();
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("d")), Names{"f.txt"});
}

TEST_P(PendingFileTest, CommitOntoADirectoryIsRefused) {
  TestTree::MakeDir(tree_.InRoot("d/sub"));
  std::unique_ptr<PendingFile> pending = Upload("d/sub", "x");
  ASSERT_NE(pending, nullptr);
  EXPECT_TRUE(HasStatus(pending->Commit(false), Code::kAlreadyExists));
  EXPECT_TRUE(HasStatus(pending->Commit(true), Code::kFailedPrecondition));
  pending.reset();
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("d")), Names{"sub"});
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("d/sub")), Names{});
}

TEST_P(PendingFileTest, CommitTwiceIsAFailedPrecondition) {
  std::unique_ptr<PendingFile> pending = Upload("d/once.txt", "1");
  ASSERT_NE(pending, nullptr);
  ASSERT_TRUE(pending->Commit(false).ok());
  EXPECT_TRUE(HasStatus(pending->Commit(true), Code::kFailedPrecondition, "already committed"));
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("d/once.txt")), "1");
}

TEST_P(PendingFileTest, EmptyUploadsCommitAnEmptyFile) {
  std::unique_ptr<PendingFile> pending = Upload("d/empty", "");
  ASSERT_NE(pending, nullptr);
  ASSERT_TRUE(pending->Commit(false).ok());
  EXPECT_EQ(root_->Stat("d/empty")->size, 0u);
}

TEST_P(PendingFileTest, ManyAbandonedUploadsLeaveNothing) {
  std::vector<std::unique_ptr<PendingFile>> uploads;
  for (int i = 0; i < 20; ++i) uploads.push_back(Upload("d/same.txt", "x"));
  uploads.clear();
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("d")), Names{});
}

TEST(TempNameTest, NamesAreHiddenAndDistinct) {
  const std::string a = NewTempName();
  const std::string b = NewTempName();
  EXPECT_TRUE(absl::StartsWith(a, ".frpc-upload-"));
  EXPECT_EQ(a.size(), sizeof(kTempNamePrefix) - 1 + 16);
  EXPECT_NE(a, b);
}

INSTANTIATE_TEST_SUITE_P(AllModes, PendingFileTest, ::testing::ValuesIn(AllTestModes()),
                         TestModeName);

}  // namespace
}  // namespace framerpc::file
