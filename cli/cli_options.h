// Settings of framerpc_cli that come from flags rather than from positional arguments.
#ifndef FRAMERPC_CLI_CLI_OPTIONS_H_
#define FRAMERPC_CLI_CLI_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cli/json_codec.h"
#include "transport/tls/tls_options.h"

namespace framerpc::cli {

// How `exec` treats our stdin.
enum class ExecStdin {
  kAuto,    // forward it unless it is a terminal
  kAlways,  // forward it
  kNever,   // the command's stdin is /dev/null
};

// Settings of `exec` only.
struct ExecOptions {
  // The words of the command are joined with spaces and run by /bin/sh -c (the server must allow
  // shell commands), as ssh does.
  bool shell = false;
  ExecStdin stdin_mode = ExecStdin::kAuto;
  int stdin_fd = 0;
  // "NAME=value" entries for the command's environment.
  std::vector<std::string> env;
  std::string working_directory;
  // The command's timeout (SIGTERM, then SIGKILL); zero: the server's default.
  absl::Duration command_timeout = absl::ZeroDuration();
};

// Settings of `download` and `upload` only.
struct TransferOptions {
  // download --continue: keep the local file's bytes and fetch the rest.
  bool resume = false;
  // upload --overwrite: replace an existing remote file.
  bool overwrite = false;
  // Draw a progress bar on stderr (framerpc_cli does when stderr is a terminal).
  bool progress = false;
  // --checksum: "xxh3" (XXH3-128) or "sha256"; anything else is refused by the command.
  std::string checksum = "xxh3";
};

// When framerpc_cli asks a server's reflection service for its descriptors.
enum class Reflection {
  kAuto,    // list and describe with an address, and calls to methods not built in
  kAlways,  // for every command that has an address
  kNever,   // only the built-in services (and --proto, --protoset)
};

struct CliOptions {
  // "host:port", "[v6]:port" or "unix:/path". Needed by `call` only.
  std::string address;
  // Deadline of the call, counted from when it starts; infinite means none.
  absl::Duration timeout = absl::InfiniteDuration();
  // "key=value" entries, each possibly several comma-separated pairs (see ParseMetadata).
  std::vector<std::string> metadata;
  // -H "key: value" entries, as grpcurl takes them (see ParseHeaders).
  std::vector<std::string> headers;
  // Sent as the request attachment when not empty.
  std::string attachment_file;
  // Where the response attachment goes: after the JSON on stdout, and/or into a file.
  bool print_attachment = false;
  std::string attachment_out;
  JsonOutputOptions json;
  // A file holding a token, sent as "authorization: Bearer <token>" metadata.
  std::string auth_token_file;
  // TLS to the server (-tls, -cacert, -cert, -key, -servername, -insecure); unset: plaintext.
  std::optional<TlsClientOptions> tls;
  // For an address that names several servers (ipv4:a,b, dns:///, etcd:///): how calls pick one
  // (rpc/balancer.h).
  std::string load_balancing = "pick_first";
  ExecOptions exec;
  TransferOptions transfer;
  // Descriptors from .proto files (found under `import_paths`) or a FileDescriptorSet instead of
  // the server's reflection (cli/descriptor_source.h).
  std::vector<std::string> proto_files;
  std::vector<std::string> import_paths;
  std::string protoset;
  Reflection reflection = Reflection::kAuto;
  // Speak gRPC (HTTP/2) instead of the framed protocol: to the gRPC adapter's port
  // (adapters/grpc) or any gRPC server. call, list and describe only.
  bool grpc = false;
  // -v: print the response headers and trailers around the replies (cli/call_command.h).
  bool verbose = false;
  // Print an error as one JSON object ({"code": N, "name": "...", "message": "..."}).
  bool format_error = false;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_CLI_OPTIONS_H_
