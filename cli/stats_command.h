// framerpc_cli stats ADDRESS [PAGE]: a server's operator page (/status by default: per method over
// the last minute) printed in the terminal. ADDRESS is the server's admin address (--admin_listen)
// or, with --admin_on_rpc_port, its RPC address. HTTP/1.1 over a plain socket; the token of
// --auth_token_file is sent when given (pages other than the probes need it off the host).
#ifndef FRAMERPC_CLI_STATS_COMMAND_H_
#define FRAMERPC_CLI_STATS_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "cli/cli_options.h"

namespace framerpc::cli {

// Errors: INVALID_ARGUMENT (usage), UNAVAILABLE (cannot connect), DEADLINE_EXCEEDED (no answer
// within options.timeout, or 10 s when it is infinite), FAILED_PRECONDITION (the address does not
// speak HTTP: not an admin address), UNAUTHENTICATED (401), PERMISSION_DENIED (403), NOT_FOUND
// (404), RESOURCE_EXHAUSTED (an answer over 16 MiB), UNKNOWN (another HTTP status).
absl::Status RunStats(const CliOptions& options, absl::Span<const std::string> args,
                      std::ostream& out);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_STATS_COMMAND_H_
