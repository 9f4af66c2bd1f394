// How a command and everything it starts are contained (docs/command_service.md, "Containment").
//
//  - kPidNamespace: the command runs under a supervisor that is the init of a new PID namespace
//    (and of a mount namespace with its own /proc). When the command exits or is killed, the
//    supervisor exits and the kernel kills every process left in the namespace: nothing started
//    by the command can outlive it, whatever it does (setsid, double fork, ignoring signals).
//    Needs CAP_SYS_ADMIN.
//  - kSubreaper: where PID namespaces are not available, the supervisor is a child subreaper
//    (PR_SET_CHILD_SUBREAPER): orphans of the command are reparented to it, and it kills every
//    descendant before it exits. A command running as the server's user can still kill the
//    supervisor itself, and then escape.
//
// Thread safety: the functions are thread-safe.
#ifndef FRAMERPC_SERVICES_COMMAND_CONTAINMENT_H_
#define FRAMERPC_SERVICES_COMMAND_CONTAINMENT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace framerpc::command {

enum class Containment { kPidNamespace, kSubreaper };

// What the operator asked for (--command_containment).
enum class ContainmentChoice { kAuto, kPidNamespace, kSubreaper };

// "pid_namespace" or "subreaper".
absl::string_view ContainmentName(Containment containment);

// "auto", "pid_namespace" or "subreaper"; INVALID_ARGUMENT otherwise.
absl::StatusOr<ContainmentChoice> ParseContainmentChoice(absl::string_view text);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_CONTAINMENT_H_
