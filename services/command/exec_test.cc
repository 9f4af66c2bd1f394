// The command service's streaming Exec, over an in-memory stream (FakeServerStream) with the test
// as the client: output as it is produced, streamed stdin, the exit status last, timeouts and
// caps, a client that reads slowly or goes away, and protocol errors.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "services/command/command_runner.h"
#include "services/command/command_test_util.h"
#include "services/command/process_test_util.h"

namespace framerpc::command {
namespace {

using test::Argv;
using test::ExecCall;
using test::ExecOutput;
using test::kSafetyTimeout;
using test::MakeRunner;
using test::Shell;
using test::TestConfig;

CommandServiceConfig ShellConfig() {
  CommandServiceConfig config = TestConfig();
  config.allow_shell = true;
  return config;
}

// Reads the next stdout chunk; "" at the end of the call or on any other message.
std::string NextStdout(ExecCall& call) {
  ExecResponse response;
  if (!call.Read(&response) || !response.has_stdout()) return "";
  return response.stdout();
}

// Pidfds of the `n` processes that carry `token` (see process_test_util.h).
std::vector<int> PidfdsOf(const std::string& token, size_t n) {
  std::vector<int> pidfds;
  for (pid_t pid : test::WaitForPidsWith(token, n)) pidfds.push_back(test::OpenPidfd(pid));
  return pidfds;
}

// Whether every process behind `pidfds` (-1: it was already gone when opened) exits.
bool AllExit(const std::vector<int>& pidfds) {
  bool all = true;
  for (int pidfd : pidfds) {
    if (pidfd < 0) continue;
    all = test::WaitForPidfd(pidfd, kSafetyTimeout) && all;
    ::close(pidfd);
  }
  return all;
}

TEST(ExecTest, StdoutAndStderrThenTheExitStatusLast) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(ShellConfig());
  ExecCall call(runner.get());
  call.Start(Shell("echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3"));
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  EXPECT_EQ(out.stdout_bytes, "out1\nout2\n");
  EXPECT_EQ(out.stderr_bytes, "err1\nerr2\n");
  ASSERT_TRUE(out.exit.has_value());
  EXPECT_EQ(out.exit->exit_code(), 3);
  EXPECT_EQ(out.messages_after_exit, 0);
}

TEST(ExecTest, SignalIsReported) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(ShellConfig());
  ExecCall call(runner.get());
  call.Start(Shell("kill -TERM $$"));
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  ASSERT_TRUE(out.exit.has_value());
  EXPECT_EQ(out.exit->signal(), SIGTERM);
  EXPECT_FALSE(out.exit->timed_out());
}

// Output is delivered as it is produced: each line comes back before the next is sent.
TEST(ExecTest, InteractiveStdinAndOutput) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  ExecCall call(runner.get());
  call.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
  for (const std::string line : {"one\n", "two\n", "three\n"}) {
    call.SendStdin(line);
    EXPECT_EQ(NextStdout(call), line);
  }
  call.CloseStdin();
  ExecOutput out = call.ReadUntilExit();
  ASSERT_TRUE(out.exit.has_value());
  EXPECT_EQ(out.exit->exit_code(), 0);
  EXPECT_EQ(out.stdout_bytes, "");
  call.stream().ClientHalfClose();  // the call ends at the half-close
  ExecOutput rest = call.ReadAll();
  EXPECT_FALSE(rest.exit.has_value());
  EXPECT_EQ(rest.stdout_bytes, "");
  EXPECT_TRUE(call.Finish().ok());
}

TEST(ExecTest, HalfCloseClosesStdin) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  ExecCall call(runner.get());
  call.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
  call.SendStdin("last words");
  call.stream().ClientHalfClose();
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  EXPECT_EQ(out.stdout_bytes, "last words");
  EXPECT_EQ(out.exit->exit_code(), 0);
}

// Stdin and stdout in bulk at once: neither direction waits for the other to finish.
TEST(ExecTest, StreamedStdinRoundTrip) {
  CommandServiceConfig config = TestConfig();
  config.exec_output_limit = 64 << 20;
  std::unique_ptr<CommandRunner> runner = MakeRunner(config);
  ExecCall call(runner.get());
  call.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
  std::string input(8 << 20, '\0');
  std::mt19937 random(42);
  for (char& c : input) c = static_cast<char>(random());
  for (size_t at = 0; at < input.size(); at += 100 << 10) {
    call.SendStdin(input.substr(at, 100 << 10));
  }
  call.CloseStdin();
  call.stream().ClientHalfClose();
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  EXPECT_EQ(out.stdout_bytes.size(), input.size());
  EXPECT_TRUE(out.stdout_bytes == input);
  EXPECT_EQ(out.exit->exit_code(), 0);
}

// The command exits while the client still has stdin open: the exit status arrives, and the call
// ends when the client half-closes (command.proto).
TEST(ExecTest, CommandExitingBeforeItsStdinEnds) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  ExecCall call(runner.get());
  call.Start(Argv({"/usr/bin/head", "-c", "3"}), /*stream_stdin=*/true);
  call.SendStdin("abcdef");
  ExecResponse response;
  std::string stdout_bytes;
  while (call.Read(&response) && !response.has_exit()) stdout_bytes += response.stdout();
  EXPECT_EQ(stdout_bytes, "abc");
  ASSERT_TRUE(response.has_exit());
  EXPECT_EQ(response.exit().exit_code(), 0);
  EXPECT_EQ(runner->running(), 0);
  call.SendStdin("ignored: nobody reads it");
  call.stream().ClientHalfClose();
  EXPECT_TRUE(call.Finish().ok());
}

// 100 MiB of random bytes through cat arrive byte-identical, in bounded time.
TEST(ExecTest, HundredMebibytesArriveByteIdentical) {
  constexpr size_t kSize = size_t{100} << 20;
  std::string data(kSize, '\0');
  std::mt19937_64 random(7);
  for (size_t i = 0; i + 8 <= kSize; i += 8) {
    const uint64_t word = random();
    std::memcpy(&data[i], &word, 8);
  }
  const std::string path = absl::StrCat(test::MakeTempDir(), "/data");
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    for (size_t at = 0; at < kSize;) {
      const ssize_t n = ::write(fd, data.data() + at, kSize - at);
      ASSERT_GT(n, 0);
      at += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  CommandServiceConfig config = TestConfig();
  config.exec_output_limit = kSize;  // exactly: not truncated
  std::unique_ptr<CommandRunner> runner = MakeRunner(config);

  const auto start = std::chrono::steady_clock::now();
  ExecCall call(runner.get());
  call.Start(Argv({"/bin/cat", path}));
  size_t received = 0;
  int mismatches = 0;
  ExecResponse response;
  std::optional<ExitStatus> exit;
  while (call.Read(&response)) {
    if (response.has_exit()) {
      exit = response.exit();
      continue;
    }
    ASSERT_TRUE(response.has_stdout());
    const std::string& chunk = response.stdout();
    if (received + chunk.size() > kSize ||
        std::memcmp(chunk.data(), data.data() + received, chunk.size()) != 0) {
      ++mismatches;
    }
    received += chunk.size();
  }
  EXPECT_TRUE(call.Finish().ok());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(received, kSize);
  EXPECT_EQ(mismatches, 0);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code(), 0);
  EXPECT_FALSE(exit->stdout_truncated());
  std::printf("100 MiB through Exec (in-memory stream) in %.2f s: %.0f MiB/s\n", seconds,
              100 / seconds);
  // Generous: about 0.2 s here, 3 s under ThreadSanitizer, on 2 cores. Something that copies
  // quadratically or waits on timers instead of events would take far longer.
  EXPECT_LT(seconds, 20.0);
}

TEST(ExecTest, YesIsCappedOverTheWholeStream) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  ExecCall call(runner.get());
  call.Start(Argv({"/usr/bin/yes"}));
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  EXPECT_EQ(out.stdout_bytes.size(), kDefaultOutputLimit);
  EXPECT_EQ(out.stdout_bytes.find_first_not_of("y\n"), std::string::npos);
  ASSERT_TRUE(out.exit.has_value());
  EXPECT_TRUE(out.exit->stdout_truncated());
  EXPECT_EQ(out.exit->signal(), SIGTERM);
}

// Exec reports a timeout in the exit status and ends the call OK (command.proto).
TEST(ExecTest, SleepIsKilledAtTheTimeout) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  ExecCall call(runner.get());
  CommandSpec spec = Argv({"/bin/sleep", "1000"});
  spec.set_timeout_ms(200);
  call.Start(spec);
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  ASSERT_TRUE(out.exit.has_value());
  EXPECT_TRUE(out.exit->timed_out());
  EXPECT_EQ(out.exit->signal(), SIGTERM);
  EXPECT_GE(out.exit->duration_us(), 200000u);
}

TEST(ExecTest, BackgroundedChildIsKilledWithTheCommand) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(ShellConfig());
  const std::string token = test::UniqueToken();
  ExecCall call(runner.get());
  call.Start(Shell(absl::StrCat("sleep ", token, " & echo started")));
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  EXPECT_EQ(out.stdout_bytes, "started\n");
  EXPECT_EQ(out.exit->exit_code(), 0);
  // The call ends after the command's supervisor was reaped: nothing is left, deterministically.
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
  test::KillProcessesWith(token);
}

// A client that stops reading cannot keep a command past its timeout: the command is killed on
// time, and what could not be delivered is reported as truncated.
TEST(ExecTest, TimeoutFiresWhileTheClientIsNotReading) {
  CommandServiceConfig config = ShellConfig();
  config.exec_queue_bytes = 64 << 10;
  config.exec_output_limit = size_t{1} << 40;
  std::unique_ptr<CommandRunner> runner = MakeRunner(config);
  const std::string token = test::UniqueToken();
  ExecCall call(runner.get(), /*window_messages=*/2);
  CommandSpec spec = Shell(absl::StrCat("echo ready; exec yes ", token));
  spec.set_timeout_ms(300);
  call.Start(spec);
  ASSERT_EQ(NextStdout(call).substr(0, 6), "ready\n");  // yes's output may follow in the chunk
  const std::vector<int> command = PidfdsOf(token, 1);
  ASSERT_EQ(command.size(), 1u);
  call.stream().WaitForBlockedWrite();  // the client reads nothing more for now
  EXPECT_TRUE(AllExit(command));
  ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  ASSERT_TRUE(out.exit.has_value());
  EXPECT_TRUE(out.exit->timed_out());
  EXPECT_TRUE(out.exit->stdout_truncated());
  EXPECT_EQ(out.exit->signal(), SIGTERM);
}

// The client goes away while the command runs silently (it has half-closed, so only the call's
// cancellation can tell): the command and everything it started are killed.
TEST(ExecTest, DisconnectKillsTheCommand) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(ShellConfig());
  const std::string token = test::UniqueToken();
  ExecCall call(runner.get());
  call.Start(Shell(absl::StrCat("sleep ", token, " & echo ready; wait")));
  ASSERT_EQ(NextStdout(call), "ready\n");
  call.stream().Cancel();
  EXPECT_EQ(call.Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
  EXPECT_EQ(runner->running(), 0);
  test::KillProcessesWith(token);
}

// The same while the server is reading streamed stdin: the failed Read tells.
TEST(ExecTest, DisconnectWhileStreamingStdinKillsTheCommand) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(ShellConfig());
  const std::string token = test::UniqueToken();
  ExecCall call(runner.get());
  call.Start(Shell(absl::StrCat("sleep ", token, " & echo ready; cat")), /*stream_stdin=*/true);
  ASSERT_EQ(NextStdout(call), "ready\n");
  call.stream().Cancel();
  call.Finish().IgnoreError();  // CANCELLED, or OK if the command was reaped first
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
  EXPECT_EQ(runner->running(), 0);
  test::KillProcessesWith(token);
}

TEST(ExecTest, PolicyErrorsComeBeforeAnyOutput) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  {
    ExecCall call(runner.get());
    call.Start(Argv({"/bin/rm", "-rf", "/"}));
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(call.ReadAll().exit, std::nullopt);
  }
  {
    ExecCall call(runner.get());
    call.Start(Shell("echo hi"));
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kPermissionDenied);
  }
}

TEST(ExecTest, ProtocolErrors) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  {
    ExecCall call(runner.get());
    call.stream().ClientHalfClose();  // no start at all
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kInvalidArgument);
  }
  {
    ExecCall call(runner.get());
    call.SendStdin("stdin before start");
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kInvalidArgument);
  }
  {
    ExecCall call(runner.get());
    call.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
    call.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(runner->running(), 0);
  }
  {
    ExecCall call(runner.get());
    call.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
    call.CloseStdin();
    call.SendStdin("after the close");
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kInvalidArgument);
  }
  {
    ExecCall call(runner.get());
    call.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
    call.stream().ClientWrite(ExecRequest());
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace framerpc::command
