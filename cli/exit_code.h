// framerpc_cli's exit codes, as grpcurl's are, so that scripts can tell failures apart:
//   0        success;
//   1        a usage or flag error, or a local failure (a file that cannot be read, bad JSON);
//   64 + N   the server (or the way to it) answered with status code N: 64 + 14 = 78 for
//            UNAVAILABLE, 64 + 16 = 80 for UNAUTHENTICATED;
// and `exec` exits with the remote command's own code (255 when it could not run), as ssh does.
#ifndef FRAMERPC_CLI_EXIT_CODE_H_
#define FRAMERPC_CLI_EXIT_CODE_H_

#include "absl/status/status.h"

namespace framerpc::cli {

constexpr int kExitLocalFailure = 1;
constexpr int kExitRpcBase = 64;

// `status`, marked as the outcome of a call (the server's answer, or the transport's failure to
// reach it), not a local failure. OK stays OK.
absl::Status RpcFailure(absl::Status status);
bool IsRpcFailure(const absl::Status& status);

// 0 for OK, 64 + the code for an RpcFailure, 1 for everything else.
int ExitCode(const absl::Status& status);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_EXIT_CODE_H_
