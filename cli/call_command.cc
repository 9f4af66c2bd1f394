#include "cli/call_command.h"

#include <cerrno>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "base/status_macros.h"
#include "cli/cli_call.h"
#include "cli/descriptors.h"
#include "cli/exit_code.h"
#include "cli/json_codec.h"
#include "cli/json_stream.h"
#include "cli/response_printer.h"
#include "cli/start_call.h"

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

// The request text: the argument, or stdin when it is "-" or missing.
absl::StatusOr<std::string> RequestText(absl::Span<const std::string> args, std::istream& in) {
  if (args.size() == 2 && args[1] != "-") return args[1];
  return ReadStream(in, "the request from stdin");
}

// --attachment_file's bytes, sent with the first request.
absl::StatusOr<std::string> RequestAttachment(const CliOptions& options) {
  if (options.attachment_file.empty()) return std::string();
  if (options.grpc) {
    return absl::InvalidArgumentError(
        "--attachment_file needs the framed protocol: gRPC carries no attachments");
  }
  return ReadFile(options.attachment_file);
}

// A client-streaming call's requests: each JSON text of `reader`, the first with `attachment`.
// Returns the local error that ended them (a text that cannot be read or parsed), if any; a call
// that ends first stops them quietly (Finish() says how).
absl::Status WriteStream(CliCall* call, const MethodRegistry& registry,
                         const MethodDescriptor& method, JsonStreamReader* reader,
                         const std::string& attachment, int* sent) {
  for (;;) {
    FRPC_ASSIGN_OR_RETURN(const std::optional<std::string> text, reader->Next());
    if (!text.has_value()) return absl::OkStatus();
    std::unique_ptr<Message> request = registry.NewMessage(method.input_type());
    FRPC_RETURN_IF_ERROR(JsonToMessage(*text, request.get()));
    if (!call->Write(*request, *sent == 0 ? absl::string_view(attachment) : absl::string_view())) {
      return absl::OkStatus();
    }
    ++*sent;
  }
}

// A call of any kind: the requests (one, parsed before connecting, unless the method is client
// streaming) written from this thread while another prints each reply as it arrives when the
// server streams, so that neither side's flow-control window can stall the other.
absl::Status RunMethod(const CliOptions& options, const MethodRegistry& registry,
                       const MethodDescriptor& method, absl::Span<const std::string> args,
                       std::istream& in, std::ostream& out, std::ostream& err) {
  std::unique_ptr<Message> single;
  std::istringstream argument(args.size() == 2 && args[1] != "-" ? args[1] : "");
  JsonStreamReader reader(args.size() == 2 && args[1] != "-" ? &argument : &in,
                          kMaxRequestJsonBytes);
  if (!method.client_streaming()) {
    FRPC_ASSIGN_OR_RETURN(const std::string text, RequestText(args, in));
    single = registry.NewMessage(method.input_type());
    FRPC_RETURN_IF_ERROR(JsonToMessage(text, single.get()));
  }
  FRPC_ASSIGN_OR_RETURN(const std::string attachment, RequestAttachment(options));
  const std::unique_ptr<Message> reply_type = registry.NewMessage(method.output_type());
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<CliCall> call,
                        StartCliCall(options, method, *reply_type));
  ResponsePrinter printer(options, call.get(), out, err);

  absl::Status print_error;
  auto read_replies = [&] {
    std::unique_ptr<Message> reply = registry.NewMessage(method.output_type());
    std::string reply_attachment;
    while (call->Read(reply.get(), &reply_attachment)) {
      if (print_error.ok()) print_error = printer.Print(*reply, reply_attachment);
    }
  };
  std::thread reading;
  if (method.server_streaming()) reading = std::thread(read_replies);
  absl::Status local;  // a request that cannot be read or parsed ends the call
  int sent = 0;
  if (single != nullptr) {
    if (call->Write(*single, attachment)) ++sent;
  } else {
    local = WriteStream(call.get(), registry, method, &reader, attachment, &sent);
  }
  if (!local.ok()) call->Cancel();
  call->WritesDone();
  if (reading.joinable()) {
    reading.join();
  } else {
    read_replies();
  }
  const absl::Status status = call->Finish();
  if (!local.ok()) return local;
  printer.Finish(sent);
  if (!status.ok()) return RpcFailure(status);
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
  return RunMethod(options, registry, *method, args, in, out, err);
}

}  // namespace framerpc::cli
