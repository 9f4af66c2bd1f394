#include "cli/start_call.h"

#include "cli/framed_call.h"
#include "cli/grpc_call.h"

namespace framerpc::cli {

absl::StatusOr<std::unique_ptr<CliCall>> StartCliCall(
    const CliOptions& options, const google::protobuf::MethodDescriptor& method,
    const google::protobuf::Message& reply_prototype) {
  if (options.grpc) return StartGrpcCall(options, method);
  return StartFramedCall(options, method, reply_prototype);
}

const char* ProtocolName(const CliOptions& options) {
  return options.grpc ? "gRPC" : "the framed protocol";
}

}  // namespace framerpc::cli
