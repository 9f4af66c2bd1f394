#include <string>
#include <vector>

#include "services/command/supervisor_args.h"

namespace framerpc::command {
namespace {

std::string Limit(bool set, rlim_t value) { return set ? std::to_string(value) : "-"; }

}  // namespace

EncodedSupervisorArgs EncodeSupervisorArgs(const SupervisorPlan& plan, int strings_fd) {
  EncodedSupervisorArgs encoded;
  std::vector<std::string>& out = encoded.argv;
  out = {
      "framerpc-supervisor",
      kSupervisorArgsVersion,
      plan.probe_only ? "probe" : (plan.pid_namespace ? "pidns" : "subreaper"),
  };
  for (int fd : {plan.status_fd, plan.lifeline_fd, plan.program_fd, plan.working_directory_fd,
                 plan.stdin_fd, plan.stdout_fd, plan.stderr_fd}) {
    out.push_back(std::to_string(fd));
  }
  out.push_back(Limit(plan.limit_address_space, plan.address_space.rlim_cur));
  out.push_back(Limit(plan.limit_cpu, plan.cpu.rlim_cur));
  size_t argc = 0;
  while (plan.argv != nullptr && plan.argv[argc] != nullptr) ++argc;
  out.push_back(std::to_string(argc));
  out.push_back(std::to_string(strings_fd));
  for (size_t i = 0; i < argc; ++i) encoded.strings.append(plan.argv[i]).push_back('\0');
  for (size_t i = 0; plan.envp != nullptr && plan.envp[i] != nullptr; ++i) {
    encoded.strings.append(plan.envp[i]).push_back('\0');
  }
  return encoded;
}

}  // namespace framerpc::command
