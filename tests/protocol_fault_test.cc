// Hostile and broken peers against a real server: every bad input gets its documented error
// (docs/protocol.md), the server stays up, and other clients keep being served.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

constexpr char kSay[] = "/framerpc.echo.EchoService/Say";
constexpr char kBlock[] = "/framerpc.test.BlockingService/Block";
constexpr char kGrow[] = "/framerpc.test.BlockingService/Grow";

Envelope Request(uint64_t id, const std::string& method = kSay) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(id);
  envelope.set_method(method);
  return envelope;
}

class ProtocolFaultTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    options.limits.max_body_bytes = 1 << 20;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&blocking_, ServiceOptions{.run_inline = false}));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
    address_ = server_->listen_address(0);
  }

  RawPeer Connect() {
    auto peer = RawPeer::Connect(address_);
    EXPECT_TRUE(peer.ok()) << peer.status();
    return *std::move(peer);
  }

  // The server answers a connection-level error with CONNECTION_ERROR, then closes.
  void ExpectConnectionError(RawPeer& peer, absl::StatusCode code, absl::string_view message) {
    absl::StatusOr<Frame> frame = peer.ReadFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->envelope.kind(), CONNECTION_ERROR);
    EXPECT_EQ(frame->envelope.call_id(), 0u);
    EXPECT_EQ(frame->envelope.status_code(), static_cast<int>(code));
    EXPECT_EQ(frame->envelope.status_message(), message);
    EXPECT_TRUE(peer.ReadEof());
    ExpectServerStillServes();
  }

  void ExpectResponseError(RawPeer& peer, uint64_t id, absl::StatusCode code,
                           absl::string_view message) {
    absl::StatusOr<Frame> frame = peer.ReadFrame();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->envelope.kind(), RESPONSE);
    EXPECT_EQ(frame->envelope.call_id(), id);
    EXPECT_EQ(frame->envelope.status_code(), static_cast<int>(code));
    EXPECT_EQ(frame->envelope.status_message(), message);
  }

  // A fresh, well-behaved client still gets answers.
  void ExpectServerStillServes() {
    auto channel = Channel::Create(address_);
    ASSERT_TRUE(channel.ok());
    echo::EchoService::Stub stub(channel->get());
    ClientContext context;
    echo::SayRequest request;
    request.set_text("still serving");
    echo::SayReply reply;
    FRPC_EXPECT_OK(stub.Say(&context, request, &reply));
    EXPECT_EQ(reply.text(), "still serving");
  }

  echo::EchoServiceImpl echo_;
  test::BlockingServiceImpl blocking_;
  std::unique_ptr<Server> server_;
  std::string address_;
};

TEST_F(ProtocolFaultTest, BadMagic) {
  RawPeer peer = Connect();
  ASSERT_TRUE(peer.SendBytes("GET / HTTP/1.1\r\n\r\n"));
  ExpectConnectionError(peer, absl::StatusCode::kInvalidArgument,
                        "bad magic: not a framerpc stream (first bytes GET )");
}

TEST_F(ProtocolFaultTest, BadVersion) {
  RawPeer peer = Connect();
  std::string frame = RawPeer::BuildFrame(Request(1), "");
  frame[4] = 9;
  ASSERT_TRUE(peer.SendBytes(frame));
  ExpectConnectionError(peer, absl::StatusCode::kUnimplemented,
                        "unsupported protocol version 9 (supported: 1)");
}

TEST_F(ProtocolFaultTest, FrameOverTheLimitIsRefusedFromItsHeader) {
  RawPeer peer = Connect();
  // Only the header: the server must not wait for (or buffer) the 4 GiB it announces.
  const std::string header = {'F', 'R', 'P', 'C', 1, 0, 0, 0, '\xff', '\xff', '\xff', '\xff',
                              0, 0, 0, 1};
  ASSERT_TRUE(peer.SendBytes(header));
  ExpectConnectionError(peer, absl::StatusCode::kResourceExhausted,
                        "frame body of 4294967295 bytes exceeds the limit of 1048576");
}

TEST_F(ProtocolFaultTest, GarbageEnvelope) {
  RawPeer peer = Connect();
  const std::string frame = {'F', 'R', 'P', 'C', 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3,
                             '\xff', '\xff', '\xff'};
  ASSERT_TRUE(peer.SendBytes(frame));
  ExpectConnectionError(peer, absl::StatusCode::kInvalidArgument,
                        "envelope is not a valid framerpc.Envelope");
}

TEST_F(ProtocolFaultTest, CallIdZero) {
  RawPeer peer = Connect();
  ASSERT_TRUE(peer.SendFrame(Request(0)));
  ExpectConnectionError(peer, absl::StatusCode::kInvalidArgument, "REQUEST with call id 0");
}

TEST_F(ProtocolFaultTest, FrameKindAServerDoesNotAccept) {
  RawPeer peer = Connect();
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(1);
  ASSERT_TRUE(peer.SendFrame(envelope));
  ExpectConnectionError(peer, absl::StatusCode::kInvalidArgument,
                        "unexpected frame kind RESPONSE from a client");
}

TEST_F(ProtocolFaultTest, GarbageRequestMessageFailsOnlyThatCall) {
  RawPeer peer = Connect();
  ASSERT_TRUE(peer.SendFrame(Request(1), "\xff\xff\xff"));
  ExpectResponseError(peer, 1, absl::StatusCode::kInvalidArgument,
                      "request is not a valid framerpc.echo.SayRequest");
  // Same connection, next call: fine.
  echo::SayRequest request;
  request.set_text("next");
  ASSERT_TRUE(peer.SendFrame(Request(2), request.SerializeAsString()));
  absl::StatusOr<Frame> reply = peer.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.call_id(), 2u);
  EXPECT_EQ(reply->envelope.status_code(), 0);
  echo::SayReply parsed;
  ASSERT_TRUE(parsed.ParseFromString(std::string(reply->message_bytes())));
  EXPECT_EQ(parsed.text(), "next");
}

TEST_F(ProtocolFaultTest, UnknownMethodKeepsTheConnection) {
  RawPeer peer = Connect();
  ASSERT_TRUE(peer.SendFrame(Request(5, "/no.Such/Method")));
  ExpectResponseError(peer, 5, absl::StatusCode::kUnimplemented,
                      "unknown method '/no.Such/Method'");
  ASSERT_TRUE(peer.SendFrame(Request(6)));
  absl::StatusOr<Frame> reply = peer.ReadFrame();
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->envelope.status_code(), 0);
}

TEST_F(ProtocolFaultTest, NegativeTimeout) {
  RawPeer peer = Connect();
  Envelope envelope = Request(3);
  envelope.set_timeout_us(-5);
  ASSERT_TRUE(peer.SendFrame(envelope));
  ExpectResponseError(peer, 3, absl::StatusCode::kInvalidArgument, "negative timeout_us");
}

TEST_F(ProtocolFaultTest, ReplyOverTheLimitBecomesResourceExhausted) {
  RawPeer peer = Connect();
  test::GrowRequest grow;
  grow.set_reply_bytes(2 << 20);
  ASSERT_TRUE(peer.SendFrame(Request(4, kGrow), grow.SerializeAsString()));
  absl::StatusOr<Frame> reply = peer.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.call_id(), 4u);
  EXPECT_EQ(reply->envelope.status_code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(absl::StrContains(reply->envelope.status_message(), "exceeds the limit of 1048576"))
      << reply->envelope.status_message();
  // The connection stays usable.
  ASSERT_TRUE(peer.SendFrame(Request(5)));
  absl::StatusOr<Frame> next = peer.ReadFrame();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->envelope.status_code(), 0);
}

TEST_F(ProtocolFaultTest, DuplicateCallIdWhileInFlightIsAProtocolError) {
  RawPeer peer = Connect();
  test::BlockRequest block;
  block.set_gate("never");
  ASSERT_TRUE(peer.SendFrame(Request(7, kBlock), block.SerializeAsString()));
  blocking_.WaitForStarted(1);
  ASSERT_TRUE(peer.SendFrame(Request(7, kBlock), block.SerializeAsString()));
  ExpectConnectionError(peer, absl::StatusCode::kInvalidArgument, "call id 7 is already in use");
  // Closing the connection cancels the call that was still running.
  blocking_.WaitForCancelled(1);
}

TEST_F(ProtocolFaultTest, CallIdMayBeReusedOnceItsCallHasEnded) {
  RawPeer peer = Connect();
  ASSERT_TRUE(peer.SendFrame(Request(7)));
  ASSERT_TRUE(peer.ReadFrame().ok());
  ASSERT_TRUE(peer.SendFrame(Request(7)));
  absl::StatusOr<Frame> again = peer.ReadFrame();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->envelope.status_code(), 0);
}

TEST_F(ProtocolFaultTest, UnknownFrameKindNumber) {
  RawPeer peer = Connect();
  Envelope envelope;
  envelope.set_kind(static_cast<FrameKind>(99));
  envelope.set_call_id(1);
  ASSERT_TRUE(peer.SendFrame(envelope));
  ExpectConnectionError(peer, absl::StatusCode::kInvalidArgument,
                        "unexpected frame kind 99 from a client");
}

TEST_F(ProtocolFaultTest, CancelOfUnknownCallIsIgnored) {
  RawPeer peer = Connect();
  Envelope cancel;
  cancel.set_kind(CANCEL);
  cancel.set_call_id(12345);
  ASSERT_TRUE(peer.SendFrame(cancel));
  ASSERT_TRUE(peer.SendFrame(Request(8)));
  absl::StatusOr<Frame> reply = peer.ReadFrame();
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->envelope.call_id(), 8u);
}

TEST_F(ProtocolFaultTest, ManyFramesInOneWriteAreAllAnswered) {
  RawPeer peer = Connect();
  std::string burst;
  for (uint64_t id = 1; id <= 200; ++id) {
    echo::SayRequest request;
    request.set_text(absl::StrCat("m", id));
    burst += RawPeer::BuildFrame(Request(id), request.SerializeAsString());
  }
  ASSERT_TRUE(peer.SendBytes(burst));
  for (uint64_t id = 1; id <= 200; ++id) {
    absl::StatusOr<Frame> reply = peer.ReadFrame();
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->envelope.call_id(), id);  // Inline handlers answer in order.
  }
}

}  // namespace
}  // namespace framerpc
