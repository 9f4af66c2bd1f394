// How a command ends: timeouts and output caps (SIGTERM, then SIGKILL after the grace), stopped
// commands, Kill(), and the process-group cleanup of what a command leaves behind.
//
// No sleeps are used to order events: waits are on pidfds, on waitid(), or on the output callback.
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

// A stopped process does not act on SIGTERM until it is continued, so the runner follows SIGTERM
// with SIGCONT. With an hour of grace, a runner that relied on the SIGKILL escalation instead
// would hang this test until Bazel's timeout.
TEST(ProcessTerminationTest, StoppedCommandIsContinuedToReceiveSigterm) {
  ProcessOptions options =
      Options(ShellCommandArgv("echo stopping; kill -STOP $$; echo continued; sleep 1000"));
  options.timeout = absl::Milliseconds(100);
  options.kill_grace = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Spawn(std::move(options));
  ASSERT_TRUE(process.ok()) << process.status();
  const pid_t pid = (*process)->pid();

  // The Wait() loop handles the timeout only after this callback returns, so blocking here until
  // the shell has stopped itself guarantees the timeout finds it stopped. WNOWAIT leaves every
  // state change for the runner to collect; WEXITED keeps a shell that died instead of stopping
  // from blocking us.
  std::string stdout_bytes;
  bool waited_for_stop = false;
  siginfo_t info = {};
  int waitid_result = 0;
  ProcessResult result = (*process)->Wait([&](Stream which, absl::string_view bytes) {
    if (which == Stream::kStdout) stdout_bytes.append(bytes.data(), bytes.size());
    if (waited_for_stop || stdout_bytes.find('\n') == std::string::npos) return;
    waited_for_stop = true;
    while ((waitid_result = ::waitid(P_PID, pid, &info, WSTOPPED | WEXITED | WNOWAIT)) < 0 &&
           errno == EINTR) {
    }
  });
  ASSERT_TRUE(waited_for_stop) << stdout_bytes;
  ASSERT_EQ(waitid_result, 0) << ::strerror(errno);
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  EXPECT_EQ(info.si_status, SIGSTOP);

  // The pending SIGTERM is delivered as SIGCONT resumes the shell, before it runs another command.
  EXPECT_EQ(stdout_bytes, "stopping\n");
  EXPECT_TRUE(result.timed_out) << result.DebugString();
  EXPECT_EQ(result.term_signal, SIGTERM) << result.DebugString();
  EXPECT_EQ(TerminationStatus(result).code(), absl::StatusCode::kDeadlineExceeded);
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

TEST(ProcessTerminationTest, BackgroundedChildIsKilledWithTheGroup) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn(Options(ShellCommandArgv("sleep 1000 & echo $!")));
  ASSERT_TRUE(process.ok()) << process.status();
  // The pidfd is opened in the callback: the runner delivers the leader's output before it kills
  // the group, so the background sleep is certainly still alive there and its pid cannot have
  // been reused by an unrelated process.
  std::string stdout_bytes;
  ScopedFd pidfd;
  int open_errno = 0;
  ProcessResult result = (*process)->Wait([&](Stream which, absl::string_view bytes) {
    if (which != Stream::kStdout) return;
    stdout_bytes.append(bytes.data(), bytes.size());
    const pid_t pid = ParsePid(stdout_bytes);
    if (pid > 0 && !pidfd.valid() && open_errno == 0) {
      pidfd.reset(OpenPidfd(pid));
      if (!pidfd.valid()) open_errno = errno;
    }
  });
  EXPECT_EQ(result.exit_code, 0) << result.DebugString();
  ASSERT_GT(ParsePid(stdout_bytes), 0) << stdout_bytes;
  if (!pidfd.valid()) {
    // Not expected (see above), but ESRCH would still mean it is gone.
    EXPECT_EQ(open_errno, ESRCH) << ::strerror(open_errno);
    return;
  }
  // Readable once the process has exited; the SIGKILL was sent before Wait() returned.
  EXPECT_TRUE(WaitForPidfd(pidfd.get(), kSafetyTimeout)) << "background sleep still running";
}

// The documented limit: setsid leaves the group, so the group kill misses it; Wait() still
// returns, giving up on the pipe the escapee holds after kill_grace.
TEST(ProcessTerminationTest, EscapedDescendantDoesNotBlockWait) {
  // The command substitution ends at EOF on its pipe, i.e. once the escapee (already in its own
  // session, since setsid(1) calls setsid() before exec) has printed its pid and re-pointed
  // stdout at the runner's stderr pipe, which it keeps open. So the leader exits only after the
  // escape has happened.
  ProcessOptions options = Options(ShellCommandArgv(
      "pid=$(setsid sh -c 'echo $$; exec sleep 1000 >&2' &); echo \"$pid\""));
  options.kill_grace = absl::Milliseconds(200);
  ProcessOutput out = RunChecked(std::move(options));
  const pid_t escaped = ParsePid(out.stdout_bytes);
  ASSERT_GT(escaped, 0) << out.stdout_bytes;

  ScopedFd pidfd(OpenPidfd(escaped));
  ASSERT_TRUE(pidfd.valid()) << "escaped sleep already gone: " << ::strerror(errno);
  // Clean up even if an expectation below fails, so that no process outlives the test.
  absl::Cleanup kill_escapee = [&pidfd] {
    ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
    EXPECT_TRUE(WaitForPidfd(pidfd.get(), kSafetyTimeout)) << "escaped sleep survived SIGKILL";
  };

  EXPECT_EQ(out.result.exit_code, 0) << out.result.DebugString();
  EXPECT_FALSE(out.result.timed_out);
  EXPECT_FALSE(out.result.cancelled);
  // It escaped: the group kill did not reach it, and it is still running.
  EXPECT_FALSE(WaitForPidfd(pidfd.get(), absl::ZeroDuration()));
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
