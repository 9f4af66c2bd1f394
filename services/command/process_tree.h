// Killing every descendant of the calling process without a PID namespace, for the subreaper
// supervisor (supervisor.h). Async-signal-safe: runs in a cloned child of a multithreaded server.
//
// Descendants are found through /proc/<pid>/task/<tid>/children, starting from the caller. A pid
// read from /proc may belong to another process by the time it is signalled (the one it named
// exited, was reaped, and the number was reused), so nothing is signalled by number: each child
// is opened as a pidfd, and signalled only if, read after the pidfd was opened, its parent is the
// process it was listed under and that parent had not yet been reaped (its own pidfd still
// accepts signal 0), which makes every process signalled a descendant. What cannot be proven this
// round (a parent reaped meanwhile, more than the walk holds at once) is left to the next: its
// orphans are reparented to the caller, a subreaper, and show up as its children.
#ifndef FRAMERPC_SERVICES_COMMAND_PROCESS_TREE_H_
#define FRAMERPC_SERVICES_COMMAND_PROCESS_TREE_H_

#include "services/command/raw_syscall.h"

namespace framerpc::command {

// One round: SIGKILLs every descendant it can prove is one, top down.
FRPC_CHILD_CODE void KillDescendants();

// Rounds of KillDescendants, reaping the caller's children, until it has none left. The caller
// must be a child subreaper, so that every descendant is either its child or below one: no
// children left means no descendants left. Children reaped here are not reported.
FRPC_CHILD_CODE void KillAllDescendants();

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_PROCESS_TREE_H_
