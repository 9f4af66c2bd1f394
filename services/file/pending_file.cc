#include "services/file/pending_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/file/errno_status.h"
#include "services/file/root_dir.h"
#include "services/file/temp_name.h"

namespace framerpc::file {

PendingFile::PendingFile(const RootDir* root, ClientPath target, ScopedFd dir, ScopedFd file,
                         const struct stat& file_stat, std::string temp_name)
    : root_(root),
      target_(std::move(target)),
      dir_(std::move(dir)),
      file_(std::move(file)),
      file_stat_(file_stat),
      temp_name_(std::move(temp_name)) {
  root_->in_progress_.Add(file_stat_);
}

PendingFile::~PendingFile() {
  // An O_TMPFILE file vanishes with its last fd; a named one must be unlinked, if it is still
  // this upload's (a name taken over belongs to whoever took it).
  if (!committed_ && !given_up_ && !temp_name_.empty()) {
    ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
  }
  if (in_progress_) root_->in_progress_.Remove(file_stat_);
}

absl::Status PendingFile::Error(int err, const char* verb) const {
  return FileErrnoToStatus(err, absl::StrCat("cannot ", verb, " ", QuotePath(path())));
}

absl::Status PendingFile::Commit(bool overwrite) {
  if (committed_) {
    return absl::FailedPreconditionError(absl::StrCat(QuotePath(path()), " is already committed"));
  }
  if (given_up_) {
    return absl::FailedPreconditionError(
        absl::StrCat("the upload to ", QuotePath(path()), " was given up; nothing was written"));
  }
  // The mode now, not at creation: until the commit only the server's user may open the file.
  if (::fchmod(file_.get(), root_->setup_.final_file_mode) != 0) {
    return Error(errno, "set the mode of");
  }
  if (::fsync(file_.get()) != 0) return Error(errno, "sync");
  FRPC_RETURN_IF_ERROR(CheckDirectoryUnchanged());
  if (!temp_name_.empty()) {
    const absl::Status unchanged = CheckTempNameUnchanged();
    if (absl::IsAborted(unchanged)) given_up_ = true;
    FRPC_RETURN_IF_ERROR(unchanged);
  }
  // No longer in progress from the instant it has the target name, so that no reader of that
  // name is refused; it is whole and synced already.
  root_->in_progress_.Remove(file_stat_);
  const absl::Status placed =
      temp_name_.empty() ? LinkAnonymous(overwrite) : RenameNamed(overwrite);
  if (!placed.ok()) {
    root_->in_progress_.Add(file_stat_);
    return placed;
  }
  in_progress_ = false;
  committed_ = true;
  temp_name_.clear();
  const absl::Status ours = CheckCommittedFileIsOurs();
  file_.reset();
  if (!ours.ok()) {
    committed_ = false;
    given_up_ = true;
    return ours;
  }
  // The new name is durable only once the directory is.
  if (::fsync(dir_.get()) != 0) return Error(errno, "sync the directory of");
  return absl::OkStatus();
}

absl::Status PendingFile::CheckDirectoryUnchanged() const {
  FRPC_ASSIGN_OR_RETURN(ScopedFd now, root_->Resolve(target_.Parent(), O_PATH | O_DIRECTORY));
  struct stat held;
  struct stat named;
  if (::fstat(dir_.get(), &held) != 0 || ::fstat(now.get(), &named) != 0) {
    return Error(errno, "check the directory of");
  }
  if (held.st_dev != named.st_dev || held.st_ino != named.st_ino) {
    return absl::AbortedError(
        absl::StrCat("the directory of ", QuotePath(path()), " was replaced during the upload"));
  }
  return absl::OkStatus();
}

absl::Status PendingFile::CheckTempNameUnchanged() const {
  struct stat named;
  if (::fstatat(dir_.get(), temp_name_.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) return Error(errno, "check the temporary file of");
  } else if (named.st_dev == file_stat_.st_dev && named.st_ino == file_stat_.st_ino) {
    return absl::OkStatus();
  }
  return absl::AbortedError(absl::StrCat("the temporary file of the upload to ", QuotePath(path()),
                                         " was replaced or removed; nothing was written"));
}

absl::Status PendingFile::CheckCommittedFileIsOurs() const {
  struct stat now;
  if (::fstat(file_.get(), &now) != 0) return Error(errno, "check");
  if (now.st_nlink > 0) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrCat(QuotePath(path()), " was replaced while the upload was committed: the file "
                                      "at that name now is not the one uploaded"));
}

// An O_TMPFILE file gets its first name with linkat through /proc/self/fd, which (unlike
// AT_EMPTY_PATH) needs no CAP_DAC_READ_SEARCH. linkat never replaces, so overwriting goes through
// a hidden name and rename(2).
absl::Status PendingFile::LinkAnonymous(bool overwrite) const {
  const std::string proc_path = absl::StrCat("/proc/self/fd/", file_.get());
  const std::string& name = target_.Name();
  if (!overwrite) {
    if (::linkat(AT_FDCWD, proc_path.c_str(), dir_.get(), name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      if (errno == EEXIST) {
        return absl::AlreadyExistsError(absl::StrCat(QuotePath(path()), " already exists"));
      }
      return Error(errno, "create");
    }
    return absl::OkStatus();
  }
  for (int attempt = 0; attempt < kMaxTempNameAttempts; ++attempt) {
    const std::string hidden = NewTempName();
    if (::linkat(AT_FDCWD, proc_path.c_str(), dir_.get(), hidden.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      if (errno == EEXIST) continue;
      return Error(errno, "create");
    }
    if (::renameat(dir_.get(), hidden.c_str(), dir_.get(), name.c_str()) != 0) {
      const int err = errno;
      ::unlinkat(dir_.get(), hidden.c_str(), 0);
      return Error(err, "replace");
    }
    return absl::OkStatus();
  }
  return Error(EEXIST, "find a free temp name for");
}

absl::Status PendingFile::RenameNamed(bool overwrite) const {
  const int dir = dir_.get();
  const char* from = temp_name_.c_str();
  const char* to = target_.Name().c_str();
  if (overwrite) {
    if (::renameat(dir, from, dir, to) != 0) return Error(errno, "replace");
    return absl::OkStatus();
  }
  int rc = ::renameat2(dir, from, dir, to, RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL) {
    // The filesystem lacks RENAME_NOREPLACE: link (which never replaces), then drop the temp.
    rc = ::linkat(dir, from, dir, to, 0);
    if (rc == 0) ::unlinkat(dir, from, 0);
  }
  if (rc != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(QuotePath(path()), " already exists"));
    }
    return Error(errno, "create");
  }
  return absl::OkStatus();
}

}  // namespace framerpc::file
