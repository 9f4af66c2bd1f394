// Broken and hostile streaming peers against a real server: every case of docs/protocol.md §11.1
// gets its documented call error, the connection stays usable, and the handler is stopped.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/raw_peer.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

using test::RawPeer;

constexpr char kSay[] = "/framerpc.echo.EchoService/Say";
constexpr char kCount[] = "/framerpc.test.StreamTestService/Count";
constexpr char kSum[] = "/framerpc.test.StreamTestService/Sum";
constexpr absl::Duration kStall = absl::Milliseconds(500);

Envelope Frame(FrameKind kind, uint64_t id) {
  Envelope envelope;
  envelope.set_kind(kind);
  envelope.set_call_id(id);
  return envelope;
}

Envelope Request(uint64_t id, const std::string& method) {
  Envelope envelope = Frame(REQUEST, id);
  envelope.set_method(method);
  return envelope;
}

Envelope HalfClose(uint64_t id) {
  Envelope envelope = Frame(STREAM_MESSAGE, id);
  envelope.set_flags(END_OF_STREAM);
  return envelope;
}

std::string CountBytes(bool forever, const std::string& probe = "") {
  test::CountRequest request;
  request.set_forever(forever);
  request.set_chunk_bytes(8);
  request.set_probe(probe);
  return request.SerializeAsString();
}

class StreamFaultTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    options.limits.max_body_bytes = 1 << 20;
    options.stream_stall_timeout = kStall;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&streams_));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
    auto peer = RawPeer::Connect(server_->listen_address(0));
    FRPC_ASSERT_OK(peer.status());
    peer_ = std::make_unique<RawPeer>(*std::move(peer));
  }

  // Reads frames, skipping the server's stream messages and window updates, until the RESPONSE
  // of call `id`; checks its status.
  void ExpectEnd(uint64_t id, absl::StatusCode code, absl::string_view message) {
    for (;;) {
      absl::StatusOr<framerpc::Frame> frame = peer_->ReadFrame();
      ASSERT_TRUE(frame.ok()) << frame.status();
      if (frame->envelope.kind() != RESPONSE) continue;
      ASSERT_EQ(frame->envelope.call_id(), id);
      EXPECT_EQ(frame->envelope.status_code(), static_cast<int>(code));
      EXPECT_EQ(frame->envelope.status_message(), message);
      return;
    }
  }

  // The same connection still serves a unary call.
  void ExpectConnectionStillServes(uint64_t id) {
    echo::SayRequest request;
    request.set_text("still here");
    ASSERT_TRUE(peer_->SendFrame(Request(id, kSay), request.SerializeAsString()));
    for (;;) {
      absl::StatusOr<framerpc::Frame> frame = peer_->ReadFrame();
      ASSERT_TRUE(frame.ok()) << frame.status();
      if (frame->envelope.kind() != RESPONSE || frame->envelope.call_id() != id) continue;
      EXPECT_EQ(frame->envelope.status_code(), 0);
      return;
    }
  }

  echo::EchoServiceImpl echo_;
  test::StreamTestServiceImpl streams_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<RawPeer> peer_;
};

TEST_F(StreamFaultTest, StreamingRequestWithAPayload) {
  ASSERT_TRUE(peer_->SendFrame(Request(1, kSum), "not empty"));
  ExpectEnd(1, absl::StatusCode::kInvalidArgument, "a streaming REQUEST carries no message");
  ExpectConnectionStillServes(2);
}

TEST_F(StreamFaultTest, WindowAboveTheServerLimit) {
  Envelope request = Request(1, kCount);
  request.set_window_update((16u << 20) + 1);
  ASSERT_TRUE(peer_->SendFrame(request, ""));
  ExpectEnd(1, absl::StatusCode::kResourceExhausted,
            "requested stream window of 16777217 bytes exceeds the server's limit of 16777216");
  ExpectConnectionStillServes(2);
}

TEST_F(StreamFaultTest, StreamMessageOnAUnaryCall) {
  // Both frames in one write: the unary call is still open when the STREAM_MESSAGE is read.
  echo::SayRequest request;
  request.set_text("x");
  ASSERT_TRUE(peer_->SendBytes(RawPeer::BuildFrame(Request(1, kSay), request.SerializeAsString()) +
                               RawPeer::BuildFrame(Frame(STREAM_MESSAGE, 1), "")));
  // Echo answers inline, so the call may have ended before the STREAM_MESSAGE is read: then the
  // frame is ignored. Either way exactly one RESPONSE, and the connection lives.
  absl::StatusOr<framerpc::Frame> frame = peer_->ReadFrame();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->envelope.kind(), RESPONSE);
  ExpectConnectionStillServes(2);
}

TEST_F(StreamFaultTest, StreamMessageOnAUnaryCallStillRunning) {
  // A unary call the server cannot finish on its own: a server-streaming method called...
  // through a streaming REQUEST for Count, then a bogus half-close with a payload.
  std::string bytes = RawPeer::BuildFrame(Request(1, kCount), "") +
                      RawPeer::BuildFrame(HalfClose(1), "payload");
  ASSERT_TRUE(peer_->SendBytes(bytes));
  ExpectEnd(1, absl::StatusCode::kInvalidArgument, "END_OF_STREAM frame carries a message");
  ExpectConnectionStillServes(2);
}

TEST_F(StreamFaultTest, MessageAfterTheHalfClose) {
  // All three frames arrive in one read, so the call is still open when the last one is seen.
  std::string bytes = RawPeer::BuildFrame(Request(1, kSum), "") +
                      RawPeer::BuildFrame(HalfClose(1), "") +
                      RawPeer::BuildFrame(Frame(STREAM_MESSAGE, 1), "");
  ASSERT_TRUE(peer_->SendBytes(bytes));
  ExpectEnd(1, absl::StatusCode::kInvalidArgument, "message after the end of the client stream");
  ExpectConnectionStillServes(2);
}

TEST_F(StreamFaultTest, ServerStreamingWithoutARequestMessage) {
  std::string bytes = RawPeer::BuildFrame(Request(1, kCount), "") +
                      RawPeer::BuildFrame(HalfClose(1), "");
  ASSERT_TRUE(peer_->SendBytes(bytes));
  ExpectEnd(1, absl::StatusCode::kInvalidArgument, "missing request message");
}

TEST_F(StreamFaultTest, GarbageStreamMessage) {
  std::string bytes = RawPeer::BuildFrame(Request(1, kCount), "") +
                      RawPeer::BuildFrame(Frame(STREAM_MESSAGE, 1), "\xff\xff\xff");
  ASSERT_TRUE(peer_->SendBytes(bytes));
  ExpectEnd(1, absl::StatusCode::kInvalidArgument,
            "request is not a valid framerpc.test.CountRequest");
}

TEST_F(StreamFaultTest, PeerIgnoringTheWindowIsStopped) {
  // Count reads its one request, then only writes: the later messages are never read, so their
  // credit is never returned. 1 MiB of window: the third 512 KiB message is over it.
  ASSERT_TRUE(peer_->SendFrame(Request(1, kCount)));
  ASSERT_TRUE(peer_->SendFrame(Frame(STREAM_MESSAGE, 1), CountBytes(true, "window")));
  // Once the handler runs, the call cannot end before the handler has seen it.
  test::Probe* probe = streams_.probe("window");
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.write_attempts > 0; }));
  const std::string big(512 << 10, 'x');
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(peer_->SendFrame(Frame(STREAM_MESSAGE, 1), big));
  ExpectEnd(1, absl::StatusCode::kResourceExhausted, "flow control window exceeded");
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.returned; }));
  EXPECT_TRUE(probe->Get(&test::Probe::saw_cancellation));
  ExpectConnectionStillServes(2);
}

// The slow-reader attack: a client asks for a stream and never reads it. The handler's writes
// stop at the window, and after the stall timeout its Write fails and the call ends with
// RESOURCE_EXHAUSTED, freeing the handler (and whatever slot it held) instead of holding them
// until the client goes away.
TEST_F(StreamFaultTest, AReaderThatNeverReadsIsCutOffAfterTheStallTimeout) {
  // Before the request: the handler's stall clock starts when its Write first waits for credit,
  // which may be before this thread sees the probe (a start taken after it measured 491 ms of a
  // 500 ms stall once, at load).
  const absl::Time start = absl::Now();
  ASSERT_TRUE(peer_->SendFrame(Request(1, kCount)));
  test::CountRequest request;
  request.set_forever(true);
  request.set_chunk_bytes(64 << 10);
  request.set_probe("stalled");
  ASSERT_TRUE(peer_->SendFrame(Frame(STREAM_MESSAGE, 1), request.SerializeAsString()));
  test::Probe* probe = streams_.probe("stalled");
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.write_attempts > 0; }));
  // The peer reads the messages the window allowed (the socket would otherwise fill first), but
  // grants no credit: to the server, nothing was read.
  ExpectEnd(1, absl::StatusCode::kResourceExhausted,
            "the peer has read nothing of this stream for 500ms; giving up");
  EXPECT_GE(absl::Now() - start, kStall);
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.returned; }));
  ExpectConnectionStillServes(2);
}

TEST_F(StreamFaultTest, BadWindowUpdates) {
  ASSERT_TRUE(peer_->SendFrame(Request(1, kCount)));
  ASSERT_TRUE(peer_->SendFrame(Frame(STREAM_MESSAGE, 1), CountBytes(true)));
  ASSERT_TRUE(peer_->SendFrame(Frame(WINDOW_UPDATE, 1)));  // 0 bytes of credit
  ExpectEnd(1, absl::StatusCode::kInvalidArgument, "bad WINDOW_UPDATE");

  ASSERT_TRUE(peer_->SendFrame(Request(3, kCount)));
  ASSERT_TRUE(peer_->SendFrame(Frame(STREAM_MESSAGE, 3), CountBytes(true)));
  Envelope overflow = Frame(WINDOW_UPDATE, 3);
  overflow.set_window_update(0x7fffffff);  // on top of the initial 1 MiB
  ASSERT_TRUE(peer_->SendFrame(overflow));
  ExpectEnd(3, absl::StatusCode::kInvalidArgument, "bad WINDOW_UPDATE");
  ExpectConnectionStillServes(4);
}

TEST_F(StreamFaultTest, FramesForUnknownCallsAreIgnored) {
  ASSERT_TRUE(peer_->SendFrame(Frame(STREAM_MESSAGE, 77), "x"));
  ASSERT_TRUE(peer_->SendFrame(HalfClose(78)));
  Envelope update = Frame(WINDOW_UPDATE, 79);
  update.set_window_update(10);
  ASSERT_TRUE(peer_->SendFrame(update));
  ExpectConnectionStillServes(1);
}

TEST_F(StreamFaultTest, PeerThatDiesMidStreamStopsTheHandler) {
  ASSERT_TRUE(peer_->SendFrame(Request(1, kCount)));
  ASSERT_TRUE(peer_->SendFrame(Frame(STREAM_MESSAGE, 1), CountBytes(true, "dies")));
  ASSERT_TRUE(peer_->ReadFrame().ok());  // the stream is flowing
  peer_.reset();                         // closes the socket
  test::Probe* probe = streams_.probe("dies");
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.returned; }));
  EXPECT_TRUE(probe->Get(&test::Probe::saw_cancellation));
  ASSERT_TRUE(server_->WaitForConnectionCount(0, absl::Now() + absl::Seconds(30)));
}

}  // namespace
}  // namespace framerpc
