// A C++ Channel answers a server's keepalive PING (docs/protocol.md §9.1) with PING+ACK and the
// same ping_data, promptly, on every kind of connection it has: the multiplexed one (idle, or with
// a call in flight), a caller-driven blocking connection during its call, and one idle in the
// pool; an ACK is never answered. With ChannelOptions::keepalive_time the channel also pings a
// quiet server itself, and gives up on one that does not answer. The server is a raw socket
// played by the test.
#include <sys/socket.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "tests/raw_peer.h"
#include "tests/test_util.h"
#include "transport/frame_codec.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

using test::RawPeer;

constexpr uint64_t kData = 0xfedcba9876543210u;

Envelope Ping(uint64_t data, uint32_t flags = 0) {
  Envelope ping;
  ping.set_kind(PING);
  ping.set_flags(flags);
  ping.set_ping_data(data);
  return ping;
}

std::string SayResponse(uint64_t id, const std::string& text) {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(id);
  echo::SayReply reply;
  reply.set_text(text);
  return RawPeer::BuildFrame(envelope, reply.SerializeAsString());
}

// The next frame the client sends, which must be the ACK of a PING carrying `data`.
void ExpectAck(RawPeer* server, uint64_t data) {
  absl::StatusOr<Frame> frame = server->ReadFrame();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->envelope.kind(), PING) << frame->envelope.DebugString();
  EXPECT_EQ(frame->envelope.flags(), static_cast<uint32_t>(ACK));
  EXPECT_EQ(frame->envelope.ping_data(), data);
  EXPECT_EQ(frame->envelope.call_id(), 0u);
  EXPECT_TRUE(frame->payload.empty());
}

class PingTest : public testing::Test {
 protected:
  void SetUp() override {
    auto listener = Listen(*SocketAddress::Parse("127.0.0.1:0"), 16);
    FRPC_ASSERT_OK(listener.status());
    listener_ = *std::move(listener);
  }

  std::unique_ptr<Channel> NewChannel(size_t sync_connections) {
    ChannelOptions options;
    options.max_sync_connections = sync_connections;
    auto channel = Channel::Create(LocalAddress(listener_.get()).ToString(), options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return *std::move(channel);
  }

  // A Say through `channel` answered by the test's server, which is returned.
  RawPeer SayOnce(Channel* channel) {
    absl::Status status;
    std::thread caller([&] {
      echo::EchoService::Stub stub(channel);
      ClientContext context;
      echo::SayReply reply;
      status = stub.Say(&context, echo::SayRequest(), &reply);
    });
    absl::StatusOr<RawPeer> server = RawPeer::Accept(listener_.get());
    EXPECT_TRUE(server.ok()) << server.status();
    absl::StatusOr<Frame> request = server->ReadFrame();
    EXPECT_TRUE(request.ok()) << request.status();
    EXPECT_TRUE(server->SendBytes(SayResponse(request->envelope.call_id(), "said")));
    caller.join();
    FRPC_EXPECT_OK(status);
    return *std::move(server);
  }

  ScopedFd listener_;
};

TEST_F(PingTest, IdleMultiplexedConnectionAnswers) {
  std::unique_ptr<Channel> channel = NewChannel(0);
  RawPeer server = SayOnce(channel.get());  // now open and idle
  ASSERT_TRUE(server.SendFrame(Ping(kData)));
  ExpectAck(&server, kData);
}

TEST_F(PingTest, AnAckIsNotAnswered) {
  std::unique_ptr<Channel> channel = NewChannel(0);
  RawPeer server = SayOnce(channel.get());
  // Both in one write: an answer to the ACK would be the first frame back.
  ASSERT_TRUE(server.SendBytes(RawPeer::BuildFrame(Ping(5, ACK), "") +
                               RawPeer::BuildFrame(Ping(6), "")));
  ExpectAck(&server, 6);
}

TEST_F(PingTest, MultiplexedConnectionWithACallInFlightAnswers) {
  std::unique_ptr<Channel> channel = NewChannel(0);
  echo::SayRequest request;
  echo::SayReply reply;
  ClientContext context;
  Notification done;
  absl::Status status;
  channel->StartCall("/framerpc.echo.EchoService/Say", &context, request, &reply,
                     [&](absl::Status s) {
                       status = s;
                       done.Notify();
                     });
  absl::StatusOr<RawPeer> server = RawPeer::Accept(listener_.get());
  FRPC_ASSERT_OK(server.status());
  absl::StatusOr<Frame> call = server->ReadFrame();
  FRPC_ASSERT_OK(call.status());
  ASSERT_TRUE(server->SendFrame(Ping(1)));
  ExpectAck(&*server, 1);
  ASSERT_TRUE(server->SendBytes(SayResponse(call->envelope.call_id(), "late")));
  done.WaitForNotification();
  FRPC_EXPECT_OK(status);
  EXPECT_EQ(reply.text(), "late");
}

// The caller's thread, blocked in its call on a pooled connection, answers and goes on waiting.
TEST_F(PingTest, BlockingCallAnswersWhileItWaits) {
  std::unique_ptr<Channel> channel = NewChannel(4);
  absl::Status status;
  echo::SayReply reply;
  std::thread caller([&] {
    echo::EchoService::Stub stub(channel.get());
    ClientContext context;
    status = stub.Say(&context, echo::SayRequest(), &reply);
  });
  absl::StatusOr<RawPeer> server = RawPeer::Accept(listener_.get());
  FRPC_ASSERT_OK(server.status());
  absl::StatusOr<Frame> call = server->ReadFrame();
  FRPC_ASSERT_OK(call.status());
  ASSERT_TRUE(server->SendFrame(Ping(kData)));
  ExpectAck(&*server, kData);
  ASSERT_TRUE(server->SendBytes(SayResponse(call->envelope.call_id(), "after the ping")));
  caller.join();
  FRPC_EXPECT_OK(status);
  EXPECT_EQ(reply.text(), "after the ping");
}

// Nobody holds an idle pooled connection: the channel's I/O thread watches it and answers (within
// about 2 * kIdleWatchDelay). The connection is then reused by the next call.
TEST_F(PingTest, IdlePooledConnectionAnswersAndIsReused) {
  std::unique_ptr<Channel> channel = NewChannel(4);
  RawPeer server = SayOnce(channel.get());
  for (uint64_t data : {kData, uint64_t{2}}) {  // twice: the connection stays watched
    ASSERT_TRUE(server.SendFrame(Ping(data)));
    ExpectAck(&server, data);
  }
  absl::Status status;
  echo::SayReply reply;
  std::thread caller([&] {
    echo::EchoService::Stub stub(channel.get());
    ClientContext context;
    status = stub.Say(&context, echo::SayRequest(), &reply);
  });
  absl::StatusOr<Frame> call = server.ReadFrame();  // on the same connection
  FRPC_ASSERT_OK(call.status());
  EXPECT_EQ(call->envelope.kind(), REQUEST);
  // The loop's watch ends when it sees this reply arrive for the caller; a PING after it is the
  // caller's to answer.
  ASSERT_TRUE(server.SendBytes(SayResponse(call->envelope.call_id(), "again")));
  caller.join();
  FRPC_EXPECT_OK(status);
  EXPECT_EQ(reply.text(), "again");
  ASSERT_TRUE(server.SendFrame(Ping(3)));
  ExpectAck(&server, 3);
}

// ChannelOptions::keepalive_time: the client pings a server that has sent nothing while a call is
// in flight, and gives up on one that does not answer.
class KeepaliveTest : public PingTest {
 protected:
  void StartCall() {
    ChannelOptions options;
    options.max_sync_connections = 0;
    options.keepalive_time = absl::Milliseconds(100);
    options.keepalive_timeout = absl::Milliseconds(200);
    auto channel = Channel::Create(LocalAddress(listener_.get()).ToString(), options);
    FRPC_ASSERT_OK(channel.status());
    channel_ = *std::move(channel);
    channel_->StartCall("/framerpc.echo.EchoService/Say", &context_, request_, &reply_,
                        [this](absl::Status s) {
                          // A copy of its own: the I/O thread goes on reading the message of the
                          // status it shares with `s`, through a reference count that TSan
                          // cannot see in the uninstrumented absl.
                          status_ = absl::Status(s.code(), std::string(s.message()));
                          done_.Notify();
                        });
    auto server = RawPeer::Accept(listener_.get());
    FRPC_ASSERT_OK(server.status());
    server_ = std::make_unique<RawPeer>(*std::move(server));
    absl::StatusOr<Frame> call = server_->ReadFrame();
    FRPC_ASSERT_OK(call.status());
    call_id_ = call->envelope.call_id();
  }
  // The next frame from the client, which must be a PING (not an ACK) with `data`.
  void ExpectPing(uint64_t data) {
    absl::StatusOr<Frame> frame = server_->ReadFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->envelope.kind(), PING) << frame->envelope.DebugString();
    EXPECT_EQ(frame->envelope.flags(), 0u);
    EXPECT_EQ(frame->envelope.call_id(), 0u);
    EXPECT_EQ(frame->envelope.ping_data(), data);
  }

  std::unique_ptr<Channel> channel_;
  ClientContext context_;
  echo::SayRequest request_;
  echo::SayReply reply_;
  Notification done_;
  absl::Status status_;
  std::unique_ptr<RawPeer> server_;
  uint64_t call_id_ = 0;
};

TEST_F(KeepaliveTest, AServerThatAnswersKeepsItsCalls) {
  StartCall();
  for (uint64_t data : {uint64_t{1}, uint64_t{2}}) {
    ExpectPing(data);
    ASSERT_TRUE(server_->SendFrame(Ping(data, ACK)));
  }
  ASSERT_TRUE(server_->SendBytes(SayResponse(call_id_, "alive")));
  done_.WaitForNotification();
  FRPC_EXPECT_OK(status_);
  EXPECT_EQ(reply_.text(), "alive");
}

TEST_F(KeepaliveTest, AServerThatSendsNothingIsGivenUp) {
  StartCall();
  ExpectPing(1);
  ASSERT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(status_.code(), absl::StatusCode::kUnavailable) << status_;
  EXPECT_EQ(status_.message(),
            absl::StrCat("connection to ", LocalAddress(listener_.get()).ToString(),
                         " lost: nothing from the server within 200ms of a keepalive PING"));
  EXPECT_TRUE(server_->ReadEof());  // the connection is closed
}

TEST(KeepaliveOptionsTest, BadDurationsAreRefused) {
  ChannelOptions options;
  options.keepalive_time = absl::Seconds(-1);
  EXPECT_EQ(Channel::Create("127.0.0.1:1", options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.keepalive_time = absl::Seconds(1);
  options.keepalive_timeout = absl::ZeroDuration();
  EXPECT_EQ(Channel::Create("127.0.0.1:1", options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace framerpc
