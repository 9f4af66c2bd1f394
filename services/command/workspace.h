// Where commands run: a confined working directory, never any path a caller names.
//
//  - With a root (--command_workdir): a request's working_directory is a path relative to the
//    root ("" is the root itself), resolved beneath it with openat2(RESOLVE_BENEATH |
//    RESOLVE_NO_MAGICLINKS): an absolute path (such as /root), ".." that climbs out, and a
//    symlink that leads out are PERMISSION_DENIED. The command fchdir()s to the descriptor
//    resolved, so nothing can be swapped in between.
//  - Without a root (the default): each command runs in a fresh, empty directory of its own
//    (mode 0700), made inside a private directory that the workspace creates at Create (mode
//    0700, under `scratch_parent`) and removes when destroyed. A request that names a working
//    directory is PERMISSION_DENIED. The fresh directory is removed (remove_tree.h: no symlink
//    followed, no mount crossed) when its WorkingDirectory is destroyed, which the caller does
//    once every process of the command is gone.
//
// Thread safety: Workspace is immutable after Create, and Check() and Open() are safe from any
// number of threads. Lifetime: a WorkingDirectory must not outlive its Workspace.
#ifndef FRAMERPC_SERVICES_COMMAND_WORKSPACE_H_
#define FRAMERPC_SERVICES_COMMAND_WORKSPACE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"

namespace framerpc::command {

// The directory one command runs in. Move-only; removes the directory on destruction if it was
// made for the command.
class WorkingDirectory {
 public:
  WorkingDirectory(WorkingDirectory&& other) noexcept;
  WorkingDirectory& operator=(WorkingDirectory&& other) = delete;
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;
  ~WorkingDirectory();

  // An O_PATH directory descriptor for ProcessOptions::working_directory; the first call only.
  ScopedFd TakeFd() { return std::move(fd_); }
  // The directory's path, for HOME and messages.
  const std::string& path() const { return path_; }

 private:
  friend class Workspace;
  WorkingDirectory(ScopedFd fd, std::string path, int scratch_parent_fd, std::string scratch_name)
      : fd_(std::move(fd)),
        path_(std::move(path)),
        scratch_parent_fd_(scratch_parent_fd),
        scratch_name_(std::move(scratch_name)) {}

  ScopedFd fd_;
  std::string path_;
  int scratch_parent_fd_;     // -1 unless made for the command; not owned
  std::string scratch_name_;  // its name in scratch_parent_fd_
};

class Workspace {
 public:
  // `root` empty: fresh directories under a private directory made in `scratch_parent` (empty:
  // $TMPDIR, else /tmp). `root` set: it must be an absolute path to an existing directory.
  // Errors: INVALID_ARGUMENT for a relative or NUL-containing path, NOT_FOUND or the system's.
  static absl::StatusOr<std::unique_ptr<Workspace>> Create(std::string root,
                                                           std::string scratch_parent);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // Refuses what can be refused from the string alone: PERMISSION_DENIED for an absolute path,
  // or for any path without a root; INVALID_ARGUMENT for NUL.
  absl::Status Check(absl::string_view requested) const;

  // The directory for a command that asked for `requested`: resolved beneath the root, or made
  // fresh. Errors: Check's; PERMISSION_DENIED if it escapes the root; NOT_FOUND if it does not
  // exist; INVALID_ARGUMENT if it is not a directory; or the system's.
  absl::StatusOr<WorkingDirectory> Open(absl::string_view requested) const;

  // The root, or the private directory the fresh ones are made in.
  const std::string& path() const { return path_; }
  bool has_root() const { return has_root_; }

 private:
  Workspace(bool has_root, std::string path, ScopedFd fd)
      : has_root_(has_root), path_(std::move(path)), fd_(std::move(fd)) {}

  absl::StatusOr<WorkingDirectory> OpenBeneathRoot(absl::string_view requested) const;
  absl::StatusOr<WorkingDirectory> MakeFresh() const;

  const bool has_root_;
  const std::string path_;
  const ScopedFd fd_;  // the root (O_PATH), or the private directory (O_RDONLY)
  mutable std::atomic<uint64_t> next_{0};
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_WORKSPACE_H_
