// The component-by-component implementation of beneath.h, for kernels without openat2.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "services/file/beneath.h"
#include "services/file/errno_status.h"
#include "services/file/mount_id.h"

namespace framerpc::file {
namespace {

// Linux's limit on symlinks followed in one resolution (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

// Reads the symlink open at `link_fd` (O_PATH | O_NOFOLLOW). Reading through the fd, not the
// name, guarantees the target read is that of the inode just inspected.
bool ReadLink(int link_fd, std::string* target) {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlinkat(link_fd, "", buffer, sizeof(buffer));
  if (n < 0) return false;
  if (static_cast<size_t>(n) == sizeof(buffer)) {  // Possibly truncated.
    errno = ENAMETOOLONG;
    return false;
  }
  target->assign(buffer, static_cast<size_t>(n));
  return true;
}

// The walk's state: the directories entered so far (each opened O_PATH | O_NOFOLLOW relative to
// the one before, so each is a real directory beneath the root), and the names still to go.
// Every decision about a name (directory? symlink? its target?) is made on one fd opened with
// O_NOFOLLOW, so a name swapped between two system calls cannot mislead it.
class Walk {
 public:
  Walk(int root_fd, const ClientPath& path, int flags, const ResolveRules& rules)
      : root_fd_(root_fd),
        path_(path),
        flags_(FinalFlags(flags)),
        rules_(rules),
        pending_(path.components().begin(), path.components().end()) {}

  absl::StatusOr<ScopedFd> Run() {
    if (rules_.same_mount) {
      root_mount_ = MountKeyOf(root_fd_);
      if (!root_mount_) return Error(errno);
    }
    while (!pending_.empty()) {
      const std::string name = std::move(pending_.front());
      pending_.pop_front();
      if (name == ".") continue;  // "." and ".." only come from symlink targets.
      if (name == "..") {
        if (entered_.empty()) return EscapeError(path_);
        entered_.pop_back();
        continue;
      }
      std::string target;
      if (pending_.empty()) {
        FRPC_ASSIGN_OR_RETURN(ScopedFd fd, OpenLast(name, &target));
        if (fd.valid()) return fd;
      } else {
        FRPC_ASSIGN_OR_RETURN(ScopedFd fd, Inspect(name));
        FRPC_ASSIGN_OR_RETURN(const mode_t type, TypeOf(fd.get()));
        if (type == S_IFDIR) {
          FRPC_RETURN_IF_ERROR(CheckMount(fd.get()));
          entered_.push_back(std::move(fd));
          continue;
        }
        if (type != S_IFLNK) return Error(ENOTDIR);
        if (!ReadLink(fd.get(), &target)) return Error(errno);
      }
      FRPC_RETURN_IF_ERROR(FollowSymlink(target));
    }
    // The path ended on a directory already entered (the root, or a symlink to "." or "..").
    const int fd = ::openat(current(), ".", flags_);
    if (fd < 0) return Error(errno);
    return ScopedFd(fd);
  }

 private:
  // How often the last name may turn out to have changed type between two opens.
  static constexpr int kMaxLastNameRetries = 8;

  int current() const { return entered_.empty() ? root_fd_ : entered_.back().get(); }

  absl::Status Error(int err) const {
    return FileErrnoToStatus(err, absl::StrCat("cannot open ", QuotePath(path_.Relative())));
  }

  // Whatever `name` is in the current directory, opened without following it.
  absl::StatusOr<ScopedFd> Inspect(const std::string& name) const {
    ScopedFd fd(::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Error(errno);
    return fd;
  }

  // PERMISSION_DENIED if mounts are refused and `fd` is not on the root's mount.
  absl::Status CheckMount(int fd) const {
    if (!rules_.same_mount) return absl::OkStatus();
    const std::optional<MountKey> key = MountKeyOf(fd);
    if (!key) return Error(errno);
    return SameMount(*key, *root_mount_) ? absl::OkStatus() : MountRefusedError(path_);
  }

  absl::StatusOr<mode_t> TypeOf(int fd) const {
    struct stat st;
    if (::fstat(fd, &st) != 0) return Error(errno);
    return st.st_mode & S_IFMT;
  }

  // Opens the last name with the caller's flags. Returns the fd, or an invalid fd with *target
  // set when the name is a symlink to follow.
  absl::StatusOr<ScopedFd> OpenLast(const std::string& name, std::string* target) const {
    for (int attempt = 0;; ++attempt) {
      // Mounts are refused before anything on one is opened for more than O_PATH.
      if (rules_.same_mount && (flags_ & O_PATH) == 0) {
        ScopedFd look(::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (look.valid()) FRPC_RETURN_IF_ERROR(CheckMount(look.get()));
      }
      ScopedFd fd(::openat(current(), name.c_str(), flags_ | O_NOFOLLOW));
      int err = errno;
      if (fd.valid()) {
        if ((flags_ & O_PATH) == 0) {
          FRPC_RETURN_IF_ERROR(CheckMount(fd.get()));
          return fd;
        }
        // O_PATH | O_NOFOLLOW opens a symlink itself rather than failing.
        FRPC_ASSIGN_OR_RETURN(const mode_t type, TypeOf(fd.get()));
        if (type != S_IFLNK) {
          FRPC_RETURN_IF_ERROR(CheckMount(fd.get()));
          return fd;
        }
        if (!ReadLink(fd.get(), target)) return Error(errno);
        return ScopedFd();
      }
      // O_NOFOLLOW refuses a symlink with ELOOP (ENOTDIR when O_DIRECTORY was asked for too).
      if (err != ELOOP && err != ENOTDIR) return Error(err);
      FRPC_ASSIGN_OR_RETURN(ScopedFd link, Inspect(name));
      FRPC_ASSIGN_OR_RETURN(const mode_t type, TypeOf(link.get()));
      if (type == S_IFLNK) {
        if (!ReadLink(link.get(), target)) return Error(errno);
        return ScopedFd();
      }
      // Not a symlink (any more). ENOTDIR on a non-directory is the real answer; anything else
      // means the name was swapped between the two opens: look again.
      if ((err == ENOTDIR && type != S_IFDIR) || attempt == kMaxLastNameRetries) return Error(err);
    }
  }

  // Puts the components of `target` in front of the names still to go.
  absl::Status FollowSymlink(const std::string& target) {
    if (!rules_.follow_symlinks) return SymlinkRefusedError(path_);
    if (++symlinks_followed_ > kMaxSymlinks) return Error(ELOOP);
    if (target.empty()) return Error(ENOENT);
    if (target.front() == '/') return EscapeError(path_);  // As RESOLVE_BENEATH: EXDEV.
    std::vector<std::string> names = absl::StrSplit(target, '/', absl::SkipEmpty());
    pending_.insert(pending_.begin(), names.begin(), names.end());
    return absl::OkStatus();
  }

  const int root_fd_;
  const ClientPath& path_;
  const int flags_;
  const ResolveRules rules_;
  std::optional<MountKey> root_mount_;  // when rules_.same_mount
  std::deque<std::string> pending_;
  std::vector<ScopedFd> entered_;
  int symlinks_followed_ = 0;
};

}  // namespace

absl::StatusOr<ScopedFd> OpenBeneathWalk(int root_fd, const ClientPath& path, int flags,
                                         const ResolveRules& rules) {
  return Walk(root_fd, path, flags, rules).Run();
}

}  // namespace framerpc::file
