#include "services/command/command_service.h"

#include <utility>

#include "base/status_macros.h"
#include "services/auth/call_credentials.h"

namespace framerpc::command {

absl::StatusOr<std::unique_ptr<CommandServiceImpl>> CommandServiceImpl::Create(
    CommandServiceConfig config) {
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<CommandRunner> runner,
                        CommandRunner::Create(std::move(config)));
  return std::unique_ptr<CommandServiceImpl>(new CommandServiceImpl(std::move(runner)));
}

CallInfo CallInfoFromContext(const ServerContext* context) {
  CallInfo call;
  call.credentials = auth::CredentialsOf(*context);
  call.cancellation = &context->cancellation();
  return call;
}

absl::Status CommandServiceImpl::Run(ServerContext* context, const RunRequest& request,
                                     RunResponse* response) {
  return runner_->Run(CallInfoFromContext(context), request, response);
}

absl::Status CommandServiceImpl::Exec(ServerContext* context, ExecStream* stream) {
  return runner_->Exec(CallInfoFromContext(context), stream);
}

}  // namespace framerpc::command
