// One Exec call from the moment its command has been spawned to the end of the call: the
// command's output goes to the client as it is produced, the client's stdin messages go to the
// command, and the exit status comes last (the protocol is in command.proto).
//
// Three threads share the work, so that no side can stall another's obligations:
//  - the caller's (handler's) thread writes to the stream, blocking as flow control demands;
//  - a thread of the session runs Process::Wait, so that the command's timeout, output caps and
//    kills take effect however slowly the client reads. Between the two sits a bounded queue;
//    while it is full, the command's pipes fill and the command blocks. If the command's
//    timeout passes while the queue is still full, its further output is discarded (the stream
//    is reported truncated) and the timeout fires as usual;
//  - with streamed stdin, a thread reads the client's messages into the command's stdin.
// This relies on the stream allowing one Read() and one Write() at a time from different
// threads, as gRPC's does.
//
// Thread safety: Run() once, from one thread. Lifetime: the process, the stream and
// `is_cancelled` must outlive Run().
#ifndef FRAMERPC_SERVICES_COMMAND_EXEC_SESSION_H_
#define FRAMERPC_SERVICES_COMMAND_EXEC_SESSION_H_

#include <cstddef>
#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/cancellation.h"
#include "rpc/stream.h"
#include "services/command/bounded_queue.h"
#include "services/command/command.pb.h"
#include "services/command/concurrency_limiter.h"
#include "services/command/process.h"
#include "services/command/stdin_writer.h"

namespace framerpc::command {

using ExecStream = ServerReaderWriter<ExecResponse, ExecRequest>;

class ExecSession {
 public:
  struct Options {
    // The command was spawned with ProcessOptions::stdin_stream, and its pipe not yet taken.
    bool stream_stdin = false;
    // The command's timeout, counted from now.
    absl::Duration timeout = absl::InfiniteDuration();
    // Output queued for the client beyond what the stream itself holds.
    size_t queue_bytes = size_t{1} << 20;
  };

  // `is_cancelled`: whether the call has ended (polled; see ServerContext::IsCancelled()).
  ExecSession(Process* process, ExecStream* stream, std::function<bool()> is_cancelled,
              Options options);
  ExecSession(const ExecSession&) = delete;
  ExecSession& operator=(const ExecSession&) = delete;

  // Runs the call to its end and returns its status. `permit` and `kill_on_cancel` (the call's
  // cancellation callback that kills the command) are released as soon as the command has been
  // reaped, before waiting for the client.
  absl::Status Run(ConcurrencyLimiter::Permit permit, CancellationCallback kill_on_cancel);

 private:
  void RunProcess(ConcurrencyLimiter::Permit permit, CancellationCallback kill_on_cancel);
  void OnOutput(Stream which, absl::string_view bytes);
  void ReadStdin();
  // A client protocol error: remembered for the call's status; the command is killed.
  void Fail(absl::Status status);

  Process* const process_;
  ExecStream* const stream_;
  const std::function<bool()> is_cancelled_;
  const Options options_;
  BoundedQueue<ExecResponse> queue_;
  std::optional<StdinWriter> stdin_;

  // Process thread only.
  absl::Time output_deadline_ = absl::InfiniteFuture();
  bool discarding_ = false;
  bool stdout_dropped_ = false;
  bool stderr_dropped_ = false;

  // Stdin thread only, until it is joined.
  absl::Status protocol_error_;
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_EXEC_SESSION_H_
