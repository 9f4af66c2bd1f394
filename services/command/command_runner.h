// The command service's logic (command.proto), independent of how calls arrive: CommandService
// (command_service.h) forwards each call here with a CallInfo built from its ServerContext, and
// tests build CallInfo directly, to cancel calls and present credentials without a server.
//
// Per call: the access check (config.access), the policy (CommandPolicy), a slot under the concurrency cap, then
// the command, killed (Process::Kill, from the call's cancellation callback) if the call goes away
// while it runs.
//
// Thread safety: Run() and Exec() may run concurrently on any number of threads. Lifetime: must
// outlive every call in progress; the server's Shutdown() waits for them.
#ifndef FRAMERPC_SERVICES_COMMAND_COMMAND_RUNNER_H_
#define FRAMERPC_SERVICES_COMMAND_COMMAND_RUNNER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/cancellation.h"
#include "services/auth/access_policy.h"
#include "services/command/command.pb.h"
#include "services/command/command_config.h"
#include "services/command/command_policy.h"
#include "services/command/command_stats.h"
#include "services/command/concurrency_limiter.h"
#include "services/command/exec_session.h"

namespace framerpc::command {

// What the runner needs to know about a call.
struct CallInfo {
  // What the call presents to the access policy: its `authorization` metadata, whether its peer
  // is local, its Unix-socket uid. Valid for the call.
  auth::CallCredentials credentials;
  // The call's cancellation (by the client, its deadline or a disconnect); null: the call is
  // never cancelled. Valid for the call.
  const CancellationSignal* cancellation = nullptr;

  bool cancelled() const { return cancellation != nullptr && cancellation->IsCancelled(); }
  // Runs `fn` once the call is cancelled (CancellationSignal::OnCancel); without a signal, never.
  CancellationCallback OnCancel(std::function<void()> fn) const {
    return cancellation != nullptr ? cancellation->OnCancel(std::move(fn)) : CancellationCallback();
  }
};

class CommandRunner {
 public:
  // INVALID_ARGUMENT for a bad configuration (see CommandPolicy::Create, and max_concurrent >= 0
  // and positive exec_queue_bytes); FAILED_PRECONDITION if config.containment asks for PID
  // namespaces and they are not available (ChooseContainment, which probes once here).
  static absl::StatusOr<std::unique_ptr<CommandRunner>> Create(CommandServiceConfig config);

  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  absl::Status Run(const CallInfo& call, const RunRequest& request, RunResponse* response);
  absl::Status Exec(const CallInfo& call, ExecStream* stream);

  // Commands running now.
  int running() const { return limiter_.in_use(); }
  // What the commands did since the start. Valid for the runner's lifetime.
  const CommandStats& stats() const { return stats_; }
  const CommandServiceConfig& config() const { return config_; }

  // How commands are contained (chosen at Create).
  Containment containment() const { return containment_; }
  // Where commands run, for the server's start-up line: "<workdir>" or "fresh directories in
  // <private directory>".
  std::string workspace_description() const;

 private:
  CommandRunner(CommandServiceConfig config, Containment containment, CommandPolicy policy);

  // The credential check and the policy's Prepare, each counting its refusals in stats_.
  absl::Status Authorize(const CallInfo& call);
  absl::StatusOr<ProcessOptions> Prepare(const CommandSpec& spec, size_t output_limit);

  // A command started for a call: its slot under the cap, its working directory, the process,
  // and the registration that kills the process when the call is cancelled. Destroyed in reverse
  // order: the registration before the process, the process (and with it every process of the
  // command) before the directory is removed, the directory before the slot.
  struct Started {
    ConcurrencyLimiter::Permit permit;
    WorkingDirectory directory;
    std::unique_ptr<Process> process;
    CancellationCallback kill_on_cancel;
  };
  // A slot (RESOURCE_EXHAUSTED at the cap), then, unless the call is already cancelled
  // (CANCELLED), the working directory, the process and its kill registration.
  absl::StatusOr<Started> Start(const CallInfo& call, const CommandSpec& spec,
                                ProcessOptions options);

  const CommandServiceConfig config_;
  const Containment containment_;
  const CommandPolicy policy_;
  ConcurrencyLimiter limiter_;
  CommandStats stats_;
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_COMMAND_RUNNER_H_
