#include "cli/exec_command.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <ostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/scoped_fd.h"
#include "cli/args.h"
#include "cli/call_context.h"
#include "cli/connect.h"
#include "rpc/channel.h"
#include "base/status_macros.h"
#include "services/command/command.frpc.h"

namespace framerpc::cli {
namespace {

using command::CommandSpec;
using command::ExecRequest;
using command::ExecResponse;
using command::ExitStatus;
using ExecClient = ClientReaderWriter<ExecRequest, ExecResponse>;

constexpr char kExecUsage[] = "usage: exec ADDR -- COMMAND [ARG...]";

struct ExecTarget {
  std::string address;
  std::vector<std::string> words;
};

absl::StatusOr<ExecTarget> ParseArgs(const CliOptions& options,
                                     absl::Span<const std::string> args) {
  ExecTarget target;
  size_t i = 0;
  if (options.address.empty()) {
    if (args.empty()) return absl::InvalidArgumentError(kExecUsage);
    target.address = args[i++];
  } else {
    target.address = options.address;
  }
  if (i < args.size() && args[i] == "--") ++i;
  target.words.assign(args.begin() + i, args.end());
  if (target.words.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no command to run; ", kExecUsage));
  }
  return target;
}

absl::StatusOr<CommandSpec> BuildCommand(const ExecOptions& exec, std::vector<std::string> words) {
  CommandSpec spec;
  if (exec.shell) {
    spec.set_shell(absl::StrJoin(words, " "));
  } else {
    for (std::string& word : words) spec.add_argv(std::move(word));
  }
  for (const std::string& entry : exec.env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--env wants NAME=value, not '", entry, "'"));
    }
    (*spec.mutable_env())[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  spec.set_working_directory(exec.working_directory);
  if (exec.command_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--exec_timeout must not be negative");
  }
  if (exec.command_timeout > absl::ZeroDuration()) {
    spec.set_timeout_ms(static_cast<uint64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(exec.command_timeout, absl::Milliseconds(1)))));
  }
  return spec;
}

bool ShouldForwardStdin(const ExecOptions& exec) {
  switch (exec.stdin_mode) {
    case ExecStdin::kAlways:
      return true;
    case ExecStdin::kNever:
      return false;
    case ExecStdin::kAuto:
      break;
  }
  return ::isatty(exec.stdin_fd) == 0;
}

// Copies a descriptor to the call as `stdin` messages, on a thread of its own, and half-closes
// at its end, or as soon as Stop() is called (the command has ended: nothing more is wanted).
// The stream's writes are this object's alone from construction to destruction.
class StdinForwarder {
 public:
  StdinForwarder(int fd, ExecClient* stream) : fd_(fd), stream_(stream) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == 0) {
      wake_read_.reset(fds[0]);
      wake_write_.reset(fds[1]);
    }
    thread_ = std::thread([this] { Loop(); });
  }
  ~StdinForwarder() {
    Stop();
    thread_.join();
  }
  StdinForwarder(const StdinForwarder&) = delete;
  StdinForwarder& operator=(const StdinForwarder&) = delete;

  // Thread-safe; idempotent.
  void Stop() {
    const char byte = 0;
    const ssize_t ignored = ::write(wake_write_.get(), &byte, 1);
    (void)ignored;
  }

 private:
  void Loop() {
    std::vector<char> buffer(64 << 10);
    ExecRequest request;
    while (true) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents != 0) break;
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break;  // EOF, or an error: either way the command's stdin ends here
      request.set_stdin(buffer.data(), static_cast<size_t>(n));
      if (!stream_->Write(request)) return;  // the call is over
    }
    stream_->WritesDone();  // closes the command's stdin
  }

  const int fd_;
  ExecClient* const stream_;
  ScopedFd wake_read_;
  ScopedFd wake_write_;
  std::thread thread_;  // last: starts once the rest exists
};

int ExitCodeOf(const ExitStatus& exit) {
  switch (exit.how_case()) {
    case ExitStatus::kExitCode:
      return exit.exit_code();
    case ExitStatus::kSignal:
      return 128 + exit.signal();
    case ExitStatus::HOW_NOT_SET:
      break;
  }
  return kExecFailed;
}

int Fail(const absl::Status& status, std::ostream& err) {
  err << "ERROR: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
      << std::endl;
  return kExecFailed;
}

}  // namespace

int RunExec(const CliOptions& options, absl::Span<const std::string> args, std::ostream& out,
            std::ostream& err) {
  absl::StatusOr<ExecTarget> target = ParseArgs(options, args);
  if (!target.ok()) return Fail(target.status(), err);
  absl::StatusOr<CommandSpec> command = BuildCommand(options.exec, std::move(target->words));
  if (!command.ok()) return Fail(command.status(), err);
  ClientContext context;
  if (absl::Status s = PrepareContext(options, &context); !s.ok()) return Fail(s, err);
  if (options.timeout != absl::InfiniteDuration()) context.set_timeout(options.timeout);
  absl::StatusOr<std::unique_ptr<Channel>> channel = Connect(options, target->address);
  if (!channel.ok()) return Fail(channel.status(), err);

  command::CommandService::Stub stub(channel->get());
  std::unique_ptr<ExecClient> stream = stub.Exec(&context);
  const bool forward_stdin = ShouldForwardStdin(options.exec);
  ExecRequest start;
  *start.mutable_start()->mutable_command() = *std::move(command);
  start.mutable_start()->set_stream_stdin(forward_stdin);
  std::optional<StdinForwarder> forwarder;
  if (stream->Write(start)) {
    if (forward_stdin) {
      forwarder.emplace(options.exec.stdin_fd, stream.get());
    } else {
      stream->WritesDone();
    }
  }

  std::optional<ExitStatus> exit;
  ExecResponse response;
  while (stream->Read(&response)) {
    switch (response.kind_case()) {
      case ExecResponse::kStdout:
        out.write(response.stdout().data(), static_cast<std::streamsize>(response.stdout().size()));
        out.flush();
        break;
      case ExecResponse::kStderr:
        err.write(response.stderr().data(), static_cast<std::streamsize>(response.stderr().size()));
        err.flush();
        break;
      case ExecResponse::kExit:
        exit = response.exit();
        if (forwarder.has_value()) forwarder->Stop();  // the call ends at our half-close
        break;
      case ExecResponse::KIND_NOT_SET:
        break;
    }
  }
  forwarder.reset();
  const absl::Status status = stream->Finish();
  if (!exit.has_value()) {
    return Fail(status.ok() ? absl::UnknownError("the call ended without an exit status") : status,
                err);
  }
  if (exit->timed_out()) err << "framerpc_cli: the command timed out" << std::endl;
  if (exit->stdout_truncated() || exit->stderr_truncated()) {
    err << "framerpc_cli: output truncated (" << (exit->stdout_truncated() ? "stdout" : "")
        << (exit->stdout_truncated() && exit->stderr_truncated() ? ", " : "")
        << (exit->stderr_truncated() ? "stderr" : "") << ")" << std::endl;
  }
  return ExitCodeOf(*exit);
}

}  // namespace framerpc::cli
