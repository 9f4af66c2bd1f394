// The protocol choice of framerpc_cli, in one place: a CliCall over gRPC with --grpc
// (cli/grpc_call.h), over the framed protocol otherwise (cli/framed_call.h).
#ifndef FRAMERPC_CLI_START_CALL_H_
#define FRAMERPC_CLI_START_CALL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cli/cli_call.h"
#include "cli/cli_options.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace framerpc::cli {

// Starts `method` at options.address; `reply_prototype` is the type of its replies. Errors are
// local failures (flags, files, addresses); the call's own come from CliCall::Finish().
absl::StatusOr<std::unique_ptr<CliCall>> StartCliCall(
    const CliOptions& options, const google::protobuf::MethodDescriptor& method,
    const google::protobuf::Message& reply_prototype);

// "the framed protocol" or "gRPC", for messages.
const char* ProtocolName(const CliOptions& options);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_START_CALL_H_
