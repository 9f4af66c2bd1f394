// The server's rules applied to a request before anything runs: which program, which
// environment, how long and how much output. Turns a CommandSpec into ProcessOptions, or into
// the status the call fails with (the error list of command.proto).
//
// Thread safety: immutable after Create; Prepare() is safe from any number of threads (it only
// stats the file system).
#ifndef FRAMERPC_SERVICES_COMMAND_COMMAND_POLICY_H_
#define FRAMERPC_SERVICES_COMMAND_COMMAND_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/command/command.pb.h"
#include "services/command/command_config.h"
#include "services/command/environment_policy.h"
#include "services/command/pinned_program.h"
#include "services/command/process.h"
#include "services/command/program_allowlist.h"
#include "services/command/workspace.h"

namespace framerpc::command {

class CommandPolicy {
 public:
  // INVALID_ARGUMENT for a bad allowlist entry, a refused env_allow name or inconsistent timeouts;
  // ProgramAllowlist::Create's error for an allowed program (or, with allow_shell, /bin/sh) that
  // does not resolve to an executable file.
  // Commands are prepared to run contained as `containment` says.
  static absl::StatusOr<CommandPolicy> Create(const CommandServiceConfig& config,
                                              Containment containment);

  // ProcessOptions for `spec`, with stdout and stderr capped at min(spec's, `output_cap`), and
  // the executable opened and checked against what was pinned at Create. Checks, in order: the
  // shape of the request (INVALID_ARGUMENT), the shell switch, the environment and the working
  // directory as a string (PERMISSION_DENIED), the allowlist (PERMISSION_DENIED, whether or not
  // the program exists, and when the program has changed since Create). The working directory
  // and the environment are filled in by EnterWorkingDirectory.
  absl::StatusOr<ProcessOptions> Prepare(const CommandSpec& spec, size_t output_cap) const;

  // Opens (or, without a workdir, makes) the directory `spec` runs in and points `options` at
  // it, with the environment whose HOME defaults to it. Called once the command has its slot
  // under the concurrency cap; the result must be destroyed only after the command's processes
  // are gone (a fresh directory is removed then). Errors: Workspace::Open's.
  absl::StatusOr<WorkingDirectory> EnterWorkingDirectory(const CommandSpec& spec,
                                                         ProcessOptions& options) const;

  const Workspace& workspace() const { return *workspace_; }

 private:
  CommandPolicy(const CommandServiceConfig& config, Containment containment,
                ProgramAllowlist allowlist, EnvironmentPolicy environment,
                std::optional<PinnedProgram> shell, std::unique_ptr<Workspace> workspace);

  absl::StatusOr<absl::Duration> Timeout(uint64_t timeout_ms) const;

  ProgramAllowlist allowlist_;
  EnvironmentPolicy environment_;
  std::optional<PinnedProgram> shell_;  // /bin/sh, pinned when shell commands are allowed
  std::unique_ptr<Workspace> workspace_;
  std::string path_;
  absl::Duration default_timeout_;
  absl::Duration max_timeout_;
  absl::Duration kill_grace_;
  Containment containment_;
  std::optional<uint64_t> memory_limit_bytes_;
  std::optional<absl::Duration> cpu_limit_;
};

// How the command ended, for the wire.
void FillExitStatus(const ProcessResult& result, ExitStatus* status);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_COMMAND_POLICY_H_
