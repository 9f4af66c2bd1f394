// framerpc_cli's commands, callable in-process: main() only turns flags into CliOptions.
//
//   framerpc_cli --address=127.0.0.1:7000 call /framerpc.echo.EchoService/Say '{"text":"hi"}'
//   framerpc_cli list [SERVICE...]
//   framerpc_cli describe SYMBOL
#ifndef FRAMERPC_CLI_CLI_H_
#define FRAMERPC_CLI_CLI_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/cli_options.h"
#include "cli/exit_code.h"
#include "cli/method_registry.h"

namespace framerpc::cli {

// The usage text: the commands, their arguments and the exit-code rule.
extern const char kUsage[];

// Runs the command in `args` (the positional arguments, command first). `in` is read only when a
// call's request JSON is "-" or omitted. Results go to `out`; errors go to `err` as
// "ERROR: <CODE>: <message>". Returns the exit code: 0, or ExitCode() of the error
// (cli/exit_code.h).
int RunCli(const CliOptions& options, const MethodRegistry& registry,
           const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_CLI_H_
