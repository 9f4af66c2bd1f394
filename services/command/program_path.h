// Resolving a program name to the file that will be executed, and checking a working directory,
// before anything is spawned: so that a missing program is a clean NOT_FOUND status rather than a
// child that exits with 127.
//
// Thread safety: the functions are thread-safe (they only stat the file system).
#ifndef FRAMERPC_SERVICES_COMMAND_PROGRAM_PATH_H_
#define FRAMERPC_SERVICES_COMMAND_PROGRAM_PATH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc::command {

// The PATH a child gets when the caller's environment has none.
inline constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

// Returns the absolute path that executing `program` would run, like execvp(3) but without the
// shell fallback:
//  - `program` containing '/' names a file directly; a relative one is taken relative to
//    `working_directory` (the child's directory), or to this process's directory if that is empty.
//  - otherwise each entry of `path_env` (':'-separated) is tried in order. Empty and relative
//    entries are skipped: they would make the lookup depend on the child's directory.
// The result is lexically joined (no symlinks resolved), so it can be compared with allowlist
// entries. Errors: INVALID_ARGUMENT for an empty name or one containing NUL; NOT_FOUND if no
// file exists; PERMISSION_DENIED if the only candidates are not executable regular files.
absl::StatusOr<std::string> ResolveProgram(absl::string_view program, absl::string_view path_env,
                                           absl::string_view working_directory);

// OK if `dir` is empty (the child inherits this process's directory) or an existing directory
// given as an absolute path. INVALID_ARGUMENT if it is relative or not a directory; NOT_FOUND if
// it does not exist.
absl::Status CheckWorkingDirectory(absl::string_view dir);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_PROGRAM_PATH_H_
