// System calls for code that runs in a child cloned from a multithreaded process before it execs
// (supervisor.cc): only async-signal-safe work is allowed there, so no malloc, no locks, and no
// libc function that a sanitizer intercepts (the interceptors take locks and touch per-thread
// state of threads the child does not have). Everything goes through syscall(2) directly, and
// every function that runs in such a child is marked FRPC_CHILD_CODE, which turns off sanitizer
// instrumentation in it.
//
// Each function returns what the system call returns: -1 with errno set on failure. Linux only.
#ifndef FRAMERPC_SERVICES_COMMAND_RAW_SYSCALL_H_
#define FRAMERPC_SERVICES_COMMAND_RAW_SYSCALL_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>

#define FRPC_CHILD_CODE \
  __attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))

namespace framerpc::command::sys {

// The kernel's sigset for the rt_* calls: 64 signals, one bit each.
using KernelSigset = uint64_t;

FRPC_CHILD_CODE inline KernelSigset SigBit(int sig) { return KernelSigset{1} << (sig - 1); }

// The kernel's struct sigaction (x86_64 and arm64 layout).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  KernelSigset mask;
};

FRPC_CHILD_CODE inline long SetSignalAction(int sig, const KernelSigaction& action) {
  return ::syscall(SYS_rt_sigaction, sig, &action, nullptr, sizeof(KernelSigset));
}

FRPC_CHILD_CODE inline long SetSignalMask(KernelSigset mask) {
  return ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, nullptr, sizeof(KernelSigset));
}

FRPC_CHILD_CODE inline long SignalFd(KernelSigset mask) {
  return ::syscall(SYS_signalfd4, -1, &mask, sizeof(KernelSigset), O_CLOEXEC | O_NONBLOCK);
}

FRPC_CHILD_CODE inline long Open(const char* path, int flags) {
  return ::syscall(SYS_openat, AT_FDCWD, path, flags, 0);
}

FRPC_CHILD_CODE inline long Read(int fd, void* buf, size_t size) {
  return ::syscall(SYS_read, fd, buf, size);
}

FRPC_CHILD_CODE inline long Write(int fd, const void* buf, size_t size) {
  return ::syscall(SYS_write, fd, buf, size);
}

FRPC_CHILD_CODE inline long Close(int fd) { return ::syscall(SYS_close, fd); }

// Closes [first, last]; with CLOSE_RANGE_CLOEXEC only marks them close-on-exec.
FRPC_CHILD_CODE inline long CloseRange(unsigned first, unsigned last, unsigned flags) {
  return ::syscall(SYS_close_range, first, last, flags);
}

// dup2 for old != new (dup3 refuses equal descriptors).
FRPC_CHILD_CODE inline long Dup2(int old_fd, int new_fd) {
  return ::syscall(SYS_dup3, old_fd, new_fd, 0);
}

FRPC_CHILD_CODE inline long Fcntl(int fd, int cmd, long arg) {
  return ::syscall(SYS_fcntl, fd, cmd, arg);
}

FRPC_CHILD_CODE inline long Pipe2(int fds[2], int flags) {
  return ::syscall(SYS_pipe2, fds, flags);
}

FRPC_CHILD_CODE inline long Poll(struct pollfd* fds, unsigned long n) {
  return ::syscall(SYS_ppoll, fds, n, nullptr, nullptr, sizeof(KernelSigset));
}

FRPC_CHILD_CODE inline long Wait4(pid_t pid, int* status, int options) {
  return ::syscall(SYS_wait4, pid, status, options, nullptr);
}

FRPC_CHILD_CODE inline long Kill(pid_t pid, int sig) { return ::syscall(SYS_kill, pid, sig); }

FRPC_CHILD_CODE inline long PidfdOpen(pid_t pid) { return ::syscall(SYS_pidfd_open, pid, 0); }

FRPC_CHILD_CODE inline long PidfdSendSignal(int pidfd, int sig) {
  return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
}

FRPC_CHILD_CODE inline pid_t GetPid() { return static_cast<pid_t>(::syscall(SYS_getpid)); }

FRPC_CHILD_CODE inline long SetPgid(pid_t pid, pid_t pgid) {
  return ::syscall(SYS_setpgid, pid, pgid);
}

FRPC_CHILD_CODE inline long Prctl(int option, unsigned long arg) {
  return ::syscall(SYS_prctl, option, arg, 0, 0, 0);
}

FRPC_CHILD_CODE inline long Mount(const char* source, const char* target, const char* type,
                                  unsigned long flags) {
  return ::syscall(SYS_mount, source, target, type, flags, nullptr);
}

FRPC_CHILD_CODE inline long SetLimit(int resource, const struct rlimit& limit) {
  return ::syscall(SYS_prlimit64, 0, resource, &limit, nullptr);
}

FRPC_CHILD_CODE inline long Fchdir(int fd) { return ::syscall(SYS_fchdir, fd); }

FRPC_CHILD_CODE inline long GetDents64(int fd, void* buf, size_t size) {
  return ::syscall(SYS_getdents64, fd, buf, size);
}

FRPC_CHILD_CODE inline long ExecveAt(int fd, char* const* argv, char* const* envp) {
  return ::syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
}

[[noreturn]] FRPC_CHILD_CODE inline void ExitGroup(int code) {
  for (;;) ::syscall(SYS_exit_group, code);
}

// clone3 with fork semantics (no CLONE_VM, no new stack): returns twice, 0 in the child.
// `flags` are CLONE_* flags; with CLONE_PIDFD the child's pidfd is stored in *pidfd.
FRPC_CHILD_CODE inline long Clone3(uint64_t flags, int* pidfd) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args = {flags, reinterpret_cast<uint64_t>(pidfd), 0, 0, SIGCHLD, 0, 0, 0};
  return ::syscall(SYS_clone3, &args, sizeof args);
}

}  // namespace framerpc::command::sys

#endif  // FRAMERPC_SERVICES_COMMAND_RAW_SYSCALL_H_
