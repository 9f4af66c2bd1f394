#include "services/command/executable.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace framerpc::command {

bool FileIdentity::operator==(const FileIdentity& o) const {
  return std::tie(device, inode, size, modified.tv_sec, modified.tv_nsec, changed.tv_sec,
                  changed.tv_nsec, mode, owner, group) ==
         std::tie(o.device, o.inode, o.size, o.modified.tv_sec, o.modified.tv_nsec,
                  o.changed.tv_sec, o.changed.tv_nsec, o.mode, o.owner, o.group);
}

std::string FileIdentity::DebugString() const {
  return absl::StrCat("dev=", device, " ino=", inode, " size=", size,
                      " mtime=", modified.tv_sec, ".", modified.tv_nsec,
                      " ctime=", changed.tv_sec, ".", changed.tv_nsec, " mode=0", absl::Hex(mode),
                      " uid=", owner, " gid=", group);
}

absl::StatusOr<FileIdentity> IdentityOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, "fstat");
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = st.st_size;
  id.modified = st.st_mtim;
  id.changed = st.st_ctim;
  id.mode = st.st_mode;
  id.owner = st.st_uid;
  id.group = st.st_gid;
  return id;
}

absl::StatusOr<ScopedFd> OpenExecutable(int dir_fd, absl::string_view path) {
  const std::string name(path);
  if (name.empty() || name.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("empty program path, or one containing NUL");
  }
  ScopedFd fd(::openat(dir_fd, name.c_str(), O_PATH | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("program '", name, "' not found"));
    }
    return absl::ErrnoToStatus(errno, absl::StrCat("program '", name, "'"));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return absl::ErrnoToStatus(errno, "fstat");
  // faccessat2 with AT_EMPTY_PATH checks the descriptor itself, as execve will.
  if (!S_ISREG(st.st_mode) ||
      ::syscall(SYS_faccessat2, fd.get(), "", X_OK, AT_EMPTY_PATH | AT_EACCESS) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("program '", name, "' is not an executable file"));
  }
  return fd;
}

}  // namespace framerpc::command
