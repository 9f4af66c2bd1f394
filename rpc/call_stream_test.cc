#include "rpc/call_stream.h"

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.pb.h"

namespace framerpc {
namespace {

// A CallStream whose frames land in `sent` and whose posted tasks wait in `posted` until run.
class CallStreamTest : public testing::Test {
 protected:
  std::unique_ptr<CallStream> NewStream(int64_t send_window, int64_t recv_window) {
    return std::make_unique<CallStream>(
        7, FrameLimits{}, send_window, recv_window,
        [this](std::string head, absl::string_view tail) {
          std::lock_guard<std::mutex> lock(mu_);
          sent_.push_back(head.append(tail.data(), tail.size()));
          return WriteTicket();
        },
        [this](std::function<void()> task) {
          std::lock_guard<std::mutex> lock(mu_);
          posted_.push_back(std::move(task));
        });
  }
  std::vector<Frame> SentFrames() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Frame> frames;
    for (const std::string& bytes : sent_) {
      Frame frame;
      DecodeResult result = DecodeFrame(bytes, FrameLimits{}, &frame);
      EXPECT_EQ(result.outcome, DecodeOutcome::kFrame);
      frames.push_back(std::move(frame));
    }
    return frames;
  }
  void RunPosted() {
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks.swap(posted_);
    }
    for (auto& task : tasks) task();
  }
  // A peer message of exactly `body_bytes` of credit.
  static Frame PeerMessage(const std::string& text) {
    Frame frame;
    frame.envelope.set_kind(STREAM_MESSAGE);
    frame.envelope.set_call_id(7);
    echo::SayRequest request;
    request.set_text(text);
    frame.payload = request.SerializeAsString();
    return frame;
  }

  std::mutex mu_;
  std::vector<std::string> sent_;
  std::vector<std::function<void()>> posted_;
};

echo::SayRequest Say(const std::string& text) {
  echo::SayRequest request;
  request.set_text(text);
  return request;
}

TEST_F(CallStreamTest, WritesAreStreamMessagesInOrder) {
  auto stream = NewStream(1 << 20, 1 << 20);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Write(Say(std::to_string(i)), "att").ok());
  ASSERT_TRUE(stream->WritesDone().ok());
  std::vector<Frame> frames = SentFrames();
  ASSERT_EQ(frames.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(frames[i].envelope.kind(), STREAM_MESSAGE);
    EXPECT_EQ(frames[i].envelope.call_id(), 7u);
    EXPECT_EQ(frames[i].envelope.flags(), 0u);
    echo::SayRequest request;
    ASSERT_TRUE(request.ParseFromString(std::string(frames[i].message_bytes())));
    EXPECT_EQ(request.text(), std::to_string(i));
    EXPECT_EQ(frames[i].attachment(), "att");
  }
  EXPECT_EQ(frames[5].envelope.flags(), static_cast<uint32_t>(END_OF_STREAM));
  EXPECT_TRUE(frames[5].payload.empty());
  EXPECT_TRUE(absl::IsFailedPrecondition(stream->Write(Say("late"), {})));
}

TEST_F(CallStreamTest, AsyncWriteWaitsForCreditAndTheNextIsWrittenFromItsCallback) {
  // 1 byte of credit: the first write takes it (going negative); the next must wait for credit.
  auto stream = NewStream(1, 1 << 20);
  std::vector<int> completed;
  std::function<void(int)> write = [&](int i) {
    stream->WriteAsync(Say(std::to_string(i)), {}, [&, i](absl::Status status) {
      EXPECT_TRUE(status.ok()) << status;
      completed.push_back(i);
      if (i == 0) write(1);  // the previous write is over once its callback runs
    });
  };
  write(0);
  EXPECT_EQ(SentFrames().size(), 1u);
  RunPosted();  // write 0 completes and starts write 1, which waits for credit
  EXPECT_EQ(completed, std::vector<int>({0}));
  ASSERT_TRUE(stream->WritesDone().ok());  // held back until the pending write is sent
  EXPECT_EQ(SentFrames().size(), 1u);

  // The first write took the credit below zero: a grant that does not lift it above zero sends
  // nothing; a larger one releases write 1 and then the half-close.
  ASSERT_TRUE(stream->OnWindowUpdate(1).ok());
  EXPECT_EQ(SentFrames().size(), 1u);
  ASSERT_TRUE(stream->OnWindowUpdate(1000).ok());
  EXPECT_EQ(completed, std::vector<int>({0, 1}));
  std::vector<Frame> frames = SentFrames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].envelope.flags(), static_cast<uint32_t>(END_OF_STREAM));
}

// One WriteAsync at a time, as in gRPC: a second one while the first is outstanding is refused
// with FAILED_PRECONDITION, sends nothing, and the stream goes on. (The old stream queued every
// write: memory without bound for a writer that never waited for its callbacks.)
TEST_F(CallStreamTest, ASecondWriteAsyncWhileOneIsPendingIsRefused) {
  auto stream = NewStream(1, 1 << 20);
  std::vector<absl::Status> results(3);
  ASSERT_TRUE(stream->Write(Say("takes the credit"), {}).ok());
  stream->WriteAsync(Say("waits"), {}, [&](absl::Status s) { results[0] = s; });
  stream->WriteAsync(Say("refused"), {}, [&](absl::Status s) { results[1] = s; });
  RunPosted();
  EXPECT_TRUE(results[0].ok());  // not run yet: still waiting for credit
  EXPECT_EQ(results[1].code(), absl::StatusCode::kFailedPrecondition) << results[1];
  EXPECT_EQ(results[1].message(), "WriteAsync while another WriteAsync is pending: one at a time");
  ASSERT_TRUE(stream->OnWindowUpdate(1000).ok());  // runs the pending write's callback
  std::vector<Frame> frames = SentFrames();
  ASSERT_EQ(frames.size(), 2u);
  echo::SayRequest second;
  ASSERT_TRUE(second.ParseFromString(std::string(frames[1].message_bytes())));
  EXPECT_EQ(second.text(), "waits");
  // Done: the next one is accepted.
  stream->WriteAsync(Say("next"), {}, [&](absl::Status s) { results[2] = s; });
  RunPosted();
  EXPECT_TRUE(results[2].ok()) << results[2];
  EXPECT_EQ(SentFrames().size(), 3u);
}

TEST_F(CallStreamTest, AHalfCloseRacingAWriteNeverOvertakesIt) {
  // Frames take their place under the stream's lock (the SendFn queues them): whichever of the
  // two gets there first, the message is never sent after the half-close.
  for (int round = 0; round < 200; ++round) {
    std::vector<Frame> sent;
    std::mutex sent_mu;
    CallStream stream(
        7, FrameLimits{}, 1 << 20, 1 << 20,
        [&](std::string head, absl::string_view tail) {
          head.append(tail.data(), tail.size());
          Frame frame;
          EXPECT_EQ(DecodeFrame(head, FrameLimits{}, &frame).outcome, DecodeOutcome::kFrame);
          std::lock_guard<std::mutex> lock(sent_mu);
          sent.push_back(std::move(frame));
          return WriteTicket();
        },
        [](std::function<void()> task) { task(); });
    absl::Status written;
    std::thread writer([&] { written = stream.Write(Say("message"), "data"); });
    ASSERT_TRUE(stream.WritesDone().ok());
    writer.join();
    std::lock_guard<std::mutex> lock(sent_mu);
    if (written.ok()) {
      ASSERT_EQ(sent.size(), 2u);
      EXPECT_EQ(sent[0].attachment(), "data");
      EXPECT_EQ(sent[0].envelope.flags() & END_OF_STREAM, 0u);
      EXPECT_NE(sent[1].envelope.flags() & END_OF_STREAM, 0u);
    } else {
      EXPECT_TRUE(absl::IsFailedPrecondition(written)) << written;
      ASSERT_EQ(sent.size(), 1u);
      EXPECT_NE(sent[0].envelope.flags() & END_OF_STREAM, 0u);
    }
  }
}

TEST_F(CallStreamTest, BlockedWriteResumesOnCreditAndFailsWhenTheCallEnds) {
  auto stream = NewStream(1, 1 << 20);
  ASSERT_TRUE(stream->Write(Say("takes the credit"), {}).ok());
  absl::Status second;
  std::thread writer([&] { second = stream->Write(Say("waits"), {}); });
  // Exactly the first frame's cost: the credit is back to 1, enough for one more frame only.
  const uint32_t first_cost = static_cast<uint32_t>(sent_[0].size() - kFrameHeaderSize);
  ASSERT_TRUE(stream->OnWindowUpdate(first_cost).ok());
  writer.join();
  EXPECT_TRUE(second.ok()) << second;
  EXPECT_EQ(SentFrames().size(), 2u);

  absl::Status third;
  std::thread blocked([&] { third = stream->Write(Say("never sent"), {}); });
  stream->End(absl::DeadlineExceededError("deadline exceeded"), false);
  blocked.join();
  EXPECT_TRUE(absl::IsDeadlineExceeded(third)) << third;
  EXPECT_EQ(SentFrames().size(), 2u);
}

TEST_F(CallStreamTest, DeferredWakeLeavesTheReaderAsleepUntilWakeReaders) {
  auto stream = NewStream(1 << 20, 1 << 20);
  Frame got;
  bool read = false;
  std::thread reader([&] { read = stream->Read(&got); });
  while (stream->unwoken_waiters() == 0) std::this_thread::yield();  // the reader is blocked
  const Frame message = PeerMessage("first of a batch");
  bool wake_owed = false;
  ASSERT_TRUE(stream->OnMessage(message, 100, &wake_owed).ok());
  EXPECT_TRUE(wake_owed);
  // Nobody was woken: the blocked reader is still counted as waiting to be woken.
  EXPECT_EQ(stream->unwoken_waiters(), 1);
  EXPECT_EQ(stream->queued_bytes(), 100);
  stream->WakeReaders();
  reader.join();
  EXPECT_TRUE(read);
  EXPECT_EQ(got.payload, message.payload);
  EXPECT_EQ(stream->unwoken_waiters(), 0);
}

// The deferred wake is owed once per batch: a second message of the same burst leaves the duty
// with the first's WakeReaders(), and a reader that sleeps again after it owes a new one.
TEST_F(CallStreamTest, AWakeIsOwedOncePerBatch) {
  auto stream = NewStream(1 << 20, 1 << 20);
  for (int round = 0; round < 2; ++round) {
    Frame got;
    bool read = false;
    std::thread reader([&] { read = stream->Read(&got); });
    while (stream->unwoken_waiters() == 0) std::this_thread::yield();  // the reader is blocked
    bool first_owed = false;
    ASSERT_TRUE(stream->OnMessage(PeerMessage("one"), 100, &first_owed).ok());
    bool second_owed = false;
    ASSERT_TRUE(stream->OnMessage(PeerMessage("two"), 100, &second_owed).ok());
    EXPECT_TRUE(first_owed) << "round " << round;
    EXPECT_FALSE(second_owed) << "round " << round;
    EXPECT_EQ(stream->unwoken_waiters(), 1);
    stream->WakeReaders();
    reader.join();
    ASSERT_TRUE(read);
    ASSERT_TRUE(stream->Read(&got));  // the second was queued: no wait
  }
}

// A queue that reaches a batch (a quarter of the window) wakes the reader at once, without the
// connection's WakeReaders(), so that the peer never runs out of credit for a sleeping reader.
TEST_F(CallStreamTest, AFullBatchWakesTheReaderAtOnce) {
  const int64_t window = 4000;
  auto stream = NewStream(1 << 20, window);
  ASSERT_EQ(stream->batch_bytes(), window / 4);
  Frame got;
  bool read = false;
  std::thread reader([&] { read = stream->Read(&got); });
  while (stream->unwoken_waiters() == 0) std::this_thread::yield();
  bool owed = false;
  ASSERT_TRUE(stream->OnMessage(PeerMessage("small"), 100, &owed).ok());
  EXPECT_TRUE(owed);
  EXPECT_EQ(stream->unwoken_waiters(), 1);
  bool owed_again = false;
  ASSERT_TRUE(stream->OnMessage(PeerMessage("big"), window / 4, &owed_again).ok());
  EXPECT_FALSE(owed_again);
  reader.join();  // hangs if the batch did not wake it
  EXPECT_TRUE(read);
  EXPECT_EQ(stream->unwoken_waiters(), 0);
  stream->WakeReaders();  // the owed wake, late: harmless
  ASSERT_TRUE(stream->Read(&got));
}

// The end of the call (cancellation, deadline) and the peer's half-close wake a blocked reader at
// once, even while a deferred wake is owed and not yet paid.
TEST_F(CallStreamTest, EndAndHalfCloseWakeTheReaderAtOnceWhileAWakeIsOwed) {
  for (const bool half_close : {false, true}) {
    auto stream = NewStream(1 << 20, 1 << 20);
    std::vector<bool> reads;
    Notification first_read;
    std::thread reader([&] {
      Frame got;
      while (stream->Read(&got)) {
        reads.push_back(true);
        first_read.Notify();
      }
    });
    while (stream->unwoken_waiters() == 0) std::this_thread::yield();
    bool owed = false;
    ASSERT_TRUE(stream->OnMessage(PeerMessage("queued"), 100, &owed).ok());
    ASSERT_TRUE(owed);
    if (half_close) {
      ASSERT_TRUE(stream->OnHalfClose().ok());
      first_read.WaitForNotification();  // woken by the half-close, reads the queued message
    } else {
      stream->End(absl::CancelledError("cancelled by the client"), /*keep_queued=*/false);
    }
    reader.join();  // hangs if the reader slept on until the owed WakeReaders()
    EXPECT_EQ(reads.size(), half_close ? 1u : 0u);
    stream->WakeReaders();
  }
}

// A writer of bursts and a blocking reader on two threads: every message arrives, in order,
// while the deferred wakes are paid at the end of each burst (as a connection does).
TEST_F(CallStreamTest, BurstsReadWithBlockingReadsLoseNothing) {
  constexpr int kBursts = 300;
  constexpr int kPerBurst = 7;
  auto stream = NewStream(1 << 20, int64_t{1} << 30);  // no flow control in the way
  std::vector<std::string> got;
  std::thread reader([&] {
    Frame frame;
    while (stream->Read(&frame)) got.push_back(frame.payload);
  });
  std::vector<std::string> sent;
  for (int burst = 0; burst < kBursts; ++burst) {
    bool owed = false;
    for (int i = 0; i < kPerBurst; ++i) {
      Frame message = PeerMessage(std::to_string(burst * kPerBurst + i));
      sent.push_back(message.payload);
      bool this_owed = false;
      ASSERT_TRUE(stream->OnMessage(std::move(message), 10, &this_owed).ok());
      owed = owed || this_owed;
    }
    if (owed) stream->WakeReaders();
  }
  ASSERT_TRUE(stream->OnHalfClose().ok());
  reader.join();
  EXPECT_EQ(got, sent);
}

TEST_F(CallStreamTest, PeerBeyondTheWindowIsRefusedAndTheBufferIsBounded) {
  const int64_t window = 100;
  auto stream = NewStream(1 << 20, window);
  int64_t accepted = 0;
  absl::Status status;
  while (true) {
    Frame frame = PeerMessage(std::string(30, 'x'));
    status = stream->OnMessage(std::move(frame), 40);
    if (!status.ok()) break;
    accepted += 40;
  }
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(status.message(), "flow control window exceeded");
  // Accepted while credit remained: at most the window plus one frame.
  EXPECT_EQ(accepted, 120);
  EXPECT_LE(stream->queued_bytes(), window + 40);
}

TEST_F(CallStreamTest, ReadingReturnsCreditInBatchesOfHalfTheWindow) {
  auto stream = NewStream(1 << 20, 100);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(stream->OnMessage(PeerMessage("m"), 30).ok());
  Frame frame;
  ASSERT_TRUE(stream->Read(&frame));
  EXPECT_TRUE(SentFrames().empty());  // 30 < 50: no update yet
  ASSERT_TRUE(stream->Read(&frame));
  std::vector<Frame> frames = SentFrames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].envelope.kind(), WINDOW_UPDATE);
  EXPECT_EQ(frames[0].envelope.window_update(), 60u);
  // The credit came back: two more messages fit again.
  EXPECT_TRUE(stream->OnMessage(PeerMessage("m"), 30).ok());
}

TEST_F(CallStreamTest, HalfCloseEndsReadsAfterTheQueueAndRejectsLaterMessages) {
  auto stream = NewStream(1 << 20, 1 << 20);
  ASSERT_TRUE(stream->OnMessage(PeerMessage("last"), 10).ok());
  ASSERT_TRUE(stream->OnHalfClose().ok());
  Frame frame;
  EXPECT_TRUE(stream->Read(&frame));
  EXPECT_FALSE(stream->Read(&frame));
  absl::Status late = stream->OnMessage(PeerMessage("late"), 10);
  EXPECT_TRUE(absl::IsInvalidArgument(late));
  EXPECT_EQ(late.message(), "message after the end of the client stream");
  EXPECT_TRUE(absl::IsInvalidArgument(stream->OnHalfClose()));
}

TEST_F(CallStreamTest, BadWindowUpdatesAreRejected) {
  auto stream = NewStream(10, 1 << 20);
  EXPECT_EQ(stream->OnWindowUpdate(0).message(), "bad WINDOW_UPDATE");
  EXPECT_TRUE(absl::IsInvalidArgument(stream->OnWindowUpdate(0x7fffffff)));
  EXPECT_TRUE(stream->OnWindowUpdate(0x7fffffff - 10).ok());
}

TEST_F(CallStreamTest, AsyncReadCompletesOnArrivalOrAtTheEnd) {
  auto stream = NewStream(1 << 20, 1 << 20);
  std::vector<std::string> got;
  bool ended = false;
  auto reader = [&](std::optional<Frame> frame) {
    if (!frame) {
      ended = true;
      return;
    }
    echo::SayRequest request;
    ASSERT_TRUE(request.ParseFromString(frame->payload));
    got.push_back(request.text());
  };
  stream->ReadAsync(reader);
  ASSERT_TRUE(stream->OnMessage(PeerMessage("a"), 10).ok());  // completes the waiting read
  EXPECT_EQ(got, std::vector<std::string>({"a"}));
  ASSERT_TRUE(stream->OnMessage(PeerMessage("b"), 10).ok());  // queued
  stream->ReadAsync(reader);
  EXPECT_EQ(got.size(), 1u);  // never completes inside ReadAsync
  RunPosted();
  EXPECT_EQ(got, std::vector<std::string>({"a", "b"}));
  stream->ReadAsync(reader);
  stream->End(absl::OkStatus(), true);
  EXPECT_TRUE(ended);
}

TEST_F(CallStreamTest, ErrorEndDropsQueuedMessagesOkEndKeepsThem) {
  auto kept = NewStream(1 << 20, 1 << 20);
  ASSERT_TRUE(kept->OnMessage(PeerMessage("x"), 10).ok());
  kept->End(absl::OkStatus(), /*keep_queued=*/true);
  Frame frame;
  EXPECT_TRUE(kept->Read(&frame));
  EXPECT_FALSE(kept->Read(&frame));

  auto dropped = NewStream(1 << 20, 1 << 20);
  ASSERT_TRUE(dropped->OnMessage(PeerMessage("x"), 10).ok());
  dropped->End(absl::CancelledError("cancelled"), /*keep_queued=*/true);
  EXPECT_FALSE(dropped->Read(&frame));
  EXPECT_EQ(dropped->queued_bytes(), 0);
}

TEST_F(CallStreamTest, DiscardingReturnsCreditForEverythingQueued) {
  auto stream = NewStream(1 << 20, 100);
  ASSERT_TRUE(stream->OnMessage(PeerMessage("a"), 40).ok());
  ASSERT_TRUE(stream->OnMessage(PeerMessage("b"), 40).ok());
  stream->DiscardIncoming();
  std::vector<Frame> frames = SentFrames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].envelope.window_update(), 80u);
  EXPECT_EQ(stream->queued_bytes(), 0);
}

}  // namespace
}  // namespace framerpc
