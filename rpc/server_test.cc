// Errors of the Server and Channel set-up APIs: each has a clear status and leaves things usable.
#include "rpc/server.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "services/echo/echo_service.h"

namespace framerpc {
namespace {

TEST(ServerSetupTest, BadListenAddressesAreRefused) {
  Server server;
  EXPECT_EQ(server.AddListener("nope").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.AddListener("127.0.0.1:99999").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.AddListener("unix:").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServerSetupTest, PortInUseIsAlreadyExists) {
  Server first;
  ASSERT_TRUE(first.AddListener("127.0.0.1:0").ok());
  Server second;
  absl::Status status = second.AddListener(first.listen_address(0));
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
}

TEST(ServerSetupTest, StartNeedsAListenerAndHappensOnce) {
  Server server;
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(server.AddListener("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kFailedPrecondition);
  echo::EchoServiceImpl echo;
  EXPECT_EQ(server.AddService(&echo).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(server.AddListener("127.0.0.1:0").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ServerSetupTest, AServiceCannotBeAddedTwice) {
  Server server;
  echo::EchoServiceImpl first;
  echo::EchoServiceImpl second;
  ASSERT_TRUE(server.AddService(&first).ok());
  absl::Status status = server.AddService(&second);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "method /framerpc.echo.EchoService/Say is already served");
}

TEST(ServerSetupTest, BusyPollOutsideZeroToOneSecondIsRefusedAtStart) {
  for (absl::Duration bad : {absl::Microseconds(-1), absl::Seconds(1) + absl::Nanoseconds(1)}) {
    ServerOptions options;
    options.busy_poll = bad;
    Server server(options);
    ASSERT_TRUE(server.AddListener("127.0.0.1:0").ok());
    absl::Status status = server.Start();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(),
              absl::StrCat("busy_poll must be between 0 and 1s, got ", absl::FormatDuration(bad)));
  }
  ServerOptions options;
  options.busy_poll = absl::Seconds(1);
  Server server(options);
  ASSERT_TRUE(server.AddListener("127.0.0.1:0").ok());
  EXPECT_TRUE(server.Start().ok());
}

TEST(ChannelSetupTest, BusyPollOutsideZeroToOneSecondIsInvalidArgument) {
  ChannelOptions options;
  options.busy_poll = absl::Milliseconds(-5);
  absl::Status status = Channel::Create("127.0.0.1:1", options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "busy_poll must be between 0 and 1s, got -5ms");
  options.busy_poll = absl::Seconds(2);
  EXPECT_EQ(Channel::Create("127.0.0.1:1", options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Channel::Create("udp:127.0.0.1:1", options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChannelSetupTest, BadTargetIsInvalidArgument) {
  EXPECT_EQ(Channel::Create("no-port").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Channel::Create("udp:nope").status().code(), absl::StatusCode::kInvalidArgument);
}

// "unix:@name" is a Linux abstract socket: no file appears, not even a relative "@name" in the
// working directory (as it did before abstract names were parsed), and calls reach the server.
TEST(ServerSetupTest, AbstractUnixSocketIsServedWithoutAFile) {
  char dir_template[] = "/tmp/framerpc-abstract-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  char old_cwd[PATH_MAX];
  ASSERT_NE(::getcwd(old_cwd, sizeof old_cwd), nullptr);
  ASSERT_EQ(::chdir(dir_template), 0);
  const std::string name = absl::StrCat("framerpc-server-test-", ::getpid());
  {
    Server server;
    echo::EchoServiceImpl echo;
    ASSERT_TRUE(server.AddService(&echo).ok());
    ASSERT_TRUE(server.AddListener("unix:@" + name).ok());
    EXPECT_EQ(server.listen_address(0), "unix:@" + name);
    ASSERT_TRUE(server.Start().ok());
    struct stat st;
    EXPECT_NE(::lstat(("@" + name).c_str(), &st), 0) << "a file named @" << name << " was created";
    // The name is taken while the server holds it.
    Server second;
    EXPECT_EQ(second.AddListener("unix:@" + name).code(), absl::StatusCode::kAlreadyExists);

    auto channel = Channel::Create("unix:@" + name);
    ASSERT_TRUE(channel.ok()) << channel.status();
    echo::EchoService::Stub stub(channel->get());
    ClientContext context;
    echo::SayRequest request;
    request.set_text("abstract");
    echo::SayReply reply;
    ASSERT_TRUE(stub.Say(&context, request, &reply).ok());
    EXPECT_EQ(reply.text(), "abstract");
  }
  EXPECT_EQ(::chdir(old_cwd), 0);
  EXPECT_EQ(::rmdir(dir_template), 0) << "the directory is not empty";
}

class ChannelLimitTest : public testing::TestWithParam<bool> {};

TEST_P(ChannelLimitTest, RequestOverTheClientsLimitFailsBeforeSending) {
  Server server;
  echo::EchoServiceImpl echo;
  ASSERT_TRUE(server.AddService(&echo).ok());
  ASSERT_TRUE(server.AddListener("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());
  ChannelOptions options;
  options.limits.max_body_bytes = 1024;
  options.max_sync_connections = GetParam() ? 4 : 0;
  auto channel = Channel::Create(server.listen_address(0), options);
  ASSERT_TRUE(channel.ok());
  echo::EchoService::Stub stub(channel->get());
  ClientContext context;
  echo::SayRequest request;
  request.set_text(std::string(2000, 'x'));
  echo::SayReply reply;
  absl::Status status = stub.Say(&context, request, &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(server.connection_count(), 0u);  // Nothing was sent, nor even connected.
  // A call within the limit still works.
  ClientContext ok_context;
  request.set_text("fits");
  EXPECT_TRUE(stub.Say(&ok_context, request, &reply).ok());
  EXPECT_EQ(reply.text(), "fits");
}

INSTANTIATE_TEST_SUITE_P(BothClientPaths, ChannelLimitTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "CallerDriven" : "Multiplexed";
                         });

}  // namespace
}  // namespace framerpc
