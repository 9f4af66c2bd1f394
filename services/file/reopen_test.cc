#include "services/file/reopen.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "services/file/test_tree.h"

namespace framerpc::file {
namespace {

using Code = absl::StatusCode;

class ReopenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestTree::WriteFile(tree_.InRoot("a"), "checked");
    TestTree::WriteFile(tree_.InRoot("b"), "swapped in");
    handle_.reset(::open(tree_.InRoot("a").c_str(), O_PATH | O_CLOEXEC));
    ASSERT_TRUE(handle_.valid());
    ASSERT_EQ(::fstat(handle_.get(), &checked_), 0);
  }
  void TearDown() override { tree_.ExpectOutsideUntouched(); }

  // The second resolution: opens `name` in the root with the flags it is given.
  std::function<absl::StatusOr<ScopedFd>(int)> OpenByName(const std::string& name) {
    return [this, name](int flags) -> absl::StatusOr<ScopedFd> {
      EXPECT_EQ(flags & O_ACCMODE, O_RDONLY);
      EXPECT_NE(flags & O_NONBLOCK, 0);  // a FIFO swapped in cannot block it
      ScopedFd fd(::open(tree_.InRoot(name).c_str(), flags | O_CLOEXEC));
      if (!fd.valid()) return absl::NotFoundError(name);
      return fd;
    };
  }

  TestTree tree_;
  ScopedFd handle_;
  struct stat checked_;
};

// Through /proc the inode the O_PATH fd holds is opened, whatever the name holds now.
TEST_F(ReopenTest, ThroughProcTheCheckedFileIsOpenedEvenIfTheNameChanged) {
  if (!ProcSelfFdWorks()) GTEST_SKIP() << "no /proc/self/fd here";
  TestTree::Rename(tree_.InRoot("b"), tree_.InRoot("a"));
  auto fd = ReopenForReading(handle_.get(), checked_, /*via_proc=*/true, OpenByName("unused"), "a");
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(TestTree::ReadAll(fd->get()), "checked");
  EXPECT_EQ(::fcntl(fd->get(), F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY);
}

TEST_F(ReopenTest, WithoutProcTheSecondOpenMustReachTheCheckedFile) {
  auto same = ReopenForReading(handle_.get(), checked_, /*via_proc=*/false, OpenByName("a"), "a");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(::fcntl(same->get(), F_GETFL) & O_NONBLOCK, 0);  // blocking again
  EXPECT_EQ(TestTree::ReadAll(same->get()), "checked");

  TestTree::Rename(tree_.InRoot("b"), tree_.InRoot("a"));
  EXPECT_TRUE(
      HasStatus(ReopenForReading(handle_.get(), checked_, false, OpenByName("a"), "a").status(),
                Code::kAborted, "'a' was replaced while it was opened"));
  EXPECT_TRUE(
      HasStatus(ReopenForReading(handle_.get(), checked_, false, OpenByName("gone"), "a").status(),
                Code::kNotFound));
}

}  // namespace
}  // namespace framerpc::file
