// What a command can and cannot see or do: no shell between argv and execve, program and
// directory checks before spawning, a scrubbed environment, no inherited descriptors, default
// signal dispositions.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "services/command/executable.h"
#include "services/command/process.h"
#include "services/command/process_test_util.h"
#include "services/command/shell_command.h"

namespace framerpc::command {
namespace {

using test::FileExists;
using test::Options;
using test::RunChecked;

void WriteFile(const std::string& path, const std::string& contents, mode_t mode) {
  std::ofstream(path) << contents;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(ProcessIsolationTest, InjectionStringsInArgvNeverReachAShell) {
  const std::string dir = test::MakeTempDir();
  const std::string canary = dir + "/CANARY";
  WriteFile(canary, "alive", 0644);
  const std::vector<std::string> args = {
      "; rm -f " + canary,
      "$(touch " + dir + "/SUBST)",
      "`touch " + dir + "/BACKTICK`",
      "x\nrm -f " + canary,
      "| rm -f " + canary,
      "&& rm -f " + canary,
      "> " + dir + "/REDIRECT",
      "$HOME ~ * ' \"",
  };
  std::vector<std::string> argv = {"/bin/echo"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options = Options(argv);
  options.working_directory = test::OpenDir(dir);
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.exit_code, 0);
  EXPECT_EQ(out.stdout_bytes, absl::StrJoin(args, " ") + "\n");  // echo saw the literal strings
  EXPECT_TRUE(FileExists(canary));
  EXPECT_FALSE(FileExists(dir + "/SUBST"));
  EXPECT_FALSE(FileExists(dir + "/BACKTICK"));
  EXPECT_FALSE(FileExists(dir + "/REDIRECT"));
}

TEST(ProcessIsolationTest, MissingProgramIsNotFoundBeforeSpawning) {
  absl::StatusOr<ProcessOutput> out = RunToCompletion(Options({"framerpc-no-such-program"}));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound) << out.status();
  out = RunToCompletion(Options({"/nonexistent/dir/prog"}));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound) << out.status();
}

TEST(ProcessIsolationTest, ProgramIsResolvedAgainstTheChildsPath) {
  ProcessOptions missing = Options({"echo", "hi"});
  missing.env["PATH"] = "/nonexistent";
  EXPECT_EQ(RunToCompletion(std::move(missing)).status().code(), absl::StatusCode::kNotFound);
  ProcessOptions options = Options({"echo", "hi"});
  options.env["PATH"] = "/nonexistent:/bin";
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "hi\n");
}

TEST(ProcessIsolationTest, NonExecutableProgramIsPermissionDenied) {
  const std::string dir = test::MakeTempDir();
  WriteFile(dir + "/script", "#!/bin/sh\necho ran\n", 0644);
  EXPECT_EQ(RunToCompletion(Options({dir + "/script"})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RunToCompletion(Options({dir})).status().code(), absl::StatusCode::kPermissionDenied);
}

// execve, not execvp: a file without a #! line or ELF header is not handed to /bin/sh.
TEST(ProcessIsolationTest, ExecutableWithoutInterpreterIsNotRunByAShell) {
  const std::string dir = test::MakeTempDir();
  WriteFile(dir + "/noshebang", "touch " + dir + "/RAN\n", 0755);
  absl::StatusOr<ProcessOutput> out = RunToCompletion(Options({dir + "/noshebang"}));
  EXPECT_FALSE(out.ok());
  EXPECT_FALSE(FileExists(dir + "/RAN"));
}

TEST(ProcessIsolationTest, RelativeProgramPathIsRelativeToTheWorkingDirectory) {
  const std::string dir = test::MakeTempDir();
  WriteFile(dir + "/hello", "#!/bin/sh\necho hello from \"$PWD\"\n", 0755);
  ProcessOptions options = Options({"./hello"});
  options.working_directory = test::OpenDir(dir);
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.result.exit_code, 0) << out.stderr_bytes;
  EXPECT_EQ(out.stdout_bytes.rfind("hello from ", 0), 0u) << out.stdout_bytes;
}

TEST(ProcessIsolationTest, WorkingDirectoryIsUsed) {
  const std::string dir = test::MakeTempDir();
  char* real = ::realpath(dir.c_str(), nullptr);
  ASSERT_NE(real, nullptr);
  const std::string real_dir = real;
  ::free(real);
  ProcessOptions options = Options({"/bin/pwd", "-P"});
  options.working_directory = test::OpenDir(dir);
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, real_dir + "\n");
}

// The file opened before the spawn is what runs, whatever the path names by then: here a script
// (run through /dev/fd/N) replaced by another after it was opened.
TEST(ProcessIsolationTest, TheOpenedFileRunsNotWhatThePathNamesLater) {
  const std::string dir = test::MakeTempDir();
  WriteFile(dir + "/tool", "#!/bin/sh\necho original \"$@\"\n", 0755);
  WriteFile(dir + "/other", "#!/bin/sh\necho replacement\n", 0755);
  absl::StatusOr<ScopedFd> executable = OpenExecutable(AT_FDCWD, dir + "/tool");
  ASSERT_TRUE(executable.ok()) << executable.status();
  ASSERT_EQ(::rename((dir + "/other").c_str(), (dir + "/tool").c_str()), 0);
  ProcessOptions options = Options({dir + "/tool", "arg"});
  options.executable = *std::move(executable);
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "original arg\n") << out.stderr_bytes;
  EXPECT_EQ(out.result.exit_code, 0);
}

// An ELF program run through its descriptor does not inherit it.
TEST(ProcessIsolationTest, BinaryRunThroughItsDescriptorDoesNotSeeIt) {
  absl::StatusOr<ScopedFd> executable = OpenExecutable(AT_FDCWD, "/bin/ls");
  ASSERT_TRUE(executable.ok()) << executable.status();
  ProcessOptions options = Options({"ls", "/proc/self/fd"});
  options.executable = *std::move(executable);
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "0\n1\n2\n3\n") << out.stderr_bytes;
}

TEST(ProcessIsolationTest, EnvironmentIsOnlyWhatWasPassedPlusDefaultPath) {
  ASSERT_NE(::getenv("TEST_TMPDIR"), nullptr);  // set by Bazel in our own environment
  ProcessOptions options = Options({"/usr/bin/env"});
  options.env["FOO"] = "bar baz";
  options.env["EMPTY"] = "";
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes,
            absl::StrCat("EMPTY=\nFOO=bar baz\nPATH=", kDefaultPath, "\n"));
}

TEST(ProcessIsolationTest, CallersPathReplacesTheDefault) {
  ProcessOptions options = Options({"/usr/bin/env"});
  options.env["PATH"] = "/bin";
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "PATH=/bin\n");
}

// Descriptors this process leaks on purpose (no O_CLOEXEC) must not reach the child. ls lists
// /proc/self/fd through a directory stream of its own, which takes the lowest free number: 3.
TEST(ProcessIsolationTest, ChildHasOnlyStandardDescriptors) {
  const int leaked_a = ::open("/dev/null", O_RDONLY);
  const int leaked_b = ::open("/dev/null", O_RDONLY);
  const int leaked_c = ::dup(leaked_a);
  ASSERT_GE(leaked_c, 0);
  ProcessOptions options = Options({"/bin/ls", "/proc/self/fd"});
  options.stdin_bytes = "";  // a pipe too
  ProcessOutput out = RunChecked(std::move(options));
  EXPECT_EQ(out.stdout_bytes, "0\n1\n2\n3\n") << out.stderr_bytes;
  ::close(leaked_a);
  ::close(leaked_b);
  ::close(leaked_c);
}

// A server usually ignores SIGPIPE; its commands must not inherit that, or `yes | head` would
// see EPIPE errors instead of dying quietly.
TEST(ProcessIsolationTest, IgnoredSignalsAreResetInTheChild) {
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old), 0);
  ProcessOutput out = RunChecked(Options(ShellCommandArgv("yes | head -c 4")));
  ::sigaction(SIGPIPE, &old, nullptr);
  EXPECT_EQ(out.stdout_bytes, "y\ny\n");
  EXPECT_EQ(out.stderr_bytes, "");
}

// Nor may it inherit this thread's blocked signals: a blocked SIGTERM would turn every timeout
// into a SIGKILL after the grace.
TEST(ProcessIsolationTest, SignalMaskIsClearedInTheChild) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  ProcessOptions options = Options({"/bin/sleep", "1000"});
  options.timeout = absl::Milliseconds(100);
  options.kill_grace = absl::Seconds(10);  // a failure shows as SIGKILL, not a hang
  ProcessOutput out = RunChecked(std::move(options));
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(out.result.term_signal, SIGTERM) << out.result.DebugString();
}

}  // namespace
}  // namespace framerpc::command
