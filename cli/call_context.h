// The part of a call's ClientContext that every command of framerpc_cli takes from its flags.
#ifndef FRAMERPC_CLI_CALL_CONTEXT_H_
#define FRAMERPC_CLI_CALL_CONTEXT_H_

#include "absl/status/status.h"
#include "cli/cli_options.h"
#include "rpc/context.h"

namespace framerpc::cli {

// Checks --timeout and adds the --metadata entries and the --auth_token_file token to `context`.
// The deadline itself is left to the caller, since it counts from when the call starts.
// Errors: INVALID_ARGUMENT "--timeout must be positive, not <duration>", and those of
// ParseMetadata and auth::ReadTokenFile.
absl::Status PrepareContext(const CliOptions& options, ClientContext* context);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_CALL_CONTEXT_H_
