#include "services/command/supervisor_executable.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/command/spawn.h"
#include "services/command/supervisor.h"
#include "services/command/supervisor_args.h"

namespace framerpc::command {
namespace {

std::string TempDir() {
  std::string pattern = "/tmp/frpc-supervisor-XXXXXX";
  return ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

TEST(SupervisorExecutableTest, CandidatesInOrder) {
  EXPECT_EQ(SupervisorCandidates("/opt/frpc/bin/framerpc_server", "/r", "/t"),
            (std::vector<std::string>{
                "/opt/frpc/bin/framerpc_supervisor",
                "/opt/frpc/bin/framerpc_server.runfiles/framerpc/services/command/"
                "framerpc_supervisor",
                "/r/framerpc/services/command/framerpc_supervisor",
                "/t/framerpc/services/command/framerpc_supervisor",
            }));
  EXPECT_EQ(SupervisorCandidates("", "", "").size(), 0u);
}

TEST(SupervisorExecutableTest, RefusesUnusablePaths) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  const std::string plain = dir + "/plain";
  WriteFile(plain, "not a program", 0644);
  EXPECT_EQ(UseSupervisorExecutable("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UseSupervisorExecutable("framerpc_supervisor").code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status missing = UseSupervisorExecutable(dir + "/missing");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find(dir + "/missing"), absl::string_view::npos) << missing;
  EXPECT_EQ(UseSupervisorExecutable(dir).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(UseSupervisorExecutable(plain).code(), absl::StatusCode::kPermissionDenied);
  ::unlink(plain.c_str());
  ::rmdir(dir.c_str());
}

// The supervisor this test was built with is found in its runfiles, and says so on its status
// descriptor when its command line is not one it understands.
TEST(SupervisorExecutableTest, BinaryReportsBadArguments) {
  absl::StatusOr<int> fd = SupervisorExecutableFd();
  ASSERT_TRUE(fd.ok()) << fd.status();
  int status_pipe[2];
  ASSERT_EQ(::pipe2(status_pipe, O_CLOEXEC), 0);
  char* argv[] = {const_cast<char*>("framerpc-supervisor"),
                  const_cast<char*>("--framerpc-supervisor-v0"), const_cast<char*>("pidns"),
                  const_cast<char*>("50"), nullptr};
  char* envp[] = {nullptr};
  const pid_t pid = ::fork();  // this test has no other threads
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::dup2(status_pipe[1], 50) == 50) {  // above ours (the supervisor's may be 3)
      ::syscall(SYS_execveat, *fd, "", argv, envp, AT_EMPTY_PATH);
    }
    _exit(127);
  }
  ::close(status_pipe[1]);
  SupervisorMessage message = {};
  EXPECT_EQ(::read(status_pipe[0], &message, sizeof message), static_cast<ssize_t>(sizeof message));
  EXPECT_EQ(message.kind, SupervisorMessage::kBadArguments);
  ::close(status_pipe[0]);
  int wait_status;
  ASSERT_EQ(::waitpid(pid, &wait_status, 0), pid);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 2) << wait_status;
}

// In a child process of its own (the supervisor in use is fixed for a process): a supervisor that
// cannot be executed, or exits without reporting, is an error of the spawn, and nothing crashes.
class SupervisorFailureTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(SupervisorFailureTest, NotExecutableFormat) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  const std::string bogus = dir + "/framerpc_supervisor";
  WriteFile(bogus, "\x7f" "ELF but not really", 0755);
  EXPECT_EXIT(
      {
        if (!UseSupervisorExecutable(bogus).ok()) _exit(3);
        const absl::Status status = ProbePidNamespace();
        const bool named = status.message().find("supervisor") != absl::string_view::npos;
        _exit(!status.ok() && named ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  ::unlink(bogus.c_str());
  ::rmdir(dir.c_str());
}

TEST_F(SupervisorFailureTest, ExitsWithoutReporting) {
  EXPECT_EXIT(
      {
        if (!UseSupervisorExecutable("/bin/true").ok()) _exit(3);
        SpawnRequest request;
        request.program_fd = ::open("/bin/true", O_PATH | O_CLOEXEC);
        request.program_name = "/bin/true";
        request.argv = {"true"};
        request.containment = Containment::kSubreaper;
        const absl::StatusOr<SpawnedChild> child = SpawnChild(request);
        _exit(child.status().code() == absl::StatusCode::kInternal ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace framerpc::command
