// The openat2 implementation of beneath.h, and the pieces both implementations share.
#include "services/file/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "services/file/errno_status.h"

namespace framerpc::file {
namespace {

// openat2 returns EAGAIN when a rename or mount raced with a ".." step under RESOLVE_BENEATH.
// The client sends no "..", but symlink targets may contain one; a few retries ride out churn.
constexpr int kMaxEagainRetries = 16;

int CallOpenat2(int dir_fd, const char* path, int flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = resolve;
  return static_cast<int>(syscall(SYS_openat2, dir_fd, path, &how, sizeof(how)));
}

}  // namespace

int FinalFlags(int flags) {
  // openat2, unlike openat, refuses (EINVAL) O_PATH combined with flags that mean nothing to it.
  return (flags & O_PATH) != 0 ? flags | O_CLOEXEC : flags | O_CLOEXEC | O_NOCTTY;
}

absl::Status EscapeError(const ClientPath& path) {
  return absl::PermissionDeniedError(
      absl::StrCat("path ", QuotePath(path.Relative()),
                   " escapes the root (through a symlink or a mount point)"));
}

absl::Status MountRefusedError(const ClientPath& path) {
  return absl::PermissionDeniedError(
      absl::StrCat("path ", QuotePath(path.Relative()),
                   " crosses a mount point, and mount points in the root are refused"));
}

absl::Status SymlinkRefusedError(const ClientPath& path) {
  return absl::PermissionDeniedError(absl::StrCat(
      "path ", QuotePath(path.Relative()), " goes through a symlink, and symlinks are refused"));
}

bool Openat2Works(int dir_fd) {
  const int fd = CallOpenat2(dir_fd, ".", O_PATH | O_CLOEXEC, RESOLVE_BENEATH);
  if (fd < 0) return false;  // ENOSYS (kernel < 5.6), or EPERM from a seccomp filter.
  ::close(fd);
  return true;
}

absl::StatusOr<ScopedFd> OpenBeneathOpenat2(int root_fd, const ClientPath& path, int flags,
                                            const ResolveRules& rules) {
  uint64_t resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  if (!rules.follow_symlinks) resolve |= RESOLVE_NO_SYMLINKS;
  if (rules.same_mount) resolve |= RESOLVE_NO_XDEV;
  const std::string relative = path.Relative();
  for (int attempt = 0;; ++attempt) {
    const int fd = CallOpenat2(root_fd, relative.c_str(), FinalFlags(flags), resolve);
    if (fd >= 0) return ScopedFd(fd);
    const int err = errno;
    if (err == EAGAIN && attempt < kMaxEagainRetries) continue;
    if (err == ENOSYS) return OpenBeneathWalk(root_fd, path, flags, rules);
    if (err == EXDEV) {
      if (!rules.same_mount) return EscapeError(path);
      // An escape or a mount crossed? Ask again without RESOLVE_NO_XDEV, O_PATH (which opens
      // nothing): if that resolves, only the mount stood in the way.
      const int probe =
          CallOpenat2(root_fd, relative.c_str(), O_PATH | O_CLOEXEC, resolve & ~RESOLVE_NO_XDEV);
      if (probe < 0) return EscapeError(path);
      ::close(probe);
      return MountRefusedError(path);
    }
    // Under RESOLVE_NO_SYMLINKS, ELOOP means "met a symlink"; otherwise it means a loop.
    if (err == ELOOP && !rules.follow_symlinks) return SymlinkRefusedError(path);
    return FileErrnoToStatus(err, absl::StrCat("cannot open ", QuotePath(relative)));
  }
}

}  // namespace framerpc::file
