#include "cli/cli.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "cli/call_command.h"
#include "cli/descriptors.h"
#include "cli/exec_command.h"
#include "cli/exit_code.h"
#include "cli/health_command.h"
#include "cli/stats_command.h"
#include "cli/transfer_commands.h"
#include "nlohmann/json.hpp"
#include "base/status_macros.h"

namespace framerpc::cli {
namespace {

using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

std::string MethodLine(const MethodDescriptor& method) {
  return absl::StrCat(MethodPath(method), "(", method.client_streaming() ? "stream " : "",
                      method.input_type()->full_name(), ") returns (",
                      method.server_streaming() ? "stream " : "", method.output_type()->full_name(),
                      ")");
}

// Every known service with its methods, or only the services named in `names`.
absl::Status RunList(const MethodRegistry& registry, absl::Span<const std::string> names,
                     std::ostream& out) {
  for (const std::string& name : names) {
    const auto& services = registry.services();
    if (std::none_of(services.begin(), services.end(),
                     [&](const ServiceDescriptor* s) { return s->full_name() == name; })) {
      return absl::NotFoundError(absl::StrCat("unknown service ", name));
    }
  }
  for (const ServiceDescriptor* service : registry.services()) {
    if (!names.empty() &&
        std::find(names.begin(), names.end(), service->full_name()) == names.end()) {
      continue;
    }
    out << service->full_name() << "\n";
    for (int m = 0; m < service->method_count(); ++m) {
      out << "  " << MethodLine(*service->method(m)) << "\n";
    }
  }
  return absl::OkStatus();
}

absl::Status RunDescribe(const MethodRegistry& registry, absl::Span<const std::string> args,
                         std::ostream& out) {
  if (args.size() != 1) {
    return absl::InvalidArgumentError("usage: describe <Service|Method|Message|Enum>");
  }
  FRPC_ASSIGN_OR_RETURN(const std::string text, registry.Describe(args[0]));
  out << text;
  if (!text.empty() && text.back() != '\n') out << "\n";
  return absl::OkStatus();
}

// list and describe: the server's services (reflection) when there is an address, the files of
// --proto or --protoset when given, else the services built into framerpc_cli.
absl::Status WithRegistry(const CliOptions& options, const MethodRegistry& builtin,
                          const std::function<absl::Status(const MethodRegistry&)>& run) {
  const bool ask = HasDescriptorFlags(options) ||
                   (!options.address.empty() && options.reflection != Reflection::kNever);
  if (!ask) return run(builtin);
  FRPC_ASSIGN_OR_RETURN(const std::unique_ptr<DescriptorSource> source, LoadDescriptors(options));
  return run(source->registry());
}

absl::Status RunCommand(const CliOptions& options, const MethodRegistry& registry,
                        const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                        std::ostream& err) {
  if (args.empty()) return absl::InvalidArgumentError(absl::StrCat("no command\n", kUsage));
  const absl::Span<const std::string> rest = absl::MakeConstSpan(args).subspan(1);
  if (options.grpc && args[0] != "call" && args[0] != "list" && args[0] != "describe") {
    return absl::InvalidArgumentError(absl::StrCat("--grpc works with call, list and describe, not ", args[0]));
  }
  if (args[0] == "call") return RunCall(options, registry, rest, in, out, err);
  if (args[0] == "list") {
    return WithRegistry(options, registry, [&](const MethodRegistry& r) {
      return RunList(r, rest, out);
    });
  }
  if (args[0] == "describe") {
    return WithRegistry(options, registry, [&](const MethodRegistry& r) {
      return RunDescribe(r, rest, out);
    });
  }
  if (args[0] == "health") return RunHealth(options, rest, out);
  if (args[0] == "download") return RunDownload(options, rest, out, err);
  if (args[0] == "upload") return RunUpload(options, rest, out, err);
  if (args[0] == "stats") return RunStats(options, rest, out);
  return absl::InvalidArgumentError(absl::StrCat("unknown command ", args[0], "\n", kUsage));
}

// {"code": 14, "name": "UNAVAILABLE", "message": "..."}, escaped by nlohmann::json (bytes that
// are not UTF-8 become U+FFFD).
std::string ErrorJson(const absl::Status& status) {
  const nlohmann::json error = {{"code", static_cast<int>(status.code())},
                                {"name", absl::StatusCodeToString(status.code())},
                                {"message", std::string(status.message())}};
  return error.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

const char kUsage[] =
    "usage:\n"
    "  framerpc_cli --address=ADDR [flags] call /package.Service/Method [JSON|-]\n"
    "      JSON request; '-' or none reads it from stdin. Prints the JSON reply. Streaming\n"
    "      methods: the requests are JSON objects one per line or one after another (from the\n"
    "      argument or stdin), and each reply is printed as it arrives.\n"
    "  framerpc_cli [--address=ADDR] list [SERVICE...]\n"
    "      Services and methods, with request and response types.\n"
    "  framerpc_cli [--address=ADDR] describe SYMBOL\n"
    "      A service, method, message or enum, as .proto text.\n"
    "      Descriptors come from the server's reflection (with --address), from --proto files\n"
    "      (with --import_path) or a --protoset; without any, from the services built into\n"
    "      framerpc_cli (echo and command), which `call` also uses first.\n"
    "  framerpc_cli [flags] health ADDR [SERVICE]\n"
    "      grpc.health.v1 Check: prints SERVING, NOT_SERVING, ...; exits 0 only for SERVING.\n"
    "  framerpc_cli [flags] exec ADDR -- COMMAND [ARG...]\n"
    "      Runs COMMAND through the command service, like `ssh host COMMAND`: its output\n"
    "      streams to ours, our stdin is forwarded unless it is a terminal (--stdin), and the\n"
    "      exit code is the command's (128+N if signal N ended it; 255 if it could not run).\n"
    "      ADDR may be left out when --address is given. See --shell, --env, --cwd,\n"
    "      --exec_timeout, --auth_token_file.\n"
    "  framerpc_cli [flags] download ADDR REMOTE_PATH LOCAL_PATH [--continue]\n"
    "  framerpc_cli [flags] upload ADDR LOCAL_PATH REMOTE_PATH [--overwrite]\n"
    "      Files from and to the file service, checked by XXH3-128 (--checksum=sha256 for\n"
    "      SHA-256), with a progress bar when stderr is a terminal. A download writes\n"
    "      LOCAL_PATH and nothing else; --continue resumes one that was cut off. ADDR may be\n"
    "      left out when --address is given.\n"
    "  framerpc_cli [flags] stats ADMIN_ADDR [PAGE]\n"
    "      A server's operator page: PAGE is status (the default: calls/s, errors, p50 and\n"
    "      p99 per method over the last minute), connections, calls, metrics, flags or\n"
    "      version. ADMIN_ADDR is the server's --admin_listen address, or its RPC address\n"
    "      when it runs with --admin_on_rpc_port. Sends --auth_token_file's token if given.\n"
    "--grpc: call, list and describe speak gRPC (to the gRPC adapter's port, or any gRPC server\n"
    "with reflection) instead of the framed protocol; TLS, -H, -max-time as below.\n"
    "-v: call prints the response headers and trailers (grpcurl's layout).\n"
    "ADDR is host:port, [v6addr]:port or unix:/path. TLS (call, list, describe, health, exec,\n"
    "download, upload): -tls, -cacert FILE, -cert FILE -key FILE, -servername NAME, -insecure\n"
    "(grpcurl's names). On error, prints ERROR: <CODE>: <message>\n"
    "and exits with 1 for a usage or local error, and 64 + the status code for an error from\n"
    "the server or the way to it (78 for UNAVAILABLE, 80 for UNAUTHENTICATED); exec exits\n"
    "with the command's code, or 255 when it could not run.";

int RunCli(const CliOptions& options, const MethodRegistry& registry,
           const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err) {
  if (!args.empty() && args[0] == "exec") {
    // Exits with the remote command's code, not a status code.
    const int code = RunExec(options, absl::MakeConstSpan(args).subspan(1), out, err);
    out.flush();
    return code;
  }
  const absl::Status status = RunCommand(options, registry, args, in, out, err);
  out.flush();
  if (!status.ok() && options.format_error) {
    err << ErrorJson(status) << std::endl;
  } else if (!status.ok()) {
    err << "ERROR: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
        << std::endl;
  }
  return ExitCode(status);
}

}  // namespace framerpc::cli
