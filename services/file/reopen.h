// Turning an O_PATH fd on a file already checked to be a regular file into an fd open for
// reading, without ever opening anything else for data: opening a FIFO releases a writer blocked
// on it, and opening a device runs its driver's open, whatever the caller does next.
//
// With /proc, the O_PATH fd is reopened through /proc/self/fd/N, which opens exactly the inode
// the fd holds: nothing can be swapped in. Without /proc there is no such way, and the path is
// resolved a second time (O_NONBLOCK, so that a FIFO swapped in cannot block the call); the file
// that second open reaches is refused (ABORTED) unless it is the one checked (same st_dev and
// st_ino). What remains without /proc: a local user who can write in the file's directory and
// swaps the name for a FIFO or a device between the two opens gets that one opened (and then
// refused). Service clients cannot create either.
//
// Stateless; thread-safe.
#ifndef FRAMERPC_SERVICES_FILE_REOPEN_H_
#define FRAMERPC_SERVICES_FILE_REOPEN_H_

#include <sys/stat.h>

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"

namespace framerpc::file {

// Whether /proc/self/fd can reopen fds here (procfs mounted, and the process may use it).
bool ProcSelfFdWorks();

// A read-only, blocking, close-on-exec fd on the regular file `path_fd` (O_PATH) holds, whose
// fstat is `checked`. `via_proc` chooses /proc/self/fd; otherwise `resolve_again` opens the path
// again with the flags it is given. `shown_path` names the file in error messages.
absl::StatusOr<ScopedFd> ReopenForReading(
    int path_fd, const struct stat& checked, bool via_proc,
    const std::function<absl::StatusOr<ScopedFd>(int flags)>& resolve_again,
    absl::string_view shown_path);

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_REOPEN_H_
