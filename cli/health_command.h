// `framerpc_cli health ADDR [SERVICE]`: asks the server's grpc.health.v1 service (Check, over the
// framed protocol) whether SERVICE ("" for the server as a whole) is serving, and prints the
// answer (SERVING, NOT_SERVING, SERVICE_UNKNOWN or UNKNOWN). Succeeds only for SERVING, so it can
// be a Kubernetes exec probe or a Docker HEALTHCHECK.
#ifndef FRAMERPC_CLI_HEALTH_COMMAND_H_
#define FRAMERPC_CLI_HEALTH_COMMAND_H_

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "cli/cli_options.h"

namespace framerpc::cli {

// OK for SERVING; an RPC failure (cli/exit_code.h) UNAVAILABLE "<what> is NOT_SERVING" (or
// SERVICE_UNKNOWN, UNKNOWN) for any other answer; the call's own error (NOT_FOUND for a service
// the server does not know, UNAVAILABLE when nothing answers) otherwise.
absl::Status RunHealth(const CliOptions& options, absl::Span<const std::string> args,
                       std::ostream& out);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_HEALTH_COMMAND_H_
