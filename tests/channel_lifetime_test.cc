// A ClientContext outlives the channel its call ran on: TryCancel() afterwards must not reach the
// destroyed channel (it did, through the canceller pointer bound at the start of the call: a
// use-after-free that --config=asan reports). Every kind of call is checked: a blocking call on
// the caller-driven path and on the multiplexed connection, an asynchronous call, a stream, and a
// UDP call.
#include <memory>
#include <string>

#include "base/notification.h"

#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "rpc/udp_server.h"
#include "services/echo/echo_service.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"
#include "transport/event_loop_thread.h"

namespace framerpc {
namespace {

class ChannelLifetimeTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&streams_));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
  }

  std::unique_ptr<Channel> NewChannel(size_t sync_connections) {
    ChannelOptions options;
    options.max_sync_connections = sync_connections;
    auto channel = Channel::Create(server_->listen_address(0), options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *std::move(channel) : nullptr;
  }

  echo::EchoServiceImpl echo_;
  test::StreamTestServiceImpl streams_;
  std::unique_ptr<Server> server_;
};

// One blocking Say through `channel`, then the channel goes, then the context is cancelled.
void SayThenCancelAfterTheChannel(std::unique_ptr<Channel> channel) {
  ClientContext context;
  {
    echo::EchoService::Stub stub(channel.get());
    echo::SayRequest request;
    request.set_text("hi");
    echo::SayReply reply;
    FRPC_ASSERT_OK(stub.Say(&context, request, &reply));
  }
  channel.reset();
  context.TryCancel();  // a no-op: the call is over
  EXPECT_TRUE(context.cancel_requested());
}

TEST_F(ChannelLifetimeTest, TryCancelAfterABlockingCallOnTheCallerDrivenPath) {
  SayThenCancelAfterTheChannel(NewChannel(4));
}

TEST_F(ChannelLifetimeTest, TryCancelAfterABlockingCallOnTheMultiplexedConnection) {
  SayThenCancelAfterTheChannel(NewChannel(0));
}

TEST_F(ChannelLifetimeTest, TryCancelAfterAnAsynchronousCall) {
  std::unique_ptr<Channel> channel = NewChannel(4);
  ClientContext context;
  echo::SayRequest request;
  echo::SayReply reply;
  Notification done;
  absl::Status status;
  channel->StartCall("/framerpc.echo.EchoService/Say", &context, request, &reply,
                     [&](absl::Status s) {
                       status = s;
                       done.Notify();
                     });
  done.WaitForNotification();
  FRPC_ASSERT_OK(status);
  channel.reset();
  context.TryCancel();
}

TEST_F(ChannelLifetimeTest, TryCancelAfterAStream) {
  std::unique_ptr<Channel> channel = NewChannel(4);
  ClientContext context;
  {
    test::StreamTestService::Stub stub(channel.get());
    test::CountRequest request;
    request.set_count(2);
    auto reader = stub.Count(&context, request);
    test::Chunk chunk;
    while (reader->Read(&chunk)) {
    }
    FRPC_ASSERT_OK(reader->Finish());
  }
  channel.reset();
  context.TryCancel();
}

TEST_F(ChannelLifetimeTest, TryCancelOfACallTheDestroyedChannelCancelled) {
  std::unique_ptr<Channel> channel = NewChannel(0);
  ClientContext context;
  test::CountRequest request;
  request.set_forever(true);
  test::StreamTestService::Stub stub(channel.get());
  auto reader = stub.Count(&context, request);
  test::Chunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  channel.reset();  // ends the stream with CANCELLED "channel destroyed"
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kCancelled);
  context.TryCancel();
}

TEST(UdpChannelLifetimeTest, TryCancelAfterAUdpCall) {
  Dispatcher dispatcher{FrameLimits{}, 1};
  echo::EchoServiceImpl echo;
  FRPC_ASSERT_OK(dispatcher.AddService(&echo));
  EventLoopThread loop;
  UdpServer server(loop.loop(), &dispatcher);
  FRPC_ASSERT_OK(server.Bind("127.0.0.1:0"));
  FRPC_ASSERT_OK(server.Start());
  auto channel = Channel::Create("udp:" + server.local_address().ToString());
  FRPC_ASSERT_OK(channel.status());
  SayThenCancelAfterTheChannel(*std::move(channel));
  server.Stop();
}

}  // namespace
}  // namespace framerpc
