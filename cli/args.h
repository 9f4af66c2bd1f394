// Command-line helpers that absl flags lack.
#ifndef FRAMERPC_CLI_ARGS_H_
#define FRAMERPC_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rpc/context.h"

namespace framerpc::cli {

// Removes every occurrence of flag `name` from `args` ("--name=v", "-name=v", or "--name v") and
// returns the values in order. absl flags keep only the last occurrence of a flag, so flags meant
// to repeat are taken out before absl::ParseCommandLine sees them. args[0] (the program) and
// everything after a "--" terminator are left alone. A trailing "--name" without a value is
// left for absl to report.
std::vector<std::string> TakeRepeatedFlag(absl::string_view name, std::vector<std::string>* args);

// Parses --metadata values: each is "key=value" or several such pairs separated by commas (so
// values cannot contain commas). The value may be empty and may contain '='; the key may not be
// empty. INVALID_ARGUMENT otherwise.
absl::StatusOr<Metadata> ParseMetadata(const std::vector<std::string>& values);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_ARGS_H_
