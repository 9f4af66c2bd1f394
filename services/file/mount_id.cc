#include "services/file/mount_id.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

namespace framerpc::file {
namespace {

std::optional<uint64_t> MountIdOf(int fd) {
  struct statx stx = {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) == 0 &&
      (stx.stx_mask & STATX_MNT_ID) != 0) {
    return stx.stx_mnt_id;
  }
  // With no room for the handle, name_to_handle_at fails with EOVERFLOW but still reports the
  // mount ID.
  struct file_handle handle = {};
  int mount_id = 0;
  if (::name_to_handle_at(fd, "", &handle, &mount_id, AT_EMPTY_PATH) == 0 || errno == EOVERFLOW) {
    return static_cast<uint64_t>(mount_id);
  }
  return std::nullopt;
}

}  // namespace

std::optional<MountKey> MountKeyOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return std::nullopt;
  return MountKey{MountIdOf(fd), st.st_dev};
}

bool SameMount(const MountKey& a, const MountKey& b) {
  if (a.mount_id && b.mount_id) return *a.mount_id == *b.mount_id;
  return a.dev == b.dev;
}

}  // namespace framerpc::file
