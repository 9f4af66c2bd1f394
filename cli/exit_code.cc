#include "cli/exit_code.h"

#include "absl/strings/cord.h"

namespace framerpc::cli {
namespace {

constexpr char kRpcPayload[] = "framerpc.cli/rpc";

}  // namespace

absl::Status RpcFailure(absl::Status status) {
  if (!status.ok()) status.SetPayload(kRpcPayload, absl::Cord("1"));
  return status;
}

bool IsRpcFailure(const absl::Status& status) {
  return status.GetPayload(kRpcPayload).has_value();
}

int ExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  if (IsRpcFailure(status)) return kExitRpcBase + static_cast<int>(status.code());
  return kExitLocalFailure;
}

}  // namespace framerpc::cli
