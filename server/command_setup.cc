#include "server/command_setup.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/auth/local_address.h"

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
  config.supervisor_path = flags.supervisor;
  if (flags.memory_limit > 0) config.memory_limit_bytes = flags.memory_limit;
  if (flags.cpu_limit < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--command_cpu_limit must not be negative");
  }
  if (flags.cpu_limit > absl::ZeroDuration()) config.cpu_limit = flags.cpu_limit;
  absl::StatusOr<auth::AccessPolicy> access =
      BuildAccessPolicy(flags.credentials, "--command_allow_uids", "the command service",
                        "--command_allow_identities");
  if (!access.ok()) return access.status();
  if (!access->admits_anyone()) {
    return absl::FailedPreconditionError(
        "the command service runs programs as this server's user, so it needs a credential: "
        "--auth_token_file (a bearer token), --command_allow_identities (TLS client "
        "certificates naming these), --command_allow_uids (peers on unix: sockets with "
        "these uids), or --trust_local_peers (every user of this host; see "
        "docs/command_service.md)");
  }
  config.access = *std::move(access);
  return config;
}

absl::Status CheckCommandServiceExposure(const std::vector<std::string>& served_addresses,
                                         const auth::AccessPolicy& access) {
  bool any_unix = false;
  for (const std::string& address : served_addresses) {
    any_unix = any_unix || absl::StartsWith(address, "unix:");
    if (access.is_open() && !auth::IsLocalOnlyAddress(address)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the command service would admit anyone who reaches ", address,
          "; give it a credential (--auth_token_file)"));
    }
  }
  const bool only_uids = !access.is_open() && !access.accepts_token() &&
                         !access.trusts_local_peers() && access.tls_identities().empty();
  if (only_uids && !any_unix) {
    return absl::FailedPreconditionError(
        "the command service admits only Unix-socket peers (--command_allow_uids), but it is "
        "served on no unix: address; add one to --listen, or give --auth_token_file");
  }
  return absl::OkStatus();
}

absl::Status AddCommandService(Server* server, command::CommandServiceImpl* service) {
  const int threads = std::max(1, service->runner().config().max_concurrent);
  return server->AddService(service, ServiceOptions{.own_threads = threads});
}

}  // namespace framerpc::server
