// The client side of UDP mode: Channel::Create("udp:...") against a real UdpServer.
#include <sys/socket.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/dispatcher.h"
#include "rpc/udp_server.h"
#include "services/echo/echo_service.h"
#include "tests/test_util.h"
#include "transport/event_loop_thread.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

class UdpChannelTest : public testing::Test {
 protected:
  void SetUp() override {
    FRPC_ASSERT_OK(dispatcher_.AddService(&echo_));
    udp_ = std::make_unique<UdpServer>(loop_.loop(), &dispatcher_);
    FRPC_ASSERT_OK(udp_->Bind("127.0.0.1:0"));
    FRPC_ASSERT_OK(udp_->Start());
    auto channel = Channel::Create("udp:" + udp_->local_address().ToString());
    FRPC_ASSERT_OK(channel.status());
    channel_ = *std::move(channel);
  }
  void TearDown() override {
    channel_.reset();
    if (udp_) udp_->Stop();
  }

  echo::EchoServiceImpl echo_;
  Dispatcher dispatcher_{FrameLimits{}, 1};
  EventLoopThread loop_;
  std::unique_ptr<UdpServer> udp_;
  std::unique_ptr<Channel> channel_;
};

TEST_F(UdpChannelTest, SayOverOneDatagramEachWay) {
  echo::EchoService::Stub stub(channel_.get());
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  echo::SayRequest request;
  request.set_text("datagram");
  request.set_uppercase(true);
  echo::SayReply reply;
  FRPC_ASSERT_OK(stub.Say(&context, request, &reply));
  EXPECT_EQ(reply.text(), "DATAGRAM");
  // Counted before the reply is produced, so it is visible once the reply has arrived.
  EXPECT_EQ(udp_->datagrams_received(), 1u);
}

TEST_F(UdpChannelTest, AttachmentRoundTrip) {
  echo::EchoService::Stub stub(channel_.get());
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  context.set_request_attachment(std::string(30000, 'u'));
  echo::BytesReply reply;
  FRPC_ASSERT_OK(stub.Bytes(&context, echo::BytesRequest(), &reply));
  EXPECT_EQ(reply.size(), 30000u);
  EXPECT_EQ(context.response_attachment(), std::string(30000, 'u'));
}

TEST_F(UdpChannelTest, UnknownMethodIsUnimplemented) {
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  echo::SayReply reply;
  absl::Status status = channel_->Call("/nope.Nope/Nope", &context, echo::SayRequest(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << status;
}

TEST_F(UdpChannelTest, RequestOverTheDatagramLimitFailsLocally) {
  echo::EchoService::Stub stub(channel_.get());
  ClientContext context;
  context.set_request_attachment(std::string(70000, 'x'));
  echo::BytesReply reply;
  absl::Status status = stub.Bytes(&context, echo::BytesRequest(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(udp_->datagrams_received(), 0u);
}

TEST(UdpChannelNoServerTest, LostReplyEndsWithDeadlineExceeded) {
  // A bound UDP socket that never answers: the request is "lost".
  auto address = SocketAddress::Parse("127.0.0.1:0");
  ScopedFd silent(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(silent.get(), address->sockaddr_ptr(), address->length()), 0);
  auto channel = Channel::Create("udp:" + LocalAddress(silent.get()).ToString());
  FRPC_ASSERT_OK(channel.status());
  ClientContext context;
  context.set_timeout(absl::Milliseconds(50));
  echo::SayReply reply;
  absl::Status status =
      (*channel)->Call("/framerpc.echo.EchoService/Say", &context, echo::SayRequest(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
}

TEST(UdpChannelNoServerTest, CancelCompletesTheCall) {
  auto address = SocketAddress::Parse("127.0.0.1:0");
  ScopedFd silent(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(silent.get(), address->sockaddr_ptr(), address->length()), 0);
  auto channel = Channel::Create("udp:" + LocalAddress(silent.get()).ToString());
  FRPC_ASSERT_OK(channel.status());
  ClientContext context;
  echo::SayReply reply;
  Notification done;
  absl::Status status;
  (*channel)->StartCall("/framerpc.echo.EchoService/Say", &context, echo::SayRequest(), &reply,
                        [&](absl::Status s) {
                          status = std::move(s);
                          done.Notify();
                        });
  context.TryCancel();
  done.WaitForNotification();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
}

TEST(UdpChannelNoServerTest, UnixAddressIsRejected) {
  auto channel = Channel::Create("udp:unix:/tmp/x.sock");
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc
