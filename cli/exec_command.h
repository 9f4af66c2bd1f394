// `framerpc_cli exec`: runs a command through the command service and behaves like `ssh host
// cmd`: the remote stdout and stderr stream to ours as they are produced, our stdin is forwarded
// (unless it is a terminal, by default), and the exit code is the remote command's.
//
//   framerpc_cli exec 127.0.0.1:7000 -- ls -l /tmp
//   framerpc_cli --shell exec unix:/tmp/f.sock -- 'ls | wc -l'
#ifndef FRAMERPC_CLI_EXEC_COMMAND_H_
#define FRAMERPC_CLI_EXEC_COMMAND_H_

#include <iosfwd>
#include <string>

#include "absl/types/span.h"
#include "cli/cli_options.h"

namespace framerpc::cli {

// The exit code when the command could not be run or its outcome is unknown (as ssh does).
inline constexpr int kExecFailed = 255;

// `args`: [ADDR] ARGV... (ADDR unless options.address is set). Writes the command's stdout to
// `out` and its stderr to `err`, each chunk as it arrives, and reads stdin from
// options.exec.stdin_fd as options.exec.stdin says. Returns the command's exit code, 128 + N if
// a signal N ended it, or kExecFailed after printing "ERROR: <CODE>: <message>" to `err`. A
// command that ran but timed out or was cut at the output cap gets its code and a note on `err`.
int RunExec(const CliOptions& options, absl::Span<const std::string> args, std::ostream& out,
            std::ostream& err);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_EXEC_COMMAND_H_
