#include "services/command/stdin_writer.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>

#include "services/command/fd_util.h"

namespace framerpc::command {

absl::StatusOr<StdinWriter> StdinWriter::Create(ScopedFd pipe) {
  ScopedFd abandon(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!abandon.valid()) return absl::ErrnoToStatus(errno, "eventfd");
  return StdinWriter(std::move(pipe), std::move(abandon));
}

bool StdinWriter::Write(absl::string_view bytes) {
  while (!bytes.empty()) {
    if (!pipe_.valid()) return false;
    const ssize_t n = WriteWithoutSigpipe(pipe_.get(), bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      pipe_.reset();  // EPIPE: nobody will ever read it
      return false;
    }
    // Full. Both descriptors are level-triggered, so an Abandon() before the poll is not lost;
    // POLLERR on the pipe (its readers are gone) makes the next write fail with EPIPE.
    pollfd fds[2] = {{pipe_.get(), POLLOUT, 0}, {abandon_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      pipe_.reset();
      return false;
    }
    if (fds[1].revents != 0) {
      pipe_.reset();
      return false;
    }
  }
  return pipe_.valid();
}

void StdinWriter::Abandon() {
  const uint64_t one = 1;
  const ssize_t ignored = ::write(abandon_.get(), &one, sizeof one);
  (void)ignored;
}

}  // namespace framerpc::command
