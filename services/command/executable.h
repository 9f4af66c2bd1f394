// The file a command executes, opened once and identified, so that what was checked is what
// runs: the spawn execs the descriptor itself (execveat(fd, "", AT_EMPTY_PATH)), never a path that
// could have been swapped in between.
//
// Thread safety: the functions are thread-safe.
#ifndef FRAMERPC_SERVICES_COMMAND_EXECUTABLE_H_
#define FRAMERPC_SERVICES_COMMAND_EXECUTABLE_H_

#include <sys/stat.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"

namespace framerpc::command {

// What tells one file from another on this host, and its contents from rewritten ones: device
// and inode, plus size, modification and change times, mode and owner. A file replaced by
// rename, a symlink swapped in, or one written in place (new mtime and ctime) compares unequal.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified = {};
  timespec changed = {};
  mode_t mode = 0;
  uid_t owner = 0;
  gid_t group = 0;

  bool operator==(const FileIdentity& other) const;
  bool operator!=(const FileIdentity& other) const { return !(*this == other); }
  std::string DebugString() const;
};

// fstat(2) of `fd`.
absl::StatusOr<FileIdentity> IdentityOf(int fd);

// Opens `path`, relative to `dir_fd` (AT_FDCWD: this process's directory) unless absolute,
// following symlinks as execve would, as an O_PATH | O_CLOEXEC descriptor. NOT_FOUND if it does
// not exist; PERMISSION_DENIED if it is not a regular file with an execute permission we have.
absl::StatusOr<ScopedFd> OpenExecutable(int dir_fd, absl::string_view path);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_EXECUTABLE_H_
