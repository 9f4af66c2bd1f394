// A client Channel against a scripted fake server that misbehaves. Every case runs on both client
// paths: the caller-driven one for blocking calls, and the multiplexed connection.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
#include "transport/frame_codec.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

// Accepts one connection, reads one REQUEST frame and hands it and the socket to `script`.
class FakeServer {
 public:
  using Script = std::function<void(int fd, const Frame& request)>;

  explicit FakeServer(Script script) {
    auto address = SocketAddress::Parse("127.0.0.1:0");
    auto fd = Listen(*address, 16);
    EXPECT_TRUE(fd.ok());
    listen_fd_ = *std::move(fd);
    address_ = LocalAddress(listen_fd_.get()).ToString();
    thread_ = std::thread([this, script = std::move(script)] {
      pollfd pfd{listen_fd_.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 30000) != 1) return;
      ScopedFd conn(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      std::string input;
      Frame frame;
      for (;;) {
        DecodeResult result = DecodeFrame(input, FrameLimits{}, &frame);
        if (result.outcome == DecodeOutcome::kFrame) break;
        char buf[4096];
        const ssize_t n = ::recv(conn.get(), buf, sizeof(buf), 0);
        if (n <= 0) return;
        input.append(buf, static_cast<size_t>(n));
      }
      script(conn.get(), frame);
      // Keep the connection until the client is done with it.
      char buf[256];
      while (::recv(conn.get(), buf, sizeof(buf), 0) > 0) {
      }
    });
  }
  ~FakeServer() { thread_.join(); }

  const std::string& address() const { return address_; }

 private:
  ScopedFd listen_fd_;
  std::string address_;
  std::thread thread_;
};

void SendAll(int fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

// A FakeServer script: GOAWAY with the last call id just below the request's (it is refused).
void RefuseWithGoaway(int fd, const Frame& request) {
  Envelope goaway;
  goaway.set_kind(GOAWAY);
  goaway.set_last_call_id(request.envelope.call_id() - 1);
  SendAll(fd, test::RawPeer::BuildFrame(goaway, ""));
}

std::string Response(uint64_t id, const std::string& text) {
  Envelope envelope;
  envelope.set_kind(RESPONSE);
  envelope.set_call_id(id);
  echo::SayReply reply;
  reply.set_text(text);
  std::string frame;
  EXPECT_TRUE(EncodeFrame(envelope, &reply, {}, FrameLimits{}, &frame).ok());
  return frame;
}

// One blocking Say call to `address` on a channel of its own.
absl::Status SayOnce(const std::string& address, const ChannelOptions& options,
                     absl::Duration timeout, echo::SayReply* reply) {
  auto channel = Channel::Create(address, options);
  if (!channel.ok()) return channel.status();
  echo::EchoService::Stub stub(channel->get());
  ClientContext context;
  context.set_timeout(timeout);
  echo::SayRequest request;
  request.set_text("x");
  return stub.Say(&context, request, reply);
}

class ChannelFaultTest : public testing::TestWithParam<bool> {
 protected:
  // Makes one blocking Say call to `address`; sync = GetParam().
  absl::Status Say(const std::string& address, echo::SayReply* reply,
                   FrameLimits limits = FrameLimits()) {
    return SayOnce(address, Options(limits), absl::Seconds(30), reply);
  }
  ChannelOptions Options(FrameLimits limits = FrameLimits()) const {
    ChannelOptions options;
    options.limits = limits;
    options.max_sync_connections = GetParam() ? 4 : 0;
    return options;
  }
};

TEST_P(ChannelFaultTest, ReplyForAnotherCallIsSkipped) {
  FakeServer server([](int fd, const Frame& request) {
    SendAll(fd, Response(request.envelope.call_id() + 1000, "not yours"));
    SendAll(fd, Response(request.envelope.call_id(), "yours"));
  });
  echo::SayReply reply;
  FRPC_ASSERT_OK(Say(server.address(), &reply));
  EXPECT_EQ(reply.text(), "yours");
}

TEST_P(ChannelFaultTest, GoawayBelowTheCallMeansNotProcessed) {
  FakeServer server(RefuseWithGoaway);
  echo::SayReply reply;
  absl::Status status = Say(server.address(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(status.message(), "server is shutting down; the call was not processed");
  EXPECT_TRUE(CallNeverSent(status)) << "a call refused by GOAWAY reached no handler";
}

// A balanced channel sends a call that a GOAWAY refused to the next server, whatever the method
// (gRPC's transparent retry): the caller sees the other server's answer.
TEST_P(ChannelFaultTest, ACallRefusedByGoawayGoesToTheNextServer) {
  FakeServer refusing(RefuseWithGoaway);
  echo::EchoServiceImpl echo;
  ServerOptions server_options;
  server_options.io_threads = 1;
  Server real(server_options);
  FRPC_ASSERT_OK(real.AddService(&echo));
  FRPC_ASSERT_OK(real.AddListener("127.0.0.1:0"));
  FRPC_ASSERT_OK(real.Start());
  ChannelOptions options = Options();
  options.load_balancing = "pick_first";  // the refusing server first
  echo::SayReply reply;
  FRPC_ASSERT_OK(SayOnce(absl::StrCat("ipv4:", refusing.address(), ",", real.listen_address(0)),
                         options, absl::Seconds(30), &reply));
  EXPECT_EQ(reply.text(), "x");
}

TEST_P(ChannelFaultTest, GoawayCoveringTheCallStillDeliversItsReply) {
  FakeServer server([](int fd, const Frame& request) {
    Envelope goaway;
    goaway.set_kind(GOAWAY);
    goaway.set_last_call_id(request.envelope.call_id());
    SendAll(fd, test::RawPeer::BuildFrame(goaway, ""));
    SendAll(fd, Response(request.envelope.call_id(), "served"));
  });
  echo::SayReply reply;
  FRPC_ASSERT_OK(Say(server.address(), &reply));
  EXPECT_EQ(reply.text(), "served");
}

TEST_P(ChannelFaultTest, ConnectionErrorEndsTheCallWithItsCode) {
  FakeServer server([](int fd, const Frame&) {
    Envelope error;
    error.set_kind(CONNECTION_ERROR);
    error.set_status_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
    error.set_status_message("too big");
    SendAll(fd, test::RawPeer::BuildFrame(error, ""));
  });
  echo::SayReply reply;
  absl::Status status = Say(server.address(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(status.message(), "server closed the connection: too big");
}

TEST_P(ChannelFaultTest, GarbageFromTheServerIsUnavailable) {
  FakeServer server([](int fd, const Frame&) { SendAll(fd, "HTTP/1.1 400 Bad Request\r\n\r\n"); });
  echo::SayReply reply;
  absl::Status status = Say(server.address(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "bad magic")) << status;
}

TEST_P(ChannelFaultTest, ServerClosingMidFrameIsUnavailable) {
  FakeServer server([](int fd, const Frame& request) {
    const std::string frame = Response(request.envelope.call_id(), "cut short");
    SendAll(fd, frame.substr(0, frame.size() / 2));
    ::shutdown(fd, SHUT_RDWR);
  });
  echo::SayReply reply;
  absl::Status status = Say(server.address(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

TEST_P(ChannelFaultTest, ReplyOverTheClientsLimitIsRefusedFromItsHeader) {
  FakeServer server([](int fd, const Frame& request) {
    SendAll(fd, Response(request.envelope.call_id(), std::string(5000, 'r')));
  });
  FrameLimits limits;
  limits.max_body_bytes = 4096;
  echo::SayReply reply;
  absl::Status status = Say(server.address(), &reply, limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "exceeds the limit of 4096")) << status;
}

TEST_P(ChannelFaultTest, StatusCodeOutOfRangeIsUnknown) {
  FakeServer server([](int fd, const Frame& request) {
    Envelope envelope;
    envelope.set_kind(RESPONSE);
    envelope.set_call_id(request.envelope.call_id());
    envelope.set_status_code(999);
    envelope.set_status_message("odd");
    SendAll(fd, test::RawPeer::BuildFrame(envelope, ""));
  });
  echo::SayReply reply;
  absl::Status status = Say(server.address(), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown) << status;
}

// One blocking Bytes call whose request attachment is `attachment_bytes` of 'a'.
absl::Status SendBytes(const std::string& address, const ChannelOptions& options,
                       size_t attachment_bytes, absl::Duration timeout) {
  auto channel = Channel::Create(address, options);
  if (!channel.ok()) return channel.status();
  echo::EchoService::Stub stub(channel->get());
  ClientContext context;
  context.set_timeout(timeout);
  context.set_request_attachment(std::string(attachment_bytes, 'a'));
  echo::BytesReply reply;
  return stub.Bytes(&context, echo::BytesRequest(), &reply);
}

// A server that takes the connection but reads nothing (never accepted: the kernel holds what
// its buffers take): a request attachment far larger than those blocks the send, and the call
// ends at its deadline. (The blocking path sends a large attachment from the caller's buffer
// behind the frame's head.)
TEST_P(ChannelFaultTest, ALargeRequestToAServerThatReadsNothingEndsAtItsDeadline) {
  auto listener = Listen(*SocketAddress::Parse("127.0.0.1:0"), 16);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const absl::Status status = SendBytes(LocalAddress(listener->get()).ToString(), Options(),
                                        size_t{48} << 20, absl::Milliseconds(500));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
}

// The server reads part of a large request and closes (with input unread: a reset): the call
// ends UNAVAILABLE, not blocked in its send.
TEST_P(ChannelFaultTest, ServerClosingDuringALargeRequestIsUnavailable) {
  auto listener = Listen(*SocketAddress::Parse("127.0.0.1:0"), 16);
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::thread server([fd = listener->get()] {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 30000) != 1) return;
    ScopedFd conn(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    std::string buf(64 << 10, '\0');
    size_t got = 0;
    while (got < (size_t{1} << 20)) {
      const ssize_t n = ::recv(conn.get(), &buf[0], buf.size(), 0);
      if (n <= 0) return;
      got += static_cast<size_t>(n);
    }
  });  // closes with the rest unread
  const absl::Status status = SendBytes(LocalAddress(listener->get()).ToString(), Options(),
                                        size_t{48} << 20, absl::Seconds(30));
  server.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

// A busy-polling client waiting on a server that never answers: the spin is cut off at the
// deadline, and the wait that follows is for what is left of it, so the call ends at its
// deadline, not up to a busy-poll window later. (The bound is loose on purpose: with the wait
// computed before the spin, the call took twice its 500 ms deadline.)
TEST_P(ChannelFaultTest, BusyPollingCallToASilentServerEndsAtItsDeadline) {
  FakeServer server([](int, const Frame&) {});
  ChannelOptions options = Options();
  options.busy_poll = absl::Seconds(1);
  echo::SayReply reply;
  const absl::Time start = absl::Now();
  absl::Status status = SayOnce(server.address(), options, absl::Milliseconds(500), &reply);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LT(took, absl::Milliseconds(900)) << "the busy-poll spin outlived the deadline";
}

// A reset while a busy-polling blocking call waits is reported as a reset: the spin must not
// consume the socket's pending error.
TEST(ChannelFaultSyncTest, ResetDuringABusyPollIsReportedAsAReset) {
  FakeServer server([](int fd, const Frame&) {
    // Linger 0, then drop the socket's last reference: the kernel answers with a RST. dup2 keeps
    // `fd` a valid descriptor (of /dev/null) for the FakeServer, which closes it later.
    linger abort{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    ScopedFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ::dup2(devnull.get(), fd);
  });
  ChannelOptions options;  // the caller-driven path: the spin is in the caller's thread
  options.busy_poll = absl::Milliseconds(200);
  echo::SayReply reply;
  absl::Status status = SayOnce(server.address(), options, absl::Seconds(30), &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "reset by peer")) << status;
}

INSTANTIATE_TEST_SUITE_P(BothClientPaths, ChannelFaultTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "CallerDriven" : "Multiplexed";
                         });

// The caller-driven path against a real server.
class SyncPathTest : public testing::Test {
 protected:
  void SetUp() override { SetUpServerOn("127.0.0.1:0"); }

  void SetUpServerOn(const std::string& address) {
    ServerOptions options;
    options.io_threads = 1;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&blocking_, ServiceOptions{.run_inline = false}));
    FRPC_ASSERT_OK(server_->AddListener(address));
    FRPC_ASSERT_OK(server_->Start());
  }

  std::unique_ptr<Channel> NewChannel(size_t sync_connections) {
    ChannelOptions options;
    options.max_sync_connections = sync_connections;
    auto channel = Channel::Create(server_->listen_address(0), options);
    EXPECT_TRUE(channel.ok());
    return *std::move(channel);
  }

  echo::EchoServiceImpl echo_;
  test::BlockingServiceImpl blocking_;
  std::unique_ptr<Server> server_;
};

TEST_F(SyncPathTest, SequentialBlockingCallsReuseOneConnection) {
  auto channel = NewChannel(4);
  echo::EchoService::Stub stub(channel.get());
  for (int i = 0; i < 100; ++i) {
    ClientContext context;
    echo::SayRequest request;
    request.set_text(absl::StrCat("n", i));
    echo::SayReply reply;
    FRPC_ASSERT_OK(stub.Say(&context, request, &reply));
    ASSERT_EQ(reply.text(), absl::StrCat("n", i));
  }
  EXPECT_TRUE(server_->WaitForConnectionCount(1, absl::Now() + absl::Seconds(10)));
}

// A connection reused without the liveness probe (sync_probe_bypass) whose server restarted
// meanwhile: the GOAWAY proves the call was not processed, so it is sent again on a fresh
// connection and succeeds.
TEST_F(SyncPathTest, RestartWithinTheProbeBypassIsRetriedOnAFreshConnection) {
  ChannelOptions options;
  options.sync_probe_bypass = absl::InfiniteDuration();
  auto channel = Channel::Create(server_->listen_address(0), options);
  FRPC_ASSERT_OK(channel.status());
  echo::EchoService::Stub stub(channel->get());
  echo::SayRequest request;
  request.set_text("once");
  echo::SayReply reply;
  ClientContext first;
  FRPC_ASSERT_OK(stub.Say(&first, request, &reply));
  const std::string address = server_->listen_address(0);
  server_->Shutdown(absl::Seconds(10));  // GOAWAY, then close
  server_.reset();
  SetUpServerOn(address);
  ClientContext second;
  request.set_text("after restart");
  FRPC_ASSERT_OK(stub.Say(&second, request, &reply));
  EXPECT_EQ(reply.text(), "after restart");
}

// Without a GOAWAY (the server died), the call may have been processed: it fails, never resent.
TEST(SyncProbeBypassTest, CloseWithoutGoawayFailsTheNextCall) {
  FakeServer server([](int fd, const Frame& request) {
    SendAll(fd, Response(request.envelope.call_id(), "only"));
    ::shutdown(fd, SHUT_WR);  // FIN right after the reply, no GOAWAY
  });
  ChannelOptions options;
  options.sync_probe_bypass = absl::InfiniteDuration();
  auto channel = Channel::Create(server.address(), options);
  FRPC_ASSERT_OK(channel.status());
  echo::EchoService::Stub stub(channel->get());
  echo::SayReply reply;
  ClientContext first;
  FRPC_ASSERT_OK(stub.Say(&first, echo::SayRequest(), &reply));
  ClientContext second;
  absl::Status status = stub.Say(&second, echo::SayRequest(), &reply);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST_F(SyncPathTest, MoreBlockingCallersThanPooledConnectionsFallBack) {
  auto channel = NewChannel(2);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      echo::EchoService::Stub stub(channel.get());
      for (int i = 0; i < 50; ++i) {
        ClientContext context;
        echo::SayRequest request;
        request.set_text(absl::StrCat(t, ":", i));
        echo::SayReply reply;
        if (!stub.Say(&context, request, &reply).ok() || reply.text() != request.text()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // At most 2 pooled connections plus the multiplexed one.
  EXPECT_LE(server_->connection_count(), 3u);
}

TEST_F(SyncPathTest, BlockingCallCancelledFromAnotherThread) {
  auto channel = NewChannel(4);
  test::BlockingService::Stub stub(channel.get());
  ClientContext context;
  test::BlockRequest request;
  request.set_gate("never");
  test::BlockReply reply;
  absl::Status status;
  std::thread caller([&] { status = stub.Block(&context, request, &reply); });
  blocking_.WaitForStarted(1);
  context.TryCancel();
  caller.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  blocking_.WaitForCancelled(1);  // The server stopped the handler too.
  // The channel goes on working.
  echo::EchoService::Stub echo_stub(channel.get());
  ClientContext again;
  echo::SayReply ok;
  FRPC_EXPECT_OK(echo_stub.Say(&again, echo::SayRequest(), &ok));
}

TEST_F(SyncPathTest, DeadlineThenTheSameConnectionServesTheNextCall) {
  auto channel = NewChannel(1);
  test::BlockingService::Stub stub(channel.get());
  ClientContext context;
  context.set_timeout(absl::Milliseconds(50));
  test::BlockRequest request;
  request.set_gate("later");
  test::BlockReply reply;
  absl::Status status = stub.Block(&context, request, &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  blocking_.WaitForCancelled(1);  // The CANCEL reached the server.
  echo::EchoService::Stub echo_stub(channel.get());
  for (int i = 0; i < 3; ++i) {
    ClientContext next;
    echo::SayRequest say;
    say.set_text("next");
    echo::SayReply said;
    FRPC_ASSERT_OK(echo_stub.Say(&next, say, &said));
    EXPECT_EQ(said.text(), "next");
  }
}

}  // namespace
}  // namespace framerpc
