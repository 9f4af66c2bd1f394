// PendingFile: an upload in progress, created by RootDir::CreateTemp. The caller writes the
// content to fd(), then calls Commit to make it appear at the target path in one atomic step.
//
// Until Commit succeeds nothing exists at the target name. The data lives in an anonymous
// O_TMPFILE file, or in a hidden ".frpc-upload-<random>" file in the target's directory when
// O_TMPFILE cannot be used. Destroying an uncommitted PendingFile removes the temp file.
//
// The target's directory is held open from CreateTemp on, so the file can only ever land in that
// directory, which was beneath the root when it was resolved. Commit also resolves the directory
// again and refuses (ABORTED, or PERMISSION_DENIED if the path now escapes) when it is no longer
// the same directory, for example because it was swapped for a symlink. So a swap never makes an
// upload land outside the root, nor in a directory the client did not name.
//
// Ownership: the PendingFile owns its fds. It keeps a pointer to the RootDir that created it, and
// that RootDir must outlive it. Thread safety: none; one owner at a time (it may move between
// threads).
#ifndef FRAMERPC_SERVICES_FILE_PENDING_FILE_H_
#define FRAMERPC_SERVICES_FILE_PENDING_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "services/file/client_path.h"
#include "base/scoped_fd.h"

namespace framerpc::file {

class RootDir;

class PendingFile {
 public:
  ~PendingFile();
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  // The write-only fd to fill. Owned by this object; -1 once committed.
  int fd() const { return file_.get(); }
  // The normalised target path (relative to the root).
  std::string path() const { return target_.Relative(); }
  bool committed() const { return committed_; }

  // Makes the content visible at the target path: fsyncs the file, checks the directory is still
  // the one the path names, links (overwrite == false) or renames (overwrite == true) the file
  // into place atomically, and fsyncs the directory.
  //   ALREADY_EXISTS       the target exists and !overwrite; nothing changed.
  //   FAILED_PRECONDITION  already committed, or overwrite onto a directory.
  //   ABORTED              the directory was replaced since CreateTemp; nothing written.
  // After a failure (other than an fsync failure of the directory, which is reported after the
  // file is in place) Commit may be tried again, e.g. with overwrite = true.
  absl::Status Commit(bool overwrite);

 private:
  friend class RootDir;
  PendingFile(const RootDir* root, ClientPath target, ScopedFd dir, ScopedFd file,
              std::string temp_name);

  absl::Status CheckDirectoryUnchanged() const;
  absl::Status LinkAnonymous(bool overwrite) const;
  absl::Status RenameNamed(bool overwrite) const;
  absl::Status Error(int err, const char* verb) const;

  const RootDir* const root_;
  const ClientPath target_;
  const ScopedFd dir_;     // The target's directory (O_RDONLY, for fsync).
  ScopedFd file_;          // The content; reset on commit.
  std::string temp_name_;  // "" for an O_TMPFILE file; cleared once renamed into place.
  bool committed_ = false;
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_PENDING_FILE_H_
