// Which descriptors a command of framerpc_cli uses, from its flags (see cli/descriptor_source.h).
#ifndef FRAMERPC_CLI_DESCRIPTORS_H_
#define FRAMERPC_CLI_DESCRIPTORS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cli/cli_options.h"
#include "cli/descriptor_source.h"

namespace framerpc::cli {

// Whether --proto or --protoset was given.
bool HasDescriptorFlags(const CliOptions& options);

// The descriptors of --protoset, else of --proto, else of the reflection service at
// options.address (asked with the flags' metadata, token and deadline; its errors are RPC
// failures, cli/exit_code.h). INVALID_ARGUMENT when there is none of these.
absl::StatusOr<std::unique_ptr<DescriptorSource>> LoadDescriptors(const CliOptions& options);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_DESCRIPTORS_H_
