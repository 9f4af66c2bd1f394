// A balanced channel's transparent retry of streams (rpc/retrying_stream.h): a stream whose first
// endpoint refused the connection, or refused the stream with a GOAWAY, goes on at the next
// endpoint with every message delivered once and in order, for each kind of stream; one the
// server has answered, one past the retry buffer, one cancelled and one past its deadline do not.
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "rpc/balanced_channel.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/raw_peer.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"
#include "transport/frame_codec.h"
#include "transport/socket_ops.h"

namespace framerpc::test {
namespace {

// StreamTestService that counts the calls that reach it.
class CountingService final : public StreamTestService::Service {
 public:
  absl::Status Count(ServerContext* context, const CountRequest& request,
                     ServerWriter<Chunk>* writer) override {
    ++calls_;
    return impl_.Count(context, request, writer);
  }
  absl::Status Sum(ServerContext* context, ServerReader<Chunk>* reader,
                   SumReply* reply) override {
    ++calls_;
    return impl_.Sum(context, reader, reply);
  }
  absl::Status Echo(ServerContext* context, ServerReaderWriter<Chunk, Chunk>* stream) override {
    ++calls_;
    return impl_.Echo(context, stream);
  }
  int calls() const { return calls_.load(); }

 private:
  StreamTestServiceImpl impl_;
  std::atomic<int> calls_{0};
};

// A scripted framerpc server on 127.0.0.1:0: accepts one connection and runs `script` on it,
// then reads until the client closes.
class ScriptedServer {
 public:
  using Script = std::function<void(RawPeer& peer)>;
  explicit ScriptedServer(Script script) {
    absl::StatusOr<ScopedFd> fd = Listen(*SocketAddress::Parse("127.0.0.1:0"), 16);
    EXPECT_TRUE(fd.ok()) << fd.status();
    listen_fd_ = *std::move(fd);
    address_ = LocalAddress(listen_fd_.get()).ToString();
    thread_ = std::thread([this, script = std::move(script)] {
      absl::StatusOr<RawPeer> peer = RawPeer::Accept(listen_fd_.get());
      if (!peer.ok()) return;
      script(*peer);
      while (peer->ReadFrame().ok()) {
      }
    });
  }
  ~ScriptedServer() { thread_.join(); }
  const std::string& address() const { return address_; }

 private:
  ScopedFd listen_fd_;
  std::string address_;
  std::thread thread_;
};

Envelope Goaway(uint64_t last_call_id) {
  Envelope goaway;
  goaway.set_kind(GOAWAY);
  goaway.set_last_call_id(last_call_id);
  return goaway;
}

// Script: reads the stream's REQUEST, its messages and its half-close, then refuses it with a
// GOAWAY (last call id below it). `messages` counts the messages it had been sent.
ScriptedServer::Script RefuseAfterHalfClose(std::atomic<int>* messages) {
  return [messages](RawPeer& peer) {
    absl::StatusOr<Frame> request = peer.ReadFrame();
    ASSERT_TRUE(request.ok()) << request.status();
    for (;;) {
      absl::StatusOr<Frame> frame = peer.ReadFrame();
      ASSERT_TRUE(frame.ok()) << frame.status();
      if (frame->envelope.kind() != STREAM_MESSAGE) continue;
      if ((frame->envelope.flags() & END_OF_STREAM) != 0) break;
      ++*messages;
    }
    ASSERT_TRUE(peer.SendFrame(Goaway(request->envelope.call_id() - 1)));
  };
}

// Script: reads the REQUEST, says so, and answers nothing.
ScriptedServer::Script Hold(Notification* got_request) {
  return [got_request](RawPeer& peer) {
    ASSERT_TRUE(peer.ReadFrame().ok());
    got_request->Notify();
  };
}

// An address where the connection is refused: a bound socket that does not listen.
class RefusingAddress {
 public:
  RefusingAddress() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    absl::StatusOr<SocketAddress> any = SocketAddress::Parse("127.0.0.1:0");
    EXPECT_EQ(::bind(fd_.get(), any->sockaddr_ptr(), any->length()), 0);
    address_ = LocalAddress(fd_.get()).ToString();
  }
  const std::string& address() const { return address_; }

 private:
  ScopedFd fd_;
  std::string address_;
};

std::unique_ptr<Channel> PickFirst(const std::vector<std::string>& addresses) {
  std::string target = "ipv4:";
  for (const std::string& a : addresses) absl::StrAppend(&target, target == "ipv4:" ? "" : ",", a);
  ChannelOptions options;
  options.load_balancing = "pick_first";  // in the order given: the refusing endpoint first
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(target, options);
  EXPECT_TRUE(channel.ok()) << channel.status();
  return channel.ok() ? *std::move(channel) : nullptr;
}

Chunk MakeChunk(uint64_t seq, size_t bytes = 16) {
  Chunk chunk;
  chunk.set_seq(seq);
  chunk.set_data(std::string(bytes, static_cast<char>('a' + seq % 26)));
  return chunk;
}

enum class Refusal { kConnection, kGoaway };

// Each case: the first endpoint refuses (the connection, or the stream by GOAWAY after the client
// has written everything, so that the retry must replay it), the second is a real server.
class StreamRetryTest : public testing::TestWithParam<Refusal> {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&service_));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
    std::string first;
    if (GetParam() == Refusal::kGoaway) {
      refuser_ = std::make_unique<ScriptedServer>(RefuseAfterHalfClose(&refused_messages_));
      first = refuser_->address();
    } else {
      first = refused_.address();
    }
    channel_ = PickFirst({first, server_->listen_address(0)});
    ASSERT_NE(channel_, nullptr);
    stub_ = std::make_unique<StreamTestService::Stub>(channel_.get());
  }
  void TearDown() override {
    stub_.reset();
    channel_.reset();  // first: the scripted server reads until the client closes
    refuser_.reset();
    server_->Shutdown(absl::Seconds(2));
  }
  // With a GOAWAY, the refused attempt had been sent `n` messages: the retry replayed them.
  void ExpectRefusedAfter(int n) {
    if (GetParam() == Refusal::kGoaway) {
      EXPECT_EQ(refused_messages_.load(), n);
    }
  }

  CountingService service_;
  std::unique_ptr<Server> server_;
  RefusingAddress refused_;
  std::atomic<int> refused_messages_{0};
  std::unique_ptr<ScriptedServer> refuser_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<StreamTestService::Stub> stub_;
};

TEST_P(StreamRetryTest, ServerStreamingGoesToTheNextServer) {
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  CountRequest request;
  request.set_count(5);
  auto reader = stub_->Count(&context, request);
  Chunk chunk;
  for (uint64_t seq = 0; seq < 5; ++seq) {
    ASSERT_TRUE(reader->Read(&chunk)) << seq;
    EXPECT_EQ(chunk.seq(), seq);
  }
  EXPECT_FALSE(reader->Read(&chunk));
  FRPC_EXPECT_OK(reader->Finish());
  EXPECT_EQ(service_.calls(), 1);
  ExpectRefusedAfter(1);
}

TEST_P(StreamRetryTest, ClientStreamingGoesToTheNextServer) {
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  SumReply reply;
  auto writer = stub_->Sum(&context, &reply);
  uint64_t bytes = 0;
  for (uint64_t seq = 0; seq < 20; ++seq) {
    const Chunk chunk = MakeChunk(seq, 100 + seq);
    bytes += chunk.data().size();
    ASSERT_TRUE(writer->Write(chunk)) << seq;
  }
  ASSERT_TRUE(writer->WritesDone());
  FRPC_ASSERT_OK(writer->Finish());
  // Every message exactly once: a lost or repeated one changes the count or the sums.
  EXPECT_EQ(reply.count(), 20u);
  EXPECT_EQ(reply.seq_sum(), 190u);
  EXPECT_EQ(reply.total_bytes(), bytes);
  EXPECT_EQ(service_.calls(), 1);
  ExpectRefusedAfter(20);
}

TEST_P(StreamRetryTest, BidiStreamingGoesToTheNextServer) {
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  auto stream = stub_->Echo(&context);
  constexpr uint64_t kCount = 10;
  // The writer and the reader on threads of their own, as the swap to the next endpoint happens
  // under them.
  std::thread writer([&] {
    for (uint64_t seq = 0; seq < kCount; ++seq) EXPECT_TRUE(stream->Write(MakeChunk(seq))) << seq;
    EXPECT_TRUE(stream->WritesDone());
  });
  Chunk chunk;
  for (uint64_t seq = 0; seq < kCount; ++seq) {
    const bool read = stream->Read(&chunk);
    EXPECT_TRUE(read) << seq;
    if (!read) break;  // the writer is joined first
    EXPECT_EQ(chunk.seq(), seq);
    EXPECT_EQ(chunk.data(), MakeChunk(seq).data());
  }
  writer.join();
  ASSERT_TRUE(stream->Read(&chunk));
  EXPECT_EQ(chunk.seq(), kCount);  // the server echoed exactly kCount messages
  EXPECT_FALSE(stream->Read(&chunk));
  FRPC_EXPECT_OK(stream->Finish());
  EXPECT_EQ(service_.calls(), 1);
  ExpectRefusedAfter(static_cast<int>(kCount));
}

// The same through the callback API: writes chained from their callbacks, reads likewise.
TEST_P(StreamRetryTest, AsynchronousBidiStreamingGoesToTheNextServer) {
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  auto stream = stub_->Echo(&context);
  constexpr uint64_t kCount = 10;
  std::function<void(uint64_t)> write_from;
  Notification written;
  write_from = [&](uint64_t seq) {
    if (seq == kCount) {
      EXPECT_TRUE(stream->WritesDone());
      written.Notify();
      return;
    }
    stream->WriteAsync(MakeChunk(seq), "", [&, seq](bool ok) {
      EXPECT_TRUE(ok) << seq;
      write_from(seq + 1);
    });
  };
  write_from(0);
  std::vector<uint64_t> seqs;
  Chunk chunk;
  std::function<void()> read_next;
  Notification read_all;
  read_next = [&] {
    stream->ReadAsync(&chunk, nullptr, [&](bool ok) {
      if (!ok) {
        read_all.Notify();
        return;
      }
      seqs.push_back(chunk.seq());
      read_next();
    });
  };
  read_next();
  ASSERT_TRUE(written.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(read_all.WaitForNotificationWithTimeout(absl::Seconds(30)));
  std::vector<uint64_t> expected;
  for (uint64_t seq = 0; seq <= kCount; ++seq) expected.push_back(seq);  // the last: the count
  EXPECT_EQ(seqs, expected);
  Notification finished;
  absl::Status status;
  stream->FinishAsync([&](absl::Status s) {
    status = std::move(s);
    finished.Notify();
  });
  ASSERT_TRUE(finished.WaitForNotificationWithTimeout(absl::Seconds(30)));
  FRPC_EXPECT_OK(status);
  EXPECT_EQ(service_.calls(), 1);
  ExpectRefusedAfter(static_cast<int>(kCount));
}

INSTANTIATE_TEST_SUITE_P(Refusals, StreamRetryTest,
                         testing::Values(Refusal::kConnection, Refusal::kGoaway),
                         [](const testing::TestParamInfo<Refusal>& info) {
                           return info.param == Refusal::kGoaway ? "Goaway" : "RefusedConnection";
                         });

// A real server after the scripted ones, counting the calls that reach it.
class RealServer {
 public:
  RealServer() {
    ServerOptions options;
    options.io_threads = 1;
    server_ = std::make_unique<Server>(options);
    EXPECT_TRUE(server_->AddService(&service_).ok());
    EXPECT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    EXPECT_TRUE(server_->Start().ok());
  }
  ~RealServer() { server_->Shutdown(absl::Seconds(2)); }
  std::string address() const { return server_->listen_address(0); }
  int calls() const { return service_.calls(); }

 private:
  CountingService service_;
  std::unique_ptr<Server> server_;
};

// The server sent a message, which the caller read, and then claimed by GOAWAY that it never
// processed the stream: the stream is committed, so it ends there and is not sent again.
TEST(StreamRetryLimitsTest, AStreamTheServerAnsweredIsNotRetried) {
  RealServer real;
  Notification read_one;
  ScriptedServer liar([&](RawPeer& peer) {
    absl::StatusOr<Frame> request = peer.ReadFrame();
    ASSERT_TRUE(request.ok());
    Envelope message;
    message.set_kind(STREAM_MESSAGE);
    message.set_call_id(request->envelope.call_id());
    ASSERT_TRUE(peer.SendFrame(message, MakeChunk(7).SerializeAsString()));
    ASSERT_TRUE(read_one.WaitForNotificationWithTimeout(absl::Seconds(30)));
    ASSERT_TRUE(peer.SendFrame(Goaway(request->envelope.call_id() - 1)));
  });
  std::unique_ptr<Channel> channel = PickFirst({liar.address(), real.address()});
  StreamTestService::Stub stub(channel.get());
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  auto stream = stub.Echo(&context);
  ASSERT_TRUE(stream->Write(MakeChunk(1)));
  Chunk chunk;
  ASSERT_TRUE(stream->Read(&chunk));
  EXPECT_EQ(chunk.seq(), 7u);
  read_one.Notify();
  EXPECT_FALSE(stream->Read(&chunk));
  const absl::Status status = stream->Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(real.calls(), 0);
  channel.reset();
}

// Past kStreamRetryBufferBytes (64 KiB) of writes the copies are dropped: a refusal then ends
// the stream. Just under it, the same refusal is retried.
TEST(StreamRetryLimitsTest, AStreamPastTheRetryBufferIsNotRetried) {
  for (const int chunks : {2, 3}) {  // 2 x 30,000 bytes fit in 64 KiB; 3 do not
    RealServer real;
    std::atomic<int> refused_messages{0};
    ScriptedServer refuser(RefuseAfterHalfClose(&refused_messages));
    std::unique_ptr<Channel> channel = PickFirst({refuser.address(), real.address()});
    StreamTestService::Stub stub(channel.get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    SumReply reply;
    auto writer = stub.Sum(&context, &reply);
    for (int i = 0; i < chunks; ++i) ASSERT_TRUE(writer->Write(MakeChunk(i, 30000)));
    ASSERT_TRUE(writer->WritesDone());
    const absl::Status status = writer->Finish();
    if (chunks == 2) {
      FRPC_EXPECT_OK(status);
      EXPECT_EQ(reply.count(), 2u);
      EXPECT_EQ(real.calls(), 1);
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
      EXPECT_TRUE(CallNeverSent(status)) << status;
      EXPECT_EQ(real.calls(), 0);
    }
    EXPECT_EQ(refused_messages.load(), chunks);
    channel.reset();
  }
}

// Three servers in pick_first order: the first refuses every stream after its half-close, the
// second holds the stream it gets, the third would serve it. A retried stream lands on the second.
struct RefusedThenHeld {
  RealServer real;
  std::atomic<int> refused_messages{0};
  ScriptedServer refuser{RefuseAfterHalfClose(&refused_messages)};
  Notification held;
  ScriptedServer holder{Hold(&held)};
  std::unique_ptr<Channel> channel =
      PickFirst({refuser.address(), holder.address(), real.address()});

  // A Count of three over the channel, within `timeout`.
  std::unique_ptr<ClientReader<Chunk>> StartCount(ClientContext* context, absl::Duration timeout) {
    context->set_timeout(timeout);
    CountRequest request;
    request.set_count(3);
    return stub.Count(context, request);
  }
  StreamTestService::Stub stub{channel.get()};
};

// Refused by the first server, the stream goes to the second, which holds it; the caller cancels
// it there: it ends CANCELLED and goes nowhere else.
TEST(StreamRetryLimitsTest, CancelledAfterARetryGoesNoFurther) {
  RefusedThenHeld servers;
  ClientContext context;
  auto reader = servers.StartCount(&context, absl::Seconds(30));
  ASSERT_TRUE(servers.held.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "the refused stream did not go to the next server";
  context.TryCancel();
  Chunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(servers.real.calls(), 0);
  servers.channel.reset();
}

// The retried stream keeps the caller's deadline: held by the second server, it ends
// DEADLINE_EXCEEDED there instead of going on to the third.
TEST(StreamRetryLimitsTest, TheDeadlineBoundsRetries) {
  RefusedThenHeld servers;
  ClientContext context;
  auto reader = servers.StartCount(&context, absl::Seconds(1));
  Chunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(servers.held.HasBeenNotified());
  EXPECT_EQ(servers.real.calls(), 0);
  servers.channel.reset();
}

// Every endpoint refuses: the stream ends UNAVAILABLE, marked never sent, after one attempt each.
TEST(StreamRetryLimitsTest, NowhereLeftToGo) {
  RefusingAddress a;
  RefusingAddress b;
  std::unique_ptr<Channel> channel = PickFirst({a.address(), b.address()});
  StreamTestService::Stub stub(channel.get());
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  auto stream = stub.Echo(&context);
  stream->Write(MakeChunk(0));
  Chunk chunk;
  EXPECT_FALSE(stream->Read(&chunk));
  const absl::Status status = stream->Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(CallNeverSent(status)) << status;
}

// The caller cancels from another thread while the stream may be moving to the next endpoint:
// it ends OK with every message in order (the cancel came too late), CANCELLED, or with the
// refusal itself when the cancel came first (a cancelled stream is not sent again). For
// ThreadSanitizer.
TEST(StreamRetryLimitsTest, CancelRacingTheRetry) {
  RealServer real;
  RefusingAddress refused;
  for (int round = 0; round < 20; ++round) {
    std::unique_ptr<Channel> channel = PickFirst({refused.address(), real.address()});
    StreamTestService::Stub stub(channel.get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    auto stream = stub.Echo(&context);
    std::thread canceller([&] { context.TryCancel(); });
    std::thread writer([&] {
      for (uint64_t seq = 0; seq < 5; ++seq) stream->Write(MakeChunk(seq));
      stream->WritesDone();
    });
    Chunk chunk;
    uint64_t next = 0;
    while (stream->Read(&chunk)) {
      if (next < 5) {
        EXPECT_EQ(chunk.seq(), next);
      }
      ++next;
    }
    writer.join();
    canceller.join();
    const absl::Status status = stream->Finish();
    EXPECT_TRUE(status.ok() || absl::IsCancelled(status) || CallNeverSent(status)) << status;
    if (status.ok()) {
      EXPECT_EQ(next, 6u);
    }
  }
}

}  // namespace
}  // namespace framerpc::test
