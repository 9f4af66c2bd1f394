// Opening a client path beneath a root directory fd, never escaping it. Two implementations with
// one contract, so RootDir can pick either and the tests can run both:
//   - OpenBeneathOpenat2: one openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (plus
//     RESOLVE_NO_SYMLINKS when symlinks are refused, RESOLVE_NO_XDEV when mounts are). The
//     kernel does the checking.
//   - OpenBeneathWalk: the fallback for kernels without openat2 (< 5.6). It opens one component
//     at a time relative to the previous directory fd with O_NOFOLLOW, reads each symlink itself
//     and splices its target in, resolving ".." by popping the directory fds it holds (it never
//     asks the kernel for ".."), and refuses absolute targets and ".." above the root. When
//     mounts are refused it compares the mount of each directory it enters, and of the file it
//     opens, with the root's (mount_id.h: the mount ID, so bind mounts are seen, where the kernel
//     tells it; else st_dev), looking before it opens the last name with anything but O_PATH.
//
// Contract, identical for both (the tests check each case against each implementation):
//   - `root_fd` is borrowed: a directory fd (O_PATH is enough) that must stay open for the call.
//   - `flags` are the open(2) flags for the final component; FinalFlags adds O_CLOEXEC etc.
//     O_CREAT, O_TMPFILE and O_NOFOLLOW are not allowed: these functions only open what exists.
//   - Symlinks, when `follow_symlinks`, are followed only while they stay beneath the root: an
//     absolute target (even one that names a place inside the root) or a ".." that climbs above
//     the root is PERMISSION_DENIED. When !follow_symlinks, any symlink anywhere in the path,
//     including the last component, is PERMISSION_DENIED. Magic links (/proc/.../fd/N) are never
//     reachable: an absolute target is refused, and the root is not expected to contain procfs.
//   - When `same_mount`, a path that crosses a mount point anywhere (onto a mount below the root,
//     bind mounts included, or out of one) is PERMISSION_DENIED "... crosses a mount point".
//   - A symlink loop (more than 40 links) is FAILED_PRECONDITION; a missing component NOT_FOUND;
//     other errors per FileErrnoToStatus. Messages name the normalised client path.
//
// What neither can stop: a directory already resolved being moved out of the root by a local
// process while the call is walking through it (openat2 detects this only for ".." steps; the
// walk never takes those). Clients of the file service cannot move directories, only local users
// with write access to the root can. Hard links inside the root to files outside it are also
// indistinguishable from ordinary files here (RootDir refuses files with more than one link).
//
// Stateless; thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_BENEATH_H_
#define FRAMERPC_SERVICES_FILE_BENEATH_H_

#include "absl/status/statusor.h"
#include "services/file/client_path.h"
#include "base/scoped_fd.h"

namespace framerpc::file {

// What a resolution allows besides staying beneath the root.
struct ResolveRules {
  bool follow_symlinks = true;  // the symlinks that stay beneath the root
  bool same_mount = false;      // refuse every mount point crossed
};

absl::StatusOr<ScopedFd> OpenBeneathOpenat2(int root_fd, const ClientPath& path, int flags,
                                            const ResolveRules& rules);

absl::StatusOr<ScopedFd> OpenBeneathWalk(int root_fd, const ClientPath& path, int flags,
                                         const ResolveRules& rules);

// Whether this kernel (and seccomp policy) lets openat2 work on `dir_fd`. A probe: one call.
bool Openat2Works(int dir_fd);

// `flags` plus O_CLOEXEC, and O_NOCTTY unless O_PATH: what both implementations open with.
int FinalFlags(int flags);

// The PERMISSION_DENIED statuses both implementations return, so their messages match.
absl::Status EscapeError(const ClientPath& path);
absl::Status SymlinkRefusedError(const ClientPath& path);
absl::Status MountRefusedError(const ClientPath& path);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_BENEATH_H_
