#include "cli/call_command.h"

#include <cerrno>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "cli/call_context.h"
#include "cli/connect.h"
#include "cli/descriptors.h"
#include "cli/exit_code.h"
#include "cli/json_codec.h"
#include "cli/json_stream.h"
#include "rpc/channel.h"
#include "rpc/context.h"
#include "base/status_macros.h"

namespace framerpc::cli {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// One request's JSON text, read from a stream of them.
constexpr size_t kMaxRequestJsonBytes = size_t{64} << 20;

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

// The request text: the argument, or stdin when it is "-" or missing.
absl::StatusOr<std::string> RequestText(absl::Span<const std::string> args, std::istream& in) {
  if (args.size() == 2 && args[1] != "-") return args[1];
  return ReadStream(in, "the request from stdin");
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

// A streaming call: the requests (each JSON text of the argument or of stdin) written from this
// thread while another prints each reply as it arrives, so that neither side's flow-control
// window can stall the other.
absl::Status RunStreamingCall(const CliOptions& options, const MethodRegistry& registry,
                              const MethodDescriptor& method, absl::Span<const std::string> args,
                              std::istream& in, std::ostream& out, std::ostream& err) {
  const bool client_sends = method.client_streaming();
  // A server-streaming call has exactly one request, checked before connecting.
  std::unique_ptr<Message> single;
  std::istringstream argument(args.size() == 2 && args[1] != "-" ? args[1] : "");
  std::istream* requests = args.size() == 2 && args[1] != "-" ? &argument : &in;
  JsonStreamReader reader(requests, kMaxRequestJsonBytes);
  if (!client_sends) {
    FRPC_ASSIGN_OR_RETURN(const std::string text, RequestText(args, in));
    single = registry.NewMessage(method.input_type());
    FRPC_RETURN_IF_ERROR(JsonToMessage(text, single.get()));
  }
  ClientContext context;
  FRPC_RETURN_IF_ERROR(PrepareCallContext(options, &context));
  // Sent with the first message: a streaming call's REQUEST frame carries none.
  const std::string attachment = context.request_attachment();
  context.set_request_attachment("");
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, Connect(options, options.address));
  std::unique_ptr<Message> final_reply;
  if (client_sends && !method.server_streaming()) {
    final_reply = registry.NewMessage(method.output_type());
  }
  if (options.timeout != absl::InfiniteDuration()) context.set_timeout(options.timeout);
  const MethodKind kind = !client_sends                  ? MethodKind::kServerStreaming
                          : method.server_streaming() ? MethodKind::kBidiStreaming
                                                      : MethodKind::kClientStreaming;
  std::unique_ptr<ClientStreamBase> stream =
      channel->StartStream(MethodPath(method), kind, &context, final_reply.get());

  absl::Status print_error;
  std::thread printer;
  if (method.server_streaming()) {
    printer = std::thread([&] {
      std::unique_ptr<Message> reply = registry.NewMessage(method.output_type());
      std::string reply_attachment;
      while (stream->Read(reply.get(), &reply_attachment)) {
        if (print_error.ok()) {
          print_error = WriteResponse(options, *reply, reply_attachment, out, err);
        }
      }
    });
  }
  absl::Status local;  // a request that cannot be read or parsed ends the call
  if (!client_sends) {
    stream->Write(*single, attachment);
  } else {
    bool first = true;
    while (local.ok()) {
      absl::StatusOr<std::optional<std::string>> text = reader.Next();
      if (!text.ok()) {
        local = text.status();
        break;
      }
      if (!text->has_value()) break;
      std::unique_ptr<Message> request = registry.NewMessage(method.input_type());
      local = JsonToMessage(**text, request.get());
      if (!local.ok()) break;
      if (!stream->Write(*request, first ? absl::string_view(attachment) : absl::string_view())) {
        break;  // the call has ended; Finish() says how
      }
      first = false;
    }
  }
  if (!local.ok()) context.TryCancel();
  stream->WritesDone();
  if (printer.joinable()) printer.join();
  const absl::Status status = stream->Finish();
  if (!local.ok()) return local;
  if (!status.ok()) return RpcFailure(status);
  if (final_reply != nullptr) {
    return WriteResponse(options, *final_reply, context.response_attachment(), out, err);
  }
  return print_error;
}

// Where `call` finds its method: --proto or --protoset when given; else the services built into
// framerpc_cli; else, with an address, the server's reflection.
absl::StatusOr<const MethodDescriptor*> FindMethod(const CliOptions& options,
                                                   const MethodRegistry& builtin,
                                                   absl::string_view name,
                                                   std::unique_ptr<DescriptorSource>* source) {
  if (HasDescriptorFlags(options) || options.reflection == Reflection::kAlways) {
    FRPC_ASSIGN_OR_RETURN(*source, LoadDescriptors(options));
    return (*source)->registry().FindMethod(name);
  }
  absl::StatusOr<const MethodDescriptor*> known = builtin.FindMethod(name);
  if (known.ok() || options.address.empty() || options.reflection == Reflection::kNever) {
    return known;
  }
  FRPC_ASSIGN_OR_RETURN(*source, LoadDescriptors(options));
  return (*source)->registry().FindMethod(name);
}

}  // namespace

absl::Status RunCall(const CliOptions& options, const MethodRegistry& builtin,
                     absl::Span<const std::string> args, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  if (args.empty() || args.size() > 2) {
    return absl::InvalidArgumentError("usage: call /package.Service/Method [JSON|-]");
  }
  if (options.address.empty()) {
    // Only the method is checked first: a typo should say so, not ask for an address.
    FRPC_RETURN_IF_ERROR(builtin.FindMethod(args[0]).status());
    return absl::InvalidArgumentError("call needs --address");
  }
  std::unique_ptr<DescriptorSource> source;
  FRPC_ASSIGN_OR_RETURN(const MethodDescriptor* method,
                        FindMethod(options, builtin, args[0], &source));
  const MethodRegistry& registry = source != nullptr ? source->registry() : builtin;
  if (method->client_streaming() || method->server_streaming()) {
    return RunStreamingCall(options, registry, *method, args, in, out, err);
  }
  std::unique_ptr<Message> request = registry.NewMessage(method->input_type());
  FRPC_ASSIGN_OR_RETURN(const std::string text, RequestText(args, in));
  FRPC_RETURN_IF_ERROR(JsonToMessage(text, request.get()));
  ClientContext context;
  FRPC_RETURN_IF_ERROR(PrepareCallContext(options, &context));

  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, Connect(options, options.address));
  std::unique_ptr<Message> response = registry.NewMessage(method->output_type());
  if (options.timeout != absl::InfiniteDuration()) context.set_timeout(options.timeout);
  FRPC_RETURN_IF_ERROR(
      RpcFailure(channel->Call(MethodPath(*method), &context, *request, response.get())));
  return WriteResponse(options, *response, context.response_attachment(), out, err);
}

}  // namespace framerpc::cli
