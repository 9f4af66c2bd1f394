// Exit status, signals, and the Process lifecycle.
#include "services/command/process.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "services/command/process_test_util.h"
#include "services/command/shell_command.h"

namespace framerpc::command {
namespace {

using test::Options;
using test::RunChecked;

TEST(ProcessTest, TrueExitsZero) {
  ProcessOutput out = RunChecked(Options({"/bin/true"}));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
  EXPECT_FALSE(out.result.term_signal.has_value());
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_FALSE(out.result.cancelled);
  EXPECT_TRUE(TerminationStatus(out.result).ok());
}

TEST(ProcessTest, FalseExitsOne) {
  ProcessOutput out = RunChecked(Options({"/bin/false"}));
  EXPECT_EQ(out.result.exit_code, 1) << out.result.DebugString();
  // A non-zero exit is the command's answer, not an RPC failure.
  EXPECT_TRUE(TerminationStatus(out.result).ok());
}

TEST(ProcessTest, BareNameResolvedThroughDefaultPath) {
  ProcessOutput out = RunChecked(Options({"true"}));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
}

TEST(ProcessTest, ShellExitCode) {
  ProcessOutput out = RunChecked(Options(ShellCommandArgv("exit 42")));
  EXPECT_EQ(out.result.exit_code, 42) << out.result.DebugString();
}

TEST(ProcessTest, ShellPositionalArgumentsAreNotReparsed) {
  ProcessOutput out =
      RunChecked(Options(ShellCommandArgv("printf '%s|' \"$@\"", {"a b", "$(id)", ";"})));
  EXPECT_EQ(out.stdout_bytes, "a b|$(id)|;|");
  EXPECT_EQ(out.result.exit_code, 0);
}

TEST(ProcessTest, TerminatingSignalReported) {
  ProcessOutput out = RunChecked(Options(ShellCommandArgv("kill -TERM $$")));
  EXPECT_FALSE(out.result.exit_code.has_value()) << out.result.DebugString();
  EXPECT_EQ(out.result.term_signal, SIGTERM);
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_FALSE(out.result.cancelled);
  EXPECT_TRUE(TerminationStatus(out.result).ok());
  EXPECT_NE(out.result.DebugString().find("signal=15"), std::string::npos);
}

TEST(ProcessTest, DurationIsMeasured) {
  ProcessOutput out = RunChecked(Options({"/bin/true"}));
  EXPECT_GT(out.result.duration, absl::ZeroDuration());
  EXPECT_LT(out.result.duration, absl::Minutes(1));
}

TEST(ProcessTest, SupervisorIsReapedAfterWait) {
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(Options({"/bin/true"}));
  ASSERT_TRUE(process.ok()) << process.status();
  const pid_t pid = (*process)->pid();
  (*process)->Wait(nullptr);
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);  // already reaped: no zombie
}

// The command leads a process group of its own (the supervisor's SIGTERM goes to that group).
// In a PID namespace /proc is the namespace's, so $$ names the shell there too.
TEST(ProcessTest, CommandIsItsOwnProcessGroupLeader) {
  ProcessOutput out =
      RunChecked(Options(ShellCommandArgv("echo $$ $(cut -d' ' -f5 /proc/$$/stat)")));
  const std::vector<std::string> words =
      absl::StrSplit(absl::StripSuffix(out.stdout_bytes, "\n"), ' ');
  ASSERT_EQ(words.size(), 2u) << out.stdout_bytes << out.stderr_bytes;
  EXPECT_EQ(words[0], words[1]);
}

// A PID namespace of its own: the shell is process 2 (the supervisor is 1) and sees only its
// namespace's processes in /proc (expanded by the shell itself: no other process is running). As a
// subreaper, the command's parent is its supervisor.
TEST(ProcessTest, CommandRunsUnderItsSupervisor) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options(ShellCommandArgv("echo $$ $PPID; echo /proc/[0-9]*")));
  ASSERT_TRUE(process.ok()) << process.status();
  ProcessOutput out = WaitAndCollect(**process);
  if (test::TestContainment() == Containment::kPidNamespace) {
    EXPECT_EQ(out.stdout_bytes, "2 1\n/proc/1 /proc/2\n") << out.stderr_bytes;
  } else {
    const std::vector<std::string> words =
        absl::StrSplit(out.stdout_bytes.substr(0, out.stdout_bytes.find('\n')), ' ');
    ASSERT_EQ(words.size(), 2u) << out.stdout_bytes;
    EXPECT_EQ(words[1], absl::StrCat((*process)->pid()));
  }
}

TEST(ProcessTest, WaitTwiceReturnsTheSameResult) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options(ShellCommandArgv("echo once; exit 3")));
  ASSERT_TRUE(process.ok()) << process.status();
  int chunks = 0;
  ProcessResult first = (*process)->Wait([&](Stream, absl::string_view) { ++chunks; });
  ProcessResult second = (*process)->Wait([&](Stream, absl::string_view) { ++chunks; });
  EXPECT_EQ(first.exit_code, 3);
  EXPECT_EQ(second.exit_code, 3);
  EXPECT_EQ(chunks, 1);
}

TEST(ProcessTest, DestroyingWithoutWaitKillsAndReaps) {
  pid_t pid;
  {
    absl::StatusOr<std::unique_ptr<Process>> process =
        Process::Spawn(Options({"/bin/sleep", "1000"}));
    ASSERT_TRUE(process.ok()) << process.status();
    pid = (*process)->pid();
  }
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ProcessTest, NullCallbackDiscardsOutput) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options({"/usr/bin/head", "-c", "300000", "/dev/zero"}));
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_EQ((*process)->Wait(nullptr).exit_code, 0);
}

TEST(ProcessTest, RejectsBadOptions) {
  EXPECT_EQ(RunToCompletion(Options({})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunToCompletion(Options({"/bin/echo", std::string("a\0b", 3)})).status().code(),
            absl::StatusCode::kInvalidArgument);

  ProcessOptions bad_env = Options({"/bin/true"});
  bad_env.env["A=B"] = "c";
  EXPECT_EQ(RunToCompletion(std::move(bad_env)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ProcessOptions empty_name = Options({"/bin/true"});
  empty_name.env[""] = "c";
  EXPECT_EQ(RunToCompletion(std::move(empty_name)).status().code(),
            absl::StatusCode::kInvalidArgument);

  ProcessOptions zero_timeout = Options({"/bin/true"});
  zero_timeout.timeout = absl::ZeroDuration();
  EXPECT_EQ(RunToCompletion(std::move(zero_timeout)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ProcessOptions negative_grace = Options({"/bin/true"});
  negative_grace.kill_grace = absl::Seconds(-1);
  EXPECT_EQ(RunToCompletion(std::move(negative_grace)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ProcessOptions zero_cpu = Options({"/bin/true"});
  zero_cpu.cpu_limit = absl::ZeroDuration();
  EXPECT_EQ(RunToCompletion(std::move(zero_cpu)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ProcessOptions zero_memory = Options({"/bin/true"});
  zero_memory.address_space_limit = 0;
  EXPECT_EQ(RunToCompletion(std::move(zero_memory)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// RLIMIT_CPU: a busy loop gets SIGXCPU after a second of CPU time (then SIGKILL a second later).
TEST(ProcessTest, CpuLimitBites) {
  ProcessOptions options = Options(ShellCommandArgv("while :; do :; done"));
  options.cpu_limit = absl::Milliseconds(1);  // rounded up to one second
  options.timeout = absl::Seconds(60);        // bounds only a failing test
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.term_signal, SIGXCPU) << out.result.DebugString();
  EXPECT_FALSE(out.result.timed_out);
}

// RLIMIT_AS: the limit is in force, and an allocation beyond it fails.
TEST(ProcessTest, MemoryLimitBites) {
  ProcessOptions shown = Options(ShellCommandArgv("ulimit -v"));
  shown.address_space_limit = uint64_t{64} << 20;
  ProcessOutput out = RunChecked(std::move(shown));
  ASSERT_EQ(out.stdout_bytes, "65536\n");  // KiB; without the limit the loop below eats memory

  // The string doubles until the shell cannot allocate it (dash then dies of SIGSEGV); without
  // the limit this would run until the timeout.
  ProcessOptions options = Options(ShellCommandArgv("a=x; while :; do a=$a$a; done"));
  options.address_space_limit = uint64_t{64} << 20;
  options.timeout = absl::Seconds(60);  // bounds only a failing test
  out = RunChecked(std::move(options));
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_TRUE(out.result.term_signal.has_value() || out.result.exit_code != 0)
      << out.result.DebugString();
}

TEST(ProcessTest, StreamNames) {
  EXPECT_EQ(StreamName(Stream::kStdout), "stdout");
  EXPECT_EQ(StreamName(Stream::kStderr), "stderr");
}

}  // namespace
}  // namespace framerpc::command
