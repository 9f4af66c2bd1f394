#include "services/command/command_policy.h"

#include <signal.h>

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

CommandServiceConfig Config() {
  CommandServiceConfig config;
  config.allowed_programs = {"/bin/echo", "true", "/usr/bin/env"};
  config.default_timeout = absl::Seconds(7);
  config.max_timeout = absl::Seconds(60);
  config.kill_grace = absl::Milliseconds(300);
  config.env_allow = {"LANG", "GREETING"};
  config.scratch_parent = ::testing::TempDir();
  return config;
}

CommandPolicy Policy(const CommandServiceConfig& config = Config()) {
  return CommandPolicy::Create(config, Containment::kSubreaper).value();
}

CommandSpec Argv(std::initializer_list<std::string> argv) {
  CommandSpec spec;
  for (const std::string& arg : argv) spec.add_argv(arg);
  return spec;
}

absl::StatusCode PrepareCode(const CommandPolicy& policy, const CommandSpec& spec) {
  return policy.Prepare(spec, 1024).status().code();
}

TEST(CommandPolicyTest, AllowedArgvBecomesProcessOptions) {
  CommandSpec spec = Argv({"/bin/echo", "a b", "$(id)"});
  (*spec.mutable_env())["GREETING"] = "hello";
  const CommandPolicy policy = Policy();
  absl::StatusOr<ProcessOptions> options = policy.Prepare(spec, 1024);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->argv, (std::vector<std::string>{"/bin/echo", "a b", "$(id)"}));
  EXPECT_TRUE(options->executable.valid());
  EXPECT_EQ(options->containment, Containment::kSubreaper);
  absl::StatusOr<WorkingDirectory> dir = policy.EnterWorkingDirectory(spec, *options);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(options->working_directory.valid());
  EXPECT_EQ(options->env, (std::map<std::string, std::string>{{"GREETING", "hello"},
                                                               {"HOME", dir->path()},
                                                               {"LANG", "C.UTF-8"},
                                                               {"PATH", kDefaultPath}}));
  EXPECT_FALSE(options->stdin_bytes.has_value());
  EXPECT_EQ(options->timeout, absl::Seconds(7));
  EXPECT_EQ(options->kill_grace, absl::Milliseconds(300));
  EXPECT_EQ(options->stdout_limit, 1024u);
  EXPECT_EQ(options->stderr_limit, 1024u);
  EXPECT_TRUE(options->kill_on_output_limit);
}

TEST(CommandPolicyTest, ExactlyOneOfArgvAndShell) {
  CommandServiceConfig config = Config();
  config.allow_shell = true;
  const CommandPolicy policy = Policy(config);
  EXPECT_EQ(PrepareCode(policy, CommandSpec()), absl::StatusCode::kInvalidArgument);
  CommandSpec both = Argv({"/bin/echo"});
  both.set_shell("echo");
  EXPECT_EQ(PrepareCode(policy, both), absl::StatusCode::kInvalidArgument);
}

TEST(CommandPolicyTest, ShellOnlyWhenAllowed) {
  CommandSpec spec;
  spec.set_shell("echo hi; rm -rf /nonexistent");
  EXPECT_EQ(PrepareCode(Policy(), spec), absl::StatusCode::kPermissionDenied);

  CommandServiceConfig config = Config();
  config.allow_shell = true;
  absl::StatusOr<ProcessOptions> options = Policy(config).Prepare(spec, 1024);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->argv, (std::vector<std::string>{"/bin/sh", "-c", spec.shell(), "sh"}));
}

TEST(CommandPolicyTest, ProgramsOutsideTheAllowlistAreDeniedWhetherOrNotTheyExist) {
  const CommandPolicy policy = Policy();
  for (const char* program :
       {"/bin/rm", "rm", "/bin/sh", "echo" /* bare, and only /bin/echo is allowed */,
        "/nonexistent/echo", "nonexistent", "./true", "/usr/bin/../bin/echo"}) {
    absl::Status status = policy.Prepare(Argv({program}), 1024).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << program << ": " << status;
  }
}

// The allowlist is resolved when the service starts: an allowed program that does not exist is
// a configuration error, not a NOT_FOUND for each request.
TEST(CommandPolicyTest, AllowedButMissingProgramsFailCreate) {
  for (const char* missing : {"/usr/bin/definitely-not-installed", "definitely-not-installed"}) {
    CommandServiceConfig config = Config();
    config.allowed_programs.push_back(missing);
    absl::Status status = CommandPolicy::Create(config, Containment::kSubreaper).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << missing;
    EXPECT_NE(status.message().find(missing), absl::string_view::npos) << status;
  }
}

TEST(CommandPolicyTest, BareNamesResolveThroughTheServersPath) {
  absl::StatusOr<ProcessOptions> options = Policy().Prepare(Argv({"true"}), 1024);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->executable.valid());
  CommandServiceConfig config = Config();
  config.path = "/nonexistent";
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CommandPolicyTest, TheShellIsPinnedWhenAllowed) {
  CommandServiceConfig config = Config();
  config.allow_shell = true;
  absl::StatusOr<ProcessOptions> options = Policy(config).Prepare([] {
    CommandSpec spec;
    spec.set_shell("true");
    return spec;
  }(), 1024);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->executable.valid());
}

TEST(CommandPolicyTest, EnvironmentOutsideTheAllowlistIsRefused) {
  for (const char* name : {"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "GCONV_PATH", "BASH_ENV",
                           "BASH_FUNC_echo%%", "HOME", "OTHER"}) {
    CommandSpec spec = Argv({"/usr/bin/env"});
    (*spec.mutable_env())[name] = "/tmp/x";
    EXPECT_EQ(PrepareCode(Policy(), spec), absl::StatusCode::kPermissionDenied) << name;
  }
  CommandSpec spec = Argv({"/usr/bin/env"});
  (*spec.mutable_env())["LANG"] = "de_DE.UTF-8";
  const CommandPolicy policy = Policy();
  absl::StatusOr<ProcessOptions> options = policy.Prepare(spec, 1024);
  ASSERT_TRUE(options.ok()) << options.status();
  absl::StatusOr<WorkingDirectory> dir = policy.EnterWorkingDirectory(spec, *options);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(options->env.at("LANG"), "de_DE.UTF-8");
}

TEST(CommandPolicyTest, RefusedAllowedNamesFailCreate) {
  CommandServiceConfig config = Config();
  config.env_allow = {"LD_PRELOAD"};
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CommandPolicyTest, MalformedEnvironmentIsInvalid) {
  for (const std::string& name : {std::string(""), std::string("A=B"), std::string("A\0B", 3)}) {
    CommandSpec spec = Argv({"/usr/bin/env"});
    (*spec.mutable_env())[name] = "x";
    EXPECT_EQ(PrepareCode(Policy(), spec), absl::StatusCode::kInvalidArgument) << name;
  }
  CommandSpec spec = Argv({"/usr/bin/env"});
  (*spec.mutable_env())["GREETING"] = std::string("x\0y", 3);
  EXPECT_EQ(PrepareCode(Policy(), spec), absl::StatusCode::kInvalidArgument);
}

TEST(CommandPolicyTest, TimeoutDefaultsAndMaximum) {
  const CommandPolicy policy = Policy();
  CommandSpec spec = Argv({"/bin/echo"});
  spec.set_timeout_ms(1500);
  EXPECT_EQ(policy.Prepare(spec, 1024)->timeout, absl::Milliseconds(1500));
  spec.set_timeout_ms(60000);
  EXPECT_EQ(policy.Prepare(spec, 1024)->timeout, absl::Seconds(60));
  spec.set_timeout_ms(60001);
  EXPECT_EQ(PrepareCode(policy, spec), absl::StatusCode::kInvalidArgument);
  spec.set_timeout_ms(UINT64_MAX);
  EXPECT_EQ(PrepareCode(policy, spec), absl::StatusCode::kInvalidArgument);
}

TEST(CommandPolicyTest, RequestsMayOnlyLowerTheOutputCap) {
  const CommandPolicy policy = Policy();
  CommandSpec spec = Argv({"/bin/echo"});
  spec.set_output_limit_bytes(10);
  EXPECT_EQ(policy.Prepare(spec, 1024)->stdout_limit, 10u);
  spec.set_output_limit_bytes(1 << 30);
  EXPECT_EQ(policy.Prepare(spec, 1024)->stdout_limit, 1024u);
  EXPECT_EQ(policy.Prepare(spec, 1024)->stderr_limit, 1024u);
}

TEST(CommandPolicyTest, WorkingDirectoryNeedsAWorkdir) {
  CommandSpec spec = Argv({"/bin/echo"});
  for (const char* dir : {"/", "/root", "sub", "..", "."}) {
    spec.set_working_directory(dir);
    EXPECT_EQ(PrepareCode(Policy(), spec), absl::StatusCode::kPermissionDenied) << dir;
  }
  CommandServiceConfig config = Config();
  config.workdir = ::testing::TempDir();
  spec.set_working_directory("/root");
  EXPECT_EQ(PrepareCode(Policy(config), spec), absl::StatusCode::kPermissionDenied);
  spec.set_working_directory(".");
  EXPECT_TRUE(Policy(config).Prepare(spec, 1024).ok());
}

TEST(CommandPolicyTest, CreateValidatesTheConfiguration) {
  CommandServiceConfig config = Config();
  config.allowed_programs = {"bin/echo"};
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kInvalidArgument);
  config = Config();
  config.max_timeout = absl::Seconds(1);
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kInvalidArgument);
  config = Config();
  config.default_timeout = absl::ZeroDuration();
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kInvalidArgument);
  config = Config();
  config.workdir = "relative";
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kInvalidArgument);
  config.workdir = "/nonexistent-framerpc-workdir";
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kNotFound);
  config = Config();
  config.memory_limit_bytes = 0;
  EXPECT_EQ(CommandPolicy::Create(config, Containment::kSubreaper).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FillExitStatusTest, ExitCodeOrSignalAndFlags) {
  ProcessResult exited;
  exited.exit_code = 3;
  exited.duration = absl::Milliseconds(12);
  exited.stderr_truncated = true;
  ExitStatus status;
  FillExitStatus(exited, &status);
  EXPECT_EQ(status.how_case(), ExitStatus::kExitCode);
  EXPECT_EQ(status.exit_code(), 3);
  EXPECT_EQ(status.duration_us(), 12000u);
  EXPECT_FALSE(status.stdout_truncated());
  EXPECT_TRUE(status.stderr_truncated());
  EXPECT_FALSE(status.timed_out());

  ProcessResult killed;
  killed.term_signal = SIGTERM;
  killed.timed_out = true;
  killed.stdout_truncated = true;
  status.Clear();
  FillExitStatus(killed, &status);
  EXPECT_EQ(status.how_case(), ExitStatus::kSignal);
  EXPECT_EQ(status.signal(), SIGTERM);
  EXPECT_TRUE(status.timed_out());
  EXPECT_TRUE(status.stdout_truncated());
}

}  // namespace
}  // namespace framerpc::command
