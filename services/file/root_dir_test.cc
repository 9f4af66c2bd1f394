// RootDir's ordinary behaviour (no attacks): stat, read, list, mkdir, remove, the root itself,
// symlinks inside the root, read-only refusals. Runs under every TestMode.
#include "services/file/root_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

class RootDirTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("a"));
    TestTree::WriteFile(tree_.InRoot("a/file.txt"), "hello");
    TestTree::MakeDir(tree_.InRoot("b"));
    TestTree::WriteFile(tree_.InRoot("b/other.txt"), "other");
    root_ = OpenRoot(/*writable=*/true, /*follow_symlinks=*/true);
    ASSERT_NE(root_, nullptr);
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  std::unique_ptr<RootDir> OpenRoot(bool writable, bool follow_symlinks) {
    RootDirOptions options;
    options.writable = writable;
    options.follow_symlinks = follow_symlinks;
    ApplyTestMode(GetParam(), &options);
    auto root = RootDir::Open(tree_.root(), options);
    EXPECT_TRUE(root.ok()) << root.status();
    return root.ok() ? std::move(root).value() : nullptr;
  }

  std::string ReadThrough(const RootDir& root, absl::string_view path) {
    auto fd = root.OpenForRead(path);
    EXPECT_TRUE(fd.ok()) << path << ": " << fd.status();
    return fd.ok() ? TestTree::ReadAll(fd->get()) : "";
  }

  static Names NamesOf(const DirListing& listing) {
    Names names;
    for (const DirEntry& entry : listing.entries) names.push_back(entry.name);
    return names;
  }

  TestTree tree_;
  std::unique_ptr<RootDir> root_;
};

TEST_P(RootDirTest, ResolvesWithTheRequestedMechanism) {
  EXPECT_EQ(root_->uses_openat2(), !GetParam().fallback_walk);
}

TEST_P(RootDirTest, OpenForReadReadsTheFile) {
  EXPECT_EQ(ReadThrough(*root_, "a/file.txt"), "hello");
  EXPECT_EQ(ReadThrough(*root_, "a/../b/./other.txt"), "other");
}

TEST_P(RootDirTest, OpenForReadGivesABlockingCloseOnExecFd) {
  auto fd = root_->OpenForRead("a/file.txt");
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(::fcntl(fd->get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_P(RootDirTest, OpenForReadRefusesDirectoriesAndSpecialFiles) {
  EXPECT_TRUE(
      HasStatus(root_->OpenForRead("a").status(), Code::kFailedPrecondition, "is a directory"));
  EXPECT_TRUE(HasStatus(root_->OpenForRead(".").status(), Code::kFailedPrecondition));
  ASSERT_EQ(::mkfifo(tree_.InRoot("fifo").c_str(), 0644), 0);
  // Never opened for data (special_file_attack_test): refused after an O_PATH open and fstat.
  EXPECT_TRUE(HasStatus(root_->OpenForRead("fifo").status(), Code::kFailedPrecondition,
                        "not a regular file"));
}

TEST_P(RootDirTest, MissingFilesAreNotFound) {
  EXPECT_TRUE(HasStatus(root_->Stat("missing").status(), Code::kNotFound, "'missing'"));
  EXPECT_TRUE(HasStatus(root_->OpenForRead("a/missing").status(), Code::kNotFound));
  EXPECT_TRUE(HasStatus(root_->List("nodir").status(), Code::kNotFound));
  EXPECT_TRUE(HasStatus(root_->Stat("nodir/x").status(), Code::kNotFound));
  EXPECT_TRUE(HasStatus(root_->CreateTemp("nodir/x").status(), Code::kNotFound));
  EXPECT_TRUE(HasStatus(root_->Remove("a/missing"), Code::kNotFound));
  EXPECT_TRUE(HasStatus(root_->MakeDirectory("nodir/sub"), Code::kNotFound));
}

TEST_P(RootDirTest, AFileUsedAsADirectoryIsAFailedPrecondition) {
  EXPECT_TRUE(HasStatus(root_->Stat("a/file.txt/x").status(), Code::kFailedPrecondition));
  EXPECT_TRUE(HasStatus(root_->List("a/file.txt").status(), Code::kFailedPrecondition));
}

TEST_P(RootDirTest, StatReportsSizeTypePermissionsAndMtime) {
  ASSERT_EQ(::chmod(tree_.InRoot("a/file.txt").c_str(), 0640), 0);
  struct stat st;
  ASSERT_EQ(::stat(tree_.InRoot("a/file.txt").c_str(), &st), 0);
  auto info = root_->Stat("a/file.txt");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->type, FileType::kRegular);
  EXPECT_FALSE(info->is_dir());
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->permissions, 0640u);
  EXPECT_EQ(info->mtime, absl::TimeFromTimespec(st.st_mtim));
  auto dir = root_->Stat("a");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(dir->is_dir());
}

// "." (and anything that cleans to it) is the root: readable, never a mutation target.
TEST_P(RootDirTest, DotIsTheRoot) {
  for (const char* dot : {".", "a/..", "./a/../."}) {
    auto info = root_->Stat(dot);
    ASSERT_TRUE(info.ok()) << dot << ": " << info.status();
    EXPECT_TRUE(info->is_dir());
    auto listing = root_->List(dot);
    ASSERT_TRUE(listing.ok()) << dot << ": " << listing.status();
    EXPECT_EQ(NamesOf(*listing), (Names{"a", "b"}));
    EXPECT_TRUE(HasStatus(root_->CreateTemp(dot).status(), Code::kInvalidArgument, "the root"));
    EXPECT_TRUE(HasStatus(root_->Remove(dot), Code::kInvalidArgument, "the root"));
    EXPECT_TRUE(HasStatus(root_->MakeDirectory(dot), Code::kInvalidArgument, "the root"));
  }
  EXPECT_TRUE(HasStatus(root_->Stat("").status(), Code::kInvalidArgument, "path is empty"));
  EXPECT_TRUE(HasStatus(root_->List("").status(), Code::kInvalidArgument, "path is empty"));
}

TEST_P(RootDirTest, ListIsSortedAndBounded) {
  for (const char* name : {"c3", "c1", "c2"}) TestTree::WriteFile(tree_.InRoot(name), "x");
  auto listing = root_->List(".");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(NamesOf(*listing), (Names{"a", "b", "c1", "c2", "c3"}));
  EXPECT_FALSE(listing->truncated);
  EXPECT_TRUE(listing->entries[0].info.is_dir());

  RootDirOptions options;
  options.max_list_entries = 2;
  ApplyTestMode(GetParam(), &options);
  auto small = RootDir::Open(tree_.root(), options);
  ASSERT_TRUE(small.ok()) << small.status();
  auto page1 = (*small)->List(".");
  ASSERT_TRUE(page1.ok()) << page1.status();
  EXPECT_EQ(NamesOf(*page1), (Names{"a", "b"}));
  EXPECT_TRUE(page1->truncated);
  auto page2 = (*small)->List(".", "b");
  ASSERT_TRUE(page2.ok()) << page2.status();
  EXPECT_EQ(NamesOf(*page2), (Names{"c1", "c2"}));
  auto page3 = (*small)->List(".", "c2");
  ASSERT_TRUE(page3.ok()) << page3.status();
  EXPECT_EQ(NamesOf(*page3), (Names{"c3"}));
  EXPECT_FALSE(page3->truncated);
}

TEST_P(RootDirTest, MakeDirectoryAndRemove) {
  ASSERT_TRUE(root_->MakeDirectory("a/new").ok());
  EXPECT_TRUE(root_->Stat("a/new")->is_dir());
  EXPECT_TRUE(HasStatus(root_->MakeDirectory("a/new"), Code::kAlreadyExists));
  EXPECT_TRUE(HasStatus(root_->MakeDirectory("a/file.txt"), Code::kAlreadyExists));
  ASSERT_TRUE(root_->MakeDirectory("a/new/deeper").ok());
  EXPECT_TRUE(HasStatus(root_->Remove("a/new"), Code::kFailedPrecondition));
  EXPECT_TRUE(root_->Remove("a/new/deeper").ok());
  EXPECT_TRUE(root_->Remove("a/new").ok());
  EXPECT_TRUE(root_->Remove("a/file.txt").ok());
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("a")), Names{});
}

TEST_P(RootDirTest, ReadOnlyRootRefusesEveryChange) {
  std::unique_ptr<RootDir> read_only = OpenRoot(/*writable=*/false, /*follow_symlinks=*/true);
  ASSERT_NE(read_only, nullptr);
  constexpr char kReadOnly[] = "the file service is read-only";
  EXPECT_TRUE(
      HasStatus(read_only->CreateTemp("a/new.txt").status(), Code::kPermissionDenied, kReadOnly));
  EXPECT_TRUE(
      HasStatus(read_only->CreateTemp("a/file.txt").status(), Code::kPermissionDenied, kReadOnly));
  EXPECT_TRUE(HasStatus(read_only->Remove("a/file.txt"), Code::kPermissionDenied, kReadOnly));
  EXPECT_TRUE(HasStatus(read_only->Remove("a"), Code::kPermissionDenied, kReadOnly));
  EXPECT_TRUE(HasStatus(read_only->MakeDirectory("c"), Code::kPermissionDenied, kReadOnly));
  // Reading still works, and nothing changed.
  EXPECT_EQ(ReadThrough(*read_only, "a/file.txt"), "hello");
  EXPECT_EQ(TestTree::ListNames(tree_.root()), (Names{"a", "b"}));
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("a")), Names{"file.txt"});
}

TEST_P(RootDirTest, SymlinksInsideTheRootAreFollowedByDefault) {
  TestTree::Symlink("a", tree_.InRoot("link_to_a"));
  TestTree::Symlink("../b/other.txt", tree_.InRoot("a/link_to_other"));
  TestTree::Symlink(".", tree_.InRoot("link_to_root"));
  TestTree::Symlink("a/../b", tree_.InRoot("link_to_b"));
  EXPECT_EQ(ReadThrough(*root_, "link_to_a/file.txt"), "hello");
  EXPECT_EQ(ReadThrough(*root_, "a/link_to_other"), "other");
  EXPECT_EQ(ReadThrough(*root_, "link_to_root/link_to_root/a/file.txt"), "hello");
  EXPECT_EQ(ReadThrough(*root_, "link_to_b/other.txt"), "other");
  EXPECT_TRUE(root_->Stat("link_to_a")->is_dir());
  EXPECT_EQ(root_->Stat("a/link_to_other")->size, 5u);
  auto listing = root_->List("link_to_a");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(NamesOf(*listing), (Names{"file.txt", "link_to_other"}));
  EXPECT_EQ(listing->entries[1].info.type, FileType::kSymlink);  // List does not follow.
  // Uploads through a directory symlink land in its target.
  auto pending = root_->CreateTemp("link_to_b/up.txt");
  ASSERT_TRUE(pending.ok()) << pending.status();
  TestTree::WriteAll((*pending)->fd(), "up");
  ASSERT_TRUE((*pending)->Commit(false).ok());
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("b/up.txt")), "up");
}

TEST_P(RootDirTest, AbsoluteSymlinksAreRefusedEvenWhenTheyPointInside) {
  TestTree::Symlink(tree_.InRoot("a/file.txt"), tree_.InRoot("abs_inside"));
  EXPECT_TRUE(HasStatus(root_->OpenForRead("abs_inside").status(), Code::kPermissionDenied,
                        "escapes the root"));
}

TEST_P(RootDirTest, WithFollowSymlinksOffEverySymlinkIsRefused) {
  TestTree::Symlink("a", tree_.InRoot("link_to_a"));
  TestTree::Symlink("file.txt", tree_.InRoot("a/link_to_file"));
  std::unique_ptr<RootDir> strict = OpenRoot(/*writable=*/true, /*follow_symlinks=*/false);
  ASSERT_NE(strict, nullptr);
  constexpr char kRefused[] = "symlinks are refused";
  EXPECT_TRUE(HasStatus(strict->OpenForRead("link_to_a/file.txt").status(), Code::kPermissionDenied,
                        kRefused));
  EXPECT_TRUE(
      HasStatus(strict->OpenForRead("a/link_to_file").status(), Code::kPermissionDenied, kRefused));
  EXPECT_TRUE(
      HasStatus(strict->Stat("a/link_to_file").status(), Code::kPermissionDenied, kRefused));
  EXPECT_TRUE(HasStatus(strict->Stat("link_to_a").status(), Code::kPermissionDenied, kRefused));
  EXPECT_TRUE(HasStatus(strict->List("link_to_a").status(), Code::kPermissionDenied, kRefused));
  EXPECT_TRUE(
      HasStatus(strict->CreateTemp("link_to_a/x").status(), Code::kPermissionDenied, kRefused));
  EXPECT_TRUE(HasStatus(strict->MakeDirectory("link_to_a/x"), Code::kPermissionDenied, kRefused));
  // The symlink itself is still an entry of its directory: listed, and removable.
  auto listing = strict->List("a");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(NamesOf(*listing), (Names{"file.txt", "link_to_file"}));
  EXPECT_TRUE(strict->Remove("a/link_to_file").ok());
  EXPECT_EQ(ReadThrough(*strict, "a/file.txt"), "hello");
}

TEST_P(RootDirTest, SymlinkLoopsAreAFailedPrecondition) {
  TestTree::Symlink("loop2", tree_.InRoot("loop1"));
  TestTree::Symlink("loop1", tree_.InRoot("loop2"));
  TestTree::Symlink("self/x", tree_.InRoot("self"));
  EXPECT_TRUE(HasStatus(root_->Stat("loop1").status(), Code::kFailedPrecondition));
  EXPECT_TRUE(HasStatus(root_->OpenForRead("self").status(), Code::kFailedPrecondition));
}

TEST_P(RootDirTest, DanglingSymlinksAreNotFound) {
  TestTree::Symlink("nowhere", tree_.InRoot("dangling"));
  EXPECT_TRUE(HasStatus(root_->Stat("dangling").status(), Code::kNotFound));
  EXPECT_TRUE(root_->Remove("dangling").ok());
}

TEST(RootDirOpenTest, RefusesBadRootsAndOptions) {
  TestTree tree;
  EXPECT_TRUE(HasStatus(RootDir::Open(tree.InRoot("missing"), {}).status(), Code::kNotFound));
  TestTree::WriteFile(tree.InRoot("file"), "x");
  EXPECT_TRUE(
      HasStatus(RootDir::Open(tree.InRoot("file"), {}).status(), Code::kFailedPrecondition));
  RootDirOptions options;
  options.max_list_entries = 0;
  EXPECT_TRUE(HasStatus(RootDir::Open(tree.root(), options).status(), Code::kInvalidArgument));
  EXPECT_FALSE((*RootDir::Open(tree.root(), {}))->options().writable);  // Read-only by default.
  tree.ExpectOutsideUntouched();
}

INSTANTIATE_TEST_SUITE_P(AllModes, RootDirTest, ::testing::ValuesIn(AllTestModes()), TestModeName);

}  // namespace
}  // namespace framerpc::file
