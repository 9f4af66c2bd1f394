// The operator's configuration of the command service (framerpc_server's --command_* flags).
#ifndef FRAMERPC_SERVICES_COMMAND_COMMAND_CONFIG_H_
#define FRAMERPC_SERVICES_COMMAND_COMMAND_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/auth/access_policy.h"
#include "services/command/containment.h"
#include "services/command/process.h"

namespace framerpc::command {

struct CommandServiceConfig {
  // ProgramAllowlist entries: absolute paths, or bare names looked up in `path`. Empty: no
  // program may run (shell strings still may, with allow_shell).
  std::vector<std::string> allowed_programs;
  // Whether CommandSpec.shell strings run (as /bin/sh -c). A shell can run anything.
  bool allow_shell = false;
  // The PATH of every command, and what bare program names are resolved against. Requests cannot
  // change it.
  std::string path = kDefaultPath;

  // Where commands run (workspace.h). Empty: each command in a fresh empty directory of its own,
  // made in a private directory under scratch_parent (empty: $TMPDIR, else /tmp), and requests
  // may not name one. Set: requests name a directory relative to it, and cannot leave it.
  std::string workdir;
  std::string scratch_parent;

  // The environment (environment_policy.h): a command gets PATH, LANG and HOME, plus the request's
  // variables whose names are listed in env_allow (names that would let a caller run code of its
  // choosing are refused here). Nothing of the server's own environment.
  std::vector<std::string> env_allow;
  std::string lang = "C.UTF-8";  // empty: no LANG
  std::string home;              // empty: the command's working directory

  absl::Duration default_timeout = absl::Minutes(5);  // for requests that give none; > 0
  absl::Duration max_timeout = absl::Hours(1);        // >= default_timeout
  absl::Duration kill_grace = absl::Seconds(2);       // SIGTERM -> SIGKILL; >= 0

  // Caps on each of stdout and stderr; requests may only lower them. Run returns everything in
  // one response message, so its cap must leave that message under the frame limit.
  size_t run_output_limit = kDefaultOutputLimit;
  size_t exec_output_limit = kDefaultOutputLimit;

  // How each command and everything it starts are contained (containment.h); kAuto picks a PID
  // namespace where the probe at Create succeeds, a child subreaper otherwise.
  ContainmentChoice containment = ContainmentChoice::kAuto;
  // The supervisor binary every command runs under (supervisor_executable.h): an absolute path,
  // or empty to look next to this program and in its runfiles. Create fails if it is not found.
  std::string supervisor_path;
  // Per-process limits of every process a command runs (RLIMIT_AS and RLIMIT_CPU); unset: none.
  std::optional<uint64_t> memory_limit_bytes;
  std::optional<absl::Duration> cpu_limit;

  // Commands running at once, Run and Exec together; beyond it calls fail RESOURCE_EXHAUSTED.
  int max_concurrent = 8;

  // Exec: output held for a client that reads slower than the command writes, on top of the
  // stream's flow-control window. When it is full the command's pipes fill and it blocks.
  size_t exec_queue_bytes = size_t{1} << 20;

  // Which calls are admitted (services/auth/access_policy.h): a bearer token, listed Unix-socket
  // peer uids, or every local peer. The default admits nobody: a command service is a remote
  // shell, and being on this host is no credential.
  auth::AccessPolicy access;
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_COMMAND_CONFIG_H_
