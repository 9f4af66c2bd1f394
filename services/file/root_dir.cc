#include "services/file/root_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/file/beneath.h"
#include "services/file/dir_listing.h"
#include "services/file/errno_status.h"
#include "services/file/reopen.h"
#include "services/file/temp_name.h"

namespace framerpc::file {
namespace {

std::string What(absl::string_view verb, const ClientPath& path) {
  return absl::StrCat("cannot ", verb, " ", QuotePath(path.Relative()));
}

// The process's umask, read from /proc/self/status where it can be, since umask(2) cannot read it
// without setting it (and so racing with threads creating files); without /proc, the umask(2)
// pair, whose race is with RootDir::Open, normally run at start-up.
mode_t CurrentUmask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    unsigned int mask = 0;
    if (std::sscanf(line.c_str(), "Umask: %o", &mask) == 1) return static_cast<mode_t>(mask);
  }
  const mode_t mask = ::umask(022);
  ::umask(mask);
  return mask;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RootDir>> RootDir::Open(const std::string& root,
                                                       const RootDirOptions& options) {
  if (options.max_list_entries == 0) {
    return absl::InvalidArgumentError("RootDirOptions::max_list_entries must be at least 1");
  }
  // O_RDONLY rather than O_PATH so that the root, as an upload's directory, can be fsynced.
  ScopedFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    return FileErrnoToStatus(errno, absl::StrCat("cannot open the root ", QuotePath(root)));
  }
  Setup setup;
  setup.rules.follow_symlinks = options.follow_symlinks;
  setup.rules.same_mount = options.refuse_hard_links_and_mounts.value_or(options.writable);
  setup.uses_openat2 = !options.force_fallback_walk && Openat2Works(root_fd.get());
  setup.proc_self_fd = options.use_proc_self_fd && ProcSelfFdWorks();
  // linkat of an O_TMPFILE file goes through /proc/self/fd; without procfs, use named temps.
  setup.o_tmpfile = options.use_o_tmpfile && setup.proc_self_fd;
  setup.final_file_mode = options.file_mode & ~CurrentUmask() & 07777;
  return std::unique_ptr<RootDir>(new RootDir(std::move(root_fd), options, setup));
}

RootDir::RootDir(ScopedFd root_fd, const RootDirOptions& options, const Setup& setup)
    : root_fd_(std::move(root_fd)), options_(options), setup_(setup) {}

absl::StatusOr<ClientPath> RootDir::ParsePath(absl::string_view client_path) {
  FRPC_ASSIGN_OR_RETURN(ClientPath path, ClientPath::Parse(client_path));
  for (const std::string& name : path.components()) {
    if (IsTempName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "path ", QuotePath(path.Relative()), " names a temporary file: names starting with '",
          kTempNamePrefix, "' are reserved for uploads in progress"));
    }
  }
  return path;
}

absl::Status RootDir::CheckReadable(const ClientPath& path, const struct stat& st) const {
  if (!S_ISREG(st.st_mode)) return absl::OkStatus();
  if (in_progress_.Contains(st)) {
    return absl::FailedPreconditionError(
        absl::StrCat(QuotePath(path.Relative()), " leads to an upload in progress"));
  }
  if (setup_.rules.same_mount && st.st_nlink > 1) {
    return absl::PermissionDeniedError(absl::StrCat(
        QuotePath(path.Relative()), " has ", st.st_nlink,
        " hard links, and files with more than one are refused (another may be outside the "
        "root)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScopedFd> RootDir::Resolve(const ClientPath& path, int flags) const {
  return setup_.uses_openat2 ? OpenBeneathOpenat2(root_fd_.get(), path, flags, setup_.rules)
                             : OpenBeneathWalk(root_fd_.get(), path, flags, setup_.rules);
}

absl::Status RootDir::ValidatePath(absl::string_view client_path) const {
  return ParsePath(client_path).status();
}

absl::StatusOr<ScopedFd> RootDir::OpenForRead(absl::string_view client_path) const {
  FRPC_ASSIGN_OR_RETURN(const ClientPath path, ParsePath(client_path));
  // O_PATH: a FIFO or a device is not opened (its writer not released, its driver not run).
  FRPC_ASSIGN_OR_RETURN(const ScopedFd handle, Resolve(path, O_PATH));
  struct stat st;
  if (::fstat(handle.get(), &st) != 0) return FileErrnoToStatus(errno, What("stat", path));
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(QuotePath(path.Relative()), " is a directory, not a file"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(QuotePath(path.Relative()), " is not a regular file"));
  }
  FRPC_RETURN_IF_ERROR(CheckReadable(path, st));
  return ReopenForReading(
      handle.get(), st, setup_.proc_self_fd,
      [this, &path](int flags) { return Resolve(path, flags); }, path.Relative());
}

absl::StatusOr<FileInfo> RootDir::Stat(absl::string_view client_path) const {
  FRPC_ASSIGN_OR_RETURN(const ClientPath path, ParsePath(client_path));
  FRPC_ASSIGN_OR_RETURN(ScopedFd fd, Resolve(path, O_PATH));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return FileErrnoToStatus(errno, What("stat", path));
  FRPC_RETURN_IF_ERROR(CheckReadable(path, st));
  return FileInfoFromStat(st);
}

absl::StatusOr<DirListing> RootDir::List(absl::string_view client_path,
                                         absl::string_view start_after) const {
  FRPC_ASSIGN_OR_RETURN(const ClientPath path, ParsePath(client_path));
  FRPC_ASSIGN_OR_RETURN(ScopedFd fd, Resolve(path, O_RDONLY | O_DIRECTORY));
  return ReadDirectory(std::move(fd), path.Relative(), options_.max_list_entries, start_after,
                       kTempNamePrefix);
}

absl::StatusOr<ClientPath> RootDir::ParseForChange(absl::string_view client_path,
                                                   absl::string_view verb) const {
  if (!options_.writable) return absl::PermissionDeniedError("the file service is read-only");
  FRPC_ASSIGN_OR_RETURN(ClientPath path, ParsePath(client_path));
  if (path.is_root()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot ", verb, " the root itself: name something below it"));
  }
  return path;
}

absl::StatusOr<std::unique_ptr<PendingFile>> RootDir::CreateTemp(
    absl::string_view client_path) const {
  FRPC_ASSIGN_OR_RETURN(ClientPath path, ParseForChange(client_path, "upload to"));
  FRPC_ASSIGN_OR_RETURN(ScopedFd dir, Resolve(path.Parent(), O_RDONLY | O_DIRECTORY));
  std::string temp_name;
  FRPC_ASSIGN_OR_RETURN(ScopedFd file, CreateTempIn(dir.get(), path, &temp_name));
  struct stat st;
  if (::fstat(file.get(), &st) != 0) {
    const int err = errno;
    if (!temp_name.empty()) ::unlinkat(dir.get(), temp_name.c_str(), 0);
    return FileErrnoToStatus(err, What("upload to", path));
  }
  return std::unique_ptr<PendingFile>(new PendingFile(
      this, std::move(path), std::move(dir), std::move(file), st, std::move(temp_name)));
}

// Read-write, for the upload's read-back; 0600 until PendingFile::Commit sets the file's mode.
absl::StatusOr<ScopedFd> RootDir::CreateTempIn(int dir_fd, const ClientPath& target,
                                               std::string* temp_name) const {
  constexpr mode_t kPrivate = 0600;
  if (setup_.o_tmpfile) {
    const int fd = ::openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, kPrivate);
    if (fd >= 0) return ScopedFd(fd);
    // Filesystems without O_TMPFILE say EOPNOTSUPP (old kernels EISDIR); use a named file then.
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
      return FileErrnoToStatus(errno, What("upload to", target));
    }
  }
  for (int attempt = 0; attempt < kMaxTempNameAttempts; ++attempt) {
    std::string name = NewTempName();
    const int fd = ::openat(dir_fd, name.c_str(),
                            O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, kPrivate);
    if (fd >= 0) {
      *temp_name = std::move(name);
      return ScopedFd(fd);
    }
    if (errno != EEXIST) return FileErrnoToStatus(errno, What("upload to", target));
  }
  return FileErrnoToStatus(EEXIST, What("find a free temp name for", target));
}

absl::Status RootDir::Remove(absl::string_view client_path) const {
  FRPC_ASSIGN_OR_RETURN(const ClientPath path, ParseForChange(client_path, "remove"));
  FRPC_ASSIGN_OR_RETURN(ScopedFd dir, Resolve(path.Parent(), O_PATH | O_DIRECTORY));
  // The last name is unlinked itself, never resolved: a symlink goes, its target stays.
  const char* name = path.Name().c_str();
  if (::unlinkat(dir.get(), name, 0) == 0) return absl::OkStatus();
  if (errno == EISDIR && ::unlinkat(dir.get(), name, AT_REMOVEDIR) == 0) return absl::OkStatus();
  return FileErrnoToStatus(errno, What("remove", path));
}

absl::Status RootDir::MakeDirectory(absl::string_view client_path) const {
  FRPC_ASSIGN_OR_RETURN(const ClientPath path, ParseForChange(client_path, "create"));
  FRPC_ASSIGN_OR_RETURN(ScopedFd dir, Resolve(path.Parent(), O_PATH | O_DIRECTORY));
  if (::mkdirat(dir.get(), path.Name().c_str(), options_.dir_mode) != 0) {
    return FileErrnoToStatus(errno, What("create directory", path));
  }
  return absl::OkStatus();
}

}  // namespace framerpc::file
