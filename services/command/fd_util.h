// File-descriptor plumbing for the process runner: an owning fd, close-on-exec pipes, and a
// write that cannot raise SIGPIPE in the calling process.
//
// Thread safety: the free functions are
// thread-safe.
#ifndef FRAMERPC_SERVICES_COMMAND_FD_UTIL_H_
#define FRAMERPC_SERVICES_COMMAND_FD_UTIL_H_

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/scoped_fd.h"

namespace framerpc::command {

struct Pipe {
  ScopedFd read_end;
  ScopedFd write_end;
};

// A pipe whose both ends are O_CLOEXEC and numbered >= 3, so that a child's dup2 onto 0, 1 or 2
// never has source == target (which would leave close-on-exec set). Neither end is non-blocking.
absl::StatusOr<Pipe> MakePipe();

// `fd` itself if it is above 2; otherwise a close-on-exec duplicate numbered >= 3 (and `fd` is
// closed).
absl::StatusOr<ScopedFd> AboveStdio(ScopedFd fd);

// Sets O_NONBLOCK on `fd`.
absl::Status SetNonBlocking(int fd);

// write(2), except that writing to a pipe with no reader fails with EPIPE without delivering
// SIGPIPE to the process (SIGPIPE is blocked on this thread for the call, and a SIGPIPE it caused is
// consumed). Returns what write(2) returns, with errno set on failure.
ssize_t WriteWithoutSigpipe(int fd, const void* data, size_t size);

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_FD_UTIL_H_
