// `framerpc_cli exec` against a real server with the command service: in-process for output,
// exit codes, stdin and the token; and as a separate process killed mid-command, which is how a
// client disconnects.
#include "cli/exec_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/cli.h"
#include "cli/known_services.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "services/auth/shared_secret.h"
#include "services/command/command_service.h"
#include "services/command/process.h"
#include "services/command/process_test_util.h"

namespace framerpc::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kToken[] = "cli-exec-token-0123456789";
// Bounds only a failing test.
constexpr absl::Duration kSafetyTimeout = absl::Seconds(30);

class ExecCommandTest : public ::testing::Test {
 protected:
  void Serve(bool with_token = false) {
    command::CommandServiceConfig config;
    config.allowed_programs = {"/bin/echo", "/bin/cat", "/bin/sh", "/bin/sleep"};
    config.allow_shell = true;
    config.access = with_token ? auth::AccessPolicy().AcceptToken(
                                     auth::SharedSecret::FromToken(kToken).value())
                               : auth::AccessPolicy::Open();
    service_ = command::CommandServiceImpl::Create(std::move(config)).value();
    ServerOptions options;
    options.io_threads = 1;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(service_.get(), {.run_inline = false}).ok());
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
    address_ = server_->listen_address(0);
    options_.exec.stdin_mode = ExecStdin::kNever;
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
  }

  int Exec(std::vector<std::string> words) {
    std::vector<std::string> args = {"exec", address_, "--"};
    args.insert(args.end(), words.begin(), words.end());
    std::istringstream in;
    std::ostringstream out;
    std::ostringstream err;
    const int code = RunCli(options_, registry_, args, in, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  std::unique_ptr<command::CommandServiceImpl> service_;
  std::unique_ptr<Server> server_;
  const MethodRegistry registry_{KnownServiceFiles()};
  std::string address_;
  CliOptions options_;
  std::string out_;
  std::string err_;
};

TEST_F(ExecCommandTest, PrintsTheOutputAndExitsWithTheCommandsCode) {
  Serve();
  EXPECT_EQ(Exec({"/bin/echo", "hello", "$(id)"}), 0) << err_;
  EXPECT_EQ(out_, "hello $(id)\n");
  EXPECT_EQ(err_, "");
  EXPECT_EQ(Exec({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}), 7);
  EXPECT_EQ(out_, "out\n");
  EXPECT_EQ(err_, "err\n");
}

TEST_F(ExecCommandTest, SignalsAre128PlusTheSignal) {
  Serve();
  EXPECT_EQ(Exec({"/bin/sh", "-c", "kill -KILL $$"}), 128 + SIGKILL);
  options_.exec.command_timeout = absl::Milliseconds(100);
  EXPECT_EQ(Exec({"/bin/sleep", "1000"}), 128 + SIGTERM);
  EXPECT_THAT(err_, HasSubstr("timed out"));
}

TEST_F(ExecCommandTest, ShellJoinsTheWords) {
  Serve();
  options_.exec.shell = true;
  EXPECT_EQ(Exec({"echo", "a", "|", "cat", ";", "exit", "3"}), 3);
  EXPECT_EQ(out_, "a\n");
}

TEST_F(ExecCommandTest, ForwardsStdin) {
  Serve();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const std::string input(300 << 10, 'x');
  std::thread feeder([&] {
    for (size_t at = 0; at < input.size();) {
      const ssize_t n = ::write(fds[1], input.data() + at, input.size() - at);
      ASSERT_GT(n, 0);
      at += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  options_.exec.stdin_mode = ExecStdin::kAlways;
  options_.exec.stdin_fd = fds[0];
  EXPECT_EQ(Exec({"/bin/cat"}), 0) << err_;
  feeder.join();
  ::close(fds[0]);
  EXPECT_EQ(out_.size(), input.size());
  EXPECT_TRUE(out_ == input);
}

// The command ends while our stdin is still open (nothing is ever written to it): exec still
// returns, with the command's code.
TEST_F(ExecCommandTest, ReturnsWhenTheCommandEndsBeforeItsStdin) {
  Serve();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  options_.exec.stdin_mode = ExecStdin::kAlways;
  options_.exec.stdin_fd = fds[0];
  EXPECT_EQ(Exec({"/bin/sh", "-c", "exit 5"}), 5) << err_;
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(ExecCommandTest, StdinNeverMeansDevNull) {
  Serve();
  EXPECT_EQ(Exec({"/bin/cat"}), 0) << err_;
  EXPECT_EQ(out_, "");
}

TEST_F(ExecCommandTest, FailuresAre255WithTheStatus) {
  Serve();
  EXPECT_EQ(Exec({"/bin/rm", "-rf", "/nonexistent"}), kExecFailed);
  EXPECT_EQ(err_, "ERROR: PERMISSION_DENIED: program '/bin/rm' is not in the allowlist\n");
  std::ostringstream out, err;
  std::istringstream in;
  EXPECT_EQ(RunCli(options_, registry_, {"exec", address_}, in, out, err), kExecFailed);
  EXPECT_THAT(err.str(), HasSubstr("no command to run"));
  address_ = "unix:/nonexistent-framerpc-exec-test/sock";
  EXPECT_EQ(Exec({"/bin/echo"}), kExecFailed);
  EXPECT_THAT(err_, HasSubstr("ERROR: UNAVAILABLE"));
}

TEST_F(ExecCommandTest, SendsTheTokenFromAFile) {
  Serve(/*with_token=*/true);
  EXPECT_EQ(Exec({"/bin/echo", "hi"}), kExecFailed);
  EXPECT_THAT(err_, HasSubstr("UNAUTHENTICATED"));
  options_.auth_token_file = absl::StrCat(::testing::TempDir(), "/token");
  const int fd = ::open(options_.auth_token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, kToken, sizeof(kToken) - 1), static_cast<ssize_t>(sizeof(kToken) - 1));
  ::close(fd);
  EXPECT_EQ(Exec({"/bin/echo", "hi"}), 0) << err_;
  EXPECT_EQ(out_, "hi\n");
}

// A client that disconnects mid-command: framerpc_cli, running as a process of its own, is
// killed while the command runs; the server kills the command and everything it started.
TEST_F(ExecCommandTest, ClientDisconnectKillsTheCommand) {
  Serve();
  const char* cli = std::getenv("FRAMERPC_CLI");
  ASSERT_NE(cli, nullptr);
  const std::string token = command::test::UniqueToken();
  command::ProcessOptions options;
  options.argv = {cli,       "--stdin=never", "exec", address_, "--", "/bin/sh", "-c",
                  absl::StrCat("sleep ", token, " & echo ready; wait")};
  absl::StatusOr<std::unique_ptr<command::Process>> client =
      command::Process::Spawn(std::move(options));
  ASSERT_TRUE(client.ok()) << client.status();
  std::string line;
  std::vector<int> pidfds;
  bool killed = false;
  (*client)->Wait([&](command::Stream which, absl::string_view bytes) {
    if (which != command::Stream::kStdout || killed) return;
    line.append(bytes.data(), bytes.size());
    if (line.find('\n') == std::string::npos) return;
    // The command's shell and its sleep (the client's own argv holds the token too: 3 in all).
    for (pid_t pid : command::test::WaitForPidsWith(token, 3)) {
      if (command::test::CommandLine(pid).find(cli) != 0) {
        pidfds.push_back(command::test::OpenPidfd(pid));
      }
    }
    killed = true;
    (*client)->Kill();  // SIGKILL: the connection drops without a word
  });
  EXPECT_EQ(line, "ready\n");
  EXPECT_EQ(pidfds.size(), 2u);
  for (int pidfd : pidfds) {
    if (pidfd < 0) continue;  // already gone
    EXPECT_TRUE(command::test::WaitForPidfd(pidfd, kSafetyTimeout));
    ::close(pidfd);
  }
  command::test::KillProcessesWith(token);
}

}  // namespace
}  // namespace framerpc::cli
