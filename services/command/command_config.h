// The operator's configuration of the command service (framerpc_server's --command_* flags).
#ifndef FRAMERPC_SERVICES_COMMAND_COMMAND_CONFIG_H_
#define FRAMERPC_SERVICES_COMMAND_COMMAND_CONFIG_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/auth/access_policy.h"
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

  absl::Duration default_timeout = absl::Minutes(5);  // for requests that give none; > 0
  absl::Duration max_timeout = absl::Hours(1);        // >= default_timeout
  absl::Duration kill_grace = absl::Seconds(2);       // SIGTERM -> SIGKILL; >= 0

  // Caps on each of stdout and stderr; requests may only lower them. Run returns everything in
  // one response message, so its cap must leave that message under the frame limit.
  size_t run_output_limit = kDefaultOutputLimit;
  size_t exec_output_limit = kDefaultOutputLimit;

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
