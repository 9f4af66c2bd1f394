// The attacks of issue 12 that worked against the command service, each written as it was
// carried out, through the runner as a caller reaches it. Every test checks that the attack's
// effect (a marker file the injected command would create) did not happen, and that nothing in
// a canary directory outside every directory a command may use was created, changed or deleted.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "services/command/canary_test_util.h"
#include "services/command/command_runner.h"
#include "services/command/command_test_util.h"
#include "services/command/process_test_util.h"

namespace framerpc::command {
namespace {

using test::Argv;
using test::Canary;
using test::FileExists;
using test::RunCommand;

// Debian's /usr/bin/ldd is a bash script: the allowed program of the attacks below.
CommandServiceConfig LddOnly() {
  CommandServiceConfig config = test::TestConfig();
  config.allowed_programs = {"/usr/bin/ldd"};
  return config;
}

// The control: ldd itself is allowed and runs.
TEST(EnvironmentAttackTest, LddRunsWithoutTheInjection) {
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(LddOnly());
  absl::StatusOr<RunResponse> out = RunCommand(*runner, Argv({"/usr/bin/ldd", "--version"}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit().exit_code(), 0);
  EXPECT_EQ(out->stdout().rfind("ldd ", 0), 0u) << out->stdout();
}

// `--env=BASH_ENV=/dev/stdin` with a command on stdin: bash ran it before ldd's first line.
TEST(EnvironmentAttackTest, BashEnvThroughAnAllowedBashScript) {
  Canary canary;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(LddOnly());
  CommandSpec spec = Argv({"/usr/bin/ldd", "/bin/true"});
  (*spec.mutable_env())["BASH_ENV"] = "/dev/stdin";
  absl::Status status =
      RunCommand(*runner, spec, absl::StrCat("/usr/bin/touch ", canary.Marker(), "\n")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_NE(status.message().find("BASH_ENV"), absl::string_view::npos) << status;
  EXPECT_FALSE(FileExists(canary.Marker()));
  EXPECT_EQ(canary.Changes(), "");
}

// The same through Exec, with the injected command streamed as stdin.
TEST(EnvironmentAttackTest, BashEnvThroughExec) {
  Canary canary;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(LddOnly());
  test::ExecCall call(runner.get());
  CommandSpec spec = Argv({"/usr/bin/ldd", "/bin/true"});
  (*spec.mutable_env())["BASH_ENV"] = "/dev/stdin";
  call.Start(spec, /*stream_stdin=*/true);
  call.SendStdin(absl::StrCat("/usr/bin/touch ", canary.Marker(), "\n"));
  call.CloseStdin();
  call.stream().ClientHalfClose();
  call.ReadAll();
  EXPECT_EQ(call.Finish().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(FileExists(canary.Marker()));
  EXPECT_EQ(canary.Changes(), "");
}

// An exported bash function overriding the `echo` that `ldd --version` runs.
TEST(EnvironmentAttackTest, ExportedBashFunctionThroughAnAllowedBashScript) {
  Canary canary;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(LddOnly());
  CommandSpec spec = Argv({"/usr/bin/ldd", "--version"});
  (*spec.mutable_env())["BASH_FUNC_echo%%"] =
      absl::StrCat("() { /usr/bin/touch ", canary.Marker(), "; }");
  absl::Status status = RunCommand(*runner, spec).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_NE(status.message().find("BASH_FUNC_echo%%"), absl::string_view::npos) << status;
  EXPECT_FALSE(FileExists(canary.Marker()));
  EXPECT_EQ(canary.Changes(), "");
}

// Other shell knobs a denylist did not name: ENV, SHELLOPTS with PS4, IFS.
TEST(EnvironmentAttackTest, OtherShellKnobs) {
  Canary canary;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(LddOnly());
  const std::string touch = absl::StrCat("$(/usr/bin/touch ", canary.Marker(), ")");
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"SHELLOPTS", "xtrace"}, {"PS4", touch}, {"ENV", "/dev/stdin"}, {"IFS", "/"}}) {
    CommandSpec spec = Argv({"/usr/bin/ldd", "--version"});
    (*spec.mutable_env())["SHELLOPTS"] = "xtrace";
    (*spec.mutable_env())[name] = value;
    absl::Status status = RunCommand(*runner, spec).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << name << ": " << status;
  }
  EXPECT_FALSE(FileExists(canary.Marker()));
  EXPECT_EQ(canary.Changes(), "");
}

// Even an operator who lists BASH_ENV cannot open the hole: the server refuses to start.
TEST(EnvironmentAttackTest, AllowingBashEnvIsRefusedAtConfiguration) {
  CommandServiceConfig config = LddOnly();
  config.env_allow = {"GREETING", "BASH_ENV"};
  absl::Status status = CommandRunner::Create(config).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("BASH_ENV"), absl::string_view::npos) << status;
}

// ---------------------------------------------------------------------------------------------
// The working directory (item 5): any absolute path ran, /root included, and a directory could
// be reached through ".." or a symlink. The command writes where it runs, which would change the
// canary.

CommandServiceConfig ShellConfig() {
  CommandServiceConfig config = test::TestConfig();
  config.allow_shell = true;
  return config;
}

absl::Status RunIn(CommandRunner& runner, const std::string& dir) {
  CommandSpec spec = test::Shell("touch PWNED; pwd");
  spec.set_working_directory(dir);
  return RunCommand(runner, spec).status();
}

TEST(WorkingDirectoryAttackTest, AbsolutePathsAreRefusedWithoutAWorkdir) {
  Canary canary;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(ShellConfig());
  for (const std::string& dir : {std::string("/root"), std::string("/"), canary.dir()}) {
    absl::Status status = RunIn(*runner, dir);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << dir << ": " << status;
  }
  EXPECT_FALSE(FileExists("/root/PWNED"));
  EXPECT_EQ(canary.Changes(), "");
}

class WorkdirAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The canary is a sibling of the workdir: one ".." away.
    root_ = test::MakeTempDir();
    ASSERT_EQ(::mkdir((root_ + "/sub").c_str(), 0755), 0);
    ASSERT_EQ(::symlink(canary_.dir().c_str(), (root_ + "/out").c_str()), 0);
    ASSERT_EQ(::symlink("../..", (root_ + "/sub/up").c_str()), 0);
    ASSERT_EQ(::symlink("sub", (root_ + "/in").c_str()), 0);
    CommandServiceConfig config = ShellConfig();
    config.workdir = root_;
    runner_ = test::MakeRunner(config);
    ASSERT_NE(runner_, nullptr);
  }

  Canary canary_;
  std::string root_;
  std::unique_ptr<CommandRunner> runner_;
};

TEST_F(WorkdirAttackTest, AbsolutePathsAreRefused) {
  for (const std::string& dir : {std::string("/root"), canary_.dir(), root_, root_ + "/out"}) {
    absl::Status status = RunIn(*runner_, dir);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << dir << ": " << status;
  }
  EXPECT_FALSE(FileExists("/root/PWNED"));
  EXPECT_EQ(canary_.Changes(), "");
}

TEST_F(WorkdirAttackTest, DotDotEscapesAreRefused) {
  for (const char* dir : {"..", "../..", "sub/../..", "./../x", "sub/up", "sub/up/.."}) {
    absl::Status status = RunIn(*runner_, dir);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << dir << ": " << status;
  }
  EXPECT_EQ(canary_.Changes(), "");
}

TEST_F(WorkdirAttackTest, SymlinksOutAreRefused) {
  for (const char* dir : {"out", "out/sub", "sub/up"}) {
    absl::Status status = RunIn(*runner_, dir);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << dir << ": " << status;
  }
  EXPECT_EQ(canary_.Changes(), "");
  // What stays inside is fine, a symlink included.
  EXPECT_TRUE(RunIn(*runner_, "in").ok());
  EXPECT_TRUE(FileExists(root_ + "/sub/PWNED"));
}

// A fresh directory is removed after the command without following what the command left in it.
TEST(WorkingDirectoryAttackTest, RemovalDoesNotFollowSymlinks) {
  Canary canary;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(ShellConfig());
  absl::StatusOr<RunResponse> out = RunCommand(
      *runner, test::Shell(absl::StrCat("ln -s ", canary.dir(), " dir; ln -s ", canary.dir(),
                                        "/passwd file; mkdir -p a/b; ln -s ", canary.dir(),
                                        " a/b/deep; echo x > a/b/f; pwd")));
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string dir(absl::StripSuffix(out->stdout(), "\n"));
  EXPECT_FALSE(FileExists(dir)) << dir;
  EXPECT_EQ(canary.Changes(), "");
}

// ---------------------------------------------------------------------------------------------
// Pinning (item 6): an allowed program swapped for a symlink, replaced by another file, or
// shadowed earlier in PATH after the server started ran whatever was there now.

void CopyProgram(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream(to, std::ios::binary) << in.rdbuf();
  ASSERT_EQ(::chmod(to.c_str(), 0755), 0);
}

class PinningAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir();
    CopyProgram("/bin/echo", dir_ + "/prog");
    CommandServiceConfig config = test::TestConfig();
    config.allowed_programs = {dir_ + "/prog"};
    runner_ = test::MakeRunner(config);
    ASSERT_NE(runner_, nullptr);
    // The control: the allowed program runs.
    absl::StatusOr<RunResponse> out = RunCommand(*runner_, Argv({dir_ + "/prog", "hello"}));
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->stdout(), "hello\n");
  }

  // Runs the allowed path with the canary's marker as its argument: echo prints it, touch
  // creates it.
  void ExpectRefused() {
    absl::Status status =
        RunCommand(*runner_, Argv({dir_ + "/prog", canary_.Marker()})).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
    EXPECT_NE(status.message().find("changed since the server started"), absl::string_view::npos)
        << status;
    EXPECT_FALSE(FileExists(canary_.Marker()));
    EXPECT_EQ(canary_.Changes(), "");
  }

  Canary canary_;
  std::string dir_;
  std::unique_ptr<CommandRunner> runner_;
};

TEST_F(PinningAttackTest, SwappedForASymlink) {
  ASSERT_EQ(::symlink("/usr/bin/touch", (dir_ + "/swap").c_str()), 0);
  ASSERT_EQ(::rename((dir_ + "/swap").c_str(), (dir_ + "/prog").c_str()), 0);
  ExpectRefused();
}

TEST_F(PinningAttackTest, ReplacedByAnotherFile) {
  CopyProgram("/usr/bin/touch", dir_ + "/swap");
  ASSERT_EQ(::rename((dir_ + "/swap").c_str(), (dir_ + "/prog").c_str()), 0);
  ExpectRefused();
}

TEST_F(PinningAttackTest, OverwrittenInPlace) {
  CopyProgram("/usr/bin/touch", dir_ + "/prog");  // same inode, new contents
  ExpectRefused();
}

// A bare-name entry: a new file earlier in the server's PATH ran instead of the one allowed.
TEST(PinningAttackBareNameTest, ShadowedEarlierInPath) {
  Canary canary;
  const std::string first = test::MakeTempDir();
  const std::string second = test::MakeTempDir();
  CopyProgram("/bin/echo", second + "/prog");
  CommandServiceConfig config = test::TestConfig();
  config.allowed_programs = {"prog"};
  config.path = absl::StrCat(first, ":", second);
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(config);
  ASSERT_NE(runner, nullptr);
  ASSERT_TRUE(RunCommand(*runner, Argv({"prog", "hello"})).ok());
  CopyProgram("/usr/bin/touch", first + "/prog");
  absl::Status status = RunCommand(*runner, Argv({"prog", canary.Marker()})).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_FALSE(FileExists(canary.Marker()));
  EXPECT_EQ(canary.Changes(), "");
}

// ---------------------------------------------------------------------------------------------
// Containment (item 3): a forking script that calls setsid and double-forks left processes
// running as root with parent 1 (22 in 100 runs). Each command substitution below returns once
// the escapee is running in a session of its own, so an escape is certain, not a race.

std::string ForkerScript(const std::string& token) {
  const std::string sleep = absl::StrCat("sleep ", token, " </dev/null >/dev/null 2>&1");
  return absl::StrCat("for i in 1 2 3; do\n",
                      "  x=$(setsid sh -c '", sleep, " & echo started')\n",
                      "  y=$( (setsid sh -c '(", sleep, " &); echo started' &) )\n",
                      "done\n",
                      "echo \"$x $y\"\n");
}

TEST(ContainmentAttackTest, SetsidAndDoubleForkLeaveNothingBehindRun) {
  CommandServiceConfig config = test::TestConfig();
  config.allow_shell = true;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(config);
  const std::string token = test::UniqueToken();
  // Whatever an early ASSERT leaves behind is killed all the same.
  absl::Cleanup kill_leftovers = [&token] { test::KillProcessesWith(token); };
  for (int run = 0; run < 30; ++run) {
    absl::StatusOr<RunResponse> out = RunCommand(*runner, test::Shell(ForkerScript(token)));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->stdout(), "started started\n") << out->stderr();
    // The call returns after the command's supervisor was reaped: nothing may be left.
    ASSERT_EQ(test::ProcessesWith(token), std::vector<std::string>()) << "run " << run;
  }
}

TEST(ContainmentAttackTest, SetsidAndDoubleForkLeaveNothingBehindExec) {
  CommandServiceConfig config = test::TestConfig();
  config.allow_shell = true;
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(config);
  const std::string token = test::UniqueToken();
  // Whatever an early ASSERT leaves behind is killed all the same.
  absl::Cleanup kill_leftovers = [&token] { test::KillProcessesWith(token); };
  for (int run = 0; run < 10; ++run) {
    test::ExecCall call(runner.get());
    call.Start(test::Shell(ForkerScript(token)));
    test::ExecOutput out = call.ReadAll();
    ASSERT_TRUE(call.Finish().ok());
    EXPECT_EQ(out.stdout_bytes, "started started\n") << out.stderr_bytes;
    ASSERT_EQ(test::ProcessesWith(token), std::vector<std::string>()) << "run " << run;
  }
}

// Killed mid-run (a timeout here), the escapees go too.
TEST(ContainmentAttackTest, EscapeesDieWithATimedOutCommand) {
  CommandServiceConfig config = test::TestConfig();
  config.allow_shell = true;
  config.kill_grace = absl::Milliseconds(100);
  std::unique_ptr<CommandRunner> runner = test::MakeRunner(config);
  const std::string token = test::UniqueToken();
  CommandSpec spec = test::Shell(absl::StrCat(ForkerScript(token), "sleep ", token));
  spec.set_timeout_ms(500);
  absl::Status status = RunCommand(*runner, spec).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_EQ(test::ProcessesWith(token), std::vector<std::string>());
  test::KillProcessesWith(token);
}

}  // namespace
}  // namespace framerpc::command
