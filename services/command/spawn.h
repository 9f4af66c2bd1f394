// Starts one child with posix_spawn: no shell, its own process group, a scrubbed environment,
// stdin from /dev/null or a pipe, stdout and stderr to pipes, and no other open descriptors.
// Process (process.h) builds on this; most code should use Process instead.
//
// Thread safety: SpawnChild is thread-safe. Every descriptor this library creates is O_CLOEXEC,
// and the child additionally closes every descriptor above 2, so concurrent spawns from other
// threads cannot leak our pipes into their children, nor theirs into ours.
#ifndef FRAMERPC_SERVICES_COMMAND_SPAWN_H_
#define FRAMERPC_SERVICES_COMMAND_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/command/fd_util.h"

namespace framerpc::command {

struct SpawnRequest {
  std::string path;                // the file to execute (from ResolveProgram)
  std::vector<std::string> argv;   // argv[0] is passed as given
  std::vector<std::string> envp;   // "NAME=value" strings: the child's entire environment
  std::string working_directory;   // empty: inherit ours
  bool stdin_pipe = false;         // false: stdin is /dev/null
};

// The parent's side of a running child. The child is its own process-group leader (pgid == pid)
// and has all signal dispositions reset to default and an empty signal mask. The caller must reap
// `pid` (waitpid) exactly once; until then the pid, and so the process group id, cannot be reused.
struct SpawnedChild {
  pid_t pid = -1;
  ScopedFd pidfd;         // readable once the child exits (pidfd_open(2))
  // Our ends of the pipes, all O_NONBLOCK and O_CLOEXEC.
  ScopedFd stdin_write;   // invalid unless stdin_pipe
  ScopedFd stdout_read;
  ScopedFd stderr_read;
};

// Errors: the spawn or execve errno mapped by absl::ErrnoToStatus (e.g. NOT_FOUND for ENOENT,
// PERMISSION_DENIED for EACCES, RESOURCE_EXHAUSTED for ENOMEM), with the path in the message.
// On error no child is left running or unreaped.
absl::StatusOr<SpawnedChild> SpawnChild(const SpawnRequest& request);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_SPAWN_H_
