// One program resolved when the server starts and checked again at every use: the path, the real
// path it resolved to, and the file's identity (executable.h). A use opens the path again and
// gets the descriptor only if it still leads to the very file that was pinned, unchanged; that
// descriptor is what the command executes.
//
// Thread safety: immutable after Pin; Open() is safe from any number of threads.
#ifndef FRAMERPC_SERVICES_COMMAND_PINNED_PROGRAM_H_
#define FRAMERPC_SERVICES_COMMAND_PINNED_PROGRAM_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"
#include "services/command/executable.h"

namespace framerpc::command {

class PinnedProgram {
 public:
  // `path` must be absolute. Errors: OpenExecutable's (NOT_FOUND, PERMISSION_DENIED for what is
  // not an executable regular file), or the system's.
  static absl::StatusOr<PinnedProgram> Pin(std::string path);

  // The file at path() opened (O_PATH | O_CLOEXEC, following symlinks as execve does), if it is
  // still the one pinned: same real path, device, inode, size, times, mode and owner. Otherwise
  // PERMISSION_DENIED "program '<requested>' has changed since the server started", saying how.
  absl::StatusOr<ScopedFd> Open(absl::string_view requested) const;

  const std::string& path() const { return path_; }
  const std::string& real_path() const { return real_path_; }

 private:
  PinnedProgram(std::string path, std::string real_path, FileIdentity identity)
      : path_(std::move(path)), real_path_(std::move(real_path)), identity_(identity) {}

  std::string path_;
  std::string real_path_;
  FileIdentity identity_;
};

// The real path of the file an open descriptor refers to (/proc/self/fd/N).
absl::StatusOr<std::string> RealPathOf(int fd);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_PINNED_PROGRAM_H_
