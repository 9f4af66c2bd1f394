#include "services/command/pinned_program.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace framerpc::command {

absl::StatusOr<std::string> RealPathOf(int fd) {
  char target[PATH_MAX + 1];
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("readlink ", link));
  if (static_cast<size_t>(n) == sizeof target) return absl::OutOfRangeError("path too long");
  return std::string(target, static_cast<size_t>(n));
}

absl::StatusOr<PinnedProgram> PinnedProgram::Pin(std::string path) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is not an absolute path"));
  }
  FRPC_ASSIGN_OR_RETURN(ScopedFd fd, OpenExecutable(AT_FDCWD, path));
  FRPC_ASSIGN_OR_RETURN(std::string real_path, RealPathOf(fd.get()));
  FRPC_ASSIGN_OR_RETURN(FileIdentity identity, IdentityOf(fd.get()));
  return PinnedProgram(std::move(path), std::move(real_path), identity);
}

absl::StatusOr<ScopedFd> PinnedProgram::Open(absl::string_view requested) const {
  auto changed = [&](absl::string_view how) {
    return absl::PermissionDeniedError(absl::StrCat(
        "program '", requested, "' has changed since the server started (", path_, " ", how,
        "); restart the server to allow what is there now"));
  };
  absl::StatusOr<ScopedFd> fd = OpenExecutable(AT_FDCWD, path_);
  if (!fd.ok()) return changed(fd.status().message());
  // The checks are on the descriptor itself, which is what will be executed: whatever happens to
  // the path from now on does not matter.
  absl::StatusOr<std::string> real_path = RealPathOf(fd->get());
  if (!real_path.ok()) return real_path.status();
  if (*real_path != real_path_) {
    return changed(absl::StrCat("now leads to ", *real_path, ", not ", real_path_));
  }
  absl::StatusOr<FileIdentity> identity = IdentityOf(fd->get());
  if (!identity.ok()) return identity.status();
  if (*identity != identity_) {
    return changed(absl::StrCat("is another file or was modified: ", identity->DebugString(),
                                ", pinned ", identity_.DebugString()));
  }
  return fd;
}

}  // namespace framerpc::command
