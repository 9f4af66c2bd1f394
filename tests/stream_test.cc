// Streaming calls end to end over TCP and a Unix socket: ordering, half-close, cancellation from
// either side, deadlines, flow control against a slow reader, many streams on one connection.
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "base/notification.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/stream_fixture.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"

namespace framerpc::test {
namespace {

class StreamTest : public StreamServerTest {
 protected:
  // Another call on the same connection completes: no head-of-line blocking behind a stream
  // whose writer waits for credit.
  // Starts a Count that sends `chunk_bytes` messages until the call ends, its handler reporting
  // under `probe`.
  auto CountForever(ClientContext* context, uint32_t chunk_bytes, const std::string& probe) {
    CountRequest request;
    request.set_forever(true);
    request.set_chunk_bytes(chunk_bytes);
    request.set_probe(probe);
    return stub_->Count(context, request);
  }

  void ExpectAnotherCallCompletes() {
    ClientContext other;
    CountRequest one;
    one.set_count(1);
    auto second = stub_->Count(&other, one);
    Chunk chunk;
    ASSERT_TRUE(second->Read(&chunk));
    FRPC_ASSERT_OK(second->Finish());
  }

  static Chunk MakeChunk(uint64_t seq, size_t bytes = 16) {
    Chunk chunk;
    chunk.set_seq(seq);
    chunk.set_data(std::string(bytes, static_cast<char>('a' + seq % 26)));
    return chunk;
  }
};

TEST_P(StreamTest, ServerStreamArrivesInOrder) {
  ClientContext context;
  CountRequest request;
  request.set_count(2000);
  request.set_chunk_bytes(100);
  auto reader = stub_->Count(&context, request);
  Chunk chunk;
  uint64_t expected = 0;
  while (reader->Read(&chunk)) {
    ASSERT_EQ(chunk.seq(), expected);
    ASSERT_EQ(chunk.data().size(), 100u);
    ++expected;
  }
  EXPECT_EQ(expected, 2000u);
  FRPC_EXPECT_OK(reader->Finish());
}

TEST_P(StreamTest, ServerStreamingRequestCarriesItsAttachment) {
  ClientContext context;
  context.set_request_attachment("raw request bytes");
  CountRequest request;
  request.set_count(3);
  auto reader = stub_->Count(&context, request);
  Chunk chunk;
  int read = 0;
  while (reader->Read(&chunk)) {
    EXPECT_EQ(chunk.data(), "raw request bytes");
    ++read;
  }
  EXPECT_EQ(read, 3);
  FRPC_EXPECT_OK(reader->Finish());
}

TEST_P(StreamTest, ClientStreamIsSummedAfterHalfClose) {
  ClientContext context;
  SumReply reply;
  auto writer = stub_->Sum(&context, &reply);
  uint64_t seq_sum = 0;
  for (uint64_t i = 0; i < 500; ++i) {
    ASSERT_TRUE(writer->Write(MakeChunk(i, i % 50)));
    seq_sum += i;
  }
  ASSERT_TRUE(writer->WritesDone());
  FRPC_ASSERT_OK(writer->Finish());
  EXPECT_EQ(reply.count(), 500u);
  EXPECT_EQ(reply.seq_sum(), seq_sum);
  uint64_t bytes = 0;
  for (uint64_t i = 0; i < 500; ++i) bytes += i % 50;
  EXPECT_EQ(reply.total_bytes(), bytes);
}

TEST_P(StreamTest, HalfCloseAfterTryCancelNeverOvertakesTheCancel) {
  // Frames of a stream go to the socket from the writing thread, but TryCancel() goes through the
  // channel's I/O thread: a half-close made after it must not reach the server first (the server
  // would finish the call with its own result). Many rounds, since the old race lost 1 in ~15.
  for (int round = 0; round < 200; ++round) {
    ClientContext context;
    auto stream = stub_->Echo(&context);
    ASSERT_TRUE(stream->Write(MakeChunk(1, 8)));
    Chunk echoed;
    ASSERT_TRUE(stream->Read(&echoed));  // the handler is running and both I/O threads are idle
    context.TryCancel();
    stream->WritesDone();
    const absl::Status status = stream->Finish();
    ASSERT_TRUE(absl::IsCancelled(status)) << "round " << round << ": " << status;
  }
}

TEST_P(StreamTest, BidiPingPongThenHalfClose) {
  ClientContext context;
  auto stream = stub_->Echo(&context);
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(stream->Write(MakeChunk(i), absl::StrCat("attachment ", i)));
    Chunk echoed;
    std::string attachment;
    ASSERT_TRUE(stream->Read(&echoed, &attachment));
    EXPECT_EQ(echoed.seq(), i);
    EXPECT_EQ(echoed.data(), MakeChunk(i).data());
    EXPECT_EQ(attachment, absl::StrCat("attachment ", i));
  }
  ASSERT_TRUE(stream->WritesDone());
  Chunk last;
  ASSERT_TRUE(stream->Read(&last));  // written by the server only after it saw the half-close
  EXPECT_EQ(last.seq(), 100u);
  EXPECT_FALSE(stream->Read(&last));
  FRPC_EXPECT_OK(stream->Finish());
  EXPECT_FALSE(stream->Write(MakeChunk(0)));  // the call is over
}

TEST_P(StreamTest, ServerEndsTheStreamWithAnError) {
  ClientContext context;
  CountRequest request;
  request.set_count(5);
  request.set_fail_with_code(static_cast<int>(absl::StatusCode::kAborted));
  auto reader = stub_->Count(&context, request);
  Chunk chunk;
  int read = 0;
  while (reader->Read(&chunk)) ++read;
  absl::Status status = reader->Finish();
  EXPECT_TRUE(absl::IsAborted(status)) << status;
  EXPECT_EQ(status.message(), "failed on purpose after the chunks");
  // Messages may be dropped when a call ends in error (protocol.md §11), never reordered or
  // invented.
  EXPECT_LE(read, 5);
}

TEST_P(StreamTest, ClientCancelsMidStreamAndTheHandlerStops) {
  ClientContext context;
  auto reader = CountForever(&context, 10, "cancel");
  Chunk chunk;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader->Read(&chunk));
  context.TryCancel();
  absl::Status status = reader->Finish();
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  Probe* probe = service_.probe("cancel");
  ASSERT_TRUE(probe->WaitFor([](const Probe& p) { return p.returned; }));
  EXPECT_TRUE(probe->Get(&Probe::saw_cancellation));
}

TEST_P(StreamTest, DeadlineCoversTheWholeStream) {
  ClientContext context;
  context.set_timeout(absl::Milliseconds(500));
  auto reader = CountForever(&context, 1000, "deadline");
  Chunk chunk;
  int read = 0;
  while (reader->Read(&chunk)) ++read;  // keeps reading until the deadline ends the call
  absl::Status status = reader->Finish();
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_GT(read, 0);
  Probe* probe = service_.probe("deadline");
  ASSERT_TRUE(probe->WaitFor([](const Probe& p) { return p.returned; }));
  EXPECT_TRUE(probe->Get(&Probe::saw_cancellation));
}

TEST_P(StreamTest, SlowReaderStopsTheWriterWithinOneWindow) {
  ClientContext context;
  auto reader = CountForever(&context, 64 << 10, "slow");
  Probe* probe = service_.probe("slow");
  // The client reads nothing. 1 MiB of credit lets exactly 16 messages of a little over 64 KiB
  // go (the 16th takes the credit below zero); the 17th write must not return.
  ASSERT_TRUE(probe->WaitFor([](const Probe& p) { return p.write_attempts >= 17; }));
  // By the time another call has completed, the blocked write would have gone through if credit
  // allowed it.
  ExpectAnotherCallCompletes();
  const int64_t completed = probe->Get(&Probe::writes_completed);
  EXPECT_EQ(completed, 16);
  EXPECT_EQ(probe->Get(&Probe::write_attempts), 17);
  // Bound: the 1 MiB window plus one message; each message costs slightly over 64 KiB.
  const int64_t message_cost = (64 << 10) + 16;
  EXPECT_LE(completed * (64 << 10), kDefaultStreamWindow + message_cost);
  EXPECT_GE(completed * message_cost, kDefaultStreamWindow);
  // What the server still holds for this connection is bounded by the same window.
  EXPECT_LE(server_->QueuedOutputBytes(), static_cast<size_t>(kDefaultStreamWindow + message_cost));

  // Reading resumes the writer.
  Chunk chunk;
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(reader->Read(&chunk));
  EXPECT_EQ(chunk.seq(), 39u);
  ASSERT_TRUE(probe->WaitFor([](const Probe& p) { return p.writes_completed >= 40; }));
  context.TryCancel();
  EXPECT_TRUE(absl::IsCancelled(reader->Finish()));
}

TEST_P(StreamTest, ClientChosenWindowIsTheBoundInstead) {
  ClientContext context;
  context.set_stream_receive_window(4 << 20);
  auto reader = CountForever(&context, 64 << 10, "wide");
  Probe* probe = service_.probe("wide");
  // 4 MiB of credit: exactly 64 messages of a little over 64 KiB go, and the 65th write waits.
  ASSERT_TRUE(probe->WaitFor([](const Probe& p) { return p.write_attempts >= 65; }));
  ExpectAnotherCallCompletes();
  EXPECT_EQ(probe->Get(&Probe::writes_completed), 64);
  EXPECT_EQ(probe->Get(&Probe::write_attempts), 65);
  // Reading returns credit in halves of the client's window: after 32 messages, the writer goes on.
  Chunk chunk;
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(reader->Read(&chunk));
  ASSERT_TRUE(probe->WaitFor([](const Probe& p) { return p.writes_completed >= 65; }));
  context.TryCancel();
  EXPECT_TRUE(absl::IsCancelled(reader->Finish()));
}

TEST_P(StreamTest, WindowsOutOfRangeAreRefused) {
  {
    ClientContext context;  // above the server's max_stream_window_bytes (16 MiB by default)
    context.set_stream_receive_window((16 << 20) + 1);
    CountRequest request;
    request.set_count(1);
    auto reader = stub_->Count(&context, request);
    Chunk chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    absl::Status status = reader->Finish();
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(status.message(),
              "requested stream window of 16777217 bytes exceeds the server's limit of 16777216");
  }
  for (int64_t window : {int64_t{-1}, int64_t{1} << 31}) {
    ClientContext context;  // refused by the client itself
    context.set_stream_receive_window(window);
    CountRequest request;
    request.set_count(1);
    auto reader = stub_->Count(&context, request);
    EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kInvalidArgument) << window;
  }
  // The connection still serves.
  ExpectAnotherCallCompletes();
}

TEST_P(StreamTest, HundredConcurrentStreamsOnOneConnection) {
  constexpr int kStreams = 100;
  constexpr int kMessages = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < kStreams; ++s) {
    threads.emplace_back([&, s] {
      ClientContext context;
      context.set_timeout(absl::Seconds(60));
      auto stream = stub_->Echo(&context);
      for (int i = 0; i < kMessages; ++i) {
        if (!stream->Write(MakeChunk(s * 1000 + i))) return;
        Chunk echoed;
        if (!stream->Read(&echoed) || echoed.seq() != static_cast<uint64_t>(s * 1000 + i)) return;
      }
      stream->WritesDone();
      Chunk last;
      if (!stream->Read(&last) || last.seq() != kMessages) return;
      if (stream->Finish().ok()) ok.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kStreams);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_P(StreamTest, AsyncReadsAndWrites) {
  // Server-streaming, read with callbacks chained from the I/O thread.
  ClientContext context;
  CountRequest request;
  request.set_count(300);
  auto reader = stub_->Count(&context, request);
  Chunk chunk;
  uint64_t next = 0;
  bool in_order = true;
  Notification done;
  std::function<void(bool)> on_read = [&](bool ok) {
    if (!ok) {
      done.Notify();
      return;
    }
    in_order = in_order && chunk.seq() == next++;
    reader->ReadAsync(&chunk, nullptr, on_read);
  };
  reader->ReadAsync(&chunk, nullptr, on_read);
  done.WaitForNotification();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next, 300u);
  Notification finished;
  absl::Status status;
  reader->FinishAsync([&](absl::Status s) {
    status = s;
    finished.Notify();
  });
  finished.WaitForNotification();
  FRPC_EXPECT_OK(status);

  // Client-streaming with WriteAsync, one at a time: each callback writes the next.
  ClientContext sum_context;
  SumReply reply;
  auto writer = stub_->Sum(&sum_context, &reply);
  std::atomic<int> written{0};
  Notification all_written;
  std::function<void(uint64_t)> write = [&](uint64_t i) {
    writer->WriteAsync(MakeChunk(i), "", [&, i](bool ok) {
      if (ok) written.fetch_add(1);
      if (ok && i + 1 < 50) {
        write(i + 1);
      } else {
        all_written.Notify();
      }
    });
  };
  write(0);
  all_written.WaitForNotification();
  FRPC_ASSERT_OK(writer->Finish());
  EXPECT_EQ(reply.count(), 50u);
  EXPECT_EQ(written.load(), 50);
}

TEST_P(StreamTest, ServerWindowLimitBelowTheDefaultRefusesDefaultWindows) {
  ServerOptions options;
  options.max_stream_window_bytes = 512 << 10;
  StartServer(options);
  {
    ClientContext context;  // no window asked for: the 1 MiB default, over this server's limit
    CountRequest request;
    request.set_count(1);
    auto reader = stub_->Count(&context, request);
    const absl::Status status = reader->Finish();
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(status.message(),
              "requested stream window of 1048576 bytes exceeds the server's limit of 524288");
  }
  ClientContext context;  // within the limit
  context.set_stream_receive_window(256 << 10);
  CountRequest request;
  request.set_count(3);
  auto reader = stub_->Count(&context, request);
  Chunk chunk;
  int read = 0;
  while (reader->Read(&chunk)) ++read;
  FRPC_EXPECT_OK(reader->Finish());
  EXPECT_EQ(read, 3);
}

TEST_P(StreamTest, StreamLimitPerConnectionRefusesTheExtraStream) {
  ServerOptions options;
  options.max_concurrent_streams_per_connection = 2;
  StartServer(options);
  ClientContext c1, c2, c3;
  auto s1 = stub_->Echo(&c1);
  auto s2 = stub_->Echo(&c2);
  // Make sure both are open on the server before the third arrives.
  Chunk chunk;
  ASSERT_TRUE(s1->Write(MakeChunk(1)) && s1->Read(&chunk));
  ASSERT_TRUE(s2->Write(MakeChunk(2)) && s2->Read(&chunk));
  auto s3 = stub_->Echo(&c3);
  absl::Status refused = s3->Finish();
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ(refused.message(), "too many concurrent streams on this connection (limit 2)");
  s1->WritesDone();
  FRPC_EXPECT_OK(s1->Finish());
  // A slot is free again.
  ClientContext c4;
  auto s4 = stub_->Echo(&c4);
  ASSERT_TRUE(s4->Write(MakeChunk(4)) && s4->Read(&chunk));
  s4->WritesDone();
  FRPC_EXPECT_OK(s4->Finish());
  s2->WritesDone();
  FRPC_EXPECT_OK(s2->Finish());
}

TEST_P(StreamTest, ServerWideStreamLimitRefusesTheExtraStream) {
  ServerOptions options;
  options.max_concurrent_streams = 1;
  StartServer(options);
  // A second channel: the limit is across connections.
  auto other_channel = Channel::Create(server_->listen_address(0));
  FRPC_ASSERT_OK(other_channel.status());
  StreamTestService::Stub other_stub(other_channel->get());
  ClientContext c1, c2;
  auto s1 = stub_->Echo(&c1);
  Chunk chunk;
  ASSERT_TRUE(s1->Write(MakeChunk(1)) && s1->Read(&chunk));
  auto s2 = other_stub.Echo(&c2);
  absl::Status refused = s2->Finish();
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ(refused.message(), "too many concurrent streams on this server (limit 1)");
  s1->WritesDone();
  FRPC_EXPECT_OK(s1->Finish());
  // The slot is free again once the first stream has ended on the server; a retried stream on
  // the other connection gets it.
  ClientContext c3;
  auto s3 = other_stub.Echo(&c3);
  ASSERT_TRUE(s3->Write(MakeChunk(3)) && s3->Read(&chunk));
  s3->WritesDone();
  FRPC_EXPECT_OK(s3->Finish());
}

TEST_P(StreamTest, ClientDisappearingCancelsTheHandler) {
  auto context = std::make_unique<ClientContext>();
  auto reader = CountForever(context.get(), 10, "gone");
  Chunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  // Destroying the stream cancels the call; destroying the channel then closes the connection.
  reader.reset();
  stub_.reset();
  channel_.reset();
  Probe* probe = service_.probe("gone");
  ASSERT_TRUE(probe->WaitFor([](const Probe& p) { return p.returned; }));
  EXPECT_TRUE(probe->Get(&Probe::saw_cancellation));
}

TEST_P(StreamTest, GracefulShutdownLetsOpenStreamsFinish) {
  ClientContext context;
  auto stream = stub_->Echo(&context);
  Chunk chunk;
  ASSERT_TRUE(stream->Write(MakeChunk(1)) && stream->Read(&chunk));
  std::thread shutdown([this] { server_->Shutdown(absl::Seconds(30)); });
  ASSERT_TRUE(server_->WaitForShutdownStarted(absl::Now() + absl::Seconds(30)));
  // The open stream keeps working until it ends.
  ASSERT_TRUE(stream->Write(MakeChunk(2)) && stream->Read(&chunk));
  EXPECT_EQ(chunk.seq(), 2u);
  stream->WritesDone();
  ASSERT_TRUE(stream->Read(&chunk));
  FRPC_EXPECT_OK(stream->Finish());
  shutdown.join();
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Unix" : "Tcp";
                         });

TEST(StreamOverUdpTest, IsUnimplemented) {
  auto channel = Channel::Create("udp:127.0.0.1:9");
  FRPC_ASSERT_OK(channel.status());
  StreamTestService::Stub stub(channel->get());
  ClientContext context;
  auto stream = stub.Echo(&context);
  EXPECT_FALSE(stream->Write(Chunk()));
  EXPECT_TRUE(absl::IsUnimplemented(stream->Finish()));
}

}  // namespace
}  // namespace framerpc::test
