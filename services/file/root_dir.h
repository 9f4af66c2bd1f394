// RootDir: one directory tree served to untrusted clients. Every client path is resolved beneath
// the root and can never reach anything outside it: not by "..", not by an absolute path, not by
// a symlink (including one swapped in while a transfer is under way). Transport-independent: the
// file-transfer RPC service is a thin layer over this class.
//
// Paths. Client paths follow client_path.h: relative, '/'-separated, no NUL, no empty names, at
// most NAME_MAX per name and PATH_MAX in all, ".." resolved lexically and refused when it climbs
// above the root (INVALID_ARGUMENT). "" is refused; "." is the root itself, which Stat and List
// accept and the mutating calls refuse (INVALID_ARGUMENT: they need a name below the root). Names
// starting with ".frpc-upload-" are reserved for uploads in progress (temp_name.h): every call
// refuses a path with such a component (INVALID_ARGUMENT), and List leaves them out.
//
// Resolution. openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; on kernels without it
// (ENOSYS at Open, or RootDirOptions::force_fallback_walk) a component-by-component walk with
// O_NOFOLLOW and the same checks (beneath.h). Anything the kernel or the walk sees escaping the
// root is PERMISSION_DENIED.
//
// Symlinks. By default a symlink inside the root is followed when its target stays beneath the
// root (a relative target, whose ".." steps never climb above the root): this is safe because
// the kernel refuses any escape during the resolution itself, so there is no check-then-use
// window. Absolute targets are always refused, even ones naming a place inside the root, since
// resolution is relative to the root and not to "/". Set follow_symlinks = false to refuse every
// symlink on any path (RESOLVE_NO_SYMLINKS). List never follows symlinks: it reports them as
// FileType::kSymlink. Remove removes a symlink itself, never its target. Commit replaces a
// symlink at the target name rather than writing through it.
//
// Uploads. CreateTemp makes an anonymous O_TMPFILE (or, where unsupported, a uniquely named
// hidden ".frpc-upload-*" file) in the target's directory, mode 0600; PendingFile::Commit gives
// it options.file_mode, fsyncs it, links or renames it into place atomically and fsyncs the
// directory. No partially written file is ever visible at the target name, an upload in progress
// is never read (not even through a symlink to its temp name: FAILED_PRECONDITION), and an
// abandoned upload leaves nothing behind.
//
// Hard links and mounts. A hard link inside the root to a file outside it, or a mount (a bind
// mount included) inside the root, leads out of it with no symlink and no "..": no path check
// can see it. With refuse_hard_links_and_mounts (by default on for a writable root, off for a
// read-only one) every resolution refuses to cross a mount point (RESOLVE_NO_XDEV, or the walk's
// own check: beneath.h), and a regular file with more than one link is refused by OpenForRead
// and Stat (PERMISSION_DENIED, saying which), whatever the other links are: a hard link gives no
// way to tell where its other names are. List still shows such entries (never following them).
//
// Errors are canonical codes: INVALID_ARGUMENT for malformed paths, PERMISSION_DENIED for escapes,
// refused symlinks and a read-only root, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION (wrong
// kind of file, non-empty directory), others per errno_status.h. Messages say why.
//
// Thread safety: a RootDir is immutable after Open; all its methods are const and safe to call
// concurrently from any threads. Lifetime: every PendingFile must be destroyed before the RootDir
// that created it.
#ifndef FRAMERPC_SERVICES_FILE_ROOT_DIR_H_
#define FRAMERPC_SERVICES_FILE_ROOT_DIR_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/file/beneath.h"
#include "services/file/client_path.h"
#include "services/file/file_info.h"
#include "services/file/pending_file.h"
#include "services/file/uploads_in_progress.h"
#include "base/scoped_fd.h"

namespace framerpc::file {

struct RootDirOptions {
  // When false, CreateTemp, Remove and MakeDirectory are PERMISSION_DENIED.
  bool writable = false;
  // Follow symlinks that stay beneath the root (see above); when false, refuse all symlinks.
  bool follow_symlinks = true;
  // The most entries one List call returns (>= 1); the rest come on later pages.
  size_t max_list_entries = 10000;
  // Permission bits of uploaded files and new directories (the process umask still applies: for
  // files, the umask at Open).
  mode_t file_mode = 0644;
  mode_t dir_mode = 0755;
  // Use the openat2-less fallback walk even where openat2 works. For tests.
  bool force_fallback_walk = false;
  // Stage uploads in O_TMPFILE files when the filesystem and /proc allow it; when false (or
  // unsupported), in named hidden temp files.
  bool use_o_tmpfile = true;
  // Refuse regular files with more than one hard link, and paths that cross a mount point (see
  // above). Unset: refuse when `writable`.
  std::optional<bool> refuse_hard_links_and_mounts;
  // Use /proc/self/fd where it is mounted. When false, act as if it were not: no O_TMPFILE
  // staging (naming such a file takes /proc/self/fd). For tests.
  bool use_proc_self_fd = true;
};

class RootDir {
 public:
  // Opens the directory `root` (an operator-trusted path; symlinks in it are followed).
  // INVALID_ARGUMENT for bad options; NOT_FOUND / FAILED_PRECONDITION if `root` is no directory.
  static absl::StatusOr<std::unique_ptr<RootDir>> Open(const std::string& root,
                                                       const RootDirOptions& options);

  RootDir(const RootDir&) = delete;
  RootDir& operator=(const RootDir&) = delete;

  // OK iff `client_path` is well-formed (client_path.h). Touches no file.
  absl::Status ValidatePath(absl::string_view client_path) const;

  // A read-only, close-on-exec, blocking fd on the regular file at `client_path`. The fd keeps
  // reading the file it opened even if the path is changed afterwards. FAILED_PRECONDITION for a
  // directory or anything else that is not a regular file, which is never opened for data: the
  // path is opened O_PATH, checked with fstat, and only a regular file is then opened for
  // reading (reopen.h, which also says what is left without /proc).
  absl::StatusOr<ScopedFd> OpenForRead(absl::string_view client_path) const;

  // Size, permissions, mtime and type of what `client_path` names (following allowed symlinks).
  absl::StatusOr<FileInfo> Stat(absl::string_view client_path) const;

  // The directory's entries with names greater than `start_after` ("" to start), sorted, at most
  // options.max_list_entries of them; `truncated` says whether more follow.
  absl::StatusOr<DirListing> List(absl::string_view client_path,
                                  absl::string_view start_after = "") const;

  // Starts an upload to `client_path`, whose directory must exist. Nothing appears at
  // `client_path` until PendingFile::Commit succeeds.
  absl::StatusOr<std::unique_ptr<PendingFile>> CreateTemp(absl::string_view client_path) const;

  // Removes the file, symlink or empty directory at `client_path`.
  absl::Status Remove(absl::string_view client_path) const;

  // Creates one directory (its parent must exist). ALREADY_EXISTS if the name is taken.
  absl::Status MakeDirectory(absl::string_view client_path) const;

  // Whether paths are resolved with openat2 (false: the fallback walk).
  bool uses_openat2() const { return setup_.uses_openat2; }
  // options().refuse_hard_links_and_mounts, its default applied.
  bool refuses_hard_links_and_mounts() const { return setup_.rules.same_mount; }
  const RootDirOptions& options() const { return options_; }

 private:
  friend class PendingFile;  // Re-resolves the target's directory at Commit; in_progress_.

  // What Open found out about the system and the options.
  struct Setup {
    ResolveRules rules;
    bool uses_openat2 = false;
    bool proc_self_fd = false;  // usable, and allowed by options.use_proc_self_fd
    bool o_tmpfile = false;
    mode_t final_file_mode = 0;  // options.file_mode less the umask
  };

  RootDir(ScopedFd root_fd, const RootDirOptions& options, const Setup& setup);

  // ClientPath::Parse, and the reserved temp names refused.
  static absl::StatusOr<ClientPath> ParsePath(absl::string_view client_path);
  // For what OpenForRead and Stat reach: FAILED_PRECONDITION if `st` is an upload in progress,
  // PERMISSION_DENIED if it is a regular file with more than one link and those are refused.
  absl::Status CheckReadable(const ClientPath& path, const struct stat& st) const;

  // Opens `path` beneath the root with `flags` (see beneath.h). Only ever with O_PATH or
  // O_DIRECTORY, so that nothing but a directory is opened for data, except in OpenForRead's
  // second resolution where /proc is missing (reopen.h).
  absl::StatusOr<ScopedFd> Resolve(const ClientPath& path, int flags) const;
  // For the mutating calls: refuses a read-only root, then parses a path below the root.
  absl::StatusOr<ClientPath> ParseForChange(absl::string_view client_path,
                                            absl::string_view verb) const;
  absl::StatusOr<ScopedFd> CreateTempIn(int dir_fd, const ClientPath& target,
                                        std::string* temp_name) const;

  const ScopedFd root_fd_;
  const RootDirOptions options_;
  const Setup setup_;
  mutable UploadsInProgress in_progress_;
};

}  // namespace framerpc::file

#endif  // FRAMERPC_SERVICES_FILE_ROOT_DIR_H_
