// CommandService: the command service (command.proto) as a framerpc service. A thin adaptor that
// hands each call to a CommandRunner with the call's token and cancellation.
//
//   CommandServiceConfig config;
//   config.allowed_programs = {"/bin/echo"};
//   auto service = CommandService::Create(std::move(config)).value();
//   server.AddService(service.get(), ServiceOptions{.run_inline = false});  // Run blocks
//
// Run blocks until its command ends, so the service must be added with run_inline = false (Exec,
// being streaming, gets a thread of its own anyway).
//
// Thread safety: as CommandRunner. Lifetime: must outlive the server it is added to.
#ifndef FRAMERPC_SERVICES_COMMAND_COMMAND_SERVICE_H_
#define FRAMERPC_SERVICES_COMMAND_COMMAND_SERVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "rpc/context.h"
#include "services/command/command.frpc.h"
#include "services/command/command_runner.h"

namespace framerpc::command {

class CommandServiceImpl final : public CommandService::Service {
 public:
  // Errors: CommandRunner::Create's.
  static absl::StatusOr<std::unique_ptr<CommandServiceImpl>> Create(CommandServiceConfig config);

  absl::Status Run(ServerContext* context, const RunRequest& request,
                   RunResponse* response) override;
  absl::Status Exec(ServerContext* context, ExecStream* stream) override;

  CommandRunner& runner() { return *runner_; }
  const CommandRunner& runner() const { return *runner_; }

 private:
  explicit CommandServiceImpl(std::unique_ptr<CommandRunner> runner)
      : runner_(std::move(runner)) {}

  std::unique_ptr<CommandRunner> runner_;
};

// The CallInfo of a call being served; valid while `context` is.
CallInfo CallInfoFromContext(const ServerContext* context);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_COMMAND_SERVICE_H_
