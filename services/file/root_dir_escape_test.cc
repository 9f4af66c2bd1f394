// Attacks on RootDir: traversal strings, symlinks out of the root, and symlinks swapped in while
// a read or an upload is under way. Every test runs under every TestMode (openat2 and the
// fallback walk; O_TMPFILE and named temps), and every test ends by checking through inotify
// that nothing outside the root (a canary file and a directory) was opened, read or written.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/file/root_dir.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;
using Names = std::vector<std::string>;

constexpr char kEscapes[] = "escapes the root";

class EscapeTest : public ::testing::TestWithParam<TestMode> {
 protected:
  void SetUp() override {
    TestTree::MakeDir(tree_.InRoot("a"));
    TestTree::WriteFile(tree_.InRoot("a/file.txt"), "hello");
    TestTree::MakeDir(tree_.InRoot("r"));
    TestTree::WriteFile(tree_.InRoot("r/secret.txt"), "inside");
    TestTree::MakeDir(tree_.InRoot("u"));
    // Symlinks leading out of the root, by every route.
    TestTree::Symlink(tree_.canary(), tree_.InRoot("link_abs_canary"));
    TestTree::Symlink("../canary", tree_.InRoot("link_rel_canary"));
    TestTree::Symlink("../../canary", tree_.InRoot("a/link_up_canary"));
    TestTree::Symlink("a/link_up_canary", tree_.InRoot("link_chain"));
    TestTree::Symlink("../a/../../canary", tree_.InRoot("a/link_zigzag"));
    TestTree::Symlink("..", tree_.InRoot("link_parent"));
    TestTree::Symlink("../outside", tree_.InRoot("link_out_dir"));
    TestTree::Symlink(tree_.outside(), tree_.InRoot("link_out_dir_abs"));
    TestTree::Symlink("/proc/self/root" + tree_.canary(), tree_.InRoot("link_magic"));
    TestTree::Symlink("/proc/self/cwd", tree_.InRoot("link_proc_dir"));
    RootDirOptions options;
    options.writable = true;
    ApplyTestMode(GetParam(), &options);
    auto root = RootDir::Open(tree_.root(), options);
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = std::move(root).value();
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  TestTree tree_;
  std::unique_ptr<RootDir> root_;
};

struct Malformed {
  std::string path;
  const char* message_part;
};

// Every call refuses a malformed path, before touching the filesystem.
TEST_P(EscapeTest, MalformedPathsAreInvalidArgumentEverywhere) {
  std::string over_path_max;
  while (over_path_max.size() < PATH_MAX) over_path_max += std::string(200, 'x') + "/";
  const std::vector<Malformed> corpus = {
      {"../canary", kEscapes},
      {"a/../../canary", kEscapes},
      {"a/./../../canary", kEscapes},
      {"./../canary", kEscapes},
      {"..", kEscapes},
      {"../root/a/file.txt", kEscapes},  // Back inside, but only by climbing out first.
      {"a/../../root/a/file.txt", kEscapes},
      {"/etc/passwd", "absolute paths are not allowed: '/etc/passwd'"},
      {tree_.canary(), "absolute paths are not allowed"},
      {tree_.InRoot("a/file.txt"), "absolute paths are not allowed"},
      {std::string("a/file.txt\0/../../canary", 24), "contains a NUL byte"},
      {std::string("\0", 1), "contains a NUL byte"},
      {"", "path is empty"},
      {"a//file.txt", "empty component"},
      {"a/", "empty component"},
      {std::string(5000, 'n'), "longer than PATH_MAX"},
      {"a/" + std::string(NAME_MAX + 1, 'n'), "longer than NAME_MAX"},
      {over_path_max, "longer than PATH_MAX"},
  };
  for (const Malformed& bad : corpus) {
    SCOPED_TRACE(QuotePath(bad.path));
    const Code kInvalid = Code::kInvalidArgument;
    EXPECT_TRUE(HasStatus(root_->ValidatePath(bad.path), kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(root_->Stat(bad.path).status(), kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(root_->OpenForRead(bad.path).status(), kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(root_->List(bad.path).status(), kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(root_->CreateTemp(bad.path).status(), kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(root_->MakeDirectory(bad.path), kInvalid, bad.message_part));
    EXPECT_TRUE(HasStatus(root_->Remove(bad.path), kInvalid, bad.message_part));
  }
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("a/file.txt")), "hello");
}

// Well-formed paths whose resolution leaves the root through a symlink: refused by the kernel
// (openat2: EXDEV) or by the walk, as PERMISSION_DENIED.
TEST_P(EscapeTest, SymlinksOutOfTheRootArePermissionDenied) {
  const Names through_final_symlink = {
      "link_abs_canary", "link_rel_canary", "a/link_up_canary", "link_chain", "a/link_zigzag",
      "link_parent",     "link_out_dir",    "link_out_dir_abs", "link_magic", "link_proc_dir",
  };
  for (const std::string& path : through_final_symlink) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(root_->ValidatePath(path).ok());
    EXPECT_TRUE(HasStatus(root_->Stat(path).status(), Code::kPermissionDenied, kEscapes));
    EXPECT_TRUE(HasStatus(root_->OpenForRead(path).status(), Code::kPermissionDenied, kEscapes));
    EXPECT_TRUE(HasStatus(root_->List(path).status(), Code::kPermissionDenied, kEscapes));
  }
  const Names through_directory_symlink = {
      "link_parent/canary",     "link_out_dir/secret.txt",        "link_out_dir_abs/secret.txt",
      "link_out_dir/new.txt",   "link_parent/outside/secret.txt", "link_parent/root/a/file.txt",
      "link_proc_dir/anything",
  };
  for (const std::string& path : through_directory_symlink) {
    SCOPED_TRACE(path);
    const Code kDenied = Code::kPermissionDenied;
    EXPECT_TRUE(HasStatus(root_->Stat(path).status(), kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(root_->OpenForRead(path).status(), kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(root_->CreateTemp(path).status(), kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(root_->MakeDirectory(path), kDenied, kEscapes));
    EXPECT_TRUE(HasStatus(root_->Remove(path), kDenied, kEscapes));
  }
}

// A mutation whose last name is a symlink acts on the symlink, which is inside the root.
TEST_P(EscapeTest, MutationsOnASymlinkActOnTheLinkNotItsTarget) {
  EXPECT_TRUE(HasStatus(root_->MakeDirectory("link_out_dir"), Code::kAlreadyExists));
  auto pending = root_->CreateTemp("link_abs_canary");
  ASSERT_TRUE(pending.ok()) << pending.status();
  TestTree::WriteAll((*pending)->fd(), "replacement");
  EXPECT_TRUE(HasStatus((*pending)->Commit(false), Code::kAlreadyExists));
  ASSERT_TRUE((*pending)->Commit(true).ok());
  struct stat st;
  ASSERT_EQ(::lstat(tree_.InRoot("link_abs_canary").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("link_abs_canary")), "replacement");
  EXPECT_TRUE(root_->Remove("link_rel_canary").ok());
  EXPECT_TRUE(root_->Remove("link_out_dir").ok());
  EXPECT_TRUE(HasStatus(root_->Stat("link_rel_canary").status(), Code::kNotFound));
  // TearDown checks the canary and the outside directory are intact.
}

// The attack on a download: the client opens r/secret.txt, then r is swapped for a symlink out.
TEST_P(EscapeTest, SwappedDirectoryKeepsTheOpenFdAndRefusesTheNextOpen) {
  for (const std::string& target : {tree_.outside(), std::string("../outside")}) {
    SCOPED_TRACE(target);
    auto fd = root_->OpenForRead("r/secret.txt");
    ASSERT_TRUE(fd.ok()) << fd.status();
    char first[2];
    ASSERT_EQ(::read(fd->get(), first, sizeof(first)), 2);

    TestTree::Rename(tree_.InRoot("r"), tree_.InRoot("r_old"));
    TestTree::Symlink(target, tree_.InRoot("r"));
    EXPECT_EQ(TestTree::ReadAll(fd->get()), "side");  // The original file, read on.
    EXPECT_TRUE(
        HasStatus(root_->OpenForRead("r/secret.txt").status(), Code::kPermissionDenied, kEscapes));
    EXPECT_TRUE(HasStatus(root_->Stat("r/secret.txt").status(), Code::kPermissionDenied));
    EXPECT_TRUE(HasStatus(root_->List("r").status(), Code::kPermissionDenied));

    ASSERT_EQ(::unlink(tree_.InRoot("r").c_str()), 0);
    TestTree::Rename(tree_.InRoot("r_old"), tree_.InRoot("r"));
  }
}

TEST_P(EscapeTest, SwappedFileIsRefusedOnTheNextOpen) {
  ASSERT_TRUE(root_->OpenForRead("r/secret.txt").ok());
  ASSERT_EQ(::unlink(tree_.InRoot("r/secret.txt").c_str()), 0);
  TestTree::Symlink("../../canary", tree_.InRoot("r/secret.txt"));
  EXPECT_TRUE(
      HasStatus(root_->OpenForRead("r/secret.txt").status(), Code::kPermissionDenied, kEscapes));
}

// The attack on an upload: u is swapped for a symlink out between CreateTemp and Commit.
TEST_P(EscapeTest, UploadDirectorySwappedForASymlinkWritesNothingAnywhere) {
  for (const std::string& target : {tree_.outside(), std::string("../outside")}) {
    SCOPED_TRACE(target);
    auto pending = root_->CreateTemp("u/up.txt");
    ASSERT_TRUE(pending.ok()) << pending.status();
    TestTree::WriteAll((*pending)->fd(), "payload");

    TestTree::Rename(tree_.InRoot("u"), tree_.InRoot("u_old"));
    TestTree::Symlink(target, tree_.InRoot("u"));
    EXPECT_TRUE(HasStatus((*pending)->Commit(false), Code::kPermissionDenied, kEscapes));
    EXPECT_TRUE(HasStatus((*pending)->Commit(true), Code::kPermissionDenied, kEscapes));
    pending->reset();
    EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u_old")), Names{});  // No file, no temp.

    ASSERT_EQ(::unlink(tree_.InRoot("u").c_str()), 0);
    TestTree::Rename(tree_.InRoot("u_old"), tree_.InRoot("u"));
  }
}

TEST_P(EscapeTest, UploadDirectoryReplacedByAnotherDirectoryIsAborted) {
  auto pending = root_->CreateTemp("u/up.txt");
  ASSERT_TRUE(pending.ok()) << pending.status();
  TestTree::WriteAll((*pending)->fd(), "payload");
  TestTree::Rename(tree_.InRoot("u"), tree_.InRoot("u_old"));
  TestTree::MakeDir(tree_.InRoot("u"));
  EXPECT_TRUE(HasStatus((*pending)->Commit(false), Code::kAborted, "was replaced"));
  pending->reset();
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{});
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u_old")), Names{});
}

// A local user moves the upload's directory out of the root altogether.
TEST_P(EscapeTest, UploadDirectoryMovedOutOfTheRootIsRefusedAtCommit) {
  auto pending = root_->CreateTemp("u/up.txt");
  ASSERT_TRUE(pending.ok()) << pending.status();
  TestTree::WriteAll((*pending)->fd(), "payload");
  const std::string moved = tree_.outside() + "/u";
  TestTree::Rename(tree_.InRoot("u"), moved);
  tree_.TakeOutsideEvents();  // The move itself.

  EXPECT_TRUE(HasStatus((*pending)->Commit(false), Code::kNotFound));
  pending->reset();
  EXPECT_EQ(TestTree::ListNames(moved), Names{});
  ASSERT_EQ(::rmdir(moved.c_str()), 0);
  tree_.TakeOutsideEvents();  // The clean-up.
}

// A symlink planted at the target name before Commit is replaced, never written through.
TEST_P(EscapeTest, SymlinkPlantedAtTheTargetNameIsNotFollowed) {
  auto pending = root_->CreateTemp("u/up.txt");
  ASSERT_TRUE(pending.ok()) << pending.status();
  TestTree::WriteAll((*pending)->fd(), "payload");
  TestTree::Symlink("../../canary", tree_.InRoot("u/up.txt"));
  EXPECT_TRUE(HasStatus((*pending)->Commit(false), Code::kAlreadyExists));
  ASSERT_TRUE((*pending)->Commit(true).ok());
  struct stat st;
  ASSERT_EQ(::lstat(tree_.InRoot("u/up.txt").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(TestTree::ReadFile(tree_.InRoot("u/up.txt")), "payload");
  EXPECT_EQ(TestTree::ListNames(tree_.InRoot("u")), Names{"up.txt"});
}

INSTANTIATE_TEST_SUITE_P(AllModes, EscapeTest, ::testing::ValuesIn(AllTestModes()), TestModeName);

}  // namespace
}  // namespace framerpc::file
