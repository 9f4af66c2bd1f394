#include "services/command/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/command/raw_syscall.h"
#include "services/command/supervisor.h"
#include "services/command/supervisor_args.h"
#include "services/command/supervisor_executable.h"

// glibc's clone under another name, which sanitizers do not intercept.
extern "C" int __clone(int (*fn)(void*), void* stack, int flags, void* arg, ...);

namespace framerpc::command {
namespace {

// NULL-terminated views of `strings`; valid while `strings` is unchanged.
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// The read end of the lifeline: a pipe made once, whose write end this process keeps open, and
// so closes only by exiting. -1 if it could not be made (supervisors then do without).
int LifelineReadEnd() {
  static const int fd = [] {
    absl::StatusOr<Pipe> pipe = MakePipe();
    if (!pipe.ok()) return -1;
    pipe->write_end.release();  // deliberately never closed
    return pipe->read_end.release();
  }();
  return fd;
}

// What the child of StartSupervisor reads (it shares our memory), and what it reports back.
struct ExecArgs {
  int supervisor_fd;
  char* const* argv;
  char* const* envp;
  const int* fds;  // the plan's descriptors, made inheritable in the child's descriptor table
  int fd_count;
  int error;  // execveat's errno, if it fails
};

// Writes all of `data` to the file `fd`; false with errno set if it cannot.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Runs in a child that shares our memory but has its own descriptor table and signal handlers,
// while the cloning thread is suspended (CLONE_VFORK): raw system calls only, on its own stack.
FRPC_CHILD_CODE int ExecSupervisor(void* arg) {
  ExecArgs& args = *static_cast<ExecArgs*>(arg);
  for (int i = 0; i < args.fd_count; ++i) {
    if (args.fds[i] >= 0) sys::Fcntl(args.fds[i], F_SETFD, 0);
  }
  sys::ExecveAt(args.supervisor_fd, args.argv, args.envp);
  args.error = errno;
  sys::ExitGroup(127);
}

// Starts the supervisor binary for `plan` with `flags` (namespaces) as posix_spawn starts a
// program: CLONE_VM | CLONE_VFORK, so no copy of this process's page tables is made and this
// thread waits only until the execve. Returns the supervisor's pid and sets *pidfd, or -1 with
// errno set (the execve's errno if the supervisor binary could not be executed).
pid_t StartSupervisor(const SupervisorPlan& plan, uint64_t flags, int* pidfd) {
  absl::StatusOr<int> supervisor_fd = SupervisorExecutableFd();
  if (!supervisor_fd.ok()) {
    errno = ENOENT;
    return -1;
  }
  // The command's argv and environment go in a file, not on the supervisor's command line, which
  // anyone may read (supervisor_args.h).
  ScopedFd strings;
  if (!plan.probe_only) {
    strings = ScopedFd(::memfd_create("framerpc-command", MFD_CLOEXEC));
    if (!strings.valid()) return -1;
  }
  const EncodedSupervisorArgs encoded = EncodeSupervisorArgs(plan, strings.get());
  if (strings.valid() && !WriteAll(strings.get(), encoded.strings)) return -1;
  std::vector<char*> argv = CStrings(encoded.argv);
  char* envp[] = {nullptr};
  const int fds[] = {plan.status_fd, plan.lifeline_fd, plan.program_fd,
                     plan.working_directory_fd, plan.stdin_fd, plan.stdout_fd,
                     plan.stderr_fd, strings.get()};
  ExecArgs exec = {*supervisor_fd, argv.data(), envp, fds, sizeof fds / sizeof fds[0], 0};

  constexpr size_t kStackSize = 64 * 1024;
  void* stack = ::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  // No handler of ours may run in the child, which shares our memory: everything is blocked
  // across the clone (the supervisor sets its own mask).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // glibc's __clone, not clone: TSan intercepts clone as if it were a fork.
  const int pid = __clone(ExecSupervisor, static_cast<char*>(stack) + kStackSize,
                          static_cast<int>(flags) | CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                          &exec, pidfd);
  const int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kStackSize);
  if (pid < 0) {
    errno = clone_error;
    return -1;
  }
  if (exec.error != 0) {
    while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
    ::close(*pidfd);
    *pidfd = -1;
    errno = exec.error;
    return -1;
  }
  return pid;
}

// StartSupervisor's failure as a status.
absl::Status SupervisorStartError(int error) {
  absl::StatusOr<int> supervisor_fd = SupervisorExecutableFd();
  if (!supervisor_fd.ok()) return supervisor_fd.status();
  return absl::ErrnoToStatus(error, "starting the command's supervisor");
}

uint64_t CloneFlags(Containment containment) {
  return containment == Containment::kPidNamespace ? CLONE_NEWPID | CLONE_NEWNS : 0;
}

// A PID namespace dies with its init; a subreaper is asked to kill its command's processes first
// (killed itself, it would leave them to the host's init).
void KillAndReap(pid_t pid, int pidfd, Containment containment) {
  sys::PidfdSendSignal(pidfd,
                       containment == Containment::kPidNamespace ? SIGKILL : kKillAllSignal);
  while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
}

// The supervisor's first message, read blocking; INTERNAL if it exited without one.
absl::StatusOr<SupervisorMessage> ReadFirstMessage(int fd) {
  SupervisorMessage message;
  ssize_t n;
  while ((n = ::read(fd, &message, sizeof message)) < 0 && errno == EINTR) {
  }
  if (n != sizeof message) {
    return absl::InternalError("the command's supervisor exited before reporting");
  }
  return message;
}

// The descriptors a supervisor is handed: pipes for the status and stdio, /dev/null for stdin.
struct ChildFds {
  Pipe status;
  Pipe in;
  Pipe out;
  Pipe err;
  ScopedFd dev_null;
};

absl::StatusOr<ChildFds> MakeChildFds(bool stdin_pipe) {
  ChildFds fds;
  FRPC_ASSIGN_OR_RETURN(fds.status, MakePipe());
  if (stdin_pipe) {
    FRPC_ASSIGN_OR_RETURN(fds.in, MakePipe());
    FRPC_RETURN_IF_ERROR(SetNonBlocking(fds.in.write_end.get()));
  } else {
    ScopedFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!dev_null.valid()) return absl::ErrnoToStatus(errno, "open /dev/null");
    FRPC_ASSIGN_OR_RETURN(fds.dev_null, AboveStdio(std::move(dev_null)));
  }
  FRPC_ASSIGN_OR_RETURN(fds.out, MakePipe());
  FRPC_ASSIGN_OR_RETURN(fds.err, MakePipe());
  // Only our ends: O_NONBLOCK belongs to the open file description, which the child never shares.
  FRPC_RETURN_IF_ERROR(SetNonBlocking(fds.out.read_end.get()));
  FRPC_RETURN_IF_ERROR(SetNonBlocking(fds.err.read_end.get()));
  return fds;
}

// A duplicate >= 3 of a borrowed descriptor that is 0, 1 or 2 (which the child's dup2s onto its
// stdio would replace); invalid if `fd` can be used as it is.
absl::StatusOr<ScopedFd> DuplicateIfStdio(int fd) {
  if (fd < 0 || fd > STDERR_FILENO) return ScopedFd();
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (dup < 0) return absl::ErrnoToStatus(errno, "fcntl(F_DUPFD_CLOEXEC)");
  return ScopedFd(dup);
}

void SetLimits(const SpawnRequest& request, SupervisorPlan& plan) {
  if (request.address_space_limit.has_value()) {
    plan.limit_address_space = true;
    plan.address_space = {*request.address_space_limit, *request.address_space_limit};
  }
  if (request.cpu_limit_seconds.has_value()) {
    // SIGXCPU at the soft limit, which a command may catch; SIGKILL a second later.
    plan.limit_cpu = true;
    plan.cpu = {*request.cpu_limit_seconds, *request.cpu_limit_seconds + 1};
  }
}

}  // namespace

absl::StatusOr<SpawnedChild> SpawnChild(const SpawnRequest& request) {
  FRPC_ASSIGN_OR_RETURN(ChildFds fds, MakeChildFds(request.stdin_pipe));
  FRPC_ASSIGN_OR_RETURN(ScopedFd program_dup, DuplicateIfStdio(request.program_fd));
  FRPC_ASSIGN_OR_RETURN(ScopedFd directory_dup, DuplicateIfStdio(request.working_directory_fd));
  std::vector<char*> argv = CStrings(request.argv);
  std::vector<char*> envp = CStrings(request.envp);

  SupervisorPlan plan;
  plan.pid_namespace = request.containment == Containment::kPidNamespace;
  plan.status_fd = fds.status.write_end.get();
  plan.lifeline_fd = LifelineReadEnd();
  plan.program_fd = program_dup.valid() ? program_dup.get() : request.program_fd;
  plan.working_directory_fd =
      directory_dup.valid() ? directory_dup.get() : request.working_directory_fd;
  plan.stdin_fd = request.stdin_pipe ? fds.in.read_end.get() : fds.dev_null.get();
  plan.stdout_fd = fds.out.write_end.get();
  plan.stderr_fd = fds.err.write_end.get();
  plan.argv = argv.data();
  plan.envp = envp.data();
  SetLimits(request, plan);

  int raw_pidfd = -1;
  const pid_t pid = StartSupervisor(plan, CloneFlags(request.containment), &raw_pidfd);
  if (pid < 0) return SupervisorStartError(errno);
  ScopedFd pidfd(raw_pidfd);
  // The child's ends close here: the supervisor has its own copies.
  fds.status.write_end.reset();
  fds.in.read_end.reset();
  fds.dev_null.reset();
  fds.out.write_end.reset();
  fds.err.write_end.reset();

  absl::StatusOr<SupervisorMessage> first = ReadFirstMessage(fds.status.read_end.get());
  absl::Status status = first.status();
  if (first.ok() && first->kind == SupervisorMessage::kExecFailed) {
    status = absl::ErrnoToStatus(first->value,
                                 absl::StrCat("cannot execute '", request.program_name, "'"));
  } else if (first.ok() && first->kind == SupervisorMessage::kBadArguments) {
    status = absl::FailedPreconditionError(
        "the command supervisor binary does not understand this server's command line (from "
        "another build?)");
  } else if (first.ok() && first->kind != SupervisorMessage::kStarted) {
    status = absl::ErrnoToStatus(first->value, "setting up the command's supervisor");
    status = absl::InternalError(status.message());
  }
  if (status.ok()) status = SetNonBlocking(fds.status.read_end.get());
  if (!status.ok()) {
    KillAndReap(pid, pidfd.get(), request.containment);
    return status;
  }
  SpawnedChild child;
  child.pid = pid;
  child.pidfd = std::move(pidfd);
  child.status_read = std::move(fds.status.read_end);
  child.stdin_write = std::move(fds.in.write_end);
  child.stdout_read = std::move(fds.out.read_end);
  child.stderr_read = std::move(fds.err.read_end);
  return child;
}

absl::Status ProbePidNamespace() {
  FRPC_ASSIGN_OR_RETURN(Pipe status, MakePipe());
  SupervisorPlan plan;
  plan.pid_namespace = true;
  plan.probe_only = true;
  plan.status_fd = status.write_end.get();
  int raw_pidfd = -1;
  const pid_t pid = StartSupervisor(plan, CloneFlags(Containment::kPidNamespace), &raw_pidfd);
  if (pid < 0) {
    const int error = errno;
    if (error == EINVAL || error == EPERM) {
      return absl::ErrnoToStatus(error, "clone(CLONE_NEWPID | CLONE_NEWNS)");
    }
    return SupervisorStartError(error);
  }
  ScopedFd pidfd(raw_pidfd);
  status.write_end.reset();
  absl::StatusOr<SupervisorMessage> message = ReadFirstMessage(status.read_end.get());
  KillAndReap(pid, pidfd.get(), Containment::kPidNamespace);
  if (!message.ok()) return message.status();
  if (message->kind != SupervisorMessage::kProbeOk) {
    return absl::ErrnoToStatus(message->value, "making the namespace's mounts private or its /proc");
  }
  return absl::OkStatus();
}

absl::StatusOr<Containment> ChooseContainment(ContainmentChoice choice) {
  if (choice == ContainmentChoice::kSubreaper) return Containment::kSubreaper;
  absl::Status probe = ProbePidNamespace();
  if (probe.ok()) return Containment::kPidNamespace;
  if (choice == ContainmentChoice::kAuto) return Containment::kSubreaper;
  return absl::FailedPreconditionError(
      absl::StrCat("PID namespaces are not available for commands here: ", probe.message()));
}

}  // namespace framerpc::command
