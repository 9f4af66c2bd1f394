// Which mount an open file is on, for the fallback walk's equivalent of openat2's
// RESOLVE_NO_XDEV (beneath.h). Stateless; thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_MOUNT_ID_H_
#define FRAMERPC_SERVICES_FILE_MOUNT_ID_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace framerpc::file {

// What identifies the mount a file is on: the mount ID where the kernel tells it (statx's
// STATX_MNT_ID, Linux 5.8+, else name_to_handle_at(2), 2.6.39+, on filesystems that can export
// handles), and the filesystem's st_dev.
struct MountKey {
  std::optional<uint64_t> mount_id;
  dev_t dev = 0;
};

// The key of the mount `fd` is on; nullopt if fstat fails.
std::optional<MountKey> MountKeyOf(int fd);

// Whether two keys are of the same mount: by mount ID where both have one (which tells a bind
// mount from the filesystem it shows), else by st_dev (which tells only another filesystem).
bool SameMount(const MountKey& a, const MountKey& b);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_MOUNT_ID_H_
