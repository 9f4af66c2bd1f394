// A CliCall over real gRPC (HTTP/2, grpc::GenericStub): what framerpc_cli uses with --grpc, against
// the gRPC adapter's port (adapters/grpc) or any gRPC server. Every method kind runs as one
// generic bidirectional call, since gRPC's wire format is the same for all four; the method
// descriptor decides how many requests the command sends and how many replies it reads.
// gRPC has no attachments: Write() refuses a non-empty one by ending the call with
// INVALID_ARGUMENT. The server's headers and trailers are kept for -v.
#ifndef FRAMERPC_CLI_GRPC_CALL_H_
#define FRAMERPC_CLI_GRPC_CALL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cli/cli_call.h"
#include "cli/cli_options.h"
#include "google/protobuf/descriptor.h"

namespace framerpc::cli {

// Starts `method` on a channel to options.address (cli/grpc_connect.h), with the flags'
// metadata (keys lower-cased, as gRPC requires), token and deadline (counted from now). Errors:
// those of PrepareContext and GrpcConnect, local failures; the call's own come from Finish().
absl::StatusOr<std::unique_ptr<CliCall>> StartGrpcCall(
    const CliOptions& options, const google::protobuf::MethodDescriptor& method);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_GRPC_CALL_H_
