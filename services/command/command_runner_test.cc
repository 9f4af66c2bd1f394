// The command service's unary Run, and what Run and Exec share: access (token), policy errors,
// the concurrency cap. Process-level behaviour (spawning, signals, caps) is process_*_test.cc's;
// these tests check what the service layer adds on top.
#include "services/command/command_runner.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "services/auth/shared_secret.h"
#include "services/command/command_test_util.h"
#include "services/command/process_test_util.h"

namespace framerpc::command {
namespace {

using test::Argv;
using test::ExecCall;
using test::MakeRunner;
using test::RunCommand;
using test::Shell;
using test::TestConfig;

CommandServiceConfig ShellConfig() {
  CommandServiceConfig config = TestConfig();
  config.allow_shell = true;
  return config;
}

TEST(CommandRunTest, ExitCodes) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  absl::StatusOr<RunResponse> ok = RunCommand(*runner, Argv({"/bin/true"}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->exit().how_case(), ExitStatus::kExitCode);
  EXPECT_EQ(ok->exit().exit_code(), 0);
  // A failing command is a successful call.
  absl::StatusOr<RunResponse> failed = RunCommand(*runner, Argv({"/bin/false"}));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->exit().exit_code(), 1);
}

TEST(CommandRunTest, ExitCodeAndSignalOfAShellCommand) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(ShellConfig());
  absl::StatusOr<RunResponse> exited = RunCommand(*runner, Shell("exit 42"));
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_EQ(exited->exit().exit_code(), 42);
  absl::StatusOr<RunResponse> killed = RunCommand(*runner, Shell("echo before; kill -KILL $$"));
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_EQ(killed->exit().how_case(), ExitStatus::kSignal);
  EXPECT_EQ(killed->exit().signal(), SIGKILL);
  EXPECT_EQ(killed->stdout(), "before\n");
  EXPECT_FALSE(killed->exit().timed_out());
}

TEST(CommandRunTest, StdoutStderrAndStdin) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(ShellConfig());
  absl::StatusOr<RunResponse> out =
      RunCommand(*runner, Shell("cat; echo oops >&2"), std::string("from stdin\0x", 12));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout(), std::string("from stdin\0x", 12));
  EXPECT_EQ(out->stderr(), "oops\n");
  EXPECT_GT(out->exit().duration_us(), 0u);
}

TEST(CommandRunTest, StdinIsDevNullUnlessGiven) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  absl::StatusOr<RunResponse> out = RunCommand(*runner, Argv({"/bin/cat"}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout(), "");
  EXPECT_EQ(out->exit().exit_code(), 0);
}

TEST(CommandRunTest, EnvironmentIsTheBasePlusAllowedRequestVariables) {
  CommandServiceConfig config = TestConfig();
  config.env_allow = {"GREETING"};
  config.home = "/nonexistent-home";
  std::unique_ptr<CommandRunner> runner = MakeRunner(config);
  CommandSpec spec = Argv({"/usr/bin/env"});
  (*spec.mutable_env())["GREETING"] = "hello world";
  absl::StatusOr<RunResponse> out = RunCommand(*runner, spec);
  ASSERT_TRUE(out.ok()) << out.status();
  // Nothing of this process's environment (TEST_TMPDIR, ...) reaches the command.
  EXPECT_EQ(out->stdout(), absl::StrCat("GREETING=hello world\nHOME=/nonexistent-home\n"
                                        "LANG=C.UTF-8\nPATH=", kDefaultPath, "\n"));
  (*spec.mutable_env())["OTHER"] = "x";
  absl::Status refused = RunCommand(*runner, spec).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("'OTHER'"), absl::string_view::npos) << refused;
}

// Without --command_workdir each command runs in a fresh, empty, private directory, removed once
// the command is gone; HOME is that directory.
TEST(CommandRunTest, EachCommandRunsInAFreshDirectory) {
  CommandServiceConfig config = ShellConfig();
  config.allowed_programs.push_back("/usr/bin/stat");
  std::unique_ptr<CommandRunner> runner = MakeRunner(config);
  absl::StatusOr<RunResponse> first =
      RunCommand(*runner, Shell("pwd; echo \"$HOME\"; ls -A; stat -c %a .; touch left-behind"));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::vector<std::string> lines = absl::StrSplit(first->stdout(), '\n');
  ASSERT_EQ(lines.size(), 4u) << first->stdout() << first->stderr();
  EXPECT_EQ(lines[0], lines[1]);  // HOME
  EXPECT_EQ(lines[2], "700");     // empty (ls printed nothing), and private
  EXPECT_FALSE(test::FileExists(lines[0])) << "not removed: " << lines[0];
  absl::StatusOr<RunResponse> second = RunCommand(*runner, Shell("pwd; ls -A"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->stdout(), absl::StrCat(lines[0], "\n"));  // another directory, empty
  EXPECT_EQ(second->stdout().find("left-behind"), std::string::npos);
}

// With --command_workdir a request names a directory beneath it.
TEST(CommandRunTest, WorkingDirectoryBeneathTheWorkdir) {
  char* real = ::realpath(test::MakeTempDir().c_str(), nullptr);  // as pwd prints it
  ASSERT_NE(real, nullptr);
  const std::string root = real;
  ::free(real);
  ASSERT_EQ(::mkdir(absl::StrCat(root, "/sub").c_str(), 0755), 0);
  CommandServiceConfig config = TestConfig();
  config.workdir = root;
  std::unique_ptr<CommandRunner> runner = MakeRunner(config);
  CommandSpec spec = Argv({"/bin/pwd"});
  spec.set_working_directory("sub");
  absl::StatusOr<RunResponse> out = RunCommand(*runner, spec);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout(), absl::StrCat(root, "/sub\n"));
  spec.set_working_directory("");
  out = RunCommand(*runner, spec);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout(), absl::StrCat(root, "\n"));
  spec.set_working_directory("missing");
  EXPECT_EQ(RunCommand(*runner, spec).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(test::FileExists(absl::StrCat(root, "/sub")));  // a named directory is kept
}

// The classic lesson ran the request through a shell. Here the strings reach echo untouched,
// and the canary is never created.
TEST(CommandRunTest, InjectionStringsInArgvNeverReachAShell) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  const std::string dir = test::MakeTempDir();
  const std::string canary = absl::StrCat(dir, "/canary");
  const std::vector<std::string> attacks = {
      absl::StrCat("; touch ", canary),      absl::StrCat("$(touch ", canary, ")"),
      absl::StrCat("`touch ", canary, "`"),  absl::StrCat("x\ntouch ", canary),
      absl::StrCat("| touch ", canary),      absl::StrCat("&& touch ", canary),
      absl::StrCat("' ; touch ", canary, " '"), absl::StrCat("\" ; touch ", canary, " \""),
  };
  std::vector<std::string> argv = {"/bin/echo"};
  argv.insert(argv.end(), attacks.begin(), attacks.end());
  CommandSpec spec = Argv(argv);
  absl::StatusOr<RunResponse> out = RunCommand(*runner, spec);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout(), absl::StrCat(absl::StrJoin(attacks, " "), "\n"));
  EXPECT_FALSE(test::FileExists(canary));
  // The same strings as the program name are simply not allowed.
  EXPECT_EQ(RunCommand(*runner, Argv({attacks[0]})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(test::FileExists(canary));
}

TEST(CommandRunTest, YesIsCappedAndTerminated) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  absl::StatusOr<RunResponse> out = RunCommand(*runner, Argv({"/usr/bin/yes"}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout().size(), kDefaultOutputLimit);
  EXPECT_TRUE(out->exit().stdout_truncated());
  EXPECT_FALSE(out->exit().stderr_truncated());
  EXPECT_EQ(out->exit().signal(), SIGTERM);

  CommandSpec lower = Argv({"/usr/bin/yes"});
  lower.set_output_limit_bytes(10);
  out = RunCommand(*runner, lower);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout(), "y\ny\ny\ny\ny\n");
  EXPECT_TRUE(out->exit().stdout_truncated());
}

TEST(CommandRunTest, TimeoutIsDeadlineExceeded) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  CommandSpec spec = Argv({"/bin/sleep", "1000"});
  spec.set_timeout_ms(200);
  absl::Status status = RunCommand(*runner, spec).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_EQ(runner->running(), 0);
}

TEST(CommandRunTest, CancelledCallKillsTheCommand) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  CancellationSignal cancelled;
  cancelled.Cancel();  // the call is already gone when the command starts
  CallInfo call;
  call.cancellation = &cancelled;
  absl::Status status = RunCommand(*runner, Argv({"/bin/sleep", "1000"}), std::nullopt, call)
                            .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_EQ(runner->running(), 0);
}

// Cancelled while the command runs: the call's cancellation callback kills it at once.
TEST(CommandRunTest, CancellationMidCommandKillsIt) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  CancellationSignal cancelled;
  CallInfo call;
  call.cancellation = &cancelled;
  absl::Status status;
  std::thread handler([&] {
    status = RunCommand(*runner, Argv({"/bin/sleep", "1000"}), std::nullopt, call).status();
  });
  const absl::Time give_up = absl::Now() + test::kSafetyTimeout;
  while (runner->running() == 0 && absl::Now() < give_up) std::this_thread::yield();
  ASSERT_EQ(runner->running(), 1);
  cancelled.Cancel();
  handler.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_EQ(runner->running(), 0);
}

TEST(CommandRunTest, StatsCountHowEachCommandEnded) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  ASSERT_TRUE(RunCommand(*runner, Argv({"/bin/true"})).ok());
  ASSERT_TRUE(RunCommand(*runner, Argv({"/bin/false"})).ok());
  CommandSpec yes = Argv({"/usr/bin/yes"});
  yes.set_output_limit_bytes(10);
  ASSERT_TRUE(RunCommand(*runner, yes).ok());  // stopped with SIGTERM at its output limit
  CommandSpec sleep = Argv({"/bin/sleep", "1000"});
  sleep.set_timeout_ms(100);
  EXPECT_EQ(RunCommand(*runner, sleep).status().code(), absl::StatusCode::kDeadlineExceeded);
  // Refused by the policy: never started, never counted as finished.
  EXPECT_EQ(RunCommand(*runner, Argv({"/bin/rm"})).status().code(),
            absl::StatusCode::kPermissionDenied);

  const CommandStats::Snapshot stats = runner->stats().Read();
  EXPECT_EQ(stats.started, 4u);
  EXPECT_EQ(stats.finished[static_cast<size_t>(CommandOutcome::kExitedZero)], 1u);
  EXPECT_EQ(stats.finished[static_cast<size_t>(CommandOutcome::kExitedNonZero)], 1u);
  EXPECT_EQ(stats.finished[static_cast<size_t>(CommandOutcome::kSignaled)], 1u);
  EXPECT_EQ(stats.finished[static_cast<size_t>(CommandOutcome::kTimedOut)], 1u);
  EXPECT_EQ(stats.output_truncated, 1u);
  uint64_t timed = 0;
  for (uint64_t n : stats.duration) timed += n;
  EXPECT_EQ(timed, 4u);
  EXPECT_GE(stats.duration_sum_seconds, 0.1);  // the sleep ran until its 100 ms timeout
  EXPECT_EQ(stats.refused_busy, 0u);
}

TEST(CommandRunTest, PolicyErrors) {
  std::unique_ptr<CommandRunner> runner = MakeRunner();
  EXPECT_EQ(RunCommand(*runner, Argv({"/bin/rm", "-rf", "/tmp/x"})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RunCommand(*runner, Shell("echo hi")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RunCommand(*runner, CommandSpec()).status().code(),
            absl::StatusCode::kInvalidArgument);
  CommandSpec preload = Argv({"/bin/true"});
  (*preload.mutable_env())["LD_PRELOAD"] = "/tmp/evil.so";
  EXPECT_EQ(RunCommand(*runner, preload).status().code(), absl::StatusCode::kPermissionDenied);
  // Each PERMISSION_DENIED counted as a refusal by the policy; the malformed request is not one.
  const CommandStats::Snapshot stats = runner->stats().Read();
  EXPECT_EQ(stats.refused_policy, 3u);
  EXPECT_EQ(stats.refused_credential, 0u);
  EXPECT_EQ(stats.started, 0u);
}

TEST(CommandRunTest, ConfigurationErrors) {
  CommandServiceConfig config = TestConfig();
  config.max_concurrent = -1;
  EXPECT_EQ(CommandRunner::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
  config = TestConfig();
  config.allowed_programs = {"relative/prog"};
  EXPECT_EQ(CommandRunner::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
  config = TestConfig();
  config.allowed_programs.push_back("/usr/bin/definitely-not-installed");
  EXPECT_EQ(CommandRunner::Create(config).status().code(), absl::StatusCode::kNotFound);
}

// A supervisor that is not there is an error at start, naming the path, not at the first command.
TEST(CommandRunTest, MissingSupervisorIsAnErrorAtStart) {
  CommandServiceConfig config = TestConfig();
  config.supervisor_path = "/nonexistent/framerpc_supervisor";
  const absl::Status missing = CommandRunner::Create(config).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("/nonexistent/framerpc_supervisor"), absl::string_view::npos)
      << missing;
  config.supervisor_path = "framerpc_supervisor";
  EXPECT_EQ(CommandRunner::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// The token.

constexpr char kToken[] = "0123456789abcdef-token";

CommandServiceConfig TokenConfig() {
  CommandServiceConfig config = TestConfig();
  config.access = auth::AccessPolicy().AcceptToken(auth::SharedSecret::FromToken(kToken).value());
  return config;
}

TEST(CommandAuthTest, RunNeedsTheRightToken) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(TokenConfig());
  CallInfo call;
  EXPECT_EQ(RunCommand(*runner, Argv({"/bin/true"}), std::nullopt, call).status().code(),
            absl::StatusCode::kUnauthenticated);
  const std::string wrong = auth::AuthorizationValue("0123456789abcdef-tokeN");
  call.credentials.authorization = &wrong;
  EXPECT_EQ(RunCommand(*runner, Argv({"/bin/true"}), std::nullopt, call).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Checked before anything else: a denied program is still UNAUTHENTICATED.
  EXPECT_EQ(RunCommand(*runner, Argv({"/bin/rm"}), std::nullopt, call).status().code(),
            absl::StatusCode::kUnauthenticated);
  const std::string right = auth::AuthorizationValue(kToken);
  call.credentials.authorization = &right;
  EXPECT_TRUE(RunCommand(*runner, Argv({"/bin/true"}), std::nullopt, call).ok());
  const CommandStats::Snapshot stats = runner->stats().Read();
  EXPECT_EQ(stats.refused_credential, 3u);
  EXPECT_EQ(stats.refused_policy, 0u);  // the denied program was never looked at
}

TEST(CommandAuthTest, ExecNeedsTheRightToken) {
  std::unique_ptr<CommandRunner> runner = MakeRunner(TokenConfig());
  {
    ExecCall call(runner.get());  // no authorization; nothing is read from the stream
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kUnauthenticated);
  }
  {
    ExecCall call(runner.get(), 16, auth::AuthorizationValue("wrong-token-0123456789"));
    EXPECT_EQ(call.Finish().code(), absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(runner->stats().Read().refused_credential, 2u);
  ExecCall call(runner.get(), 16, auth::AuthorizationValue(kToken));
  call.Start(Argv({"/bin/echo", "authorized"}));
  test::ExecOutput out = call.ReadAll();
  EXPECT_TRUE(call.Finish().ok());
  EXPECT_EQ(out.stdout_bytes, "authorized\n");
}

// ---------------------------------------------------------------------------------------------
// The concurrency cap, shared by Run and Exec.

TEST(CommandConcurrencyTest, CommandsBeyondTheCapAreResourceExhausted) {
  CommandServiceConfig config = TestConfig();
  config.max_concurrent = 1;
  std::unique_ptr<CommandRunner> runner = MakeRunner(config);

  // An Exec of cat holds the only slot; its echo proves it is running.
  ExecCall holder(runner.get());
  holder.Start(Argv({"/bin/cat"}), /*stream_stdin=*/true);
  holder.SendStdin("ping");
  ExecResponse response;
  ASSERT_TRUE(holder.Read(&response));
  EXPECT_EQ(response.stdout(), "ping");
  EXPECT_EQ(runner->running(), 1);

  absl::Status status = RunCommand(*runner, Argv({"/bin/true"})).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  {
    ExecCall refused(runner.get());
    refused.Start(Argv({"/bin/true"}));
    EXPECT_EQ(refused.Finish().code(), absl::StatusCode::kResourceExhausted);
  }

  // The slot is free again once the holder's command has ended, which its exit message says.
  holder.CloseStdin();
  ASSERT_TRUE(holder.Read(&response));
  ASSERT_TRUE(response.has_exit());
  EXPECT_TRUE(RunCommand(*runner, Argv({"/bin/true"})).ok());
  holder.stream().ClientHalfClose();
  EXPECT_TRUE(holder.Finish().ok());
  // Both refusals counted; the Exec and the last Run started and exited 0.
  const CommandStats::Snapshot stats = runner->stats().Read();
  EXPECT_EQ(stats.refused_busy, 2u);
  EXPECT_EQ(stats.started, 2u);
  EXPECT_EQ(stats.finished[static_cast<size_t>(CommandOutcome::kExitedZero)], 2u);
}

}  // namespace
}  // namespace framerpc::command
