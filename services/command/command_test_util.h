// Helpers for the command service tests: a runner configuration, and an Exec call driven over a
// FakeServerStream with the test as the client.
#ifndef FRAMERPC_SERVICES_COMMAND_COMMAND_TEST_UTIL_H_
#define FRAMERPC_SERVICES_COMMAND_COMMAND_TEST_UTIL_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/command/command.pb.h"
#include "services/command/command_runner.h"
#include "services/command/process_test_util.h"
#include "services/testing/fake_server_stream.h"

namespace framerpc::command::test {

// Bounds only a failing test: every wait ends on an event long before this.
inline constexpr absl::Duration kSafetyTimeout = absl::Seconds(30);

inline CommandServiceConfig TestConfig() {
  CommandServiceConfig config;
  config.allowed_programs = {"/bin/echo",    "/bin/cat",      "/bin/sleep", "/usr/bin/yes",
                             "/usr/bin/env", "/usr/bin/head", "/bin/pwd",   "/bin/true",
                             "/bin/false"};
  config.kill_grace = absl::Seconds(5);
  // Open, for the tests of everything but access, which set their own policy.
  config.access = auth::AccessPolicy::Open();
  config.scratch_parent = ::testing::TempDir();
  config.containment = TestContainment() == Containment::kPidNamespace
                           ? ContainmentChoice::kPidNamespace
                           : ContainmentChoice::kSubreaper;
  return config;
}

inline std::unique_ptr<CommandRunner> MakeRunner(CommandServiceConfig config = TestConfig()) {
  absl::StatusOr<std::unique_ptr<CommandRunner>> runner = CommandRunner::Create(std::move(config));
  EXPECT_TRUE(runner.ok()) << runner.status();
  return runner.ok() ? *std::move(runner) : nullptr;
}

inline CommandSpec Argv(std::vector<std::string> argv) {
  CommandSpec spec;
  for (std::string& arg : argv) spec.add_argv(std::move(arg));
  return spec;
}

inline CommandSpec Shell(std::string script) {
  CommandSpec spec;
  spec.set_shell(std::move(script));
  return spec;
}

// One Run call; its response, or the call's status.
inline absl::StatusOr<RunResponse> RunCommand(CommandRunner& runner, CommandSpec spec,
                                              std::optional<std::string> stdin_bytes = std::nullopt,
                                              const CallInfo& call = CallInfo()) {
  RunRequest request;
  *request.mutable_command() = std::move(spec);
  if (stdin_bytes.has_value()) request.set_stdin(*stdin_bytes);
  RunResponse response;
  absl::Status status = runner.Run(call, request, &response);
  if (!status.ok()) return status;
  return response;
}

// What an Exec call delivered, read to its end.
struct ExecOutput {
  std::string stdout_bytes;
  std::string stderr_bytes;
  std::optional<ExitStatus> exit;
  int messages_after_exit = 0;
};

// One Exec call: the runner serves it on a thread of its own, over a FakeServerStream whose
// client side is this object's.
class ExecCall {
 public:
  ExecCall(CommandRunner* runner, size_t window_messages = 16, std::string authorization = "")
      : stream_(window_messages), authorization_(std::move(authorization)) {
    handler_ = std::thread([this, runner] {
      CallInfo call;
      if (!authorization_.empty()) call.credentials.authorization = &authorization_;
      call.cancellation = &stream_.cancellation();
      ExecStream typed(&stream_);
      status_ = runner->Exec(call, &typed);
      stream_.HandlerDone();
    });
  }
  ~ExecCall() { Finish().IgnoreError(); }

  testing::FakeServerStream& stream() { return stream_; }

  void Start(const CommandSpec& command, bool stream_stdin = false) {
    ExecRequest request;
    *request.mutable_start()->mutable_command() = command;
    request.mutable_start()->set_stream_stdin(stream_stdin);
    stream_.ClientWrite(request);
    if (!stream_stdin) stream_.ClientHalfClose();
  }
  void SendStdin(std::string bytes) {
    ExecRequest request;
    request.set_stdin(std::move(bytes));
    stream_.ClientWrite(request);
  }
  void CloseStdin() {
    ExecRequest request;
    request.set_close_stdin(true);
    stream_.ClientWrite(request);
  }
  bool Read(ExecResponse* response) { return stream_.ClientRead(response); }

  // Reads everything up to the end of the call.
  ExecOutput ReadAll() { return ReadOutput(/*stop_at_exit=*/false); }
  // Reads up to the exit message (for calls with streamed stdin, which end at the half-close).
  ExecOutput ReadUntilExit() { return ReadOutput(/*stop_at_exit=*/true); }

  ExecOutput ReadOutput(bool stop_at_exit) {
    ExecOutput out;
    ExecResponse response;
    while (!(stop_at_exit && out.exit.has_value()) && Read(&response)) {
      if (out.exit.has_value()) ++out.messages_after_exit;
      switch (response.kind_case()) {
        case ExecResponse::kStdout:
          out.stdout_bytes += response.stdout();
          break;
        case ExecResponse::kStderr:
          out.stderr_bytes += response.stderr();
          break;
        case ExecResponse::kExit:
          out.exit = response.exit();
          break;
        case ExecResponse::KIND_NOT_SET:
          ADD_FAILURE() << "empty ExecResponse";
      }
    }
    return out;
  }

  // Waits for the handler to return; its status.
  absl::Status Finish() {
    if (handler_.joinable()) handler_.join();
    return status_;
  }

 private:
  testing::FakeServerStream stream_;
  const std::string authorization_;
  absl::Status status_;
  std::thread handler_;  // last: started once everything above exists
};

}  // namespace framerpc::command::test

#endif  // FRAMERPC_SERVICES_COMMAND_COMMAND_TEST_UTIL_H_
