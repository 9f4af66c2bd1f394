// Feeds a running command's stdin from a thread other than the one in Process::Wait(): the
// streamed stdin of the command service's Exec.
//
// Write() blocks while the pipe is full, which is how a command that does not read its stdin
// pushes back on the client (through the stream's flow control) instead of being buffered for.
// Abandon() releases a blocked Write() at once, for when the command has ended but something
// that escaped its process group still holds the pipe open without reading it.
//
// Thread safety: Write() and Close() from one thread at a time; Abandon() from any thread.
// Lifetime: the destructor closes the pipe; it must not run concurrently with any method.
#ifndef FRAMERPC_SERVICES_COMMAND_STDIN_WRITER_H_
#define FRAMERPC_SERVICES_COMMAND_STDIN_WRITER_H_

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/scoped_fd.h"

namespace framerpc::command {

class StdinWriter {
 public:
  // `pipe`: the non-blocking write end from Process::TakeStdinPipe(). Errors are eventfd's.
  static absl::StatusOr<StdinWriter> Create(ScopedFd pipe);

  StdinWriter(StdinWriter&&) = default;
  StdinWriter& operator=(StdinWriter&&) = default;

  // Writes all of `bytes`, waiting while the pipe is full. false if the command's stdin is gone:
  // closed by the command (or its exit), by Close(), or abandoned; then nothing more is written.
  bool Write(absl::string_view bytes);

  // Closes the pipe: the command reads EOF once it has read what was written. Idempotent.
  void Close() { pipe_.reset(); }

  // Makes a blocked Write() return false now, and every later one at once. Async-signal-safe.
  void Abandon();

 private:
  StdinWriter(ScopedFd pipe, ScopedFd abandon)
      : pipe_(std::move(pipe)), abandon_(std::move(abandon)) {}

  ScopedFd pipe_;
  ScopedFd abandon_;  // eventfd, readable once Abandon() was called
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_STDIN_WRITER_H_
