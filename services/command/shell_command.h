// The one way to run a shell string. Kept apart from process.h so that every use of a shell is
// visible in review: a service must only call this when its configuration explicitly allows shell
// commands, and must never splice untrusted text into `script` (pass it as `args` instead).
//
// Thread safety: thread-safe.
#ifndef FRAMERPC_SERVICES_COMMAND_SHELL_COMMAND_H_
#define FRAMERPC_SERVICES_COMMAND_SHELL_COMMAND_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace framerpc::command {

inline constexpr char kShellPath[] = "/bin/sh";

// argv for ProcessOptions running `script` with /bin/sh -c. `args` become the script's positional
// parameters $1, $2, ... ($0 is "sh"), which the shell does not re-parse.
inline std::vector<std::string> ShellCommandArgv(absl::string_view script,
                                                 absl::Span<const std::string> args = {}) {
  std::vector<std::string> argv = {kShellPath, "-c", std::string(script), "sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_SHELL_COMMAND_H_
