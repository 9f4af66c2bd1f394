// Where the supervisor binary (framerpc_supervisor, supervisor_main.cc) is: every command's
// supervisor is that program, exec'd through a descriptor opened once per process, so replacing
// the file later changes nothing.
//
// Unless UseSupervisorExecutable names it (--command_supervisor), the first use looks, in order:
//  1. next to this program (/proc/self/exe): an installed server and its supervisor side by side,
//     and the tests of services/command;
//  2. in this program's Bazel runfiles: <program>.runfiles/framerpc/services/command/, then under
//     $RUNFILES_DIR and $TEST_SRCDIR (bazel-bin/server/framerpc_server, the benches, tests).
// The file must be a regular, executable file.
//
// Thread safety: all functions are thread-safe. The descriptor lives as long as the process.
#ifndef FRAMERPC_SERVICES_COMMAND_SUPERVISOR_EXECUTABLE_H_
#define FRAMERPC_SERVICES_COMMAND_SUPERVISOR_EXECUTABLE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace framerpc::command {

inline constexpr char kSupervisorFileName[] = "framerpc_supervisor";

// Uses `path` from now on. INVALID_ARGUMENT for an empty or relative path, NOT_FOUND or
// PERMISSION_DENIED (naming the path) if it is not an executable regular file, FAILED_PRECONDITION
// if a different supervisor is already in use (the first spawn fixes it).
absl::Status UseSupervisorExecutable(const std::string& path);

// The supervisor's descriptor (O_PATH, close-on-exec), found as above on the first call. The
// error, NOT_FOUND naming every place looked at, is the same on every call.
absl::StatusOr<int> SupervisorExecutableFd();

// The places looked at, in order, for the program `self` (a path) and the environment's
// RUNFILES_DIR and TEST_SRCDIR (empty: unset). For tests.
std::vector<std::string> SupervisorCandidates(const std::string& self,
                                              const std::string& runfiles_dir,
                                              const std::string& test_srcdir);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_SUPERVISOR_EXECUTABLE_H_
