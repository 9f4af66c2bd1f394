#include "services/command/command_runner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/command/process.h"
#include "services/command/spawn.h"
#include "services/command/supervisor_executable.h"

namespace framerpc::command {

absl::StatusOr<std::unique_ptr<CommandRunner>> CommandRunner::Create(
    CommandServiceConfig config) {
  if (config.max_concurrent < 0 || config.exec_queue_bytes == 0) {
    return absl::InvalidArgumentError(
        "need max_concurrent >= 0 and exec_queue_bytes > 0");
  }
  if (!config.supervisor_path.empty()) {
    FRPC_RETURN_IF_ERROR(UseSupervisorExecutable(config.supervisor_path));
  }
  FRPC_RETURN_IF_ERROR(SupervisorExecutableFd().status());
  FRPC_ASSIGN_OR_RETURN(const Containment containment, ChooseContainment(config.containment));
  FRPC_ASSIGN_OR_RETURN(CommandPolicy policy, CommandPolicy::Create(config, containment));
  return std::unique_ptr<CommandRunner>(
      new CommandRunner(std::move(config), containment, std::move(policy)));
}

CommandRunner::CommandRunner(CommandServiceConfig config, Containment containment,
                             CommandPolicy policy)
    : config_(std::move(config)),
      containment_(containment),
      policy_(std::move(policy)),
      limiter_(config_.max_concurrent) {}

std::string CommandRunner::workspace_description() const {
  const Workspace& workspace = policy_.workspace();
  return workspace.has_root() ? workspace.path()
                              : absl::StrCat("fresh directories in ", workspace.path());
}

absl::Status CommandRunner::Authorize(const CallInfo& call) {
  absl::Status status = config_.access.Check(call.credentials);
  if (!status.ok()) stats_.OnRefusedCredential();
  return status;
}

absl::StatusOr<ProcessOptions> CommandRunner::Prepare(const CommandSpec& spec,
                                                      size_t output_limit) {
  absl::StatusOr<ProcessOptions> options = policy_.Prepare(spec, output_limit);
  if (absl::IsPermissionDenied(options.status())) stats_.OnRefusedPolicy();
  return options;
}

absl::StatusOr<CommandRunner::Started> CommandRunner::Start(const CallInfo& call,
                                                             const CommandSpec& spec,
                                                             ProcessOptions options) {
  absl::StatusOr<ConcurrencyLimiter::Permit> acquired = limiter_.TryAcquire();
  if (!acquired.ok()) {
    stats_.OnRefusedBusy();
    return acquired.status();
  }
  ConcurrencyLimiter::Permit permit = *std::move(acquired);
  if (call.cancelled()) return absl::CancelledError("the call ended before the command started");
  FRPC_ASSIGN_OR_RETURN(WorkingDirectory directory,
                        policy_.EnterWorkingDirectory(spec, options));
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Process> process, Process::Spawn(std::move(options)));
  stats_.OnStarted();
  // Process::Kill only writes an eventfd: fit for the I/O thread that cancels the call.
  CancellationCallback kill_on_cancel = call.OnCancel([p = process.get()] { p->Kill(); });
  return Started{std::move(permit), std::move(directory), std::move(process),
                 std::move(kill_on_cancel)};
}

absl::Status CommandRunner::Run(const CallInfo& call, const RunRequest& request,
                                RunResponse* response) {
  FRPC_RETURN_IF_ERROR(Authorize(call));
  FRPC_ASSIGN_OR_RETURN(ProcessOptions options,
                        Prepare(request.command(), config_.run_output_limit));
  if (request.has_stdin()) options.stdin_bytes = request.stdin();
  FRPC_ASSIGN_OR_RETURN(Started started, Start(call, request.command(), std::move(options)));
  ProcessOutput output = WaitAndCollect(*started.process);
  started.kill_on_cancel.reset();
  stats_.OnFinished(output.result);
  // DEADLINE_EXCEEDED for a timeout, CANCELLED if the cancellation killed it.
  FRPC_RETURN_IF_ERROR(TerminationStatus(output.result));
  FillExitStatus(output.result, response->mutable_exit());
  response->set_stdout(std::move(output.stdout_bytes));
  response->set_stderr(std::move(output.stderr_bytes));
  return absl::OkStatus();
}

absl::Status CommandRunner::Exec(const CallInfo& call, ExecStream* stream) {
  FRPC_RETURN_IF_ERROR(Authorize(call));
  ExecRequest first;
  if (!stream->Read(&first)) {
    if (call.cancelled()) return absl::CancelledError("the call ended before it started");
    return absl::InvalidArgumentError("Exec needs a start message");
  }
  if (!first.has_start()) {
    return absl::InvalidArgumentError("the first ExecRequest must be a start message");
  }
  const ExecStart& start = first.start();
  FRPC_ASSIGN_OR_RETURN(ProcessOptions options,
                        Prepare(start.command(), config_.exec_output_limit));
  options.stdin_stream = start.stream_stdin();
  ExecSession::Options session_options;
  session_options.stream_stdin = start.stream_stdin();
  session_options.timeout = options.timeout;
  session_options.queue_bytes = config_.exec_queue_bytes;

  FRPC_ASSIGN_OR_RETURN(Started started, Start(call, start.command(), std::move(options)));
  ExecSession session(started.process.get(), stream, [&call] { return call.cancelled(); },
                      session_options);
  absl::Status status = session.Run(std::move(started.permit), std::move(started.kill_on_cancel));
  // Unset only if the session ended without waiting (it always waits; the process's destructor
  // would kill and reap it otherwise).
  if (started.process->result().has_value()) stats_.OnFinished(*started.process->result());
  return status;
}

}  // namespace framerpc::command
