#include "services/command/workspace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/command/process_test_util.h"
#include "services/command/remove_tree.h"

namespace framerpc::command {
namespace {

std::unique_ptr<Workspace> Fresh() {
  absl::StatusOr<std::unique_ptr<Workspace>> workspace =
      Workspace::Create("", ::testing::TempDir());
  EXPECT_TRUE(workspace.ok()) << workspace.status();
  return workspace.ok() ? *std::move(workspace) : nullptr;
}

TEST(WorkspaceTest, FreshDirectoriesArePrivateEmptyAndRemoved) {
  std::unique_ptr<Workspace> workspace = Fresh();
  ASSERT_NE(workspace, nullptr);
  const std::string private_dir = workspace->path();
  struct stat st;
  ASSERT_EQ(::stat(private_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::string path;
  {
    absl::StatusOr<WorkingDirectory> dir = workspace->Open("");
    ASSERT_TRUE(dir.ok()) << dir.status();
    path = dir->path();
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::ofstream(path + "/file") << "x";
    absl::StatusOr<WorkingDirectory> other = workspace->Open("");
    ASSERT_TRUE(other.ok());
    EXPECT_NE(other->path(), path);
  }
  EXPECT_FALSE(test::FileExists(path));
  workspace.reset();
  EXPECT_FALSE(test::FileExists(private_dir));
}

TEST(WorkspaceTest, FreshModeRefusesNamedDirectories) {
  std::unique_ptr<Workspace> workspace = Fresh();
  ASSERT_NE(workspace, nullptr);
  for (const char* dir : {"/", "/root", "sub", "."}) {
    EXPECT_EQ(workspace->Open(dir).status().code(), absl::StatusCode::kPermissionDenied) << dir;
  }
  EXPECT_EQ(workspace->Check(std::string("a\0b", 3)).code(), absl::StatusCode::kInvalidArgument);
}

TEST(WorkspaceTest, RootModeResolvesBeneathTheRoot) {
  const std::string root = test::MakeTempDir();
  ASSERT_EQ(::mkdir((root + "/sub").c_str(), 0755), 0);
  std::ofstream(root + "/file") << "x";
  absl::StatusOr<std::unique_ptr<Workspace>> workspace = Workspace::Create(root + "/", "");
  ASSERT_TRUE(workspace.ok()) << workspace.status();
  absl::StatusOr<WorkingDirectory> sub = (*workspace)->Open("sub");
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(sub->path(), root + "/sub");
  EXPECT_TRUE((*workspace)->Open("sub/../sub").ok());
  EXPECT_EQ((*workspace)->Open("file").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*workspace)->Open("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*workspace)->Open("..").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ((*workspace)->Open(root).status().code(), absl::StatusCode::kPermissionDenied);
  // A named directory is the caller's: it stays.
  sub = absl::InternalError("released");
  EXPECT_TRUE(test::FileExists(root + "/sub"));
}

TEST(WorkspaceTest, CreateErrors) {
  EXPECT_EQ(Workspace::Create("relative", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Workspace::Create("/nonexistent-framerpc-root", "").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Workspace::Create("", "/nonexistent-framerpc-parent").status().code(),
            absl::StatusCode::kNotFound);
}

// A tree far deeper than RemoveTree descends at once is removed all the same.
TEST(RemoveTreeTest, RemovesDeepTrees) {
  const std::string parent = test::MakeTempDir();
  ASSERT_EQ(::mkdir((parent + "/top").c_str(), 0755), 0);
  ScopedFd fd(::open((parent + "/top").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(::mkdirat(fd.get(), "d", 0755), 0);
    ASSERT_EQ(::close(::openat(fd.get(), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
    fd.reset(::openat(fd.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
  }
  fd.reset();
  ScopedFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_TRUE(RemoveTree(parent_fd.get(), "top").ok());
  EXPECT_FALSE(test::FileExists(parent + "/top"));
  // Nothing moved up is left behind either.
  EXPECT_EQ(::rmdir(parent.c_str()), 0);
}

}  // namespace
}  // namespace framerpc::command
