#include "greeter_service.h"

namespace greeter {

absl::Status GreeterImpl::Hello(framerpc::ServerContext*, const HelloRequest& request,
                                HelloReply* reply) {
  if (request.name().empty()) return absl::InvalidArgumentError("a name, please");
  reply->set_message("Hello, " + request.name());
  return absl::OkStatus();
}

absl::Status GreeterImpl::HelloEach(
    framerpc::ServerContext*, framerpc::ServerReaderWriter<HelloReply, HelloRequest>* stream) {
  HelloRequest request;
  while (stream->Read(&request)) {
    HelloReply reply;
    reply.set_message("Hello, " + request.name());
    if (!stream->Write(reply)) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Shout(Greeter::StubInterface* greeter, const std::string& name) {
  framerpc::ClientContext context;
  HelloRequest request;
  request.set_name(name);
  HelloReply reply;
  absl::Status status = greeter->Hello(&context, request, &reply);
  if (!status.ok()) return status;
  return reply.message() + "!";
}

}  // namespace greeter
