#include "services/command/workspace.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/command/remove_tree.h"

namespace framerpc::command {
namespace {

absl::Status RequestError(int error, absl::string_view requested, absl::string_view root) {
  switch (error) {
    case EXDEV:
    case ELOOP:
      return absl::PermissionDeniedError(absl::StrCat(
          "working directory '", requested, "' leads outside ", root, " (--command_workdir)"));
    case ENOENT:
      return absl::NotFoundError(absl::StrCat("working directory '", requested,
                                              "' does not exist in ", root));
    case ENOTDIR:
      return absl::InvalidArgumentError(absl::StrCat("working directory '", requested,
                                                     "' is not a directory"));
    default:
      return absl::ErrnoToStatus(error, absl::StrCat("working directory '", requested, "'"));
  }
}

}  // namespace

WorkingDirectory::WorkingDirectory(WorkingDirectory&& other) noexcept
    : fd_(std::move(other.fd_)),
      path_(std::move(other.path_)),
      scratch_parent_fd_(std::exchange(other.scratch_parent_fd_, -1)),
      scratch_name_(std::move(other.scratch_name_)) {}

WorkingDirectory::~WorkingDirectory() {
  fd_.reset();
  if (scratch_parent_fd_ < 0) return;
  absl::Status removed = RemoveTree(scratch_parent_fd_, scratch_name_);
  if (!removed.ok()) {
    std::fprintf(stderr, "framerpc command service: cannot remove %s: %s\n", path_.c_str(),
                 removed.ToString().c_str());
  }
}

absl::StatusOr<std::unique_ptr<Workspace>> Workspace::Create(std::string root,
                                                             std::string scratch_parent) {
  for (std::string* dir : {&root, &scratch_parent}) {
    while (dir->size() > 1 && dir->back() == '/') dir->pop_back();
  }
  if (!root.empty()) {
    if (root.front() != '/' || root.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--command_workdir '", root, "' must be an absolute path"));
    }
    ScopedFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("--command_workdir ", root));
    return std::unique_ptr<Workspace>(new Workspace(true, std::move(root), std::move(fd)));
  }
  if (scratch_parent.empty()) {
    const char* tmpdir = ::getenv("TMPDIR");
    scratch_parent = tmpdir != nullptr && tmpdir[0] == '/' ? tmpdir : "/tmp";
  }
  std::string path = absl::StrCat(scratch_parent, "/framerpc-commands-XXXXXX");
  if (::mkdtemp(path.data()) == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("making a directory in ", scratch_parent));
  }
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    ::rmdir(path.c_str());
    return absl::ErrnoToStatus(error, path);
  }
  return std::unique_ptr<Workspace>(new Workspace(false, std::move(path), std::move(fd)));
}

Workspace::~Workspace() {
  if (has_root_) return;
  // Whatever a command left that could not be removed then; and the private directory itself.
  const size_t slash = path_.rfind('/');
  ScopedFd parent(::open(path_.substr(0, slash == 0 ? 1 : slash).c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (parent.valid()) RemoveTree(parent.get(), path_.substr(slash + 1)).IgnoreError();
}

absl::Status Workspace::Check(absl::string_view requested) const {
  if (requested.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("working directory contains a NUL byte");
  }
  if (!has_root_ && !requested.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "working directory '", requested,
        "' refused: this server runs each command in a fresh directory of its own "
        "(no --command_workdir)"));
  }
  if (!requested.empty() && requested.front() == '/') {
    return absl::PermissionDeniedError(absl::StrCat(
        "working directory '", requested, "' is absolute: give a path relative to ", path_,
        " (--command_workdir)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WorkingDirectory> Workspace::Open(absl::string_view requested) const {
  if (absl::Status status = Check(requested); !status.ok()) return status;
  return has_root_ ? OpenBeneathRoot(requested) : MakeFresh();
}

absl::StatusOr<WorkingDirectory> Workspace::OpenBeneathRoot(absl::string_view requested) const {
  const std::string relative = requested.empty() ? "." : std::string(requested);
  struct open_how how = {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, fd_.get(), relative.c_str(), &how, sizeof how);
  if (fd < 0) return RequestError(errno, requested, path_);
  return WorkingDirectory(ScopedFd(static_cast<int>(fd)),
                          requested.empty() ? path_ : absl::StrCat(path_, "/", requested),
                          /*scratch_parent_fd=*/-1, "");
}

absl::StatusOr<WorkingDirectory> Workspace::MakeFresh() const {
  std::string name;
  for (;;) {
    name = absl::StrCat("cmd-", next_.fetch_add(1));
    if (::mkdirat(fd_.get(), name.c_str(), 0700) == 0) break;
    if (errno != EEXIST) return absl::ErrnoToStatus(errno, absl::StrCat("mkdir in ", path_));
  }
  ScopedFd fd(::openat(fd_.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    ::unlinkat(fd_.get(), name.c_str(), AT_REMOVEDIR);
    return absl::ErrnoToStatus(error, absl::StrCat("opening ", path_, "/", name));
  }
  std::string path = absl::StrCat(path_, "/", name);
  return WorkingDirectory(std::move(fd), std::move(path), fd_.get(), std::move(name));
}

}  // namespace framerpc::command
