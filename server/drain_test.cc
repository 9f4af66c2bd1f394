// framerpc_server at SIGTERM with --drain_delay: the health service says NOT_SERVING at once,
// while the server goes on accepting and serving for the delay (so that a load balancer sees the
// change before the listeners close); a second signal ends the delay; the process exits cleanly.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/health/health.frpc.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"

extern char** environ;

namespace framerpc {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class DrainTest : public testing::Test {
 protected:
  void SetUp() override {
    const std::string server =
        absl::StrCat(std::getenv("TEST_SRCDIR"), "/framerpc/server/framerpc_server");
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<std::string> args = {server, "--listen=127.0.0.1:0", "--io_threads=1",
                                     "--drain_delay=300s"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    const std::string serving = ReadLineStartingWith("framerpc_server: serving ");
    address_ = serving.substr(25, serving.find_first_of(",\n", 25) - 25);
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ != nullptr) std::fclose(stdout_);
  }

  // Waits on the server's output for a line starting with `prefix`.
  std::string ReadLineStartingWith(const std::string& prefix) {
    char line[512];
    while (std::fgets(line, sizeof line, stdout_) != nullptr) {
      if (std::string(line).rfind(prefix, 0) == 0) return line;
    }
    ADD_FAILURE() << "no line starting with '" << prefix << "'";
    return "";
  }

  // A health check on a new connection (so that the listener is shown to accept).
  HealthCheckResponse::ServingStatus Health() {
    auto channel = Channel::Create(address_);
    EXPECT_TRUE(channel.ok());
    grpc::health::v1::Health::Stub stub(channel->get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    HealthCheckResponse response;
    absl::Status status = stub.Check(&context, HealthCheckRequest(), &response);
    EXPECT_TRUE(status.ok()) << status;
    return response.status();
  }

  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  std::string address_;
};

TEST_F(DrainTest, HealthTurnsNotServingAtOnceWhileServingGoesOnUntilTheDelayEnds) {
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  ReadLineStartingWith("framerpc_server: signal 15, health NOT_SERVING, draining for 5m");
  EXPECT_EQ(Health(), HealthCheckResponse::NOT_SERVING);
  auto channel = Channel::Create(address_);
  ASSERT_TRUE(channel.ok());
  echo::EchoService::Stub stub(channel->get());
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  echo::SayRequest request;
  request.set_text("during the drain");
  echo::SayReply reply;
  absl::Status status = stub.Say(&context, request, &reply);
  EXPECT_TRUE(status.ok()) << status;
  // A second signal ends the delay.
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  ReadLineStartingWith("framerpc_server: stopped");
  int wait_status = 0;
  ASSERT_EQ(::waitpid(pid_, &wait_status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << wait_status;
}

}  // namespace
}  // namespace framerpc
