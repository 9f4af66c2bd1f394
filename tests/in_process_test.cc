// In-process channels (rpc/in_process_channel.h): a Server reached through in-memory pipes, with no
// listener, no port and no file, served by the real dispatcher and connection code: unary calls
// and every streaming kind, metadata and the peer, deadlines, cancellation, the server's limits,
// its shutdown under open calls, and many calls at once.
#include "rpc/in_process_channel.h"

#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/call_observer.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/blocking_service.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"

namespace framerpc::test {
namespace {

// Replies with what the handler saw of its caller: metadata "who", the peer, and its identity.
class WhoIsCallingImpl final : public echo::EchoService::Service {
 public:
  absl::Status Say(ServerContext* context, const echo::SayRequest& request,
                   echo::SayReply* reply) override {
    const std::string* who = context->FindClientMetadata("who");
    const PeerIdentity& identity = context->peer_identity();
    reply->set_text(absl::StrCat(who == nullptr ? "-" : *who, "|", context->peer(), "|",
                                 identity.local ? "local" : "remote", "|",
                                 identity.unix_pid.value_or(-1)));
    return absl::OkStatus();
  }
  absl::Status Bytes(ServerContext*, const echo::BytesRequest&, echo::BytesReply*) override {
    return absl::UnimplementedError("not here");
  }
};

// Counts the calls the server's dispatcher finished, by code.
class CountingObserver final : public CallObserver {
 public:
  MethodHandle RegisterMethod(absl::string_view, MethodKind) override { return nullptr; }
  MethodHandle UnknownMethod() override { return nullptr; }
  void OnStarted(MethodHandle, CallTransport) override {}
  void OnFinished(MethodHandle, const FinishedCall& call) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++finished_[static_cast<int>(call.code)];
  }
  void OnStreamMessage(MethodHandle, CallTransport, bool, size_t) override {}
  int finished(absl::StatusCode code) {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_[static_cast<int>(code)];
  }

 private:
  std::mutex mu_;
  int finished_[17] = {};
};

class InProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(ServerOptions{}); }

  void StartServer(ServerOptions options) {
    options.io_threads = 2;
    options.worker_threads = 4;
    options.observer = &observer_;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&who_));
    FRPC_ASSERT_OK(server_->AddService(&streams_, {.run_inline = false}));
    FRPC_ASSERT_OK(server_->AddService(&blocking_, {.run_inline = false}));
    connector_ = server_->in_process_connector();  // before Start(): the server's only way in
    FRPC_ASSERT_OK(server_->Start());
    channel_ = NewChannel();
  }

  std::unique_ptr<Channel> NewChannel(ChannelOptions options = {}) {
    absl::StatusOr<std::unique_ptr<Channel>> channel =
        NewInProcessChannel(connector_, options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *std::move(channel) : nullptr;
  }

  // A Block call started asynchronously on `channel`, held at `gate` until the test opens it.
  struct BlockedCall {
    ClientContext context;
    BlockReply reply;
    Notification done;
    absl::Status status;
  };
  void StartBlocked(Channel* channel, const std::string& gate, BlockedCall* call) {
    BlockRequest request;
    request.set_gate(gate);
    BlockingService::Stub(channel).BlockAsync(&call->context, request, &call->reply,
                                              [call](absl::Status s) {
                                                call->status = std::move(s);
                                                call->done.Notify();
                                              });
  }

  absl::Status Say(Channel* channel, const std::string& text, echo::SayReply* reply) {
    ClientContext context;
    echo::SayRequest request;
    request.set_text(text);
    return echo::EchoService::Stub(channel).Say(&context, request, reply);
  }

  CountingObserver observer_;
  WhoIsCallingImpl who_;
  StreamTestServiceImpl streams_;
  BlockingServiceImpl blocking_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<InProcessConnector> connector_;
  std::unique_ptr<Channel> channel_;
};

TEST_F(InProcessTest, UnaryCallReachesTheDispatcherWithMetadataAndThePeer) {
  ASSERT_NE(channel_, nullptr);
  EXPECT_EQ(channel_->target(), kInProcessTarget);
  ClientContext context;
  context.AddMetadata("who", "alice");
  echo::SayRequest request;
  echo::SayReply reply;
  FRPC_ASSERT_OK(echo::EchoService::Stub(channel_.get()).Say(&context, request, &reply));
  EXPECT_EQ(reply.text(), absl::StrCat("alice|unix:@framerpc-in-process|local|", ::getpid()));
  // The server's own bookkeeping saw it: one connection, one finished call.
  EXPECT_EQ(server_->connection_count(), 1u);
  EXPECT_EQ(server_->stats().accepted(), 1u);
  EXPECT_EQ(observer_.finished(absl::StatusCode::kOk), 1);
}

TEST_F(InProcessTest, ServerStreamingInOrderAndItsEndStatus) {
  StreamTestService::Stub stub(channel_.get());
  ClientContext context;
  CountRequest request;
  request.set_count(200);
  request.set_chunk_bytes(10000);  // 2 MB: several stream windows' worth of flow control
  auto reader = stub.Count(&context, request);
  Chunk chunk;
  uint64_t next = 0;
  while (reader->Read(&chunk)) {
    ASSERT_EQ(chunk.seq(), next++);
    ASSERT_EQ(chunk.data().size(), 10000u);
  }
  FRPC_EXPECT_OK(reader->Finish());
  EXPECT_EQ(next, 200u);

  ClientContext failing;
  request.set_count(3);
  request.set_fail_with_code(static_cast<int>(absl::StatusCode::kDataLoss));
  auto failed = stub.Count(&failing, request);
  int read = 0;
  while (failed->Read(&chunk)) ++read;
  // Messages may be dropped when a call ends in error (protocol.md §11), as on a socket.
  EXPECT_LE(read, 3);
  const absl::Status status = failed->Finish();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_EQ(status.message(), "failed on purpose after the chunks");
}

TEST_F(InProcessTest, ClientStreaming) {
  StreamTestService::Stub stub(channel_.get());
  ClientContext context;
  SumReply reply;
  auto writer = stub.Sum(&context, &reply);
  uint64_t seq_sum = 0;
  for (uint64_t seq = 0; seq < 100; ++seq) {
    Chunk chunk;
    chunk.set_seq(seq);
    chunk.set_data(std::string(100, 'd'));
    ASSERT_TRUE(writer->Write(chunk));
    seq_sum += seq;
  }
  ASSERT_TRUE(writer->WritesDone());
  FRPC_ASSERT_OK(writer->Finish());
  EXPECT_EQ(reply.count(), 100u);
  EXPECT_EQ(reply.total_bytes(), 10000u);
  EXPECT_EQ(reply.seq_sum(), seq_sum);
}

TEST_F(InProcessTest, BidiStreaming) {
  StreamTestService::Stub stub(channel_.get());
  ClientContext context;
  auto stream = stub.Echo(&context);
  for (uint64_t seq = 0; seq < 50; ++seq) {
    Chunk out;
    out.set_seq(seq);
    out.set_data(absl::StrCat("m", seq));
    ASSERT_TRUE(stream->Write(out));
    Chunk in;
    ASSERT_TRUE(stream->Read(&in));  // each echoed before the next is sent
    EXPECT_EQ(in.seq(), seq);
    EXPECT_EQ(in.data(), absl::StrCat("m", seq));
  }
  ASSERT_TRUE(stream->WritesDone());
  Chunk last;
  ASSERT_TRUE(stream->Read(&last));
  EXPECT_EQ(last.seq(), 50u);
  EXPECT_FALSE(stream->Read(&last));
  FRPC_EXPECT_OK(stream->Finish());
}

TEST_F(InProcessTest, DeadlineExceededCancelsTheHandler) {
  BlockingService::Stub stub(channel_.get());
  ClientContext context;
  context.set_deadline(absl::Now() + absl::Milliseconds(200));
  BlockRequest request;
  request.set_gate("never");
  BlockReply reply;
  const absl::Status status = stub.Block(&context, request, &reply);
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  blocking_.WaitForCancelled(1);  // the server got the deadline (or the CANCEL) and acted on it
  echo::SayReply ok;
  FRPC_EXPECT_OK(Say(channel_.get(), "the connection is still fine", &ok));
}

TEST_F(InProcessTest, ClientCancellationReachesTheHandler) {
  BlockedCall call;
  StartBlocked(channel_.get(), "never", &call);
  blocking_.WaitForStarted(1);
  call.context.TryCancel();
  ASSERT_TRUE(call.done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(absl::IsCancelled(call.status)) << call.status;
  blocking_.WaitForCancelled(1);

  // A stream cancelled by the client: its handler sees it and returns.
  StreamTestService::Stub streams(channel_.get());
  ClientContext stream_context;
  CountRequest forever;
  forever.set_forever(true);
  forever.set_chunk_bytes(1000);
  forever.set_probe("cancelled");
  auto reader = streams.Count(&stream_context, forever);
  Chunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  stream_context.TryCancel();
  EXPECT_TRUE(absl::IsCancelled(reader->Finish()));
  Probe* probe = streams_.probe("cancelled");
  EXPECT_TRUE(probe->WaitFor([](const Probe& p) { return p.returned; }));
}

TEST_F(InProcessTest, ServerStreamLimitRefusesWithResourceExhausted) {
  ServerOptions options;
  options.max_concurrent_streams_per_connection = 1;
  StartServer(options);
  StreamTestService::Stub stub(channel_.get());
  ClientContext first_context;
  CountRequest forever;
  forever.set_forever(true);
  forever.set_chunk_bytes(10);
  auto first = stub.Count(&first_context, forever);
  Chunk chunk;
  ASSERT_TRUE(first->Read(&chunk));  // open and holding the connection's one stream slot
  ClientContext second_context;
  auto second = stub.Count(&second_context, forever);
  EXPECT_FALSE(second->Read(&chunk));
  const absl::Status refused = second->Finish();
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  first_context.TryCancel();
  EXPECT_TRUE(absl::IsCancelled(first->Finish()));
}

TEST_F(InProcessTest, FrameLimitsApplyAsOnASocket) {
  ServerOptions options;
  options.limits.max_body_bytes = 4096;
  StartServer(options);
  echo::SayReply reply;
  const absl::Status too_big = Say(channel_.get(), std::string(64 << 10, 'x'), &reply);
  // The server's frame reader refuses it with a CONNECTION_ERROR, which arrives before the end.
  EXPECT_TRUE(absl::IsResourceExhausted(too_big)) << too_big;
  EXPECT_NE(too_big.message().find("server closed the connection"), absl::string_view::npos)
      << too_big;
  ASSERT_TRUE(server_->WaitForConnectionCount(0, absl::Now() + absl::Seconds(30)));
  FRPC_EXPECT_OK(Say(channel_.get(), "a new connection for the next call", &reply));
}

TEST_F(InProcessTest, ConnectionLimitRefusesASecondBusyChannel) {
  ServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  // The first connection is busy (a call open on it), so it cannot be shed for the second.
  BlockedCall first;
  StartBlocked(channel_.get(), "first", &first);
  blocking_.WaitForStarted(1);
  std::unique_ptr<Channel> second = NewChannel();
  echo::SayReply said;
  const absl::Status refused = Say(second.get(), "no room", &said);
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_NE(refused.message().find("limit of 1 connections"), absl::string_view::npos) << refused;
  blocking_.Open("first");
  ASSERT_TRUE(first.done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  FRPC_EXPECT_OK(first.status);
}

TEST_F(InProcessTest, ShutdownEndsOpenCallsWithUnavailableAndRefusesNewOnes) {
  BlockedCall call;
  StartBlocked(channel_.get(), "never", &call);
  StreamTestService::Stub streams(channel_.get());
  ClientContext stream_context;
  auto echo = streams.Echo(&stream_context);
  Chunk chunk;
  ASSERT_TRUE(echo->Write(chunk));
  ASSERT_TRUE(echo->Read(&chunk));  // the stream is open on the server
  blocking_.WaitForStarted(1);

  server_->Shutdown(absl::Milliseconds(100));
  ASSERT_TRUE(call.done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(absl::IsUnavailable(call.status)) << call.status;
  const absl::Status stream_status = echo->Finish();
  EXPECT_TRUE(absl::IsUnavailable(stream_status)) << stream_status;
  echo::SayReply said;
  const absl::Status after = Say(channel_.get(), "too late", &said);
  EXPECT_TRUE(absl::IsUnavailable(after)) << after;
  EXPECT_TRUE(CallNeverSent(after)) << after;  // nothing was written: safe to send elsewhere
}

TEST_F(InProcessTest, ChannelOutlivesItsServer) {
  echo::SayReply reply;
  FRPC_ASSERT_OK(Say(channel_.get(), "before", &reply));
  server_.reset();  // destroyed, with the channel's connection open
  const absl::Status after = Say(channel_.get(), "after", &reply);
  EXPECT_TRUE(absl::IsUnavailable(after)) << after;
  channel_.reset();
}

TEST_F(InProcessTest, BeforeStartCallsFailUnavailable) {
  Server unstarted;
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      NewInProcessChannel(unstarted.in_process_connector());
  FRPC_ASSERT_OK(channel.status());
  echo::SayReply reply;
  const absl::Status status = Say(channel->get(), "early", &reply);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_TRUE(CallNeverSent(status)) << status;
}

TEST(InProcessServerTest, StartNeedsAListenerOrTheConnectorTakenBefore) {
  Server unreachable;
  const absl::Status refused = unreachable.Start();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  Server in_process_only;
  std::shared_ptr<InProcessConnector> connector = in_process_only.in_process_connector();
  FRPC_EXPECT_OK(in_process_only.Start());
}

TEST_F(InProcessTest, ManyConcurrentCallsFromManyThreads) {
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        echo::SayReply reply;
        ClientContext context;
        context.AddMetadata("who", absl::StrCat(t, "-", i));
        echo::SayRequest request;
        if (echo::EchoService::Stub(channel_.get()).Say(&context, request, &reply).ok() &&
            reply.text().rfind(absl::StrCat(t, "-", i, "|"), 0) == 0) {
          ok.fetch_add(1);
        }
      }
    });
  }
  // Asynchronous calls alongside, all in flight on the one connection at once.
  constexpr int kAsync = 500;
  std::vector<ClientContext> contexts(kAsync);
  std::vector<echo::SayReply> replies(kAsync);
  std::mutex mu;
  std::condition_variable all_done;
  int async_done = 0;
  int async_ok = 0;
  echo::SayRequest request;
  for (int i = 0; i < kAsync; ++i) {
    echo::EchoService::Stub(channel_.get())
        .SayAsync(&contexts[i], request, &replies[i], [&](absl::Status s) {
          std::lock_guard<std::mutex> lock(mu);
          ++async_done;
          if (s.ok()) ++async_ok;
          all_done.notify_all();
        });
  }
  for (std::thread& thread : threads) thread.join();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(60),
                                [&] { return async_done == kAsync; }));
  EXPECT_EQ(async_ok, kAsync);
  EXPECT_EQ(ok.load(), kThreads * kCallsPerThread);
}

TEST(InProcessChannelTest, RefusesOptionsThatNeedASocket) {
  auto connector = std::make_shared<InProcessConnector>();
  ChannelOptions tls;
  tls.tls.emplace();
  EXPECT_TRUE(absl::IsInvalidArgument(NewInProcessChannel(connector, tls).status()));
  ChannelOptions busy;
  busy.busy_poll = absl::Microseconds(50);
  EXPECT_TRUE(absl::IsInvalidArgument(NewInProcessChannel(connector, busy).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(NewInProcessChannel(nullptr).status()));
  ChannelOptions zero;
  zero.max_outstanding_calls = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(NewInProcessChannel(connector, zero).status()));
}

}  // namespace
}  // namespace framerpc::test
