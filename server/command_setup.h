// framerpc_server's command-service settings: the --command_* and --auth_token_file flags turned
// into a CommandServiceConfig, and the rule that the service is never exposed beyond this host
// without a token. Kept out of main.cc so that it can be tested.
#ifndef FRAMERPC_SERVER_COMMAND_SETUP_H_
#define FRAMERPC_SERVER_COMMAND_SETUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/command/command_config.h"

namespace framerpc::server {

struct CommandServiceFlags {
  std::vector<std::string> allow;
  bool allow_shell = false;
  int max_concurrent = 8;
  absl::Duration default_timeout = absl::Minutes(5);
  absl::Duration max_timeout = absl::Hours(1);
  absl::Duration kill_grace = absl::Seconds(2);
  uint64_t run_output_limit = uint64_t{1} << 20;
  uint64_t exec_output_limit = uint64_t{1} << 20;
  std::string auth_token_file;  // empty: no token
  // Issue 12: the environment, where commands run, how they are contained, their limits.
  std::vector<std::string> env_allow;
  std::string lang = "C.UTF-8";
  std::string home;                                    // empty: the working directory
  std::string workdir;                                 // empty: a fresh directory per command
  std::string containment = "auto";                    // auto | pid_namespace | subreaper
  uint64_t memory_limit = 0;                           // bytes of RLIMIT_AS; 0: none
  absl::Duration cpu_limit = absl::ZeroDuration();     // RLIMIT_CPU; 0: none
};

// The configuration, with the token read from its file. Errors: the token file's
// (SharedSecret::FromFile); INVALID_ARGUMENT for a Run output limit whose response (both streams
// at the limit) would not fit in `max_frame_bytes`, an unknown containment, or a negative CPU
// limit. The rest (allowlist, env_allow, workdir, ...) is checked by CommandRunner::Create.
absl::StatusOr<command::CommandServiceConfig> BuildCommandServiceConfig(
    const CommandServiceFlags& flags, uint32_t max_frame_bytes);

// FAILED_PRECONDITION, naming the address, if the service would be reachable from other hosts
// (any bound address but loopback and Unix sockets) without a token.
absl::Status CheckCommandServiceExposure(const std::vector<std::string>& bound_addresses,
                                         bool has_token);

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_COMMAND_SETUP_H_
