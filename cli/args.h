// Command-line helpers that absl flags lack.
#ifndef FRAMERPC_CLI_ARGS_H_
#define FRAMERPC_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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

// grpcurl spells some flags with dashes (-max-time, -emit-defaults); absl flag names cannot hold
// one. Rewrites each argument that is one of `names` with dashes ("-max-time", "--max-time=5") to
// the underscore spelling ("--max_time", "--max_time=5"). args[0] and everything after "--" are
// left alone.
void DashedFlagsToUnderscores(const std::vector<std::string>& names,
                              std::vector<std::string>* args);

// Parses -H values, "key: value" as grpcurl takes them (the value may hold commas and colons; the
// blanks around it are dropped). INVALID_ARGUMENT for a value without a colon or with an empty
// key.
absl::StatusOr<Metadata> ParseHeaders(const std::vector<std::string>& values);

// A call's timeout from the command line: a duration ("500ms", "5s", "1m30s"), a number of
// seconds ("5", "0.25", as grpcurl's -max-time takes), or "inf" for none. INVALID_ARGUMENT
// saying which forms are accepted otherwise.
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text);

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_ARGS_H_
