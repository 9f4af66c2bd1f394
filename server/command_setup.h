// framerpc_server's command-service settings: the --command_* and credential flags turned into a
// CommandServiceConfig, and the rules on where the service may be served. Kept out of main.cc so
// that it can be tested.
#ifndef FRAMERPC_SERVER_COMMAND_SETUP_H_
#define FRAMERPC_SERVER_COMMAND_SETUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/server.h"
#include "server/credential_flags.h"
#include "services/auth/access_policy.h"
#include "services/command/command_config.h"
#include "services/command/command_service.h"

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
  // --auth_token_file, --command_allow_uids, --trust_local_peers.
  CredentialFlags credentials;
  // Issue 12: the environment, where commands run, how they are contained, their limits.
  std::vector<std::string> env_allow;
  std::string lang = "C.UTF-8";
  std::string home;                                    // empty: the working directory
  std::string workdir;                                 // empty: a fresh directory per command
  std::string containment = "auto";                    // auto | pid_namespace | subreaper
  std::string supervisor;                              // framerpc_supervisor; empty: searched
  uint64_t memory_limit = 0;                           // bytes of RLIMIT_AS; 0: none
  absl::Duration cpu_limit = absl::ZeroDuration();     // RLIMIT_CPU; 0: none
};

// The configuration, with the token read from its file. Errors: the token file's
// (SharedSecret::FromFile); INVALID_ARGUMENT for a bad uid, for a Run output limit whose response
// (both streams at the limit) would not fit in `max_frame_bytes`, an unknown containment, or a
// negative CPU limit; FAILED_PRECONDITION when no credential is accepted at all (a command
// service that admits nobody is a mistake, and one that admits every local user must be asked
// for). The rest (allowlist, env_allow, workdir, ...) is checked by CommandRunner::Create.
absl::StatusOr<command::CommandServiceConfig> BuildCommandServiceConfig(
    const CommandServiceFlags& flags, uint32_t max_frame_bytes);

// Where the service may be served, given every address it is served on (framed listeners as
// bound, and gRPC's): FAILED_PRECONDITION, saying why, if an address other hosts can reach would
// admit calls without a credential (an open policy), or if the only credential accepted is a
// Unix-socket peer uid and no address is a Unix socket.
absl::Status CheckCommandServiceExposure(const std::vector<std::string>& served_addresses,
                                         const auth::AccessPolicy& access);

// Adds the command service to `server` as framerpc_server does: its unary Run on threads of its
// own, one per command it may run (config().max_concurrent, at least one), so that running
// commands never hold the shared workers that health, reflection and the file service need, and
// a Run beyond the cap is refused at once with RESOURCE_EXHAUSTED. `service` must outlive
// `server`.
absl::Status AddCommandService(Server* server, command::CommandServiceImpl* service);

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_COMMAND_SETUP_H_
