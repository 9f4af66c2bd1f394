// `framerpc_cli call`: a call of any method kind, over the framed protocol or gRPC (--grpc),
// JSON in and JSON out.
#ifndef FRAMERPC_CLI_CALL_COMMAND_H_
#define FRAMERPC_CLI_CALL_COMMAND_H_

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "cli/cli_options.h"
#include "cli/method_registry.h"

namespace framerpc::cli {

// `args`: the method, then optionally the request JSON ("-" or none: read `in` to its end).
// Everything that can be checked locally (method, JSON, metadata, files) is checked before
// connecting. Writes the reply JSON, then the attachment if asked, to `out`; notes to `err`.
// Returns the call's status or the local error.
absl::Status RunCall(const CliOptions& options, const MethodRegistry& registry,
                     absl::Span<const std::string> args, std::istream& in, std::ostream& out,
                     std::ostream& err);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_CALL_COMMAND_H_
