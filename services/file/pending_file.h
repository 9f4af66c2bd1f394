// PendingFile: an upload in progress, created by RootDir::CreateTemp. The caller writes the
// content to fd(), then calls Commit to make it appear at the target path in one atomic step.
//
// Until Commit succeeds nothing exists at the target name. The data lives in an anonymous
// O_TMPFILE file, or in a hidden ".frpc-upload-<random>" file in the target's directory when
// O_TMPFILE cannot be used. Either is created with O_EXCL and mode 0600, so no other user can open
// it while it fills; Commit gives it RootDirOptions::file_mode. Its name is reserved
// (temp_name.h): no client call can name it. While it exists the RootDir counts its inode as an
// upload in progress (uploads_in_progress.h), which no read reaches by any other name either.
// Destroying an uncommitted PendingFile removes the temp file.
//
// The target's directory is held open from CreateTemp on, so the file can only ever land in that
// directory, which was beneath the root when it was resolved. Commit also resolves the directory
// again and refuses (ABORTED, or PERMISSION_DENIED if the path now escapes) when it is no longer
// the same directory, for example because it was swapped for a symlink. So a swap never makes an
// upload land outside the root, nor in a directory the client did not name.
//
// A named temp file could still be replaced by a local process that can write in the directory
// (rename(2) onto the temp name). Commit checks, just before it renames the name into place, that
// the name still holds this upload's file (fstat of the fd against fstatat of the name), and after
// the rename that this upload's file is what got a name (its link count is not 0): otherwise
// ABORTED, and the caller never reports foreign content as its own. The second check can also
// fire when another upload with overwrite replaces the target in the instant after this one's
// rename.
//
// Ownership: the PendingFile owns its fds. It keeps a pointer to the RootDir that created it, and
// that RootDir must outlive it. Thread safety: none; one owner at a time (it may move between
// threads).
#ifndef FRAMERPC_SERVICES_FILE_PENDING_FILE_H_
#define FRAMERPC_SERVICES_FILE_PENDING_FILE_H_

#include <sys/stat.h>

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

  // The fd to fill, open for reading and writing (the upload reads its bytes back before the
  // commit: read_back.h). Owned by this object; -1 once committed.
  int fd() const { return file_.get(); }
  // The normalised target path (relative to the root).
  std::string path() const { return target_.Relative(); }
  bool committed() const { return committed_; }

  // Makes the content visible at the target path: gives the file its mode, fsyncs it, checks the
  // directory is still the one the path names, links (overwrite == false) or renames
  // (overwrite == true) the file into place atomically, and fsyncs the directory.
  //   ALREADY_EXISTS       the target exists and !overwrite; nothing changed.
  //   FAILED_PRECONDITION  already committed (or given up, below), or overwrite onto a directory.
  //   ABORTED              the directory was replaced since CreateTemp, or the temp name no
  //                        longer holds this upload's file: nothing written. Also when the file
  //                        that got the target name turned out not to be this upload's (above).
  // After a failure (other than an fsync failure of the directory, which is reported after the
  // file is in place, and the two ABORTED cases of a replaced file, after which the upload is
  // given up) Commit may be tried again, e.g. with overwrite = true.
  absl::Status Commit(bool overwrite);

 private:
  friend class RootDir;
  // `file_stat` is fstat of `file`.
  PendingFile(const RootDir* root, ClientPath target, ScopedFd dir, ScopedFd file,
              const struct stat& file_stat, std::string temp_name);

  absl::Status CheckDirectoryUnchanged() const;
  // Whether the named temp file is still this upload's file (OK), or was replaced (ABORTED).
  absl::Status CheckTempNameUnchanged() const;
  // Once the file is in place: whether what got the name was this upload's file.
  absl::Status CheckCommittedFileIsOurs() const;
  absl::Status LinkAnonymous(bool overwrite) const;
  absl::Status RenameNamed(bool overwrite) const;
  absl::Status Error(int err, const char* verb) const;

  const RootDir* const root_;
  const ClientPath target_;
  const ScopedFd dir_;           // The target's directory (O_RDONLY, for fsync).
  ScopedFd file_;                // The content; reset on commit.
  const struct stat file_stat_;  // Of file_, as created: its identity.
  std::string temp_name_;        // "" for an O_TMPFILE file; cleared once renamed into place.
  bool committed_ = false;
  bool given_up_ = false;    // The temp name was taken over: nothing to commit or remove.
  bool in_progress_ = true;  // Counted in the RootDir's UploadsInProgress.
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_PENDING_FILE_H_
