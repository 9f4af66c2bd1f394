#include "services/command/fd_util.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include <cerrno>

namespace framerpc::command {

absl::StatusOr<ScopedFd> AboveStdio(ScopedFd fd) {
  if (fd.get() > STDERR_FILENO) return fd;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) return absl::ErrnoToStatus(errno, "fcntl(F_DUPFD_CLOEXEC)");
  return ScopedFd(moved);
}

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  ScopedFd read_end(fds[0]);
  ScopedFd write_end(fds[1]);
  absl::StatusOr<ScopedFd> r = AboveStdio(std::move(read_end));
  if (!r.ok()) return r.status();
  absl::StatusOr<ScopedFd> w = AboveStdio(std::move(write_end));
  if (!w.ok()) return w.status();
  return Pipe{std::move(r).value(), std::move(w).value()};
}

absl::Status SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::ErrnoToStatus(errno, "fcntl(O_NONBLOCK)");
  }
  return absl::OkStatus();
}

ssize_t WriteWithoutSigpipe(int fd, const void* data, size_t size) {
  // SIGPIPE from write(2) is directed at the writing thread, so blocking it here and consuming
  // the one we caused leaves the rest of the process (and any SIGPIPE already pending) untouched.
  sigset_t sigpipe_set;
  sigemptyset(&sigpipe_set);
  sigaddset(&sigpipe_set, SIGPIPE);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &sigpipe_set, &old_mask);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;

  const ssize_t n = ::write(fd, data, size);
  const int saved_errno = errno;
  if (n < 0 && saved_errno == EPIPE && !was_pending) {
    const timespec zero = {0, 0};
    while (::sigtimedwait(&sigpipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved_errno;
  return n;
}

}  // namespace framerpc::command
