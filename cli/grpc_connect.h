// The gRPC channel framerpc_cli's --grpc commands use: plaintext, or TLS from the same flags as
// the framed protocol's (cli/connect.h), through gRPC's own credentials:
//   -cacert (else the system's CAs), -cert/-key     grpc::SslCredentials
//   -servername                                    the target name the certificate must carry
//   -insecure                                      TLS that checks no certificate (gRPC's
//                                                  TlsCredentials with a no-op verifier)
#ifndef FRAMERPC_CLI_GRPC_CONNECT_H_
#define FRAMERPC_CLI_GRPC_CONNECT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cli/cli_options.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace framerpc::cli {

// A channel to options.address ("host:port", "[v6]:port", "unix:/path"; gRPC connects lazily).
// INVALID_ARGUMENT naming a TLS file that cannot be read, or -cert without -key.
absl::StatusOr<std::shared_ptr<grpc::Channel>> GrpcConnect(const CliOptions& options);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_GRPC_CONNECT_H_
