// The command line of the supervisor binary (framerpc_supervisor, supervisor_main.cc): how
// spawn.cc hands a SupervisorPlan across execve.
//
//   argv[0]               anything (the process's name: "framerpc-supervisor")
//   argv[1]               kSupervisorArgsVersion: a helper from another build is refused
//   argv[2]               "pidns", "subreaper" or "probe" (pidns that only sets up and reports)
//   argv[3..9]            status, lifeline, program, working directory, stdin, stdout and stderr
//                         descriptors, decimal; -1 for none (lifeline, working directory)
//   argv[10], argv[11]    RLIMIT_AS in bytes and RLIMIT_CPU's soft limit in seconds, or "-"
//   argv[12]              N, the number of the command's arguments
//   argv[13]              a descriptor of a file (a memfd) holding the command's N arguments and
//                         then its environment, each string followed by a NUL; -1 for a probe
//
// The command's arguments and environment are not on the supervisor's command line: anyone on the
// host may read a process's /proc/PID/cmdline, while a command's environment (which may hold a
// secret) is readable only by its owner. The supervisor also runs with an empty environment, so
// nothing a request puts there (LD_PRELOAD) reaches the supervisor's dynamic loader.
//
// Descriptors must be open in the supervisor (not close-on-exec). ParseSupervisorArgs and
// LoadCommandStrings use only libc, so the supervisor binary needs nothing else (loading libstdc++
// would be most of its start-up time); the encoder is in another file.
//
// Thread safety: the functions are thread-safe.
#ifndef FRAMERPC_SERVICES_COMMAND_SUPERVISOR_ARGS_H_
#define FRAMERPC_SERVICES_COMMAND_SUPERVISOR_ARGS_H_

#include <string>
#include <vector>

#include "services/command/supervisor.h"

namespace framerpc::command {

inline constexpr char kSupervisorArgsVersion[] = "--framerpc-supervisor-v1";

struct EncodedSupervisorArgs {
  std::vector<std::string> argv;
  std::string strings;  // the contents of argv[13]'s file
};

// The supervisor's argv for `plan`, naming `strings_fd` (-1 for a probe) as the file that will
// hold `strings`. `plan.argv` and `plan.envp` are NULL-terminated (or null: none).
EncodedSupervisorArgs EncodeSupervisorArgs(const SupervisorPlan& plan, int strings_fd);

// The plan `argv` (argc entries, as main receives them) encodes, but for plan.argv and plan.envp,
// and the descriptor and count LoadCommandStrings needs. False if `argv` is not a well-formed
// command line of this version; then the plan is unusable, but plan.status_fd is set if argv[3]
// could be read, so that the caller can report.
bool ParseSupervisorArgs(int argc, char** argv, SupervisorPlan& plan, int& strings_fd,
                         int& command_argc);

// Maps the file `fd` (then closes it) and points plan.argv at its first `command_argc` strings and
// plan.envp at the rest, both NULL-terminated, in one malloc'd array starting at plan.argv (the
// supervisor never frees it; a test may). The file stays mapped. False if the file cannot
// be read or holds fewer strings, or does not end in a NUL.
bool LoadCommandStrings(int fd, int command_argc, SupervisorPlan& plan);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_SUPERVISOR_ARGS_H_
