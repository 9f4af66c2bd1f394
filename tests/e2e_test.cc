// End-to-end: the real server and channel over TCP/IPv4, TCP/IPv6 and a Unix socket.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/blocking_service.h"
#include "tests/test_util.h"
#include "transport/frame_codec.h"
#include "transport/socket_ops.h"

namespace framerpc {
namespace {

using echo::EchoService;
using echo::SayReply;
using echo::SayRequest;
using test::BlockingService;
using test::BlockReply;
using test::BlockRequest;

enum class Family { kIPv4, kIPv6, kUnix };

// The address family; whether blocking calls take the caller-driven path (else they go through
// the multiplexed connection like asynchronous ones); whether the server and the channel busy-poll.
using Param = std::tuple<Family, bool, bool>;

std::string ParamName(const testing::TestParamInfo<Param>& info) {
  const char* family = "?";
  switch (std::get<0>(info.param)) {
    case Family::kIPv4: family = "IPv4"; break;
    case Family::kIPv6: family = "IPv6"; break;
    case Family::kUnix: family = "Unix"; break;
  }
  return absl::StrCat(family, std::get<1>(info.param) ? "_CallerDriven" : "_Multiplexed",
                      std::get<2>(info.param) ? "_BusyPoll" : "");
}

class EndToEndTest : public testing::TestWithParam<Param> {
 protected:
  Family family() const { return std::get<0>(GetParam()); }

  void SetUp() override {
    switch (family()) {
      case Family::kIPv4: listen_ = "127.0.0.1:0"; break;
      case Family::kIPv6: listen_ = "[::1]:0"; break;
      case Family::kUnix: listen_ = absl::StrCat("unix:", test::MakeTempDir(), "/e2e.sock"); break;
    }
    absl::Status started = StartServer(listen_);
    if (family() == Family::kIPv6 && !started.ok()) GTEST_SKIP() << "no IPv6 loopback: " << started;
    FRPC_ASSERT_OK(started);
    ChannelOptions options;
    options.max_sync_connections = std::get<1>(GetParam()) ? 4 : 0;
    options.busy_poll = BusyPoll();
    auto channel = Channel::Create(server_->listen_address(0), options);
    FRPC_ASSERT_OK(channel.status());
    channel_ = *std::move(channel);
  }

  absl::Duration BusyPoll() const {
    return std::get<2>(GetParam()) ? absl::Microseconds(200) : absl::ZeroDuration();
  }

  absl::Status StartServer(const std::string& address) {
    ServerOptions options;
    options.io_threads = 2;
    options.worker_threads = 8;
    options.busy_poll = BusyPoll();
    server_ = std::make_unique<Server>(options);
    absl::Status s = server_->AddService(&echo_);
    if (s.ok()) s = server_->AddService(&blocking_, ServiceOptions{.run_inline = false});
    if (s.ok()) s = server_->AddListener(address);
    if (s.ok()) s = server_->Start();
    return s;
  }

  absl::Status Say(const std::string& text, SayReply* reply) {
    EchoService::Stub stub(channel_.get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    SayRequest request;
    request.set_text(text);
    return stub.Say(&context, request, reply);
  }

  std::string listen_;
  echo::EchoServiceImpl echo_;
  test::BlockingServiceImpl blocking_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Channel> channel_;
};

TEST_P(EndToEndTest, UnaryCallAndUppercase) {
  EchoService::Stub stub(channel_.get());
  ClientContext context;
  SayRequest request;
  request.set_text("hello framerpc");
  request.set_uppercase(true);
  SayReply reply;
  FRPC_ASSERT_OK(stub.Say(&context, request, &reply));
  EXPECT_EQ(reply.text(), "HELLO FRAMERPC");
}

// Around 16 KiB a blocking call starts sending the attachment from the caller's buffer behind
// the frame's head; 8 MiB is more than the socket takes at once (sendmsg sends part of it).
TEST_P(EndToEndTest, AttachmentTravelsBesideTheMessage) {
  EchoService::Stub stub(channel_.get());
  for (const size_t size : {size_t{16383}, size_t{16384}, size_t{1} << 20, size_t{8} << 20}) {
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    std::string data(size, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + size);
    context.set_request_attachment(data);
    echo::BytesReply reply;
    const absl::Status status = stub.Bytes(&context, echo::BytesRequest(), &reply);
    ASSERT_TRUE(status.ok()) << size << ": " << status;
    EXPECT_EQ(reply.size(), data.size());
    EXPECT_TRUE(context.response_attachment() == data) << size;
  }
}

TEST_P(EndToEndTest, ThousandConcurrentCallsOnOneConnection) {
  constexpr int kCalls = 1000;
  EchoService::Stub stub(channel_.get());
  struct Call {
    ClientContext context;
    SayRequest request;
    SayReply reply;
    absl::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  BlockingCounter done(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::make_unique<Call>());
    Call* call = calls.back().get();
    call->request.set_text(absl::StrCat("call-", i));
    call->request.set_uppercase(i % 2 == 0);
    stub.SayAsync(&call->context, call->request, &call->reply, [call, &done](absl::Status s) {
      call->status = std::move(s);
      done.DecrementCount();
    });
  }
  done.Wait();
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(calls[i]->status.ok()) << i << ": " << calls[i]->status;
    EXPECT_EQ(calls[i]->reply.text(), i % 2 == 0 ? absl::StrCat("CALL-", i) : absl::StrCat("call-", i));
  }
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_P(EndToEndTest, UnknownMethodIsUnimplemented) {
  ClientContext context;
  SayRequest request;
  SayReply reply;
  absl::Status status = channel_->Call("/framerpc.echo.EchoService/Shout", &context, request, &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(status.message(), "unknown method '/framerpc.echo.EchoService/Shout'");
  // The connection survives.
  SayReply ok;
  FRPC_EXPECT_OK(Say("still here", &ok));
}

TEST_P(EndToEndTest, DeadlineExpires) {
  BlockingService::Stub stub(channel_.get());
  ClientContext context;
  context.set_timeout(absl::Milliseconds(50));
  BlockRequest request;
  request.set_gate("never");
  BlockReply reply;
  absl::Status status = stub.Block(&context, request, &reply);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  // The server stops the handler too.
  blocking_.WaitForCancelled(1);
}

TEST_P(EndToEndTest, CancelledCall) {
  BlockingService::Stub stub(channel_.get());
  ClientContext context;
  BlockRequest request;
  request.set_gate("never");
  BlockReply reply;
  Notification done;
  absl::Status status;
  stub.BlockAsync(&context, request, &reply, [&](absl::Status s) {
    status = std::move(s);
    done.Notify();
  });
  blocking_.WaitForStarted(1);
  context.TryCancel();
  done.WaitForNotification();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  blocking_.WaitForCancelled(1);  // The server-side handler was told.
  SayReply ok;
  FRPC_EXPECT_OK(Say("after cancel", &ok));
}

TEST_P(EndToEndTest, PeerDyingMidFrameIsCleanedUpWhileOthersAreServed) {
  SayReply reply;
  FRPC_ASSERT_OK(Say("warm-up", &reply));
  ASSERT_TRUE(server_->WaitForConnectionCount(1, absl::Now() + absl::Seconds(10)));
  const int baseline_fds = test::CountOpenFds();

  auto address = SocketAddress::Parse(server_->listen_address(0));
  FRPC_ASSERT_OK(address.status());
  for (bool reset : {false, true}) {
    auto peer = ConnectBlocking(*address);
    FRPC_ASSERT_OK(peer.status());
    Envelope envelope;
    envelope.set_kind(REQUEST);
    envelope.set_call_id(1);
    envelope.set_method("/framerpc.echo.EchoService/Say");
    std::string frame;
    FRPC_ASSERT_OK(EncodeFrame(envelope, nullptr, std::string(1000, 'x'), {}, &frame));
    // Half a frame, then the peer dies: a clean close, then an abortive reset.
    ASSERT_EQ(::send(peer->get(), frame.data(), frame.size() / 2, 0),
              static_cast<ssize_t>(frame.size() / 2));
    ASSERT_TRUE(server_->WaitForConnectionCount(2, absl::Now() + absl::Seconds(10)));
    FRPC_EXPECT_OK(Say("while a peer is half-way through a frame", &reply));
    if (reset) {
      linger lin{1, 0};
      ::setsockopt(peer->get(), SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    }
    peer->reset();
    ASSERT_TRUE(server_->WaitForConnectionCount(1, absl::Now() + absl::Seconds(10)));
    FRPC_EXPECT_OK(Say("after the peer died", &reply));
  }
  EXPECT_EQ(test::CountOpenFds(), baseline_fds);
}

TEST_P(EndToEndTest, ServerRestartThenClientReconnects) {
  SayReply reply;
  FRPC_ASSERT_OK(Say("before restart", &reply));
  const std::string address = server_->listen_address(0);
  server_->Shutdown(absl::Seconds(10));
  server_.reset();
  // Nothing listens: the call fails fast instead of hanging.
  absl::Status down = Say("while down", &reply);
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  FRPC_ASSERT_OK(StartServer(address));
  FRPC_EXPECT_OK(Say("after restart", &reply));
  EXPECT_EQ(reply.text(), "after restart");
}

TEST_P(EndToEndTest, GracefulShutdownLosesNoInFlightReply) {
  constexpr int kCalls = 6;
  BlockingService::Stub stub(channel_.get());
  struct Call {
    ClientContext context;
    BlockRequest request;
    BlockReply reply;
    absl::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  BlockingCounter done(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::make_unique<Call>());
    Call* call = calls.back().get();
    call->request.set_gate("shutdown");
    stub.BlockAsync(&call->context, call->request, &call->reply, [call, &done](absl::Status s) {
      call->status = std::move(s);
      done.DecrementCount();
    });
  }
  blocking_.WaitForStarted(kCalls);
  std::thread shutdown([this] { server_->Shutdown(absl::Seconds(30)); });
  ASSERT_TRUE(server_->WaitForShutdownStarted(absl::Now() + absl::Seconds(10)));
  blocking_.Open("shutdown");
  done.Wait();
  shutdown.join();
  for (const auto& call : calls) {
    EXPECT_TRUE(call->status.ok()) << call->status;
    EXPECT_TRUE(call->reply.released());
  }
}

// A call that does not finish within the grace gets a status that says so, not a connection
// dropped under it (which is all it got before).
TEST_P(EndToEndTest, CallsStillOpenAfterTheGraceGetUnavailable) {
  BlockingService::Stub stub(channel_.get());
  ClientContext context;
  BlockRequest request;
  request.set_gate("never");
  BlockReply reply;
  absl::Status status;
  Notification done;
  stub.BlockAsync(&context, request, &reply, [&](absl::Status s) {
    status = std::move(s);
    done.Notify();
  });
  blocking_.WaitForStarted(1);
  server_->Shutdown(absl::Milliseconds(200));
  done.WaitForNotification();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(status.message(), "server shutting down");
  blocking_.WaitForCancelled(1);  // and the handler was told
}

INSTANTIATE_TEST_SUITE_P(
    AllFamiliesBothPaths, EndToEndTest,
    testing::Combine(testing::Values(Family::kIPv4, Family::kIPv6, Family::kUnix), testing::Bool(),
                     testing::Values(false)),
    ParamName);

// Busy polling changes how the I/O threads and blocking calls wait, not what they do: the same
// tests, with the server and the channel polling for 200 us before they sleep.
INSTANTIATE_TEST_SUITE_P(BusyPolling, EndToEndTest,
                         testing::Combine(testing::Values(Family::kIPv4, Family::kUnix),
                                          testing::Bool(), testing::Values(true)),
                         ParamName);

}  // namespace
}  // namespace framerpc
