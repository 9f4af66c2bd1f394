#include "server/command_setup.h"

#include "absl/strings/str_cat.h"
#include "services/auth/local_address.h"
#include "services/auth/shared_secret.h"

namespace framerpc::server {

// Room for the response's envelope and protobuf framing besides the two output streams.
constexpr uint64_t kRunResponseOverhead = 64 << 10;

absl::StatusOr<command::CommandServiceConfig> BuildCommandServiceConfig(
    const CommandServiceFlags& flags, uint32_t max_frame_bytes) {
  command::CommandServiceConfig config;
  config.allowed_programs = flags.allow;
  config.allow_shell = flags.allow_shell;
  config.max_concurrent = flags.max_concurrent;
  config.default_timeout = flags.default_timeout;
  config.max_timeout = flags.max_timeout;
  config.kill_grace = flags.kill_grace;
  const uint64_t room =
      max_frame_bytes > kRunResponseOverhead ? max_frame_bytes - kRunResponseOverhead : 0;
  if (flags.run_output_limit > room / 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--command_run_output_limit=", flags.run_output_limit,
        " is too large: Run returns stdout and stderr in one message, which must fit in "
        "--max_frame_bytes=", max_frame_bytes));
  }
  config.run_output_limit = flags.run_output_limit;
  config.exec_output_limit = flags.exec_output_limit;
  config.env_allow = flags.env_allow;
  config.lang = flags.lang;
  config.home = flags.home;
  config.workdir = flags.workdir;
  absl::StatusOr<command::ContainmentChoice> containment =
      command::ParseContainmentChoice(flags.containment);
  if (!containment.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--command_containment: ", containment.status().message()));
  }
  config.containment = *containment;
  if (flags.memory_limit > 0) config.memory_limit_bytes = flags.memory_limit;
  if (flags.cpu_limit < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--command_cpu_limit must not be negative");
  }
  if (flags.cpu_limit > absl::ZeroDuration()) config.cpu_limit = flags.cpu_limit;
  if (!flags.auth_token_file.empty()) {
    absl::StatusOr<auth::SharedSecret> token = auth::SharedSecret::FromFile(flags.auth_token_file);
    if (!token.ok()) return token.status();
    config.token = *std::move(token);
  }
  return config;
}

absl::Status CheckCommandServiceExposure(const std::vector<std::string>& bound_addresses,
                                         bool has_token) {
  if (has_token) return absl::OkStatus();
  for (const std::string& address : bound_addresses) {
    if (!auth::IsLocalOnlyAddress(address)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the command service would be reachable from other hosts on ", address,
          "; give it a shared secret with --auth_token_file, or listen only on loopback or "
          "unix: addresses"));
    }
  }
  return absl::OkStatus();
}

}  // namespace framerpc::server
