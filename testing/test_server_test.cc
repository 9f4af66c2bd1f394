// TestServer serves a real service on 127.0.0.1:0, on a Unix socket and in-process, gives channels
// to it, reports a bad set-up as an error, and cleans up after itself.
#include "testing/test_server.h"

#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "services/echo/echo_service.h"

namespace framerpc::testing {
namespace {

absl::StatusOr<std::string> Say(Channel* channel, const std::string& text) {
  echo::EchoService::Stub stub(channel);
  ClientContext context;
  echo::SayRequest request;
  request.set_text(text);
  echo::SayReply reply;
  absl::Status status = stub.Say(&context, request, &reply);
  if (!status.ok()) return status;
  return reply.text();
}

TEST(TestServerTest, ServesOnALoopbackPortItPicked) {
  echo::EchoServiceImpl echo;
  absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start({&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(absl::StartsWith((*server)->address(), "127.0.0.1:")) << (*server)->address();
  EXPECT_NE((*server)->address(), "127.0.0.1:0");
  EXPECT_EQ(Say((*server)->channel(), "hi").value(), "hi");
  absl::StatusOr<std::unique_ptr<Channel>> other = (*server)->NewChannel();
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Say(other->get(), "again").value(), "again");
}

TEST(TestServerTest, ServesOnAUnixSocketAndRemovesIt) {
  echo::EchoServiceImpl echo;
  TestServerOptions options;
  options.unix_socket = true;
  std::string path;
  {
    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start({&echo}, options);
    ASSERT_TRUE(server.ok()) << server.status();
    ASSERT_TRUE(absl::StartsWith((*server)->address(), "unix:")) << (*server)->address();
    path = (*server)->address().substr(5);
    EXPECT_EQ(Say((*server)->channel(), "local").value(), "local");
  }
  struct stat st;
  EXPECT_NE(::stat(path.c_str(), &st), 0) << path << " is still there";
}

TEST(TestServerTest, ServesInProcessWithNoSocket) {
  echo::EchoServiceImpl echo;
  TestServerOptions options;
  options.in_process = true;
  absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start({&echo}, options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->address(), "in-process");
  EXPECT_EQ(Say((*server)->channel(), "in memory").value(), "in memory");
  absl::StatusOr<std::unique_ptr<Channel>> other = (*server)->NewChannel();
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(Say(other->get(), "again").value(), "again");
  EXPECT_EQ((*server)->server()->connection_count(), 2u);  // one in-memory connection each
}

TEST(TestServerTest, ASetUpErrorIsReturned) {
  echo::EchoServiceImpl echo;
  absl::StatusOr<std::unique_ptr<TestServer>> twice = TestServer::Start({&echo, &echo});
  EXPECT_FALSE(twice.ok());
}

}  // namespace
}  // namespace framerpc::testing
