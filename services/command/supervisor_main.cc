// framerpc_supervisor: the supervisor of one command (supervisor.h), as a program of its own. The
// server starts it with CLONE_VM | CLONE_VFORK, as posix_spawn does, and it execs at once, so no
// copy of the server's address space is ever made; the namespace set-up and the fork of the
// command then happen in this small process. Its command line is supervisor_args.h; it is not
// meant to be run by hand.
#include "services/command/supervisor.h"
#include "services/command/supervisor_args.h"

int main(int argc, char** argv) {
  using framerpc::command::SupervisorMessage;
  framerpc::command::SupervisorPlan plan;
  int strings_fd = -1;
  int command_argc = 0;
  if (!framerpc::command::ParseSupervisorArgs(argc, argv, plan, strings_fd, command_argc) ||
      (!plan.probe_only &&
       !framerpc::command::LoadCommandStrings(strings_fd, command_argc, plan))) {
    if (plan.status_fd >= 0) {
      const SupervisorMessage message = {SupervisorMessage::kBadArguments, 0};
      (void)!framerpc::command::sys::Write(plan.status_fd, &message, sizeof message);
    }
    return 2;
  }
  framerpc::command::SupervisorMain(plan);
}
