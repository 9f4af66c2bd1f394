// Peers that stall at each stage of a connection are closed once that stage's timeout passes,
// counted by reason, while a well-behaved connection beside them goes on. Before the timeouts
// existed, each of these peers stayed connected for good (measured: 600 s and counting).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/blocking_service.h"
#include "tests/raw_peer.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

using test::RawPeer;

constexpr absl::Duration kStage = absl::Milliseconds(300);

Envelope Request(uint64_t id, const std::string& method = "/framerpc.echo.EchoService/Say") {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(id);
  envelope.set_method(method);
  return envelope;
}

class ConnectionTimeoutTest : public testing::Test {
 protected:
  void Start(ConnectionTimeoutOptions timeouts, bool shared_port = false) {
    ServerOptions options;
    options.io_threads = 1;
    options.timeouts = timeouts;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&blocking_, ServiceOptions{.run_inline = false}));
    if (shared_port) {
      Server::ForeignProtocol other;
      other.name = "other";
      other.match = [](absl::string_view) { return Server::ProtocolMatch::kMatch; };
      other.handler = [](ScopedFd, const SocketAddress&) {};
      FRPC_ASSERT_OK(server_->AddForeignProtocol(std::move(other)));
    }
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
    address_ = server_->listen_address(0);
    channel_ = Channel::Create(address_).value();
  }

  // Every stage at kStage, except those a test stretches.
  static ConnectionTimeoutOptions Short() {
    ConnectionTimeoutOptions t;
    t.first_byte = kStage;
    t.frame_header = kStage;
    t.min_body_bytes_per_second = 1 << 30;  // a body adds nothing to the header's time
    t.idle = absl::Hours(1);
    t.keepalive_time = absl::Hours(1);
    t.keepalive_timeout = absl::Hours(1);
    return t;
  }

  void TearDown() override { blocking_.Open(""); }

  RawPeer Connect() {
    auto peer = RawPeer::Connect(address_);
    EXPECT_TRUE(peer.ok()) << peer.status();
    return *std::move(peer);
  }

  // The peer is closed with CONNECTION_ERROR DEADLINE_EXCEEDED naming the stage, no sooner than
  // `at_least` after `since`, and the closure is counted under `reason`.
  void ExpectTimedOut(RawPeer& peer, absl::Time since, absl::Duration at_least,
                      const std::string& stage, CloseReason reason) {
    absl::StatusOr<Frame> frame = peer.ReadFrame();
    const absl::Duration waited = absl::Now() - since;
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->envelope.kind(), CONNECTION_ERROR);
    EXPECT_EQ(frame->envelope.status_code(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
    EXPECT_EQ(frame->envelope.status_message(), "timed out waiting for the " + stage);
    EXPECT_TRUE(peer.ReadEof());
    EXPECT_GE(waited, at_least);
    ASSERT_TRUE(server_->WaitForConnectionCount(1, absl::Now() + absl::Seconds(30)));
    EXPECT_EQ(server_->stats().closed(reason), 1u) << StatsText();
  }

  std::string StatsText() const {
    std::string text = absl::StrCat("accepted ", server_->stats().accepted(), ", connections ",
                                    server_->connection_count());
    for (size_t i = 0; i < kCloseReasonCount; ++i) {
      const auto reason = static_cast<CloseReason>(i);
      absl::StrAppend(&text, ", ", CloseReasonName(reason), " ", server_->stats().closed(reason));
    }
    return text;
  }

  // The well-behaved connection beside the stalled ones still works.
  void ExpectChannelServes() {
    echo::EchoService::Stub stub(channel_.get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    echo::SayRequest request;
    request.set_text("still here");
    echo::SayReply reply;
    FRPC_EXPECT_OK(stub.Say(&context, request, &reply));
    EXPECT_EQ(reply.text(), "still here");
  }

  echo::EchoServiceImpl echo_;
  test::BlockingServiceImpl blocking_;
  std::unique_ptr<Server> server_;
  std::string address_;
  std::unique_ptr<Channel> channel_;
};

TEST_F(ConnectionTimeoutTest, ASilentConnectionIsClosedAfterTheFirstByteTimeout) {
  Start(Short());
  ExpectChannelServes();  // the channel's connection is up before the silent one
  const absl::Time start = absl::Now();
  RawPeer silent = Connect();
  ExpectTimedOut(silent, start, kStage, "first byte", CloseReason::kFirstByteTimeout);
  ExpectChannelServes();
}

TEST_F(ConnectionTimeoutTest, OneByteThenSilenceIsClosedAfterTheHeaderTimeout) {
  Start(Short());
  ExpectChannelServes();
  RawPeer peer = Connect();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(peer.SendBytes("F"));
  ExpectTimedOut(peer, start, kStage, "frame header", CloseReason::kHeaderTimeout);
  ExpectChannelServes();
}

TEST_F(ConnectionTimeoutTest, HalfAHeaderIsClosedAfterTheHeaderTimeout) {
  Start(Short());
  ExpectChannelServes();
  RawPeer peer = Connect();
  const std::string frame = RawPeer::BuildFrame(Request(1), "");
  const absl::Time start = absl::Now();
  ASSERT_TRUE(peer.SendBytes(frame.substr(0, 8)));
  ExpectTimedOut(peer, start, kStage, "frame header", CloseReason::kHeaderTimeout);
  ExpectChannelServes();
}

TEST_F(ConnectionTimeoutTest, AHeaderWithoutItsBodyIsClosed) {
  Start(Short());
  ExpectChannelServes();
  RawPeer peer = Connect();
  echo::SayRequest request;
  request.set_text(std::string(100000, 'x'));
  const std::string frame = RawPeer::BuildFrame(Request(1), request.SerializeAsString());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(peer.SendBytes(frame.substr(0, 200)));  // header, envelope, a little body
  ExpectTimedOut(peer, start, kStage, "frame body", CloseReason::kBodyTimeout);
  ExpectChannelServes();
}

TEST_F(ConnectionTimeoutTest, AFrameTenBytesShortIsClosed) {
  Start(Short());
  ExpectChannelServes();
  RawPeer peer = Connect();
  // A first, complete call is answered: the stage clocks restart with each frame.
  ASSERT_TRUE(peer.SendFrame(Request(1), ""));
  absl::StatusOr<Frame> reply = peer.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.kind(), RESPONSE);
  echo::SayRequest request;
  request.set_text(std::string(40000, 'y'));
  const std::string frame = RawPeer::BuildFrame(Request(3), request.SerializeAsString());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(peer.SendBytes(frame.substr(0, frame.size() - 10)));
  ExpectTimedOut(peer, start, kStage, "frame body", CloseReason::kBodyTimeout);
  ExpectChannelServes();
}

TEST_F(ConnectionTimeoutTest, ASlowBodyGetsTimeInProportionToItsLength) {
  ConnectionTimeoutOptions t = Short();
  t.min_body_bytes_per_second = 100000;  // 200 KB: 2 s on top of the header's 0.3 s
  Start(t);
  ExpectChannelServes();
  RawPeer peer = Connect();
  echo::SayRequest request;
  request.set_text(std::string(200000, 'z'));
  const std::string frame = RawPeer::BuildFrame(Request(1), request.SerializeAsString());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(peer.SendBytes(frame.substr(0, 100)));
  ExpectTimedOut(peer, start, kStage + absl::Seconds(2), "frame body", CloseReason::kBodyTimeout);
}

TEST_F(ConnectionTimeoutTest, AnIdleConnectionGetsGoawayAndIsClosed) {
  ConnectionTimeoutOptions t = Short();
  t.idle = kStage;
  Start(t);
  RawPeer peer = Connect();
  // The server's idle clock starts when it sends the reply, before this thread reads it: a time
  // taken after the read may be later than that, by however long the wake-up took.
  const absl::Time before_call = absl::Now();
  ASSERT_TRUE(peer.SendFrame(Request(5), ""));
  absl::StatusOr<Frame> reply = peer.ReadFrame();  // a call, then nothing
  ASSERT_TRUE(reply.ok()) << reply.status();
  absl::StatusOr<Frame> goaway = peer.ReadFrame();
  ASSERT_TRUE(goaway.ok()) << goaway.status();
  EXPECT_EQ(goaway->envelope.kind(), GOAWAY);
  EXPECT_EQ(goaway->envelope.last_call_id(), 5u);
  EXPECT_TRUE(peer.ReadEof());
  EXPECT_GE(absl::Now() - before_call, kStage);
  ASSERT_TRUE(server_->WaitForConnectionCount(0, absl::Now() + absl::Seconds(30)));
  EXPECT_GE(server_->stats().closed(CloseReason::kIdle), 1u);
}

TEST_F(ConnectionTimeoutTest, KeepalivePingsAQuietPeerAndClosesOneThatDoesNotAnswer) {
  ConnectionTimeoutOptions t = Short();
  t.keepalive_time = kStage;
  t.keepalive_timeout = kStage;
  Start(t);
  RawPeer answering = Connect();
  RawPeer dead = Connect();
  ASSERT_TRUE(answering.SendFrame(Request(1, "/framerpc.test.BlockingService/Block"), ""));
  ASSERT_TRUE(dead.SendFrame(Request(1, "/framerpc.test.BlockingService/Block"), ""));
  blocking_.WaitForStarted(2);
  // The answering peer answers three PINGs; the other never does, and is dropped.
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Frame> ping = answering.ReadFrame();
    ASSERT_TRUE(ping.ok()) << ping.status();
    ASSERT_EQ(ping->envelope.kind(), PING);
    EXPECT_EQ(ping->envelope.flags() & ACK, 0u);
    Envelope ack;
    ack.set_kind(PING);
    ack.set_flags(ACK);
    ack.set_ping_data(ping->envelope.ping_data());
    ASSERT_TRUE(answering.SendFrame(ack));
  }
  absl::StatusOr<Frame> ping = dead.ReadFrame();
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_EQ(ping->envelope.kind(), PING);
  EXPECT_TRUE(dead.ReadEof());
  EXPECT_EQ(server_->stats().closed(CloseReason::kKeepalive), 1u);
  blocking_.Open("");
  absl::StatusOr<Frame> reply = answering.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.kind(), RESPONSE);
}

TEST_F(ConnectionTimeoutTest, TheServerAnswersAClientsPing) {
  Start(Short());
  RawPeer peer = Connect();
  Envelope ping;
  ping.set_kind(PING);
  ping.set_ping_data(0xfeedface);
  ASSERT_TRUE(peer.SendFrame(ping));
  absl::StatusOr<Frame> ack = peer.ReadFrame();
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->envelope.kind(), PING);
  EXPECT_EQ(ack->envelope.flags(), static_cast<uint32_t>(ACK));
  EXPECT_EQ(ack->envelope.ping_data(), 0xfeedfaceu);
}

TEST_F(ConnectionTimeoutTest, OnASharedPortASilentConnectionIsClosedBeforeItsProtocolIsKnown) {
  Start(Short(), /*shared_port=*/true);
  ExpectChannelServes();
  const absl::Time start = absl::Now();
  RawPeer silent = Connect();
  EXPECT_TRUE(silent.ReadEof());  // no protocol known: nothing to say, just the close
  EXPECT_GE(absl::Now() - start, kStage);
  EXPECT_EQ(server_->stats().closed(CloseReason::kFirstByteTimeout), 1u);
  ExpectChannelServes();
}

// The buffers' release is a timer's work, so this waits for its effect (the server's own report
// of the connection's buffers), bounded; the calls prove the connection lost nothing by it.
TEST_F(ConnectionTimeoutTest, AQuietConnectionGivesItsBuffersBackAndStillServesCalls) {
  ConnectionTimeoutOptions t = Short();
  t.release_buffers = absl::Milliseconds(20);
  Start(t);
  RawPeer peer = Connect();
  const auto buffers_released = [&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    for (;;) {
      std::vector<ConnectionInfo> connections = server_->Connections();
      if (connections.size() == 1 && connections[0].buffer_bytes == 0) return true;
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
  };
  for (uint64_t id = 1; id <= 3; ++id) {
    echo::SayRequest request;
    request.set_text(absl::StrCat("call ", id));
    ASSERT_TRUE(peer.SendFrame(Request(id), request.SerializeAsString()));
    absl::StatusOr<Frame> reply = peer.ReadFrame();
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->envelope.kind(), RESPONSE);
    EXPECT_EQ(reply->envelope.call_id(), id);
    echo::SayReply said;
    ASSERT_TRUE(said.ParseFromString(reply->payload));
    EXPECT_EQ(said.text(), absl::StrCat("call ", id));
    ASSERT_TRUE(buffers_released()) << "call " << id;
  }
  EXPECT_EQ(server_->stats().closed(CloseReason::kIdle), 0u) << StatsText();
}

TEST(ConnectionTimeoutSetupTest, BadTimeoutsAreRefusedAtStart) {
  ServerOptions options;
  options.timeouts.keepalive_timeout = absl::ZeroDuration();
  Server server(options);
  FRPC_ASSERT_OK(server.AddListener("127.0.0.1:0"));
  absl::Status status = server.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "the keepalive_timeout timeout must be positive, not 0");
}

}  // namespace
}  // namespace framerpc
