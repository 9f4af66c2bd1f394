#include "services/command/supervisor.h"

#include <errno.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "services/command/process_tree.h"

namespace framerpc::command {
namespace {

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
constexpr int kLastSignal = 64;

// Installed for the signals the supervisor takes, which stay blocked and are read from a signalfd:
// it never runs. A handler (rather than SIG_DFL) is what makes a PID namespace's init accept them.
FRPC_CHILD_CODE void NeverRuns(int) {}

FRPC_CHILD_CODE sys::KernelSigset HandledSignals() {
  sys::KernelSigset set = sys::SigBit(SIGCHLD) | sys::SigBit(kKillAllSignal);
  for (size_t i = 0; i < sizeof kForwarded / sizeof kForwarded[0]; ++i) {
    set |= sys::SigBit(kForwarded[i]);
  }
  return set;
}

FRPC_CHILD_CODE void Report(int fd, int32_t kind, int32_t value) {
  const SupervisorMessage message = {kind, value};
  while (sys::Write(fd, &message, sizeof message) < 0 && errno == EINTR) {
  }
}

[[noreturn]] FRPC_CHILD_CODE void FailSetup(const SupervisorPlan& plan, int error) {
  Report(plan.status_fd, SupervisorMessage::kSetupFailed, error);
  sys::ExitGroup(1);
}

// Closes every descriptor from 3 up, except those in `keep` (-1 entries are ignored). The
// supervisor starts with a copy of all of the server's: sockets, other commands' pipes.
FRPC_CHILD_CODE void CloseAllExcept(int* keep, int n) {
  for (int i = 1; i < n; ++i) {  // insertion sort: n is tiny
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      const int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  unsigned first = 3;
  for (int i = 0; i < n; ++i) {
    if (keep[i] < static_cast<int>(first)) continue;
    if (static_cast<unsigned>(keep[i]) > first) sys::CloseRange(first, keep[i] - 1, 0);
    first = static_cast<unsigned>(keep[i]) + 1;
  }
  sys::CloseRange(first, ~0U, 0);
}

FRPC_CHILD_CODE void SetDispositions(void (*handled)(int), sys::KernelSigset handled_set) {
  for (int sig = 1; sig <= kLastSignal; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sys::KernelSigaction action = {};
    action.handler = (handled_set & sys::SigBit(sig)) != 0 ? handled : SIG_DFL;
    if (sig == SIGCHLD) action.flags = SA_NOCLDSTOP;
    sys::SetSignalAction(sig, action);
  }
}

// The command: runs in the supervisor's child, up to execve.
[[noreturn]] FRPC_CHILD_CODE void CommandMain(const SupervisorPlan& plan, int error_fd) {
  SetDispositions(nullptr, 0);
  sys::SetSignalMask(0);
  int error = 0;
  if (sys::SetPgid(0, 0) < 0 || sys::Dup2(plan.stdin_fd, 0) < 0 ||
      sys::Dup2(plan.stdout_fd, 1) < 0 || sys::Dup2(plan.stderr_fd, 2) < 0 ||
      sys::CloseRange(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0 ||
      (plan.limit_address_space && sys::SetLimit(RLIMIT_AS, plan.address_space) < 0) ||
      (plan.limit_cpu && sys::SetLimit(RLIMIT_CPU, plan.cpu) < 0) ||
      (plan.working_directory_fd >= 0 && sys::Fchdir(plan.working_directory_fd) < 0)) {
    error = errno;
  } else {
    sys::ExecveAt(plan.program_fd, plan.argv, plan.envp);
    error = errno;
    if (error == ENOENT) {
      // A script: the kernel hands its interpreter /dev/fd/N, which a close-on-exec N cannot be.
      sys::Fcntl(plan.program_fd, F_SETFD, 0);
      sys::ExecveAt(plan.program_fd, plan.argv, plan.envp);
      error = errno;
    }
  }
  while (sys::Write(error_fd, &error, sizeof error) < 0 && errno == EINTR) {
  }
  sys::ExitGroup(127);
}

// Namespace setup, subreaper, descriptors, signals. Returns the signalfd.
FRPC_CHILD_CODE int SetUp(const SupervisorPlan& plan) {
  int keep[] = {plan.status_fd,        plan.lifeline_fd, plan.program_fd,
                plan.working_directory_fd, plan.stdin_fd,    plan.stdout_fd,
                plan.stderr_fd};
  CloseAllExcept(keep, sizeof keep / sizeof keep[0]);
  const sys::KernelSigset handled = HandledSignals();
  sys::SetSignalMask(handled);
  SetDispositions(NeverRuns, handled);
  if (plan.pid_namespace) {
    if (sys::GetPid() != 1) FailSetup(plan, EINVAL);
    // Private first, so that the /proc of the namespace does not propagate to the machine's.
    if (sys::Mount("none", "/", nullptr, MS_REC | MS_PRIVATE) < 0) FailSetup(plan, errno);
    if (sys::Mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0) {
      FailSetup(plan, errno);
    }
  } else if (sys::Prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    FailSetup(plan, errno);
  }
  // Terminal signals to the server's process group are not for the commands.
  sys::SetPgid(0, 0);
  const int signal_fd = static_cast<int>(sys::SignalFd(handled));
  if (signal_fd < 0) FailSetup(plan, errno);
  return signal_fd;
}

// Forks the command; reports kStarted, or kExecFailed and exits. Returns the command's pid.
FRPC_CHILD_CODE pid_t StartCommand(const SupervisorPlan& plan) {
  int error_pipe[2];
  if (sys::Pipe2(error_pipe, O_CLOEXEC) < 0) FailSetup(plan, errno);
  const long pid = sys::Clone3(0, nullptr);
  if (pid == 0) CommandMain(plan, error_pipe[1]);
  if (pid < 0) FailSetup(plan, errno);
  // The supervisor must not hold the command's pipes: their EOF tells the server it is done.
  const int ours[] = {error_pipe[1], plan.stdin_fd,   plan.stdout_fd,
                      plan.stderr_fd, plan.program_fd, plan.working_directory_fd};
  for (size_t i = 0; i < sizeof ours / sizeof ours[0]; ++i) {
    if (ours[i] >= 0) sys::Close(ours[i]);
  }
  int error = 0;
  long n;
  while ((n = sys::Read(error_pipe[0], &error, sizeof error)) < 0 && errno == EINTR) {
  }
  sys::Close(error_pipe[0]);
  if (n == sizeof error) {
    int status;
    while (sys::Wait4(static_cast<pid_t>(pid), &status, __WALL) < 0 && errno == EINTR) {
    }
    Report(plan.status_fd, SupervisorMessage::kExecFailed, error);
    sys::ExitGroup(0);
  }
  Report(plan.status_fd, SupervisorMessage::kStarted, static_cast<int32_t>(pid));
  return static_cast<pid_t>(pid);
}

// SIGKILL to everything the command is made of: in a PID namespace every process in it but the
// supervisor; as a subreaper, one round over the descendants.
FRPC_CHILD_CODE void KillAll(const SupervisorPlan& plan) {
  if (plan.pid_namespace) {
    sys::Kill(-1, SIGKILL);  // in a PID namespace's init: every other process of the namespace
  } else {
    KillDescendants();
  }
}

// Leaves nothing of the command behind, then exits.
[[noreturn]] FRPC_CHILD_CODE void Finish(const SupervisorPlan& plan, bool report, int status) {
  // In a PID namespace the kernel kills the rest when its init exits.
  if (!plan.pid_namespace) KillAllDescendants();
  if (report) Report(plan.status_fd, SupervisorMessage::kExited, status);
  sys::ExitGroup(0);
}

}  // namespace

FRPC_CHILD_CODE void SupervisorMain(const SupervisorPlan& plan) {
  const int signal_fd = SetUp(plan);
  if (plan.probe_only) {
    Report(plan.status_fd, SupervisorMessage::kProbeOk, 0);
    sys::ExitGroup(0);
  }
  const pid_t command = StartCommand(plan);
  for (;;) {
    struct pollfd fds[2] = {{signal_fd, POLLIN, 0}, {plan.lifeline_fd, POLLIN, 0}};
    if (sys::Poll(fds, plan.lifeline_fd >= 0 ? 2 : 1) < 0) continue;
    if (fds[1].revents != 0) {
      // EOF: the server is gone, and with it whoever would read our report.
      KillAll(plan);
      Finish(plan, /*report=*/false, 0);
    }
    struct signalfd_siginfo info;
    while (sys::Read(signal_fd, &info, sizeof info) == sizeof info) {
      const int sig = static_cast<int>(info.ssi_signo);
      if (sig == kKillAllSignal) {
        KillAll(plan);
      } else if (sig != SIGCHLD) {
        // The command is unreaped (it is reaped below, and we exit then): its group id is its own.
        sys::Kill(-command, sig);
        if (sig == SIGTERM) sys::Kill(-command, SIGCONT);  // a stopped command must see it
      }
    }
    int status;
    long reaped;
    while ((reaped = sys::Wait4(-1, &status, WNOHANG | __WALL)) > 0) {
      if (reaped == command) Finish(plan, /*report=*/true, status);
    }
  }
}

}  // namespace framerpc::command
