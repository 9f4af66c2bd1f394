// framerpc_cli: calls framerpc services from the command line, with JSON requests and replies.
// See kUsage in cli/cli.h. Flags only; the commands live in //cli:cli.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/known_services.h"
#include "cli/method_registry.h"
#include "naming/etcd_naming.h"

ABSL_FLAG(std::string, address, "", "Server: host:port, [v6addr]:port or unix:/path.");
ABSL_FLAG(std::string, timeout, "inf",
          "Deadline of the call: a duration (500ms, 5s) or a number of seconds (5, 0.25); inf "
          "for none.");
ABSL_FLAG(std::string, max_time, "",
          "grpcurl's -max-time: the same as --timeout, in seconds (5, 0.25).");
ABSL_FLAG(std::vector<std::string>, metadata, {},
          "Call metadata as key=value; repeat the flag or separate pairs with commas.");
ABSL_FLAG(std::string, d, "",
          "grpcurl's -d: the request JSON for call (several objects for a streaming call); '@' "
          "reads it from stdin.");
ABSL_FLAG(std::vector<std::string>, proto, {},
          "Take the descriptors from these .proto files instead of the server's reflection; "
          "repeat the flag or separate files with commas.");
ABSL_FLAG(std::vector<std::string>, import_path, {},
          "Where --proto files and their imports are found (default: the current directory).");
ABSL_FLAG(std::string, protoset, "",
          "Take the descriptors from this FileDescriptorSet (protoc --include_imports "
          "--descriptor_set_out) instead of the server's reflection.");
ABSL_FLAG(std::string, lb_policy, "pick_first",
          "For an address naming several servers (ipv4:A,B, dns:///host:port, "
          "etcd:///name?endpoints=...): pick_first, round_robin, least_request or ring_hash.");
ABSL_FLAG(std::string, reflection, "auto",
          "When to ask the server's reflection service: auto (list and describe with an "
          "address, and calls to methods not built into framerpc_cli), always, never.");
ABSL_FLAG(bool, format_error, false,
          "Print an error as one JSON object: {\"code\", \"name\", \"message\"}.");
ABSL_FLAG(bool, plaintext, false,
          "grpcurl's -plaintext: no TLS, the default unless -tls, -cacert, -cert or -insecure is "
          "given; with one of those it is refused.");
ABSL_FLAG(bool, grpc, false,
          "call, list, describe: speak gRPC (HTTP/2) to --address, the gRPC adapter's port or any "
          "gRPC server, instead of the framed protocol.");
ABSL_FLAG(bool, v, false,
          "call: print the response headers and trailers around the replies, as grpcurl -v "
          "does (the framed protocol's responses carry none, and it says so).");
ABSL_FLAG(std::string, attachment_file, "", "Send this file's bytes as the request attachment.");
ABSL_FLAG(bool, print_attachment, false,
          "Write the response attachment to stdout, after the JSON reply and its newline.");
ABSL_FLAG(std::string, attachment_out, "", "Write the response attachment to this file.");
ABSL_FLAG(bool, emit_defaults, false, "Print reply fields that hold their default value.");
ABSL_FLAG(bool, preserve_proto_field_names, false,
          "Print reply fields as field_name instead of fieldName.");
ABSL_FLAG(bool, compact, false, "Print the reply JSON on one line.");
ABSL_FLAG(std::string, auth_token_file, "",
          "Send the token in this file (readable by its owner only) as 'authorization: Bearer "
          "<token>' metadata, as the command service requires beyond loopback.");
ABSL_FLAG(bool, shell, false,
          "exec: join the command's words with spaces and run them with /bin/sh -c (the server "
          "must run with --command_allow_shell).");
ABSL_FLAG(std::string, stdin, "auto",
          "exec: forward our stdin to the command: auto (unless it is a terminal), always, "
          "never (the command's stdin is /dev/null).");
ABSL_FLAG(std::vector<std::string>, env, {},
          "exec: NAME=value for the command's environment; repeat the flag for more.");
ABSL_FLAG(std::string, cwd, "",
          "exec: the command's working directory, relative to the server's --command_workdir "
          "(servers without one run each command in a fresh directory and refuse --cwd).");
ABSL_FLAG(absl::Duration, exec_timeout, absl::ZeroDuration(),
          "exec: the command's timeout (then SIGTERM, then SIGKILL); 0: the server's default.");
ABSL_FLAG(bool, continue, false,
          "download: keep what LOCAL_PATH already holds and fetch the rest, verifying the whole "
          "file.");
ABSL_FLAG(bool, overwrite, false, "upload: replace REMOTE_PATH if it exists.");
ABSL_FLAG(std::string, checksum, "xxh3",
          "download, upload: how the transfer is verified: xxh3 (XXH3-128, as xxh128sum) or "
          "sha256 (as sha256sum).");
// TLS, with grpcurl's names (docs/security.md). Any of them turns TLS on.
ABSL_FLAG(bool, tls, false, "Connect with TLS, trusting the system's CAs unless -cacert says.");
ABSL_FLAG(std::string, cacert, "", "TLS: PEM file of the CAs the server's certificate must chain to.");
ABSL_FLAG(std::string, cert, "", "TLS: PEM file of this client's certificate (with -key).");
ABSL_FLAG(std::string, key, "", "TLS: PEM file of the private key of -cert.");
ABSL_FLAG(std::string, servername, "",
          "TLS: the name the server's certificate must carry; default: the address's host.");
ABSL_FLAG(bool, insecure, false,
          "TLS without checking the server's certificate at all (anyone on the path can read "
          "and change everything): for trying things out only.");

namespace {

bool ParseStdinMode(const std::string& text, framerpc::cli::ExecStdin* mode) {
  if (text == "auto") {
    *mode = framerpc::cli::ExecStdin::kAuto;
  } else if (text == "always") {
    *mode = framerpc::cli::ExecStdin::kAlways;
  } else if (text == "never") {
    *mode = framerpc::cli::ExecStdin::kNever;
  } else {
    return false;
  }
  return true;
}

bool ParseReflection(const std::string& text, framerpc::cli::Reflection* mode) {
  if (text == "auto") {
    *mode = framerpc::cli::Reflection::kAuto;
  } else if (text == "always") {
    *mode = framerpc::cli::Reflection::kAlways;
  } else if (text == "never") {
    *mode = framerpc::cli::Reflection::kNever;
  } else {
    return false;
  }
  return true;
}

int UsageError(const std::string& message) {
  std::cerr << "ERROR: INVALID_ARGUMENT: " << message << std::endl;
  return framerpc::cli::kExitLocalFailure;
}

framerpc::cli::CliOptions OptionsFromFlags(std::vector<std::string> metadata,
                                           std::vector<std::string> headers,
                                           std::vector<std::string> env) {
  framerpc::cli::CliOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.metadata = std::move(metadata);
  options.headers = std::move(headers);
  options.proto_files = absl::GetFlag(FLAGS_proto);
  options.import_paths = absl::GetFlag(FLAGS_import_path);
  options.protoset = absl::GetFlag(FLAGS_protoset);
  options.format_error = absl::GetFlag(FLAGS_format_error);
  options.grpc = absl::GetFlag(FLAGS_grpc);
  options.verbose = absl::GetFlag(FLAGS_v);
  options.load_balancing = absl::GetFlag(FLAGS_lb_policy);
  options.attachment_file = absl::GetFlag(FLAGS_attachment_file);
  options.print_attachment = absl::GetFlag(FLAGS_print_attachment);
  options.attachment_out = absl::GetFlag(FLAGS_attachment_out);
  options.json.pretty = !absl::GetFlag(FLAGS_compact);
  options.json.emit_defaults = absl::GetFlag(FLAGS_emit_defaults);
  options.json.preserve_proto_field_names = absl::GetFlag(FLAGS_preserve_proto_field_names);
  options.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  options.exec.shell = absl::GetFlag(FLAGS_shell);
  options.exec.stdin_fd = 0;
  options.exec.env = std::move(env);
  options.exec.working_directory = absl::GetFlag(FLAGS_cwd);
  options.exec.command_timeout = absl::GetFlag(FLAGS_exec_timeout);
  options.transfer.resume = absl::GetFlag(FLAGS_continue);
  options.transfer.overwrite = absl::GetFlag(FLAGS_overwrite);
  options.transfer.checksum = absl::GetFlag(FLAGS_checksum);
  options.transfer.progress = ::isatty(STDERR_FILENO) == 1;
  framerpc::TlsClientOptions tls;
  tls.ca_file = absl::GetFlag(FLAGS_cacert);
  tls.cert_chain_file = absl::GetFlag(FLAGS_cert);
  tls.private_key_file = absl::GetFlag(FLAGS_key);
  tls.server_name = absl::GetFlag(FLAGS_servername);
  tls.insecure_skip_verify = absl::GetFlag(FLAGS_insecure);
  if (absl::GetFlag(FLAGS_tls) || !tls.ca_file.empty() || !tls.cert_chain_file.empty() ||
      !tls.server_name.empty() || tls.insecure_skip_verify) {
    options.tls = std::move(tls);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(framerpc::cli::kUsage);
  // absl keeps only the last value of a repeated flag, so --metadata is collected beforehand.
  std::vector<std::string> args(argv, argv + argc);
  framerpc::cli::DashedFlagsToUnderscores(
      {"max-time", "emit-defaults", "import-path", "format-error"}, &args);
  std::vector<std::string> metadata = framerpc::cli::TakeRepeatedFlag("metadata", &args);
  std::vector<std::string> headers = framerpc::cli::TakeRepeatedFlag("H", &args);
  std::vector<std::string> env = framerpc::cli::TakeRepeatedFlag("env", &args);
  std::vector<char*> arg_ptrs;
  for (std::string& arg : args) arg_ptrs.push_back(arg.data());
  const std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());

  framerpc::cli::CliOptions options =
      OptionsFromFlags(std::move(metadata), std::move(headers), std::move(env));
  if (!ParseStdinMode(absl::GetFlag(FLAGS_stdin), &options.exec.stdin_mode)) {
    return UsageError("--stdin must be auto, always or never");
  }
  if (absl::GetFlag(FLAGS_plaintext) && options.tls.has_value()) {
    return UsageError("-plaintext cannot go with -tls, -cacert, -cert, -servername or -insecure");
  }
  if (!ParseReflection(absl::GetFlag(FLAGS_reflection), &options.reflection)) {
    return UsageError("--reflection must be auto, always or never");
  }
  const std::string max_time = absl::GetFlag(FLAGS_max_time);
  absl::StatusOr<absl::Duration> timeout =
      framerpc::cli::ParseTimeout(max_time.empty() ? absl::GetFlag(FLAGS_timeout) : max_time);
  if (!timeout.ok()) return UsageError(std::string(timeout.status().message()));
  options.timeout = *timeout;
  std::vector<std::string> command(positional.begin() + 1, positional.end());
  if (const std::string data = absl::GetFlag(FLAGS_d); !data.empty()) {
    if (command.size() != 2 || command[0] != "call") {
      return UsageError("-d gives the request of `call METHOD`, and no JSON argument with it");
    }
    command.push_back(data == "@" ? "-" : data);
  }
  framerpc::naming::RegisterEtcdResolver();  // --address=etcd:///NAME?endpoints=...
  const framerpc::cli::MethodRegistry registry(framerpc::cli::KnownServiceFiles());
  return framerpc::cli::RunCli(options, registry, command, std::cin, std::cout, std::cerr);
}
