// How a command ends: timeouts and output caps (SIGTERM, then SIGKILL after the grace), stopped
// commands, Kill(), and the containment of what a command leaves behind.
//
// No sleeps are used to order events: waits are on pidfds, on a process's state in /proc, or on
// the output callback. Processes a test starts carry a unique token in their argv; /proc shows
// whether any is left.
// Timeouts appear only as the feature under test, and no test asserts how fast anything happened.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "services/command/fd_util.h"
#include "services/command/process.h"
#include "services/command/process_test_util.h"
#include "services/command/shell_command.h"

namespace framerpc::command {
namespace {

using test::OpenPidfd;
using test::Options;
using test::ParsePid;
using test::RunChecked;
using test::WaitForPidfd;

// Bounds only a failing test: every wait below ends on an event long before this.
constexpr absl::Duration kSafetyTimeout = absl::Seconds(30);

// ---------------------------------------------------------------------------------------------
// Timeouts.

TEST(ProcessTerminationTest, TimeoutSendsSigterm) {
  ProcessOptions options = Options({"/bin/sleep", "1000"});
  options.timeout = absl::Milliseconds(200);
  options.kill_grace = absl::Seconds(10);  // sleep dies of SIGTERM; a SIGKILL here is a failure
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_TRUE(out.result.timed_out) << out.result.DebugString();
  EXPECT_FALSE(out.result.cancelled);
  EXPECT_FALSE(out.result.exit_code.has_value());
  EXPECT_EQ(out.result.term_signal, SIGTERM) << out.result.DebugString();
  EXPECT_EQ(TerminationStatus(out.result).code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(ProcessTerminationTest, TimeoutEscalatesToSigkillWhenSigtermIsIgnored) {
  // `sleep` inherits the ignored SIGTERM, so nothing in the group dies of the group's SIGTERM.
  ProcessOptions options = Options(ShellCommandArgv("trap '' TERM; echo armed; sleep 1000"));
  options.timeout = absl::Seconds(1);
  options.kill_grace = absl::Milliseconds(200);
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_TRUE(out.result.timed_out) << out.result.DebugString();
  EXPECT_FALSE(out.result.cancelled);
  if (out.stdout_bytes == "armed\n") {
    // The trap was set before the timeout: only the SIGKILL after the grace can end it.
    EXPECT_EQ(out.result.term_signal, SIGKILL) << out.result.DebugString();
  } else {
    // On a machine so loaded that the shell had not reached `echo` when the timeout expired,
    // SIGTERM alone ends it (or, had it just set the trap, the SIGKILL does).
    EXPECT_EQ(out.stdout_bytes, "");
    EXPECT_TRUE(out.result.term_signal == SIGTERM || out.result.term_signal == SIGKILL)
        << out.result.DebugString();
  }
  EXPECT_EQ(TerminationStatus(out.result).code(), absl::StatusCode::kDeadlineExceeded);
}

// A stopped process does not act on SIGTERM until it is continued, so the supervisor follows
// SIGTERM with SIGCONT. With an hour of grace, a runner that relied on the SIGKILL escalation
// instead would hang this test until Bazel's timeout.
TEST(ProcessTerminationTest, StoppedCommandIsContinuedToReceiveSigterm) {
  const std::string token = test::UniqueToken();
  ProcessOptions options = Options(ShellCommandArgv(
      absl::StrCat("echo stopping; kill -STOP $$; echo continued; sleep ", token)));
  options.timeout = absl::Milliseconds(100);
  options.kill_grace = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();

  // The Wait() loop handles the timeout only after this callback returns, so waiting here until
  // the shell (the only process with the token in its argv) has stopped itself guarantees the
  // timeout finds it stopped. Its state is only visible in /proc: the shell is no child of ours.
  std::string stdout_bytes;
  char state = '?';
  ProcessResult result = (*process)->Wait([&](Stream which, absl::string_view bytes) {
    if (which == Stream::kStdout) stdout_bytes.append(bytes.data(), bytes.size());
    if (state != '?' || stdout_bytes.find('\n') == std::string::npos) return;
    const std::vector<pid_t> shell = test::WaitForPidsWith(token, 1);
    if (shell.size() != 1) return;
    const absl::Time give_up = absl::Now() + kSafetyTimeout;
    while ((state = test::ProcessState(shell[0])) != 'T' && state != '?' &&
           absl::Now() < give_up) {
      std::this_thread::yield();
    }
  });
  EXPECT_EQ(state, 'T');
  // The pending SIGTERM is delivered as SIGCONT resumes the shell, before it runs another command.
  EXPECT_EQ(stdout_bytes, "stopping\n");
  EXPECT_TRUE(result.timed_out) << result.DebugString();
  EXPECT_EQ(result.term_signal, SIGTERM) << result.DebugString();
  EXPECT_EQ(TerminationStatus(result).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
}

// ---------------------------------------------------------------------------------------------
// Output caps. The trap is set before any output, so these are deterministic.

TEST(ProcessTerminationTest, OutputCapEscalatesToSigkillWhenSigtermIsIgnored) {
  ProcessOptions options =
      Options(ShellCommandArgv("trap '' TERM; head -c 2000 /dev/zero; sleep 1000"));
  options.stdout_limit = 1000;
  options.kill_grace = absl::Milliseconds(100);
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.term_signal, SIGKILL) << out.result.DebugString();
  EXPECT_TRUE(out.result.stdout_truncated);
  EXPECT_EQ(out.stdout_bytes, std::string(1000, '\0'));
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_FALSE(out.result.cancelled);
  EXPECT_TRUE(TerminationStatus(out.result).ok());
}

TEST(ProcessTerminationTest, ZeroGraceSendsSigkillAtOnce) {
  ProcessOptions options =
      Options(ShellCommandArgv("trap '' TERM; head -c 2000 /dev/zero; sleep 1000"));
  options.stdout_limit = 1000;
  options.kill_grace = absl::ZeroDuration();
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.term_signal, SIGKILL) << out.result.DebugString();
  EXPECT_TRUE(out.result.stdout_truncated);
  EXPECT_EQ(out.stdout_bytes.size(), 1000u);
}

// ---------------------------------------------------------------------------------------------
// Kill().

TEST(ProcessTerminationTest, KillFromAnotherThreadWhileWaiting) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options(ShellCommandArgv("echo ready; sleep 1000")));
  ASSERT_TRUE(process.ok()) << process.status();
  Process& p = **process;
  Notification output_seen;
  std::thread killer([&] {
    output_seen.WaitForNotification();
    p.Kill();
  });
  std::string stdout_bytes;
  ProcessResult result = p.Wait([&](Stream which, absl::string_view bytes) {
    if (which == Stream::kStdout) stdout_bytes.append(bytes.data(), bytes.size());
    output_seen.Notify();
  });
  output_seen.Notify();  // lets the thread finish even if no output arrived (a failing test)
  killer.join();
  EXPECT_EQ(stdout_bytes, "ready\n");
  EXPECT_TRUE(result.cancelled) << result.DebugString();
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.term_signal, SIGKILL) << result.DebugString();
  EXPECT_EQ(TerminationStatus(result).code(), absl::StatusCode::kCancelled);
}

TEST(ProcessTerminationTest, KillFromTheOutputCallback) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options(ShellCommandArgv("echo ready; sleep 1000")));
  ASSERT_TRUE(process.ok()) << process.status();
  Process& p = **process;
  ProcessResult result = p.Wait([&](Stream, absl::string_view) { p.Kill(); });
  EXPECT_TRUE(result.cancelled) << result.DebugString();
  EXPECT_EQ(result.term_signal, SIGKILL) << result.DebugString();
  EXPECT_EQ(TerminationStatus(result).code(), absl::StatusCode::kCancelled);
}

TEST(ProcessTerminationTest, KillBeforeWait) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options({"/bin/sleep", "1000"}));
  ASSERT_TRUE(process.ok()) << process.status();
  (*process)->Kill();
  ProcessResult result = (*process)->Wait(nullptr);
  EXPECT_TRUE(result.cancelled) << result.DebugString();
  EXPECT_EQ(result.term_signal, SIGKILL) << result.DebugString();
  EXPECT_EQ(TerminationStatus(result).code(), absl::StatusCode::kCancelled);
}

// SIGTERM ignored and an hour of grace: only Kill()'s immediate SIGKILL lets this test finish.
TEST(ProcessTerminationTest, KillCutsTheGraceShort) {
  ProcessOptions options =
      Options(ShellCommandArgv("trap '' TERM; head -c 2000 /dev/zero; sleep 1000"));
  options.stdout_limit = 1000;
  options.kill_grace = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  Process& p = **process;
  ProcessResult result = p.Wait([&](Stream, absl::string_view) { p.Kill(); });
  EXPECT_TRUE(result.cancelled) << result.DebugString();
  EXPECT_TRUE(result.stdout_truncated);
  EXPECT_EQ(result.term_signal, SIGKILL) << result.DebugString();
  EXPECT_EQ(TerminationStatus(result).code(), absl::StatusCode::kCancelled);
}

TEST(ProcessTerminationTest, KillAfterTheLeaderWasReapedHasNoEffect) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options(ShellCommandArgv("exit 3")));
  ASSERT_TRUE(process.ok()) << process.status();
  ProcessResult first = (*process)->Wait(nullptr);
  (*process)->Kill();
  ProcessResult second = (*process)->Wait(nullptr);
  for (const ProcessResult& result : {first, second}) {
    EXPECT_EQ(result.exit_code, 3) << result.DebugString();
    EXPECT_FALSE(result.cancelled);
    EXPECT_TRUE(TerminationStatus(result).ok());
  }
}

// ---------------------------------------------------------------------------------------------
// What a command leaves behind.

TEST(ProcessTerminationTest, BackgroundedChildIsKilledWithTheCommand) {
  const std::string token = test::UniqueToken();
  ProcessOutput out =
      RunChecked(Options(ShellCommandArgv(absl::StrCat("sleep ", token, " & echo started"))));
  EXPECT_EQ(out.stdout_bytes, "started\n");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
  // The supervisor has been reaped: nothing of the command is left, deterministically.
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
  test::KillProcessesWith(token);
}

// What a process group cannot contain: a descendant that calls setsid and is orphaned (a double
// fork) leaves the group and the session. It is killed all the same, and Wait() does not wait
// for the pipe it holds.
TEST(ProcessTerminationTest, EscapedDescendantsAreKilledToo) {
  const std::string token = test::UniqueToken();
  // The command substitution ends at EOF on its pipe, i.e. once the escapee, in its own session,
  // has re-pointed its stdout at the runner's stderr pipe, which it keeps open. So the leader
  // exits only after the escape has happened.
  ProcessOptions options = Options(ShellCommandArgv(absl::StrCat(
      "x=$(setsid sh -c 'echo escaped; exec sleep ", token, " >&2' &); echo \"$x\"")));
  options.kill_grace = absl::Hours(1);  // were the escapee alive, Wait() would hang on its pipe
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "escaped\n");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_FALSE(out.result.cancelled);
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
  test::KillProcessesWith(token);
}

// The same, killed mid-run: Kill() reaches the escapee, which is no member of the command's group.
TEST(ProcessTerminationTest, KillReachesEscapedDescendants) {
  const std::string token = test::UniqueToken();
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(Options(ShellCommandArgv(
      absl::StrCat("setsid sh -c 'sleep ", token, " & sleep ", token, "' & echo ready; wait"))));
  ASSERT_TRUE(process.ok()) << process.status();
  Process& p = **process;
  ProcessResult result = p.Wait([&](Stream, absl::string_view) { p.Kill(); });
  EXPECT_TRUE(result.cancelled) << result.DebugString();
  EXPECT_EQ(result.term_signal, SIGKILL) << result.DebugString();
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
  test::KillProcessesWith(token);
}

// The supervisor's parent is the thread that spawned it, and threads come and go (the server's
// worker pool idles them out). A command must outlive the thread that started it.
TEST(ProcessTerminationTest, CommandOutlivesTheThreadThatSpawnedIt) {
  std::unique_ptr<Process> process;
  std::thread spawner([&] {
    ProcessOptions options = Options({"/bin/cat"});
    options.stdin_stream = true;
    absl::StatusOr<std::unique_ptr<Process>> spawned = Process::Spawn(std::move(options));
    ASSERT_TRUE(spawned.ok()) << spawned.status();
    process = *std::move(spawned);
  });
  spawner.join();  // the thread is gone before cat reads anything
  ASSERT_NE(process, nullptr);
  ScopedFd stdin_pipe = process->TakeStdinPipe();
  ASSERT_EQ(WriteWithoutSigpipe(stdin_pipe.get(), "alive", 5), 5);
  stdin_pipe.reset();
  ProcessOutput out = WaitAndCollect(*process);
  EXPECT_EQ(out.stdout_bytes, "alive");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
}

// When the server dies without a word (no destructor, no Kill), its commands die with it: every
// supervisor holds the read end of a pipe only the server can write, and sees EOF. The "server"
// is a death-test child that spawns a command and exits.
TEST(ProcessTerminationDeathTest, CommandsDieWithTheServer) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string token = test::UniqueToken();
  EXPECT_EXIT(
      {
        absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(Options(
            ShellCommandArgv(absl::StrCat("setsid sleep ", token, " & sleep ", token))));
        if (!process.ok()) _exit(2);
        (*process).release();  // never waited for, never destroyed
        // Both sleeps have started once two processes carry the token.
        if (test::WaitForPidsWith(token, 2).size() < 2) _exit(3);
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  // The supervisor notices asynchronously: wait for each process to exit, on its pidfd.
  std::vector<int> pidfds;
  for (pid_t pid : test::PidsWith(token)) pidfds.push_back(OpenPidfd(pid));
  for (int pidfd : pidfds) {
    if (pidfd < 0) continue;
    EXPECT_TRUE(WaitForPidfd(pidfd, kSafetyTimeout)) << "a command outlived its server";
    ::close(pidfd);
  }
  test::KillProcessesWith(token);
}

// ---------------------------------------------------------------------------------------------
// Normal exits.

TEST(ProcessTerminationTest, NonZeroExitIsOkStatus) {
  ProcessOptions options = Options(ShellCommandArgv("exit 3"));
  options.timeout = absl::Hours(1);  // set but not reached: no effect
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.exit_code, 3) << out.result.DebugString();
  EXPECT_FALSE(out.result.term_signal.has_value());
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_FALSE(out.result.cancelled);
  EXPECT_TRUE(TerminationStatus(out.result).ok());
}

}  // namespace
}  // namespace framerpc::command
