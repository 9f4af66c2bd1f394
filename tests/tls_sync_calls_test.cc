// Blocking calls over TLS take the caller-driven path (rpc/sync_calls.h) as plaintext ones do:
// the calling thread does the handshake on a pooled connection of its own and reads and writes it
// through SSL, with the plaintext path's semantics. The server is played by the test: a raw socket
// under a server TlsSession, driven blocking from the test's thread, speaking frames by hand.
// Each test is one behaviour: the call runs on a pooled connection (not the multiplexed one), its
// deadline (with a CANCEL sent), TryCancel, a PING answered during the call and while idle (the
// loop reading through SSL), GOAWAY and the server's close, a handshake that stalls, session
// resumption on the pool's second connection, and the fallback to the multiplexed connection
// when the pool is busy. The handshake refusals are tests/tls_test.cc's, run on both paths.
#include <sys/socket.h>
#include <sys/time.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "tests/raw_peer.h"
#include "tests/test_util.h"
#include "transport/frame_codec.h"
#include "transport/socket_ops.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"
#include "transport/tls/tls_session.h"

namespace framerpc {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kSay = "/framerpc.echo.EchoService/Say";

// One accepted connection under TLS, read and written blocking by the test's thread (30 s receive
// timeout as a safety net).
class TlsPeer {
 public:
  // Accepts on `listen_fd` and handshakes; null (with a test failure) if either fails.
  static std::unique_ptr<TlsPeer> Accept(int listen_fd, const std::shared_ptr<TlsContext>& tls) {
    absl::StatusOr<test::RawPeer> raw = test::RawPeer::Accept(listen_fd);
    EXPECT_TRUE(raw.ok()) << raw.status();
    if (!raw.ok()) return nullptr;
    auto peer = std::unique_ptr<TlsPeer>(new TlsPeer(*std::move(raw)));
    absl::StatusOr<std::unique_ptr<TlsSession>> session = tls->NewSession(peer->raw_.fd());
    EXPECT_TRUE(session.ok()) << session.status();
    if (!session.ok()) return nullptr;
    peer->session_ = *std::move(session);
    absl::StatusOr<TlsSession::Step> step = peer->session_->Handshake();
    EXPECT_TRUE(step.ok() && *step == TlsSession::Step::kDone) << step.status();
    if (!step.ok() || *step != TlsSession::Step::kDone) return nullptr;
    return peer;
  }

  bool Send(absl::string_view bytes) {
    while (!bytes.empty()) {
      const RecordIo io = session_->Write(bytes.data(), bytes.size());
      if (io.kind != RecordIo::Kind::kOk) return false;
      bytes.remove_prefix(io.bytes);
    }
    return true;
  }
  bool SendFrame(const Envelope& envelope, absl::string_view payload = {}) {
    return Send(test::RawPeer::BuildFrame(envelope, payload));
  }

  // The next frame; NOT_FOUND at the end of the stream (close_notify, EOF or a reset).
  absl::StatusOr<Frame> ReadFrame() {
    return test::RawPeer::NextFrame(&input_, [this](std::string* input) {
      char buf[16384];
      const RecordIo io = session_->Read(buf, sizeof buf);
      if (io.kind == RecordIo::Kind::kOk) {
        input->append(buf, io.bytes);
        return absl::OkStatus();
      }
      if (io.kind == RecordIo::Kind::kWantRead) return absl::UnavailableError("timed out");
      return absl::NotFoundError("end of stream");
    });
  }

  bool resumed() const { return session_->resumed(); }
  int fd() const { return raw_.fd(); }

 private:
  explicit TlsPeer(test::RawPeer raw) : raw_(std::move(raw)) {}
  test::RawPeer raw_;
  std::unique_ptr<TlsSession> session_;  // declared after raw_: freed before the socket closes
  std::string input_;
};

std::string SayResponse(uint64_t id, const std::string& text) {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(id);
  echo::SayReply reply;
  reply.set_text(text);
  return test::RawPeer::BuildFrame(envelope, reply.SerializeAsString());
}

Envelope Ping(uint64_t data) {
  Envelope ping;
  ping.set_kind(PING);
  ping.set_ping_data(data);
  return ping;
}

void ExpectAck(TlsPeer* server, uint64_t data) {
  absl::StatusOr<Frame> frame = server->ReadFrame();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->envelope.kind(), PING) << frame->envelope.DebugString();
  EXPECT_EQ(frame->envelope.flags(), static_cast<uint32_t>(ACK));
  EXPECT_EQ(frame->envelope.ping_data(), data);
}

// A blocking Say on its own thread.
class BlockingSay {
 public:
  explicit BlockingSay(Channel* channel, absl::Duration timeout = absl::Seconds(30)) {
    context_.set_deadline(absl::Now() + timeout);
    thread_ = std::thread([this, channel] {
      echo::EchoService::Stub stub(channel);
      status_ = stub.Say(&context_, echo::SayRequest(), &reply_);
    });
  }
  ~BlockingSay() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  ClientContext& context() { return context_; }
  const absl::Status& status() {
    Join();
    return status_;
  }
  const std::string& text() {
    Join();
    return reply_.text();
  }

 private:
  ClientContext context_;
  echo::SayReply reply_;
  absl::Status status_;
  std::thread thread_;
};

class TlsSyncCallsTest : public testing::Test {
 protected:
  TlsSyncCallsTest() : dir_(TestPkiDir(CurrentTestName())), ca_(dir_, "main") {
    TestCertSpec spec;
    spec.common_name = "server";
    spec.dns = {"localhost"};
    spec.ips = {"127.0.0.1"};
    const TestCertFiles cert = ca_.Issue("server", spec);
    TlsServerOptions options;
    options.cert_chain_file = cert.cert;
    options.private_key_file = cert.key;
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewServer(options);
    EXPECT_TRUE(context.ok()) << context.status();
    if (context.ok()) server_tls_ = *std::move(context);
    auto listener = Listen(*SocketAddress::Parse("127.0.0.1:0"), 16);
    EXPECT_TRUE(listener.ok()) << listener.status();
    if (listener.ok()) listener_ = *std::move(listener);
  }

  static std::string CurrentTestName() {
    return ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  std::unique_ptr<Channel> NewChannel(size_t sync_connections = 4,
                                      absl::Duration connect_timeout = absl::Seconds(5)) {
    ChannelOptions options;
    options.max_sync_connections = sync_connections;
    options.connect_timeout = connect_timeout;
    TlsClientOptions tls;
    tls.ca_file = ca_.cert_file();
    options.tls = tls;
    auto channel = Channel::Create(LocalAddress(listener_.get()).ToString(), options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *std::move(channel) : nullptr;
  }

  std::unique_ptr<TlsPeer> Accept() { return TlsPeer::Accept(listener_.get(), server_tls_); }

  // The REQUEST a call sent on `server`.
  static uint64_t ReadRequest(TlsPeer* server) {
    absl::StatusOr<Frame> request = server->ReadFrame();
    EXPECT_TRUE(request.ok()) << request.status();
    if (!request.ok()) return 0;
    EXPECT_EQ(request->envelope.kind(), REQUEST);
    return request->envelope.call_id();
  }

  std::string dir_;
  TestCa ca_;
  std::shared_ptr<TlsContext> server_tls_;
  ScopedFd listener_;
};

// An asynchronous call opens the multiplexed connection; a blocking call then gets a connection
// of its own, where its request and reply travel. (Before, TLS blocking calls shared the
// multiplexed connection: no second connection came.)
TEST_F(TlsSyncCallsTest, BlockingCallRunsOnAPooledConnection) {
  std::unique_ptr<Channel> channel = NewChannel();
  ClientContext async_context;
  echo::SayReply async_reply;
  Notification async_done;
  channel->StartCall(std::string(kSay), &async_context, echo::SayRequest(), &async_reply,
                     [&](absl::Status) { async_done.Notify(); });
  std::unique_ptr<TlsPeer> multiplexed = Accept();
  ASSERT_NE(multiplexed, nullptr);
  const uint64_t async_id = ReadRequest(multiplexed.get());

  BlockingSay call(channel.get());
  std::unique_ptr<TlsPeer> pooled = Accept();
  ASSERT_NE(pooled, nullptr);
  const uint64_t id = ReadRequest(pooled.get());
  ASSERT_TRUE(pooled->Send(SayResponse(id, "pooled")));
  FRPC_EXPECT_OK(call.status());
  EXPECT_EQ(call.text(), "pooled");

  ASSERT_TRUE(multiplexed->Send(SayResponse(async_id, "async")));
  async_done.WaitForNotification();
  EXPECT_EQ(async_reply.text(), "async");
}

// The same pooled connection serves the next call: no new handshake.
TEST_F(TlsSyncCallsTest, PooledConnectionIsReused) {
  std::unique_ptr<Channel> channel = NewChannel(1);
  std::unique_ptr<TlsPeer> server;
  for (int i = 0; i < 3; ++i) {
    BlockingSay call(channel.get());
    if (i == 0) server = Accept();
    ASSERT_NE(server, nullptr);
    ASSERT_TRUE(server->Send(SayResponse(ReadRequest(server.get()), absl::StrCat("reply ", i))));
    FRPC_EXPECT_OK(call.status());
    EXPECT_EQ(call.text(), absl::StrCat("reply ", i));
  }
}

TEST_F(TlsSyncCallsTest, DeadlineEndsTheCallAndSendsCancel) {
  std::unique_ptr<Channel> channel = NewChannel();
  BlockingSay call(channel.get(), absl::Milliseconds(300));
  std::unique_ptr<TlsPeer> server = Accept();
  ASSERT_NE(server, nullptr);
  const uint64_t id = ReadRequest(server.get());
  EXPECT_EQ(call.status().code(), absl::StatusCode::kDeadlineExceeded) << call.status();
  absl::StatusOr<Frame> cancel = server->ReadFrame();
  FRPC_ASSERT_OK(cancel.status());
  EXPECT_EQ(cancel->envelope.kind(), CANCEL);
  EXPECT_EQ(cancel->envelope.call_id(), id);
}

TEST_F(TlsSyncCallsTest, TryCancelEndsTheCallAndTheConnection) {
  std::unique_ptr<Channel> channel = NewChannel();
  BlockingSay call(channel.get());
  std::unique_ptr<TlsPeer> server = Accept();
  ASSERT_NE(server, nullptr);
  ReadRequest(server.get());
  call.context().TryCancel();
  EXPECT_EQ(call.status().code(), absl::StatusCode::kCancelled) << call.status();
  EXPECT_EQ(server->ReadFrame().status().code(), absl::StatusCode::kNotFound);  // it is gone
}

TEST_F(TlsSyncCallsTest, PingDuringTheCallIsAnswered) {
  std::unique_ptr<Channel> channel = NewChannel();
  BlockingSay call(channel.get());
  std::unique_ptr<TlsPeer> server = Accept();
  ASSERT_NE(server, nullptr);
  const uint64_t id = ReadRequest(server.get());
  ASSERT_TRUE(server->SendFrame(Ping(7)));
  ExpectAck(server.get(), 7);
  ASSERT_TRUE(server->Send(SayResponse(id, "after the ping")));
  FRPC_EXPECT_OK(call.status());
  EXPECT_EQ(call.text(), "after the ping");
}

// Idle in the pool, the connection is watched by the channel's I/O thread, which reads the PING
// through the connection's SSL and answers it; the next call then uses the connection as usual.
TEST_F(TlsSyncCallsTest, IdlePooledConnectionAnswersPingFromTheLoop) {
  std::unique_ptr<Channel> channel = NewChannel(1);
  std::unique_ptr<TlsPeer> server;
  {
    BlockingSay call(channel.get());
    server = Accept();
    ASSERT_NE(server, nullptr);
    ASSERT_TRUE(server->Send(SayResponse(ReadRequest(server.get()), "first")));
    FRPC_ASSERT_OK(call.status());
  }
  ASSERT_TRUE(server->SendFrame(Ping(42)));
  ExpectAck(server.get(), 42);  // within 2 * kIdleWatchDelay, from the loop
  BlockingSay next(channel.get());
  ASSERT_TRUE(server->Send(SayResponse(ReadRequest(server.get()), "second")));
  FRPC_EXPECT_OK(next.status());
  EXPECT_EQ(next.text(), "second");
}

TEST_F(TlsSyncCallsTest, GoawayBelowTheCallMeansNotProcessed) {
  std::unique_ptr<Channel> channel = NewChannel();
  BlockingSay call(channel.get());
  std::unique_ptr<TlsPeer> server = Accept();
  ASSERT_NE(server, nullptr);
  const uint64_t id = ReadRequest(server.get());
  Envelope goaway;
  goaway.set_kind(GOAWAY);
  goaway.set_last_call_id(id - 1);
  ASSERT_TRUE(server->SendFrame(goaway));
  EXPECT_EQ(call.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(call.status().message(), "server is shutting down; the call was not processed");
}

// A GOAWAY to an idle pooled connection (taken in by the loop or by the probe before the next
// borrow) retires it: the next call opens a new connection.
TEST_F(TlsSyncCallsTest, GoawayWhileIdleRetiresTheConnection) {
  std::unique_ptr<Channel> channel = NewChannel(1);
  std::unique_ptr<TlsPeer> first;
  {
    BlockingSay call(channel.get());
    first = Accept();
    ASSERT_NE(first, nullptr);
    ASSERT_TRUE(first->Send(SayResponse(ReadRequest(first.get()), "first")));
    FRPC_ASSERT_OK(call.status());
  }
  Envelope goaway;
  goaway.set_kind(GOAWAY);
  goaway.set_last_call_id(0);
  ASSERT_TRUE(first->SendFrame(goaway));
  EXPECT_EQ(first->ReadFrame().status().code(), absl::StatusCode::kNotFound);  // closed by it
  BlockingSay next(channel.get());
  std::unique_ptr<TlsPeer> second = Accept();
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->Send(SayResponse(ReadRequest(second.get()), "second")));
  FRPC_EXPECT_OK(next.status());
  EXPECT_EQ(next.text(), "second");
}

TEST_F(TlsSyncCallsTest, ServerCloseDuringTheCallIsUnavailable) {
  std::unique_ptr<Channel> channel = NewChannel();
  BlockingSay call(channel.get());
  std::unique_ptr<TlsPeer> server = Accept();
  ASSERT_NE(server, nullptr);
  ReadRequest(server.get());
  server.reset();  // closed without close_notify
  EXPECT_EQ(call.status().code(), absl::StatusCode::kUnavailable) << call.status();
  EXPECT_THAT(std::string(call.status().message()), HasSubstr("connection to"));
}

// A server that accepts and never answers the ClientHello: the connect timeout ends the
// handshake with the multiplexed path's words; a shorter deadline ends it first.
TEST_F(TlsSyncCallsTest, StalledHandshakeTimesOut) {
  std::unique_ptr<Channel> channel = NewChannel(4, absl::Milliseconds(300));
  BlockingSay call(channel.get());
  absl::StatusOr<test::RawPeer> silent = test::RawPeer::Accept(listener_.get());
  FRPC_ASSERT_OK(silent.status());
  EXPECT_EQ(call.status().code(), absl::StatusCode::kUnavailable) << call.status();
  EXPECT_THAT(std::string(call.status().message()), HasSubstr("TLS handshake with"));
  EXPECT_THAT(std::string(call.status().message()), HasSubstr("timed out"));

  BlockingSay short_call(channel.get(), absl::Milliseconds(100));
  absl::StatusOr<test::RawPeer> silent2 = test::RawPeer::Accept(listener_.get());
  FRPC_ASSERT_OK(silent2.status());
  EXPECT_EQ(short_call.status().code(), absl::StatusCode::kDeadlineExceeded)
      << short_call.status();
}

// Two calls at once need two pooled connections; the second resumes the session the first one's
// server issued a ticket for.
TEST_F(TlsSyncCallsTest, SecondPooledConnectionResumesTheSession) {
  std::unique_ptr<Channel> channel = NewChannel(2);
  std::unique_ptr<TlsPeer> first;
  {
    BlockingSay call(channel.get());
    first = Accept();
    ASSERT_NE(first, nullptr);
    EXPECT_FALSE(first->resumed());
    // The ticket goes out with the reply's records; the client takes it in reading them.
    ASSERT_TRUE(first->Send(SayResponse(ReadRequest(first.get()), "first")));
    FRPC_ASSERT_OK(call.status());
  }
  BlockingSay held(channel.get());  // on the first connection, unanswered for now
  const uint64_t held_id = ReadRequest(first.get());
  BlockingSay second_call(channel.get());
  std::unique_ptr<TlsPeer> second = Accept();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->resumed());
  ASSERT_TRUE(second->Send(SayResponse(ReadRequest(second.get()), "second")));
  ASSERT_TRUE(first->Send(SayResponse(held_id, "held")));
  FRPC_EXPECT_OK(second_call.status());
  FRPC_EXPECT_OK(held.status());
}

// With its one pooled connection busy, a blocking call goes through the multiplexed connection.
TEST_F(TlsSyncCallsTest, BusyPoolFallsBackToTheMultiplexedConnection) {
  std::unique_ptr<Channel> channel = NewChannel(1);
  BlockingSay held(channel.get());
  std::unique_ptr<TlsPeer> pooled = Accept();
  ASSERT_NE(pooled, nullptr);
  const uint64_t held_id = ReadRequest(pooled.get());
  BlockingSay other(channel.get());
  std::unique_ptr<TlsPeer> multiplexed = Accept();
  ASSERT_NE(multiplexed, nullptr);
  ASSERT_TRUE(multiplexed->Send(SayResponse(ReadRequest(multiplexed.get()), "multiplexed")));
  FRPC_EXPECT_OK(other.status());
  EXPECT_EQ(other.text(), "multiplexed");
  ASSERT_TRUE(pooled->Send(SayResponse(held_id, "pooled")));
  FRPC_EXPECT_OK(held.status());
  EXPECT_EQ(held.text(), "pooled");
}

}  // namespace
}  // namespace framerpc
