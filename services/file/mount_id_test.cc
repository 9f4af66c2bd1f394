#include "services/file/mount_id.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/scoped_fd.h"
#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

TEST(MountIdTest, TellsMountsApart) {
  ScopedFd root(::open("/", O_PATH | O_CLOEXEC));
  ScopedFd root_again(::open("/.", O_PATH | O_DIRECTORY | O_CLOEXEC));
  ScopedFd proc(::open("/proc", O_PATH | O_CLOEXEC));
  ASSERT_TRUE(root.valid() && root_again.valid() && proc.valid());
  const std::optional<MountKey> a = MountKeyOf(root.get());
  const std::optional<MountKey> b = MountKeyOf(root_again.get());
  const std::optional<MountKey> c = MountKeyOf(proc.get());
  ASSERT_TRUE(a && b && c);
  EXPECT_TRUE(a->mount_id.has_value());  // statx or name_to_handle_at, on any kernel of ours
  EXPECT_TRUE(SameMount(*a, *b));
  EXPECT_FALSE(SameMount(*a, *c));
  EXPECT_FALSE(MountKeyOf(-1).has_value());
}

TEST(MountIdTest, WithoutBothMountIdsTheDeviceDecides) {
  EXPECT_TRUE(SameMount({std::nullopt, 7}, {42, 7}));
  EXPECT_FALSE(SameMount({std::nullopt, 7}, {42, 8}));
  EXPECT_FALSE(SameMount({41, 7}, {42, 7}));  // a bind mount of the same filesystem
  EXPECT_TRUE(SameMount({42, 7}, {42, 7}));
}

}  // namespace
}  // namespace framerpc::file
