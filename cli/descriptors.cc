#include "cli/descriptors.h"

#include "base/status_macros.h"
#include "cli/exit_code.h"
#include "cli/start_call.h"

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
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<CliCall> stream,
                        StartCliCall(options, DescriptorSource::ReflectionMethod(),
                                     DescriptorSource::ReflectionReply()));
  absl::StatusOr<std::unique_ptr<DescriptorSource>> source =
      DescriptorSource::FromReflection(stream.get(), options.address);
  if (!source.ok()) return RpcFailure(source.status());
  return source;
}

}  // namespace framerpc::cli
