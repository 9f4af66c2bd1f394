// Starts one command under its supervisor (supervisor.h): no shell, its own process group, the
// environment given and nothing else, stdin from /dev/null or a pipe, stdout and stderr to pipes,
// no other open descriptors, contained as `containment` says. Process (process.h) builds on this;
// most code should use Process instead.
//
// The supervisor is a program of its own (framerpc_supervisor; supervisor_executable.h finds it),
// started as posix_spawn starts a program: clone with CLONE_VM | CLONE_VFORK (plus CLONE_NEWPID |
// CLONE_NEWNS for a PID namespace), and the child only makes the plan's descriptors inheritable
// and execs it. No copy of this process's page tables is made, and the calling thread waits only
// until the execve. The namespace's mounts, the fork of the command and everything after happen
// in the supervisor's own small address space; its command line is supervisor_args.h.
//
// The supervisor keeps the read end of a process-wide "lifeline" pipe whose write end only this
// process holds: when the server dies, however, the lifeline reads EOF and every supervisor kills
// its command. (PR_SET_PDEATHSIG would fire when the spawning thread exits, and
// worker threads come and go while their commands run.)
//
// Thread safety: SpawnChild and ProbePidNamespace are thread-safe. Every descriptor this library
// creates is O_CLOEXEC, and the supervisor closes all it does not need, so concurrent spawns
// cannot leak our pipes into each other's commands.
#ifndef FRAMERPC_SERVICES_COMMAND_SPAWN_H_
#define FRAMERPC_SERVICES_COMMAND_SPAWN_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/command/containment.h"
#include "services/command/fd_util.h"

namespace framerpc::command {

struct SpawnRequest {
  int program_fd = -1;             // the file to execute (OpenExecutable); not owned
  std::string program_name;        // for error messages
  std::vector<std::string> argv;   // argv[0] is passed as given
  std::vector<std::string> envp;   // "NAME=value" strings: the child's entire environment
  int working_directory_fd = -1;   // not owned; -1: inherit ours
  bool stdin_pipe = false;         // false: stdin is /dev/null
  Containment containment = Containment::kSubreaper;
  std::optional<uint64_t> address_space_limit;  // RLIMIT_AS, bytes
  std::optional<uint64_t> cpu_limit_seconds;    // RLIMIT_CPU soft; the hard limit is one more
};

// The parent's side of a running command: its supervisor, which this process must reap (waitpid)
// exactly once; until then its pid cannot be reused, so signalling it is safe.
struct SpawnedChild {
  pid_t pid = -1;          // the supervisor, in this process's PID namespace
  ScopedFd pidfd;          // the supervisor's; readable once it has exited, i.e. once nothing of
                           // the command is left
  ScopedFd status_read;    // SupervisorMessage kExited arrives here before the supervisor exits
  // Our ends of the pipes, all O_NONBLOCK and O_CLOEXEC.
  ScopedFd stdin_write;    // invalid unless stdin_pipe
  ScopedFd stdout_read;
  ScopedFd stderr_read;
};

// Returns once the command has exec'd. Errors: execve's errno mapped by absl::ErrnoToStatus (e.g.
// NOT_FOUND for ENOENT, PERMISSION_DENIED for EACCES, RESOURCE_EXHAUSTED for ENOMEM), naming the
// program; INTERNAL if the supervisor could not be set up; the supervisor binary's errors
// (NOT_FOUND if there is none, its execve's errno, FAILED_PRECONDITION for one of another build)
// naming it. On error nothing is left running.
absl::StatusOr<SpawnedChild> SpawnChild(const SpawnRequest& request);

// OK if commands can run in a PID namespace here: starts a supervisor exactly as SpawnChild would
// (namespaces, private mounts, its own /proc), which reports and exits. The error says why not.
absl::Status ProbePidNamespace();

// The containment to use for `choice`: kAuto is a PID namespace if ProbePidNamespace() succeeds,
// else a subreaper. FAILED_PRECONDITION if a PID namespace is asked for and not available.
absl::StatusOr<Containment> ChooseContainment(ContainmentChoice choice);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_SPAWN_H_
