#include "services/file/reopen.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "services/file/client_path.h"
#include "services/file/errno_status.h"

namespace framerpc::file {
namespace {

absl::Status OpenError(int err, absl::string_view shown_path) {
  return FileErrnoToStatus(err, absl::StrCat("cannot open ", QuotePath(shown_path)));
}

}  // namespace

bool ProcSelfFdWorks() { return ::access("/proc/self/fd", X_OK) == 0; }

absl::StatusOr<ScopedFd> ReopenForReading(
    int path_fd, const struct stat& checked, bool via_proc,
    const std::function<absl::StatusOr<ScopedFd>(int flags)>& resolve_again,
    absl::string_view shown_path) {
  if (via_proc) {
    const std::string proc_path = absl::StrCat("/proc/self/fd/", path_fd);
    ScopedFd fd(::open(proc_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) return OpenError(errno, shown_path);
    return fd;
  }
  absl::StatusOr<ScopedFd> fd = resolve_again(O_RDONLY | O_NONBLOCK);
  if (!fd.ok()) return fd.status();
  struct stat now;
  if (::fstat(fd->get(), &now) != 0) return OpenError(errno, shown_path);
  if (now.st_dev != checked.st_dev || now.st_ino != checked.st_ino) {
    return absl::AbortedError(
        absl::StrCat(QuotePath(shown_path), " was replaced while it was opened; try again"));
  }
  const int flags = ::fcntl(fd->get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd->get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return OpenError(errno, shown_path);
  }
  return fd;
}

}  // namespace framerpc::file
