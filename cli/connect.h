// The channel every framerpc_cli command that makes calls connects with: plaintext, or TLS as
// CliOptions::tls says.
#ifndef FRAMERPC_CLI_CONNECT_H_
#define FRAMERPC_CLI_CONNECT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/cli_options.h"
#include "rpc/channel.h"

namespace framerpc::cli {

// Channel::Create's errors (a bad TLS file is INVALID_ARGUMENT naming it).
absl::StatusOr<std::unique_ptr<Channel>> Connect(const CliOptions& options,
                                                 const std::string& address);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_CONNECT_H_
