// A CliCall over framerpc's own framed protocol (rpc/channel.h): what framerpc_cli uses unless
// --grpc is given. Unary calls are made when Read() is first called (the request is held until
// then); streaming calls are framerpc streams. Raw attachments cross in both directions; the
// responses carry no metadata (ResponseMetadata::carried is false).
#ifndef FRAMERPC_CLI_FRAMED_CALL_H_
#define FRAMERPC_CLI_FRAMED_CALL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cli/cli_call.h"
#include "cli/cli_options.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace framerpc::cli {

// Connects to options.address (TLS as options.tls says) and starts `method` with the flags'
// metadata, token and deadline (counted from now). `reply_prototype` is the type of the replies
// (copied; the call makes its own). Errors: those of PrepareContext and Channel::Create, local
// failures; the call's own failures come from Finish().
absl::StatusOr<std::unique_ptr<CliCall>> StartFramedCall(
    const CliOptions& options, const google::protobuf::MethodDescriptor& method,
    const google::protobuf::Message& reply_prototype);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_FRAMED_CALL_H_
