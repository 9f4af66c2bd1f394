// The command service end to end: a real Server with CommandServiceImpl, called through the
// generated stub over TCP loopback and a Unix socket. What the in-memory tests (exec_test,
// command_runner_test) cannot show: the token in real metadata, cancellation and deadlines
// arriving from the client, and bulk output through the transport's flow control.
#include "services/command/command_service.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/auth/shared_secret.h"
#include "services/command/command_test_util.h"
#include "services/command/process_test_util.h"

namespace framerpc::command {
namespace {

using test::Argv;
using test::kSafetyTimeout;
using test::Shell;

constexpr char kToken[] = "e2e-token-0123456789abcdef";

// A fresh directory for a Unix socket: under /tmp, as socket paths are limited to 107 bytes and
// Bazel's TEST_TMPDIR is often longer.
std::string ShortTempDir() {
  std::string pattern = "/tmp/frpccmdXXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

class CommandServiceTest : public ::testing::TestWithParam<bool /*unix socket*/> {
 protected:
  void SetUp() override {
    CommandServiceConfig config = test::TestConfig();
    config.allow_shell = true;
    config.exec_output_limit = size_t{128} << 20;
    config.access =
        auth::AccessPolicy().AcceptToken(auth::SharedSecret::FromToken(kToken).value());
    Start(std::move(config));
  }

  void Start(CommandServiceConfig config) {
    absl::StatusOr<std::unique_ptr<CommandServiceImpl>> service =
        CommandServiceImpl::Create(std::move(config));
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
    ServerOptions options;
    options.io_threads = 2;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(service_.get(), ServiceOptions{.run_inline = false}).ok());
    if (GetParam()) socket_dir_ = ShortTempDir();
    const std::string address =
        GetParam() ? absl::StrCat("unix:", socket_dir_, "/s.sock") : "127.0.0.1:0";
    ASSERT_TRUE(server_->AddListener(address).ok());
    ASSERT_TRUE(server_->Start().ok());
    absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(server_->listen_address(0));
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
    stub_ = std::make_unique<CommandService::Stub>(channel_.get());
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    if (!socket_dir_.empty()) {
      ::unlink(absl::StrCat(socket_dir_, "/s.sock").c_str());
      ::rmdir(socket_dir_.c_str());
    }
  }

  static void Authorize(ClientContext* context) {
    context->AddMetadata(auth::kAuthorizationKey, auth::AuthorizationValue(kToken));
  }

  using ExecClient = ClientReaderWriter<ExecRequest, ExecResponse>;

  std::unique_ptr<ExecClient> StartExec(ClientContext* context, const CommandSpec& command,
                                        bool stream_stdin = false) {
    std::unique_ptr<ExecClient> exec = stub_->Exec(context);
    ExecRequest start;
    *start.mutable_start()->mutable_command() = command;
    start.mutable_start()->set_stream_stdin(stream_stdin);
    EXPECT_TRUE(exec->Write(start));
    if (!stream_stdin) {
      EXPECT_TRUE(exec->WritesDone());
    }
    return exec;
  }

  // The next stdout message.
  static std::string NextStdout(ExecClient& exec) {
    ExecResponse response;
    if (!exec.Read(&response) || !response.has_stdout()) return "";
    return response.stdout();
  }

  // Pidfds of the `n` processes that carry `token` (see process_test_util.h).
  static std::vector<int> PidfdsOf(const std::string& token, size_t n) {
    std::vector<int> pidfds;
    for (pid_t pid : test::WaitForPidsWith(token, n)) pidfds.push_back(test::OpenPidfd(pid));
    return pidfds;
  }

  // Whether every process behind `pidfds` exits (-1: it was already gone when opened).
  static bool AllExit(const std::vector<int>& pidfds) {
    bool all = true;
    for (int fd : pidfds) {
      if (fd < 0) continue;
      all = test::WaitForPidfd(fd, kSafetyTimeout) && all;
      ::close(fd);
    }
    return all;
  }

  std::string socket_dir_;
  std::unique_ptr<CommandServiceImpl> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<CommandService::Stub> stub_;
};

INSTANTIATE_TEST_SUITE_P(Transports, CommandServiceTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Unix" : "Tcp"; });

TEST_P(CommandServiceTest, RunOverTheWire) {
  ClientContext context;
  Authorize(&context);
  RunRequest request;
  *request.mutable_command() = Argv({"/bin/cat"});
  request.set_stdin("through the wire");
  RunResponse response;
  absl::Status status = stub_->Run(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(response.stdout(), "through the wire");
  EXPECT_EQ(response.exit().exit_code(), 0);
}

TEST_P(CommandServiceTest, TokenIsRequiredInTheMetadata) {
  RunRequest request;
  *request.mutable_command() = Argv({"/bin/true"});
  RunResponse response;
  {
    ClientContext context;
    EXPECT_EQ(stub_->Run(&context, request, &response).code(),
              absl::StatusCode::kUnauthenticated);
  }
  {
    ClientContext context;
    context.AddMetadata(auth::kAuthorizationKey, "Bearer not-the-token-0123456789");
    EXPECT_EQ(stub_->Run(&context, request, &response).code(),
              absl::StatusCode::kUnauthenticated);
  }
  {
    // The server refuses before it reads anything, so the call may already have ended when the
    // start message is written: Write() and WritesDone() may fail; the status is what counts.
    ClientContext context;
    std::unique_ptr<ExecClient> exec = stub_->Exec(&context);
    ExecRequest start;
    *start.mutable_start()->mutable_command() = Argv({"/bin/true"});
    exec->Write(start);
    exec->WritesDone();
    ExecResponse ignored;
    EXPECT_FALSE(exec->Read(&ignored));
    EXPECT_EQ(exec->Finish().code(), absl::StatusCode::kUnauthenticated);
  }
  ClientContext context;
  Authorize(&context);
  EXPECT_TRUE(stub_->Run(&context, request, &response).ok());
}

// ThreadSanitizer slows the transport some fifty-fold; races show as well with less data.
#if defined(__SANITIZE_THREAD__)
constexpr size_t kBulkMebibytes = 16;
#else
constexpr size_t kBulkMebibytes = 100;
#endif

// 100 MiB of random bytes through Exec and the transport's flow control arrive byte-identical.
TEST_P(CommandServiceTest, HundredMebibytesThroughExec) {
  constexpr size_t kSize = kBulkMebibytes << 20;
  std::string data(kSize, '\0');
  std::mt19937_64 random(11);
  for (size_t i = 0; i + 8 <= kSize; i += 8) {
    const uint64_t word = random();
    std::memcpy(&data[i], &word, 8);
  }
  const std::string path = absl::StrCat(test::MakeTempDir(), "/data");
  {
    FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    ASSERT_EQ(std::fwrite(data.data(), 1, kSize, file), kSize);
    std::fclose(file);
  }
  const auto start = std::chrono::steady_clock::now();
  ClientContext context;
  Authorize(&context);
  std::unique_ptr<ExecClient> exec = StartExec(&context, Argv({"/bin/cat", path}));
  size_t received = 0;
  int mismatches = 0;
  std::optional<ExitStatus> exit;
  ExecResponse response;
  while (exec->Read(&response)) {
    if (response.has_exit()) {
      exit = response.exit();
      continue;
    }
    const std::string& chunk = response.stdout();
    if (received + chunk.size() > kSize ||
        std::memcmp(chunk.data(), data.data() + received, chunk.size()) != 0) {
      ++mismatches;
    }
    received += chunk.size();
  }
  absl::Status status = exec->Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(received, kSize);
  EXPECT_EQ(mismatches, 0);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code(), 0);
  EXPECT_FALSE(exit->stdout_truncated());
  std::printf("%zu MiB through Exec over %s in %.2f s: %.0f MiB/s\n", kBulkMebibytes,
              GetParam() ? "Unix" : "TCP", seconds, kBulkMebibytes / seconds);
  // Generous: under 0.1 s here on 2 cores (1 s for 16 MiB under ThreadSanitizer). Stalls on
  // flow control or timers instead of events would take far longer.
  EXPECT_LT(seconds, 20.0);
}

TEST_P(CommandServiceTest, StreamedStdinRoundTrip) {
  ClientContext context;
  Authorize(&context);
  std::unique_ptr<ExecClient> exec =
      StartExec(&context, Argv({"/bin/cat"}), /*stream_stdin=*/true);
  std::string input(4 << 20, '\0');
  std::mt19937 random(3);
  for (char& c : input) c = static_cast<char>(random());
  // Write and read at once, as the CLI does: cat's output fills the windows otherwise.
  std::thread writer([&] {
    for (size_t at = 0; at < input.size(); at += 64 << 10) {
      ExecRequest request;
      request.set_stdin(input.substr(at, 64 << 10));
      ASSERT_TRUE(exec->Write(request));
    }
    ExecRequest close;
    close.set_close_stdin(true);
    EXPECT_TRUE(exec->Write(close));
  });
  std::string output;
  ExecResponse response;
  while (exec->Read(&response) && !response.has_exit()) output += response.stdout();
  writer.join();
  ASSERT_TRUE(response.has_exit());
  EXPECT_EQ(response.exit().exit_code(), 0);
  EXPECT_TRUE(exec->WritesDone());  // the call ends at the half-close
  EXPECT_FALSE(exec->Read(&response));
  EXPECT_TRUE(exec->Finish().ok());
  EXPECT_EQ(output.size(), input.size());
  EXPECT_TRUE(output == input);
}

TEST_P(CommandServiceTest, ExecTimeoutIsInTheExitStatus) {
  ClientContext context;
  Authorize(&context);
  CommandSpec spec = Argv({"/bin/sleep", "1000"});
  spec.set_timeout_ms(200);
  std::unique_ptr<ExecClient> exec = StartExec(&context, spec);
  ExecResponse response;
  ASSERT_TRUE(exec->Read(&response));
  ASSERT_TRUE(response.has_exit());
  EXPECT_TRUE(response.exit().timed_out());
  EXPECT_EQ(response.exit().signal(), SIGTERM);
  EXPECT_TRUE(exec->Finish().ok());
}

TEST_P(CommandServiceTest, RunTimeoutIsDeadlineExceeded) {
  ClientContext context;
  Authorize(&context);
  RunRequest request;
  *request.mutable_command() = Argv({"/bin/sleep", "1000"});
  request.mutable_command()->set_timeout_ms(200);
  RunResponse response;
  EXPECT_EQ(stub_->Run(&context, request, &response).code(),
            absl::StatusCode::kDeadlineExceeded);
}

// The client cancels while the command runs silently: the command and what it started are
// killed. (The client's call may end before the server has reaped them: wait on their pidfds.)
TEST_P(CommandServiceTest, CancelKillsTheCommand) {
  const std::string token = test::UniqueToken();
  ClientContext context;
  Authorize(&context);
  std::unique_ptr<ExecClient> exec =
      StartExec(&context, Shell(absl::StrCat("sleep ", token, " & echo ready; wait")));
  ASSERT_EQ(NextStdout(*exec), "ready\n");
  const std::vector<int> pidfds = PidfdsOf(token, 2);  // the shell and the sleep
  EXPECT_EQ(pidfds.size(), 2u);
  context.TryCancel();
  EXPECT_EQ(exec->Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(AllExit(pidfds));
  test::KillProcessesWith(token);
}

// The call's deadline passes mid-command: the same.
TEST_P(CommandServiceTest, CallDeadlineKillsTheCommand) {
  const std::string token = test::UniqueToken();
  ClientContext context;
  Authorize(&context);
  context.set_timeout(absl::Seconds(1));
  std::unique_ptr<ExecClient> exec =
      StartExec(&context, Shell(absl::StrCat("sleep ", token, " & echo ready; wait")));
  ASSERT_EQ(NextStdout(*exec), "ready\n");
  const std::vector<int> pidfds = PidfdsOf(token, 2);
  EXPECT_EQ(pidfds.size(), 2u);
  ExecResponse response;
  EXPECT_FALSE(exec->Read(&response));
  EXPECT_EQ(exec->Finish().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(AllExit(pidfds));
  test::KillProcessesWith(token);
}

TEST_P(CommandServiceTest, AllowlistRefusesOverTheWire) {
  ClientContext context;
  Authorize(&context);
  RunRequest request;
  *request.mutable_command() = Argv({"/bin/rm", "-rf", "/"});
  RunResponse response;
  absl::Status status = stub_->Run(&context, request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "program '/bin/rm' is not in the allowlist");
}

}  // namespace
}  // namespace framerpc::command
