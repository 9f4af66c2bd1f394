// A blocking Read() on streams end to end, from the hand-off's side (rpc/call_stream.h, "How a
// blocked Read() is woken"): the I/O thread wakes a blocked reader once per batch of messages, so
// these check that no batch is lost or left asleep whatever its size, and that cancellation and
// the deadline wake a blocked reader at once. Both ends read with blocking Read(): the client, and
// the Echo handler on the server.
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/stream_fixture.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"

namespace framerpc::test {
namespace {

class StreamBlockingReadTest : public StreamServerTest {
 protected:
  static Chunk MakeChunk(uint64_t seq) {
    Chunk chunk;
    chunk.set_seq(seq);
    return chunk;
  }
};

// Bursts of 1 to 40 messages, with attachments from nothing to 96 KiB, so that some bursts stay
// under a batch (a quarter of the 1 MiB window) and wait for the loop to be idle, and others pass
// it and wake the reader at once; every message comes back, in order, with its bytes.
TEST_P(StreamBlockingReadTest, BurstsOfEverySizeArriveWhole) {
  ClientContext context;
  auto stream = stub_->Echo(&context);
  uint64_t seq = 0;
  for (int burst = 0; burst < 60; ++burst) {
    const int count = 1 + (burst * 7) % 40;
    // At most 768 KiB a burst: the whole burst is written before any of it is read, and the echo
    // handler's writes wait for this reader's credit (1 MiB) meanwhile.
    const size_t attachment_bytes =
        burst % 3 == 0 ? 0 : std::min<size_t>((burst * 4099) % (96 << 10), (768 << 10) / count);
    const uint64_t first = seq;
    for (int i = 0; i < count; ++i, ++seq) {
      ASSERT_TRUE(stream->Write(MakeChunk(seq), std::string(attachment_bytes, 'a' + seq % 26)));
    }
    for (uint64_t expected = first; expected < seq; ++expected) {
      Chunk echoed;
      std::string attachment;
      ASSERT_TRUE(stream->Read(&echoed, &attachment)) << "burst " << burst;
      ASSERT_EQ(echoed.seq(), expected);
      ASSERT_EQ(attachment, std::string(attachment_bytes, 'a' + expected % 26));
    }
  }
  ASSERT_TRUE(stream->WritesDone());
  Chunk last;
  ASSERT_TRUE(stream->Read(&last));
  EXPECT_EQ(last.seq(), seq);
  EXPECT_FALSE(stream->Read(&last));
  FRPC_EXPECT_OK(stream->Finish());
}

// A receive window of 16 KiB (batches of 4 KiB) and 3000 messages of 3000 bytes: the writer runs
// out of credit every few messages and waits for the reader, whose wake-ups the credit depends on.
TEST_P(StreamBlockingReadTest, ASmallWindowPausesTheWriterAndLosesNothing) {
  ClientContext context;
  context.set_stream_receive_window(16 << 10);
  CountRequest request;
  request.set_count(3000);
  request.set_chunk_bytes(3000);
  request.set_probe("small window");
  auto reader = stub_->Count(&context, request);
  Chunk chunk;
  uint64_t expected = 0;
  while (reader->Read(&chunk)) {
    ASSERT_EQ(chunk.seq(), expected++);
    ASSERT_EQ(chunk.data().size(), 3000u);
  }
  FRPC_EXPECT_OK(reader->Finish());
  EXPECT_EQ(expected, 3000u);
  Probe* probe = service_.probe("small window");
  EXPECT_EQ(probe->Get(&Probe::writes_completed), 3000);
}

// TryCancel from another thread ends a Read() that waits for a message that never comes (the
// server echoes nothing more), on both sides of the race with the reader going to sleep.
TEST_P(StreamBlockingReadTest, CancelWakesABlockedRead) {
  for (int round = 0; round < 20; ++round) {
    ClientContext context;
    auto stream = stub_->Echo(&context);
    ASSERT_TRUE(stream->Write(MakeChunk(1)));
    Chunk echoed;
    ASSERT_TRUE(stream->Read(&echoed));  // the call is up on both sides
    std::thread canceller([&] { context.TryCancel(); });
    EXPECT_FALSE(stream->Read(&echoed));  // hangs if the cancellation did not wake it
    canceller.join();
    absl::Status status = stream->Finish();
    EXPECT_TRUE(absl::IsCancelled(status)) << status;
  }
}

// The deadline ends a Read() blocked with nothing queued, when it comes, not later.
TEST_P(StreamBlockingReadTest, DeadlineWakesABlockedRead) {
  ClientContext context;
  context.set_timeout(absl::Seconds(2));
  auto stream = stub_->Echo(&context);
  ASSERT_TRUE(stream->Write(MakeChunk(1)));
  Chunk echoed;
  ASSERT_TRUE(stream->Read(&echoed));
  const absl::Time start = absl::Now();
  EXPECT_FALSE(stream->Read(&echoed));
  // Generous: the deadline is 2 s after the call started; a reader left asleep would stay.
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  absl::Status status = stream->Finish();
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
}

INSTANTIATE_TEST_SUITE_P(TcpAndUnix, StreamBlockingReadTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Unix" : "Tcp";
                         });

}  // namespace
}  // namespace framerpc::test
