#include "cli/call_command.h"

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "cli/call_context.h"
#include "cli/connect.h"
#include "cli/json_codec.h"
#include "rpc/channel.h"
#include "rpc/context.h"
#include "rpc/status_macros.h"

namespace framerpc::cli {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

absl::StatusOr<std::string> ReadStream(std::istream& in, absl::string_view what) {
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", what));
  return std::move(contents).str();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  return ReadStream(file, path);
}

absl::Status WriteFile(const std::string& path, absl::string_view data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
  file.write(data.data(), static_cast<std::streamsize>(data.size()));
  file.close();
  if (!file) return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<const MethodDescriptor*> FindUnaryMethod(const MethodRegistry& registry,
                                                        absl::string_view name) {
  FRPC_ASSIGN_OR_RETURN(const MethodDescriptor* method, registry.FindMethod(name));
  if (method->client_streaming() || method->server_streaming()) {
    return absl::UnimplementedError(
        absl::StrCat(MethodPath(*method), " is a streaming method; only unary calls are made"));
  }
  return method;
}

absl::Status BuildRequest(absl::Span<const std::string> args, std::istream& in, Message* request) {
  std::string json;
  if (args.size() == 2 && args[1] != "-") {
    json = args[1];
  } else {
    FRPC_ASSIGN_OR_RETURN(json, ReadStream(in, "the request from stdin"));
  }
  return JsonToMessage(json, request);
}

// Everything of the context but the deadline, which counts from the start of the call.
absl::Status PrepareCallContext(const CliOptions& options, ClientContext* context) {
  FRPC_RETURN_IF_ERROR(PrepareContext(options, context));
  if (!options.attachment_file.empty()) {
    FRPC_ASSIGN_OR_RETURN(std::string attachment, ReadFile(options.attachment_file));
    context->set_request_attachment(std::move(attachment));
  }
  return absl::OkStatus();
}

absl::Status WriteResponse(const CliOptions& options, const Message& response,
                           const std::string& attachment, std::ostream& out, std::ostream& err) {
  FRPC_ASSIGN_OR_RETURN(const std::string json, MessageToJson(response, options.json));
  out << json << "\n";
  if (options.print_attachment) out.write(attachment.data(), attachment.size());
  out.flush();
  if (!options.attachment_out.empty()) {
    FRPC_RETURN_IF_ERROR(WriteFile(options.attachment_out, attachment));
  } else if (!options.print_attachment && !attachment.empty()) {
    err << "(response attachment of " << attachment.size()
        << " bytes not shown; use --print_attachment or --attachment_out)" << std::endl;
  }
  if (!out) return absl::DataLossError("cannot write the response to stdout");
  return absl::OkStatus();
}

}  // namespace

absl::Status RunCall(const CliOptions& options, const MethodRegistry& registry,
                     absl::Span<const std::string> args, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  if (args.empty() || args.size() > 2) {
    return absl::InvalidArgumentError("usage: call /package.Service/Method [JSON|-]");
  }
  FRPC_ASSIGN_OR_RETURN(const MethodDescriptor* method, FindUnaryMethod(registry, args[0]));
  if (options.address.empty()) return absl::InvalidArgumentError("call needs --address");
  std::unique_ptr<Message> request = registry.NewMessage(method->input_type());
  FRPC_RETURN_IF_ERROR(BuildRequest(args, in, request.get()));
  ClientContext context;
  FRPC_RETURN_IF_ERROR(PrepareCallContext(options, &context));

  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, Connect(options, options.address));
  std::unique_ptr<Message> response = registry.NewMessage(method->output_type());
  if (options.timeout != absl::InfiniteDuration()) context.set_timeout(options.timeout);
  FRPC_RETURN_IF_ERROR(channel->Call(MethodPath(*method), &context, *request, response.get()));
  return WriteResponse(options, *response, context.response_attachment(), out, err);
}

}  // namespace framerpc::cli
