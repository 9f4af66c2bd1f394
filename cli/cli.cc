#include "cli/cli.h"

#include <algorithm>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "cli/call_command.h"
#include "cli/exec_command.h"
#include "cli/stats_command.h"
#include "cli/transfer_commands.h"
#include "rpc/status_macros.h"

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

absl::Status RunCommand(const CliOptions& options, const MethodRegistry& registry,
                        const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                        std::ostream& err) {
  if (args.empty()) return absl::InvalidArgumentError(absl::StrCat("no command\n", kUsage));
  const absl::Span<const std::string> rest = absl::MakeConstSpan(args).subspan(1);
  if (args[0] == "call") return RunCall(options, registry, rest, in, out, err);
  if (args[0] == "list") return RunList(registry, rest, out);
  if (args[0] == "describe") return RunDescribe(registry, rest, out);
  if (args[0] == "download") return RunDownload(options, rest, out, err);
  if (args[0] == "upload") return RunUpload(options, rest, out, err);
  if (args[0] == "stats") return RunStats(options, rest, out);
  return absl::InvalidArgumentError(absl::StrCat("unknown command ", args[0], "\n", kUsage));
}

}  // namespace

const char kUsage[] =
    "usage:\n"
    "  framerpc_cli --address=ADDR [flags] call /package.Service/Method [JSON|-]\n"
    "      JSON request; '-' or none reads it from stdin. Prints the JSON reply.\n"
    "  framerpc_cli list [SERVICE...]\n"
    "      The linked services and methods, with request and response types.\n"
    "  framerpc_cli describe SYMBOL\n"
    "      A service, method, message or enum, as .proto text.\n"
    "  framerpc_cli [flags] exec ADDR -- COMMAND [ARG...]\n"
    "      Runs COMMAND through the command service, like `ssh host COMMAND`: its output\n"
    "      streams to ours, our stdin is forwarded unless it is a terminal (--stdin), and the\n"
    "      exit code is the command's (128+N if signal N ended it; 255 if it could not run).\n"
    "      ADDR may be left out when --address is given. See --shell, --env, --cwd,\n"
    "      --exec_timeout, --auth_token_file.\n"
    "  framerpc_cli [flags] download ADDR REMOTE_PATH LOCAL_PATH [--continue]\n"
    "  framerpc_cli [flags] upload ADDR LOCAL_PATH REMOTE_PATH [--overwrite]\n"
    "      Files from and to the file service, checked by SHA-256, with a progress bar when\n"
    "      stderr is a terminal. A download writes LOCAL_PATH and nothing else; --continue\n"
    "      resumes one that was cut off. ADDR may be left out when --address is given.\n"
    "  framerpc_cli [flags] stats ADMIN_ADDR [PAGE]\n"
    "      A server's operator page: PAGE is status (the default: calls/s, errors, p50 and\n"
    "      p99 per method over the last minute), connections, calls, metrics, flags or\n"
    "      version. ADMIN_ADDR is the server's --admin_listen address, or its RPC address\n"
    "      when it runs with --admin_on_rpc_port. Sends --auth_token_file's token if given.\n"
    "ADDR is host:port, [v6addr]:port or unix:/path. TLS (call, exec, download, upload):\n"
    "-tls, -cacert FILE, -cert FILE -key FILE, -servername NAME, -insecure (grpcurl's names).\n"
    "On error, prints ERROR: <CODE>: <message>\n"
    "and exits with the status code's number (e.g. 14 for UNAVAILABLE); exec exits with 255.";

int ExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  return std::clamp(static_cast<int>(status.code()), 1, 125);
}

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
  if (!status.ok()) {
    err << "ERROR: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
        << std::endl;
  }
  return ExitCode(status);
}

}  // namespace framerpc::cli
