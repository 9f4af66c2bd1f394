// Resolving a program name to the file that will be executed, and opening a working directory,
// before anything is spawned: so that a missing program is a clean NOT_FOUND status rather than a
// child that exits with 127.
//
// Thread safety: the functions are thread-safe (they only look at the file system).
#ifndef FRAMERPC_SERVICES_COMMAND_PROGRAM_PATH_H_
#define FRAMERPC_SERVICES_COMMAND_PROGRAM_PATH_H_

#include <fcntl.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"

namespace framerpc::command {

// The PATH a child gets when the caller's environment has none.
inline constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

// Returns the path that executing `program` would run, like execvp(3) but without the shell
// fallback:
//  - `program` containing '/' names a file directly, and is returned as it is: an absolute path,
//    or one relative to `dir_fd` (the child's directory; AT_FDCWD: this process's).
//  - otherwise each entry of `path_env` (':'-separated) is tried in order, and the result is the
//    entry lexically joined with the name (no symlinks resolved), so that it can be compared with
//    allowlist entries. Empty and relative entries are skipped: they would make the lookup depend
//    on the child's directory.
// Errors: INVALID_ARGUMENT for an empty name or one containing NUL; NOT_FOUND if no file exists;
// PERMISSION_DENIED if the only candidates are not executable regular files.
absl::StatusOr<std::string> ResolveProgram(absl::string_view program, absl::string_view path_env,
                                           int dir_fd = AT_FDCWD);

// `dir` (an absolute path) opened as an O_PATH | O_DIRECTORY descriptor to run a command in.
// INVALID_ARGUMENT if it is relative or not a directory; NOT_FOUND if it does not exist.
absl::StatusOr<ScopedFd> OpenWorkingDirectory(absl::string_view dir);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_PROGRAM_PATH_H_
