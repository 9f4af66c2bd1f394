#include "services/command/command_policy.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/command/program_path.h"
#include "services/command/shell_command.h"

namespace framerpc::command {

absl::StatusOr<CommandPolicy> CommandPolicy::Create(const CommandServiceConfig& config,
                                                    Containment containment) {
  FRPC_ASSIGN_OR_RETURN(ProgramAllowlist allowlist,
                        ProgramAllowlist::Create(config.allowed_programs, config.path));
  std::optional<PinnedProgram> shell;
  if (config.allow_shell) {
    absl::StatusOr<PinnedProgram> pinned = PinnedProgram::Pin(kShellPath);
    if (!pinned.ok()) {
      return absl::Status(pinned.status().code(), absl::StrCat("the shell for allow_shell: ",
                                                               pinned.status().message()));
    }
    shell = *std::move(pinned);
  }
  if (config.default_timeout <= absl::ZeroDuration() ||
      config.max_timeout < config.default_timeout) {
    return absl::InvalidArgumentError("need 0 < default timeout <= maximum timeout");
  }
  if (config.kill_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the kill grace period must not be negative");
  }
  if (config.memory_limit_bytes == uint64_t{0} ||
      (config.cpu_limit.has_value() && *config.cpu_limit <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError("memory and CPU limits must be positive when set");
  }
  FRPC_ASSIGN_OR_RETURN(EnvironmentPolicy environment,
                        EnvironmentPolicy::Create(EnvironmentConfig{
                            config.env_allow, config.path, config.lang, config.home}));
  FRPC_ASSIGN_OR_RETURN(std::unique_ptr<Workspace> workspace,
                        Workspace::Create(config.workdir, config.scratch_parent));
  return CommandPolicy(config, containment, std::move(allowlist), std::move(environment),
                       std::move(shell), std::move(workspace));
}

CommandPolicy::CommandPolicy(const CommandServiceConfig& config, Containment containment,
                             ProgramAllowlist allowlist, EnvironmentPolicy environment,
                             std::optional<PinnedProgram> shell,
                             std::unique_ptr<Workspace> workspace)
    : allowlist_(std::move(allowlist)),
      environment_(std::move(environment)),
      shell_(std::move(shell)),
      workspace_(std::move(workspace)),
      path_(config.path),
      default_timeout_(config.default_timeout),
      max_timeout_(config.max_timeout),
      kill_grace_(config.kill_grace),
      containment_(containment),
      memory_limit_bytes_(config.memory_limit_bytes),
      cpu_limit_(config.cpu_limit) {}

absl::StatusOr<absl::Duration> CommandPolicy::Timeout(uint64_t timeout_ms) const {
  if (timeout_ms == 0) return default_timeout_;
  // Compared in milliseconds first, so that a huge value cannot overflow the conversion.
  if (max_timeout_ != absl::InfiniteDuration() &&
      timeout_ms > static_cast<uint64_t>(absl::ToInt64Milliseconds(max_timeout_))) {
    return absl::InvalidArgumentError(absl::StrCat("timeout of ", timeout_ms,
                                                   " ms exceeds the server's maximum of ",
                                                   absl::FormatDuration(max_timeout_)));
  }
  return absl::Milliseconds(static_cast<int64_t>(std::min<uint64_t>(timeout_ms, INT64_MAX / 2)));
}

absl::StatusOr<ProcessOptions> CommandPolicy::Prepare(const CommandSpec& spec,
                                                      size_t output_cap) const {
  const bool has_argv = spec.argv_size() > 0;
  const bool has_shell = !spec.shell().empty();
  if (has_argv == has_shell) {
    return absl::InvalidArgumentError("exactly one of argv and shell must be given");
  }
  FRPC_ASSIGN_OR_RETURN(const absl::Duration timeout, Timeout(spec.timeout_ms()));
  if (has_shell && !shell_.has_value()) {
    return absl::PermissionDeniedError(
        "shell commands are disabled on this server (--command_allow_shell)");
  }
  FRPC_RETURN_IF_ERROR(environment_.Check(spec.env()));
  FRPC_RETURN_IF_ERROR(workspace_->Check(spec.working_directory()));

  ProcessOptions options;
  if (has_argv) {
    FRPC_ASSIGN_OR_RETURN(options.executable, allowlist_.Open(spec.argv(0)));
    options.argv.assign(spec.argv().begin(), spec.argv().end());
  } else {
    FRPC_ASSIGN_OR_RETURN(options.executable, shell_->Open(kShellPath));
    options.argv = ShellCommandArgv(spec.shell());
  }
  options.containment = containment_;
  options.address_space_limit = memory_limit_bytes_;
  options.cpu_limit = cpu_limit_;
  const size_t cap = spec.output_limit_bytes() == 0
                         ? output_cap
                         : static_cast<size_t>(std::min<uint64_t>(spec.output_limit_bytes(),
                                                                  output_cap));
  options.stdout_limit = cap;
  options.stderr_limit = cap;
  options.timeout = timeout;
  options.kill_grace = kill_grace_;
  return options;
}

absl::StatusOr<WorkingDirectory> CommandPolicy::EnterWorkingDirectory(
    const CommandSpec& spec, ProcessOptions& options) const {
  FRPC_ASSIGN_OR_RETURN(WorkingDirectory directory, workspace_->Open(spec.working_directory()));
  options.working_directory = directory.TakeFd();
  options.env = environment_.Build(spec.env(), directory.path());
  return directory;
}

void FillExitStatus(const ProcessResult& result, ExitStatus* status) {
  if (result.exit_code.has_value()) {
    status->set_exit_code(*result.exit_code);
  } else if (result.term_signal.has_value()) {
    status->set_signal(*result.term_signal);
  }
  status->set_duration_us(static_cast<uint64_t>(absl::ToInt64Microseconds(result.duration)));
  status->set_stdout_truncated(result.stdout_truncated);
  status->set_stderr_truncated(result.stderr_truncated);
  status->set_timed_out(result.timed_out);
}

}  // namespace framerpc::command
