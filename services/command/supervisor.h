// The supervisor ("init") that every command runs under, and the command child it starts. It runs
// as its own program, framerpc_supervisor (supervisor_main.cc): spawn.cc encodes a SupervisorPlan
// on its command line (supervisor_args.h) and starts it without copying the server's memory;
// nothing here is called in the server itself.
//
// The supervisor:
//  - closes every descriptor of the server it does not need, resets its signal dispositions, and
//    takes SIGCHLD, the termination signals and kKillAllSignal through a signalfd (handlers are
//    installed too, as a PID namespace's init only receives the signals it handles);
//  - in a PID namespace: makes its mounts private and mounts a /proc of the namespace (the mount
//    namespace is the command's own, so the machine's mounts are untouched);
//  - forks the command (process group of its own, default signals, stdio on the pipes, resource
//    limits, working directory, execveat of the verified file) and reports that it started, or
//    the execve errno, on the status pipe;
//  - forwards SIGTERM (followed by SIGCONT), SIGINT, SIGHUP and SIGQUIT to the command's process
//    group, and on kKillAllSignal, or when the server goes away (EOF on the lifeline pipe),
//    SIGKILLs everything it contains;
//  - reaps every zombie; when the command exits it reports the command's raw wait status and
//    exits, once nothing of the command is left: in a PID namespace its own exit makes the kernel
//    kill whatever remains; as a subreaper it kills every descendant first (process_tree.h).
//
// Everything here is async-signal-safe (raw_syscall.h) and allocates nothing, so it could also run
// in a forked child of a multithreaded process: the plan holds only plain values and pointers.
#ifndef FRAMERPC_SERVICES_COMMAND_SUPERVISOR_H_
#define FRAMERPC_SERVICES_COMMAND_SUPERVISOR_H_

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>

#include "services/command/raw_syscall.h"

namespace framerpc::command {

// Sent to the supervisor: SIGKILL everything the command is made of.
inline constexpr int kKillAllSignal = SIGUSR1;

// What the supervisor writes on the status pipe, at most twice: kStarted (or kExecFailed, or
// kSetupFailed, after which it exits), then kExited.
struct SupervisorMessage {
  enum Kind : int32_t {
    kStarted = 1,      // value: the command's pid in the supervisor's namespace
    kExecFailed = 2,   // value: execve's errno
    kSetupFailed = 3,  // value: errno of the failing namespace, mount or fork step
    kExited = 4,       // value: the command's raw wait status
    kProbeOk = 5,      // a probe (SupervisorPlan::probe_only) set up its namespace
    kBadArguments = 6,  // the supervisor binary could not read its command line (another build?)
  };
  int32_t kind;
  int32_t value;
};

struct SupervisorPlan {
  // Containment: a new PID and mount namespace (the clone made them), or a child subreaper.
  bool pid_namespace = false;
  // Set up the namespace, report kProbeOk and exit, without running anything.
  bool probe_only = false;

  int status_fd = -1;    // write end of the status pipe
  int lifeline_fd = -1;  // read end of a pipe whose write end only the server holds

  // The command. All descriptors are >= 3.
  int program_fd = -1;            // the verified executable (O_PATH, close-on-exec)
  int working_directory_fd = -1;  // -1: inherit
  int stdin_fd = -1;              // pipe or /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  bool limit_address_space = false;
  struct rlimit address_space = {};
  bool limit_cpu = false;
  struct rlimit cpu = {};
};

// Runs the supervisor; never returns. Call only in the supervisor process (supervisor_main.cc).
[[noreturn]] FRPC_CHILD_CODE void SupervisorMain(const SupervisorPlan& plan);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_SUPERVISOR_H_
