#include "cli/health_command.h"

#include <memory>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "services/health/health.frpc.h"
#include "cli/call_context.h"
#include "cli/connect.h"
#include "cli/exit_code.h"
#include "rpc/channel.h"
#include "base/status_macros.h"

namespace framerpc::cli {

absl::Status RunHealth(const CliOptions& options, absl::Span<const std::string> args,
                       std::ostream& out) {
  std::string address = options.address;
  std::string service;
  if (!args.empty()) address = args[0];
  if (args.size() == 2) service = args[1];
  if (address.empty() || args.size() > 2) {
    return absl::InvalidArgumentError("usage: health ADDR [SERVICE]");
  }
  ClientContext context;
  FRPC_RETURN_IF_ERROR(PrepareContext(options, &context));
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, Connect(options, address));
  // A probe must not hang: ten seconds unless --timeout says otherwise.
  context.set_timeout(options.timeout == absl::InfiniteDuration() ? absl::Seconds(10)
                                                                  : options.timeout);
  grpc::health::v1::Health::Stub stub(channel.get());
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  FRPC_RETURN_IF_ERROR(RpcFailure(stub.Check(&context, request, &response)));
  const std::string status =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  out << status << "\n";
  out.flush();
  if (response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::OkStatus();
  }
  return RpcFailure(absl::UnavailableError(
      absl::StrCat(service.empty() ? "the server" : service, " is ", status)));
}

}  // namespace framerpc::cli
