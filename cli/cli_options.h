// Settings of framerpc_cli that come from flags rather than from positional arguments.
#ifndef FRAMERPC_CLI_CLI_OPTIONS_H_
#define FRAMERPC_CLI_CLI_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cli/json_codec.h"

namespace framerpc::cli {

struct CliOptions {
  // "host:port", "[v6]:port" or "unix:/path". Needed by `call` only.
  std::string address;
  // Deadline of the call, counted from when it starts; infinite means none.
  absl::Duration timeout = absl::InfiniteDuration();
  // "key=value" entries, each possibly several comma-separated pairs (see ParseMetadata).
  std::vector<std::string> metadata;
  // Sent as the request attachment when not empty.
  std::string attachment_file;
  // Where the response attachment goes: after the JSON on stdout, and/or into a file.
  bool print_attachment = false;
  std::string attachment_out;
  JsonOutputOptions json;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_CLI_OPTIONS_H_
