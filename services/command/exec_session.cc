#include "services/command/exec_session.h"

#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "services/command/command_policy.h"

namespace framerpc::command {

ExecSession::ExecSession(Process* process, ExecStream* stream,
                         std::function<bool()> is_cancelled, Options options)
    : process_(process),
      stream_(stream),
      is_cancelled_(std::move(is_cancelled)),
      options_(options),
      queue_(options.queue_bytes) {}

absl::Status ExecSession::Run(ConcurrencyLimiter::Permit permit,
                              CancellationCallback kill_on_cancel) {
  if (options_.stream_stdin) {
    absl::StatusOr<StdinWriter> writer = StdinWriter::Create(process_->TakeStdinPipe());
    if (!writer.ok()) {
      process_->Kill();
      process_->Wait(nullptr);
      return writer.status();
    }
    stdin_.emplace(*std::move(writer));
  }
  output_deadline_ = absl::Now() + options_.timeout;
  std::thread process_thread([this, &permit, &kill_on_cancel] {
    RunProcess(std::move(permit), std::move(kill_on_cancel));
  });
  std::thread stdin_thread;
  if (stdin_.has_value()) stdin_thread = std::thread([this] { ReadStdin(); });

  bool client_gone = false;
  ExecResponse message;
  while (queue_.Pop(&message)) {
    if (!stream_->Write(message)) {  // the call has ended
      client_gone = true;
      queue_.Close();
      process_->Kill();
      break;
    }
  }
  process_thread.join();
  if (stdin_thread.joinable()) stdin_thread.join();

  if (!protocol_error_.ok()) return protocol_error_;
  if (client_gone) return absl::CancelledError("the client went away");
  return absl::OkStatus();
}

void ExecSession::RunProcess(ConcurrencyLimiter::Permit permit,
                             CancellationCallback kill_on_cancel) {
  const ProcessResult result =
      process_->Wait([this](Stream which, absl::string_view bytes) { OnOutput(which, bytes); });
  // The command is reaped: free its slot now, whatever the client does next.
  kill_on_cancel.reset();
  { ConcurrencyLimiter::Permit released = std::move(permit); }
  if (stdin_.has_value()) stdin_->Abandon();

  ExecResponse exit;
  FillExitStatus(result, exit.mutable_exit());
  if (stdout_dropped_) exit.mutable_exit()->set_stdout_truncated(true);
  if (stderr_dropped_) exit.mutable_exit()->set_stderr_truncated(true);
  const size_t size = exit.ByteSizeLong();
  queue_.Push(std::move(exit), size, absl::InfiniteFuture());
  queue_.Finish();
}

void ExecSession::OnOutput(Stream which, absl::string_view bytes) {
  if (!discarding_) {
    ExecResponse message;
    if (which == Stream::kStdout) {
      message.set_stdout(bytes.data(), bytes.size());
    } else {
      message.set_stderr(bytes.data(), bytes.size());
    }
    switch (queue_.Push(std::move(message), bytes.size(), output_deadline_)) {
      case BoundedQueue<ExecResponse>::PushResult::kQueued:
        return;
      case BoundedQueue<ExecResponse>::PushResult::kTimedOut:
        // The timeout passed while the client was not reading. Stop waiting for it, so that the
        // Wait() loop gets back to its timers and terminates the command.
        break;
      case BoundedQueue<ExecResponse>::PushResult::kClosed:
        process_->Kill();  // nobody to deliver to
        break;
    }
    discarding_ = true;
  }
  (which == Stream::kStdout ? stdout_dropped_ : stderr_dropped_) = true;
}

void ExecSession::ReadStdin() {
  bool closed = false;
  ExecRequest request;
  while (stream_->Read(&request)) {
    switch (request.kind_case()) {
      case ExecRequest::kStdin:
        if (closed) return Fail(absl::InvalidArgumentError("stdin after close_stdin"));
        // false: the command no longer reads its stdin; the rest is discarded.
        stdin_->Write(request.stdin());
        break;
      case ExecRequest::kCloseStdin:
        closed = true;
        stdin_->Close();
        break;
      case ExecRequest::kStart:
        return Fail(absl::InvalidArgumentError("a second start message"));
      case ExecRequest::KIND_NOT_SET:
        return Fail(absl::InvalidArgumentError("an empty ExecRequest"));
    }
    request.Clear();
  }
  // The client half-closed, or the call ended.
  stdin_->Close();
  if (is_cancelled_()) process_->Kill();
}

void ExecSession::Fail(absl::Status status) {
  protocol_error_ = std::move(status);
  stdin_->Close();
  queue_.Close();
  process_->Kill();
}

}  // namespace framerpc::command
