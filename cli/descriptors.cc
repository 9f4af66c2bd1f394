#include "cli/descriptors.h"

#include "cli/call_context.h"
#include "cli/connect.h"
#include "cli/exit_code.h"
#include "rpc/channel.h"
#include "base/status_macros.h"

namespace framerpc::cli {

bool HasDescriptorFlags(const CliOptions& options) {
  return !options.protoset.empty() || !options.proto_files.empty();
}

absl::StatusOr<std::unique_ptr<DescriptorSource>> LoadDescriptors(const CliOptions& options) {
  if (!options.protoset.empty()) {
    if (!options.proto_files.empty()) {
      return absl::InvalidArgumentError("give --proto or --protoset, not both");
    }
    return DescriptorSource::FromProtoset(options.protoset);
  }
  if (!options.proto_files.empty()) {
    return DescriptorSource::FromProtoFiles(options.proto_files, options.import_paths);
  }
  if (options.address.empty()) {
    return absl::InvalidArgumentError(
        "no descriptors: give --address (the server's reflection), --proto or --protoset");
  }
  ClientContext context;
  FRPC_RETURN_IF_ERROR(PrepareContext(options, &context));
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, Connect(options, options.address));
  if (options.timeout != absl::InfiniteDuration()) context.set_timeout(options.timeout);
  absl::StatusOr<std::unique_ptr<DescriptorSource>> source =
      DescriptorSource::FromReflection(channel.get(), &context);
  if (!source.ok()) return RpcFailure(source.status());
  return source;
}

}  // namespace framerpc::cli
