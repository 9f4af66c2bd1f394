#include "transport/connection.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "transport/acceptor.h"
#include "transport/connection_fixture.h"
#include "transport/event_loop_thread.h"
#include "base/scoped_fd.h"
#include "transport/socket_ops.h"
#include "transport/test_bytes.h"

namespace framerpc {
namespace {

// Generous: only reached when something is broken, so a failure reports instead of hanging.
constexpr auto kWaitLimit = test::kConnectionWaitLimit;

using test::RunOnLoopAndWait;

// Blocking-socket helpers for the test thread's end. The socket has receive and send timeouts,
// so a broken connection fails the test instead of hanging it.
void SetTimeouts(int fd) {
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    ASSERT_GT(n, 0) << "write: " << std::strerror(errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads exactly `n` bytes in reads of at most `chunk`; fewer if EOF or an error comes first.
std::string ReadExactly(int fd, size_t n, size_t chunk = 64 << 10) {
  std::string out;
  std::string buf(chunk, '\0');
  while (out.size() < n) {
    const ssize_t got = ::read(fd, &buf[0], std::min(chunk, n - out.size()));
    if (got <= 0) {
      ADD_FAILURE() << "read returned " << got << " after " << out.size() << " of " << n
                    << " bytes: " << (got < 0 ? std::strerror(errno) : "EOF");
      break;
    }
    out.append(buf.data(), static_cast<size_t>(got));
  }
  return out;
}

// True when the next read reports end of stream.
bool ReadsEof(int fd) {
  char c;
  const ssize_t n = ::read(fd, &c, 1);
  if (n != 0) ADD_FAILURE() << "expected EOF, read returned " << n;
  return n == 0;
}

// The fixture of transport/connection_fixture.h, with a data callback for 8-byte frames.
class ConnectionTest : public test::SocketPairConnectionTest {
 protected:
  // Sets a data callback that consumes nothing until a whole 8-byte "frame" is there, so that the
  // rest must stay in the buffer; received_ holds the frames so far, each followed by '|'.
  void TakeEightByteFrames() {
    RunOnLoopAndWait(loop(), [this] {
      auto frames = std::make_shared<std::string>();  // loop thread only
      conn_->set_data_callback([this, frames](const ConnectionPtr&, Buffer* buffer) {
        while (buffer->readable_bytes() >= 8) {
          frames->append(buffer->view().substr(0, 8).data(), 8);
          frames->push_back('|');
          buffer->Consume(8);
        }
        std::lock_guard<std::mutex> lock(mu_);
        received_ = *frames;
        cv_.notify_all();
      });
    });
  }
};

TEST_F(ConnectionTest, DataCallbackReceivesPeerBytes) {
  StartConnection();
  const std::string big = Pattern(300 << 10);
  const std::string expected = "abc" + std::string("def") + big;
  WriteAll(peer_.get(), "abc");
  WriteAll(peer_.get(), "def");
  WriteAll(peer_.get(), big);
  ASSERT_TRUE(WaitForReceived(expected.size()));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(received_.size(), expected.size());
  EXPECT_TRUE(received_ == expected);
}

TEST_F(ConnectionTest, DataLeftInBufferIsKeptForTheNextCallback) {
  StartConnection();
  TakeEightByteFrames();
  WriteAll(peer_.get(), "1234");
  SettleLoop();
  WriteAll(peer_.get(), "5678abcd");
  WriteAll(peer_.get(), "efgh");
  ASSERT_TRUE(WaitForReceived(18));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(received_, "12345678|abcdefgh|");
}

TEST_F(ConnectionTest, IdleBuffersAreGivenBackAndTakenAgainByTheNextBytes) {
  StartConnection();
  WriteAll(peer_.get(), "hello");
  ASSERT_TRUE(WaitForReceived(5));
  RunOnLoopAndWait(loop(), [&] { conn_->Send("reply"); });
  EXPECT_EQ(ReadExactly(peer_.get(), 5), "reply");
  SettleLoop();
  RunOnLoopAndWait(loop(), [&] {
    EXPECT_GT(conn_->buffer_bytes_held(), 0u);  // kept for the next bytes, as on a busy connection
    conn_->ReleaseIdleBuffers();
    EXPECT_EQ(conn_->buffer_bytes_held(), 0u);
  });
  WriteAll(peer_.get(), "again");
  ASSERT_TRUE(WaitForReceived(10));
  RunOnLoopAndWait(loop(), [&] { conn_->Send("more"); });
  conn_->Send(" and more");  // from this thread too
  EXPECT_EQ(ReadExactly(peer_.get(), 13), "more and more");
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(received_, "helloagain");
}

TEST_F(ConnectionTest, ReleasingIdleBuffersKeepsUnconsumedInput) {
  StartConnection();
  TakeEightByteFrames();
  WriteAll(peer_.get(), "1234");
  SettleLoop();
  RunOnLoopAndWait(loop(), [&] {
    conn_->ReleaseIdleBuffers();
    EXPECT_GT(conn_->buffer_bytes_held(), 0u);  // half a frame is not idle
  });
  WriteAll(peer_.get(), "5678");
  ASSERT_TRUE(WaitForReceived(9));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(received_, "12345678|");
}

TEST_F(ConnectionTest, RedeliverInputRunsDataCallbackOnBufferedInput) {
  StartConnection();
  int calls = 0;     // Loop thread only.
  std::string seen;  // Loop thread only.
  RunOnLoopAndWait(loop(), [&] {
    conn_->set_data_callback([&](const ConnectionPtr&, Buffer* buffer) {
      ++calls;
      seen = std::string(buffer->view());
      if (calls >= 2) buffer->Consume(buffer->readable_bytes());  // Leave it the first time.
      std::lock_guard<std::mutex> lock(mu_);
      received_ = seen;
      cv_.notify_all();
    });
  });
  WriteAll(peer_.get(), "abc");
  ASSERT_TRUE(WaitForReceived(3));
  RunOnLoopAndWait(loop(), [&] {
    EXPECT_EQ(calls, 1);
    conn_->RedeliverInput();
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(seen, "abc");
    conn_->RedeliverInput();  // Nothing buffered now: a no-op.
    EXPECT_EQ(calls, 2);
  });
}

TEST_F(ConnectionTest, SendFromNonLoopThreadArrivesInOrder) {
  StartConnection();
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    std::string msg = absl::StrCat("msg-", i, ";");
    expected += msg;
    conn_->Send(std::move(msg));
  }
  EXPECT_EQ(ReadExactly(peer_.get(), expected.size()), expected);
}

TEST_F(ConnectionTest, SendFromManyThreadsKeepsEachThreadsOrder) {
  StartConnection();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) conn_->Send(absl::StrCat(t, ":", i, ";"));
    });
  }
  for (auto& s : senders) s.join();
  size_t total = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) total += absl::StrCat(t, ":", i, ";").size();
  }
  const std::string got = ReadExactly(peer_.get(), total);
  std::vector<int> next(kThreads, 0);
  size_t pos = 0;
  while (pos < got.size()) {
    const size_t colon = got.find(':', pos);
    const size_t semi = got.find(';', pos);
    ASSERT_NE(colon, std::string::npos);
    ASSERT_NE(semi, std::string::npos);
    const int t = std::stoi(got.substr(pos, colon - pos));
    const int i = std::stoi(got.substr(colon + 1, semi - colon - 1));
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    EXPECT_EQ(i, next[t]) << "thread " << t;
    next[t] = i + 1;
    pos = semi + 1;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
}

TEST_F(ConnectionTest, ManySendsInOneLoopBatchArriveCompleteAndInOrder) {
  StartConnection();
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += absl::StrCat("[", i, "]");
  RunOnLoopAndWait(loop(), [&] {
    size_t queued = 0;
    for (int i = 0; i < 1000; ++i) {
      std::string msg = absl::StrCat("[", i, "]");
      queued += msg.size();
      conn_->Send(std::move(msg));
    }
    // Nothing is written until the batch ends: all of it is coalesced into one flush.
    EXPECT_EQ(conn_->queued_output_bytes(), queued);
  });
  EXPECT_EQ(ReadExactly(peer_.get(), expected.size()), expected);
  RunOnLoopAndWait(loop(), [&] { EXPECT_EQ(conn_->queued_output_bytes(), 0u); });
}

TEST_F(ConnectionTest, LargeSendsToSlowReaderArriveIntact) {
  StartConnection();
  const std::string a = Pattern(8 << 20, 11);
  const std::string b = Pattern(3 << 20, 12);
  conn_->Send(a);
  conn_->Send("-middle-");
  conn_->Send(b);
  // Small reads keep the socket buffer full, so the writer sees partial writes and EPOLLOUT.
  const std::string got = ReadExactly(peer_.get(), a.size() + 8 + b.size(), 4096);
  ASSERT_EQ(got.size(), a.size() + 8 + b.size());
  EXPECT_TRUE(got.compare(0, a.size(), a) == 0);
  EXPECT_EQ(got.substr(a.size(), 8), "-middle-");
  EXPECT_TRUE(got.compare(a.size() + 8, b.size(), b) == 0);
  RunOnLoopAndWait(loop(), [&] { EXPECT_EQ(conn_->queued_output_bytes(), 0u); });
}

// Holds the loop thread inside a task until Release(), so a test can prove what happens without it.
// The notifications are shared with the task, which may still be returning from its wait when
// the blocker is destroyed.
class LoopBlocker {
 public:
  explicit LoopBlocker(EventLoop* loop) {
    loop->QueueInLoop([running = running_, release = release_] {
      running->Notify();
      release->WaitForNotification();
    });
    running_->WaitForNotification();
  }
  ~LoopBlocker() { Release(); }
  void Release() {
    if (!release_->HasBeenNotified()) release_->Notify();
  }

 private:
  std::shared_ptr<Notification> running_ = std::make_shared<Notification>();
  std::shared_ptr<Notification> release_ = std::make_shared<Notification>();
};

TEST_F(ConnectionTest, SendFromOtherThreadIsWrittenWithoutTheLoop) {
  StartConnection();
  LoopBlocker blocker(loop());
  conn_->Send("direct");
  // The loop is stuck in the blocker's task: only the sending thread can have written this.
  EXPECT_EQ(ReadExactly(peer_.get(), 6), "direct");
  EXPECT_EQ(conn_->queued_output_bytes(), 0u);
}

TEST_F(ConnectionTest, DirectSendThatDoesNotFitQueuesTheRestAndKeepsOrder) {
  StartConnection();
  const std::string a = Pattern(8 << 20, 21);  // far more than a socket buffer takes
  const std::string b = Pattern(1 << 20, 22);
  LoopBlocker blocker(loop());
  conn_->Send(a);
  const size_t queued_after_a = conn_->queued_output_bytes();
  EXPECT_GT(queued_after_a, 0u);
  EXPECT_LT(queued_after_a, a.size());  // the socket took the first part at once
  // Queued behind the rest of `a`, never written ahead of it, though each would fit by itself.
  conn_->Send("-middle-");
  conn_->Send(b);
  EXPECT_EQ(conn_->queued_output_bytes(), queued_after_a + 8 + b.size());
  blocker.Release();
  const std::string got = ReadExactly(peer_.get(), a.size() + 8 + b.size(), 64 << 10);
  ASSERT_EQ(got.size(), a.size() + 8 + b.size());
  EXPECT_TRUE(got.compare(0, a.size(), a) == 0);
  EXPECT_EQ(got.substr(a.size(), 8), "-middle-");
  EXPECT_TRUE(got.compare(a.size() + 8, b.size(), b) == 0);
  RunOnLoopAndWait(loop(), [&] { EXPECT_EQ(conn_->queued_output_bytes(), 0u); });
}

TEST_F(ConnectionTest, HeadAndTailArriveAsOneAndTheTailNeedNotOutliveTheCall) {
  StartConnection();
  const std::string original = Pattern(8 << 20, 31);  // more than the socket takes at once
  std::string tail = original;
  {
    LoopBlocker blocker(loop());
    conn_->Send("head:", tail);
    EXPECT_GT(conn_->queued_output_bytes(), 0u);  // the rest of the tail was copied into the queue
    tail.assign(tail.size(), 'X');                 // so the caller may reuse its buffer at once
    conn_->Send("|", "small tail");
  }
  // From the loop thread too (queued with the batch).
  RunOnLoopAndWait(loop(), [&] { conn_->Send("|", "from the loop"); });
  const std::string expected = "head:" + original + "|small tail|from the loop";
  const std::string got = ReadExactly(peer_.get(), expected.size(), 64 << 10);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
}

// SendOwned: a tail taken over whole. From the loop thread it is queued as it is (no copy) behind
// its head, and a large one still reaches a slow reader intact and in order; from another
// thread it behaves as Send(head, tail); empty pieces are skipped.
TEST_F(ConnectionTest, OwnedTailsArriveBehindTheirHeadsFromAnyThread) {
  StartConnection();
  const std::string large = Pattern(8 << 20, 41);  // far more than the socket takes at once
  RunOnLoopAndWait(loop(), [&] {
    conn_->SendOwned("head:", large);
    conn_->SendOwned("", "");  // nothing
    conn_->SendOwned("|no tail", "");
    conn_->SendOwned("", "|no head");
    EXPECT_EQ(conn_->queued_output_bytes(), 5 + large.size() + 8 + 8);
  });
  conn_->SendOwned("|other thread:", Pattern(100 << 10, 42));
  const std::string expected =
      "head:" + large + "|no tail|no head|other thread:" + Pattern(100 << 10, 42);
  const std::string got = ReadExactly(peer_.get(), expected.size(), 4096);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
  RunOnLoopAndWait(loop(), [&] { EXPECT_EQ(conn_->queued_output_bytes(), 0u); });
}

TEST_F(ConnectionTest, DirectSendToClosedPeerClosesOnceWithTheWriteError) {
  StartConnection();
  RunOnLoopAndWait(loop(), [&] { conn_->StopReading(); });  // the write must find it, not a read
  peer_.reset();
  conn_->Send("into the void");  // from this thread: the direct path gets EPIPE
  conn_->Send("dropped");
  ASSERT_TRUE(WaitForClose());
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_.message(), absl::StrCat("write failed: ", std::strerror(EPIPE)));
}

TEST_F(ConnectionTest, SendFromOtherThreadAfterShutdownIsDropped) {
  StartConnection();
  conn_->Send("before");
  conn_->Shutdown();
  conn_->Send("after");  // dropped at once, whether or not the loop has run the shutdown yet
  EXPECT_EQ(ReadExactly(peer_.get(), 6), "before");
  EXPECT_TRUE(ReadsEof(peer_.get()));
  EXPECT_EQ(conn_->queued_output_bytes(), 0u);
}

TEST_F(ConnectionTest, WatermarkFiresAboveHighWaterAndAgainAfterDrain) {
  ConnectionOptions options;
  options.output_high_water_bytes = 64 << 10;
  StartConnection(options);
  const std::string payload = Pattern(1 << 20, 5);
  conn_->Send(payload);  // The peer is not reading: most of it stays queued.
  ASSERT_TRUE(WaitUntil([&] { return !watermarks_.empty(); }));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(watermarks_, std::vector<bool>{true});
  }
  RunOnLoopAndWait(loop(), [&] {
    EXPECT_GT(conn_->queued_output_bytes(), options.output_high_water_bytes / 2);
    EXPECT_TRUE(conn_->above_high_water());
  });
  EXPECT_TRUE(ReadExactly(peer_.get(), payload.size()) == payload);
  ASSERT_TRUE(WaitUntil([&] { return watermarks_.size() >= 2; }));
  SettleLoop();
  RunOnLoopAndWait(loop(), [&] { EXPECT_FALSE(conn_->above_high_water()); });
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(watermarks_, (std::vector<bool>{true, false}));
}

TEST_F(ConnectionTest, WatermarkFiresForEveryCrossingOfDirectSends) {
  ConnectionOptions options;
  options.output_high_water_bytes = 64 << 10;
  StartConnection(options);
  const std::string payload = Pattern(1 << 20, 6);
  for (size_t cycle = 1; cycle <= 2; ++cycle) {
    conn_->Send(payload);  // from this thread: written directly as far as the socket takes it
    ASSERT_TRUE(WaitUntil([&] { return watermarks_.size() == 2 * cycle - 1; })) << cycle;
    EXPECT_TRUE(ReadExactly(peer_.get(), payload.size()) == payload);
    ASSERT_TRUE(WaitUntil([&] { return watermarks_.size() == 2 * cycle; })) << cycle;
  }
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(watermarks_, (std::vector<bool>{true, false, true, false}));
}

TEST_F(ConnectionTest, NoWatermarkBelowHighWater) {
  ConnectionOptions options;
  options.output_high_water_bytes = 64 << 10;
  StartConnection(options);
  conn_->Send(std::string(1000, 'x'));
  EXPECT_EQ(ReadExactly(peer_.get(), 1000), std::string(1000, 'x'));
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(watermarks_.empty());
}

TEST_F(ConnectionTest, PeerCloseInvokesCloseCallbackOnce) {
  StartConnection();
  WriteAll(peer_.get(), "bye");
  peer_.reset();
  ASSERT_TRUE(WaitForClose());
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(received_, "bye");
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(close_reason_.message(), "connection closed by peer");
  EXPECT_TRUE(fd_closed_in_close_callback_);
  EXPECT_TRUE(closed_flag_in_close_callback_);
}

TEST_F(ConnectionTest, ForceCloseFromOtherThreadClosesOnceAndClosesFd) {
  StartConnection();
  conn_->ForceClose(absl::CancelledError("bye"));
  ASSERT_TRUE(WaitForClose());
  EXPECT_TRUE(ReadsEof(peer_.get()));
  conn_->ForceClose(absl::InternalError("again"));  // No second callback.
  conn_->Send("dropped");                           // Dropped silently.
  SettleLoop();
  RunOnLoopAndWait(loop(), [&] {
    EXPECT_TRUE(conn_->closed());
    EXPECT_EQ(conn_->queued_output_bytes(), 0u);
  });
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_, absl::CancelledError("bye"));
  EXPECT_TRUE(fd_closed_in_close_callback_);
}

TEST_F(ConnectionTest, ForceCloseDropsQueuedOutput) {
  StartConnection();
  RunOnLoopAndWait(loop(), [&] {
    conn_->Send("never written");  // Queued for the end of the batch...
    conn_->ForceClose(absl::AbortedError("now"));  // ...and dropped here.
  });
  EXPECT_TRUE(ReadsEof(peer_.get()));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_, absl::AbortedError("now"));
}

TEST_F(ConnectionTest, ForceCloseFromDataCallback) {
  StartConnection();
  on_data_ = [](const ConnectionPtr& c, Buffer*) { c->ForceClose(absl::DataLossError("bad")); };
  WriteAll(peer_.get(), "x");
  ASSERT_TRUE(WaitForClose());
  EXPECT_TRUE(ReadsEof(peer_.get()));
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_, absl::DataLossError("bad"));
}

TEST_F(ConnectionTest, ShutdownFlushesQueuedOutputThenPeerReadsEof) {
  StartConnection();
  const std::string payload = Pattern(2 << 20, 9);
  conn_->Send(payload);
  conn_->Shutdown();
  EXPECT_TRUE(ReadExactly(peer_.get(), payload.size(), 8192) == payload);
  EXPECT_TRUE(ReadsEof(peer_.get()));
  // Only the write side is closed: the connection still reads.
  WriteAll(peer_.get(), "still reading");
  ASSERT_TRUE(WaitForReceived(13));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(received_, "still reading");
    EXPECT_EQ(close_count_, 0);
  }
  peer_.reset();
  ASSERT_TRUE(WaitForClose());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_reason_.message(), "connection closed by peer");
}

TEST_F(ConnectionTest, ShutdownWithNothingQueued) {
  StartConnection();
  conn_->Shutdown();
  EXPECT_TRUE(ReadsEof(peer_.get()));
}

TEST_F(ConnectionTest, SendAndCloseWithNothingUnreadClosesOnceWritten) {
  StartConnection();
  conn_->Send("hello ");
  conn_->SendAndClose("bye", absl::CancelledError("done"));
  conn_->Send("late");  // After SendAndClose: dropped.
  EXPECT_EQ(ReadExactly(peer_.get(), 9), "hello bye");
  EXPECT_TRUE(ReadsEof(peer_.get()));
  // Nothing was left unread, so there is no reset to fear: it closes without waiting for the peer.
  ASSERT_TRUE(WaitForClose());
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_, absl::CancelledError("done"));
  EXPECT_TRUE(fd_closed_in_close_callback_);
}

TEST_F(ConnectionTest, SendAndCloseWithUnreadInputLingersUntilThePeerCloses) {
  StartConnection();
  RunOnLoopAndWait(loop(), [this] { conn_->StopReading(); });
  WriteAll(peer_.get(), "unread");  // Sits in the kernel: closing now would send a reset.
  conn_->SendAndClose("bye", absl::CancelledError("done"));
  EXPECT_EQ(ReadExactly(peer_.get(), 3), "bye");
  EXPECT_TRUE(ReadsEof(peer_.get()));
  // While lingering, the connection reads and discards input; no data callback runs.
  WriteAll(peer_.get(), "discarded");
  SettleLoop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(received_, "");
    EXPECT_EQ(close_count_, 0);
  }
  peer_.reset();
  ASSERT_TRUE(WaitForClose());
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_, absl::CancelledError("done"));
  EXPECT_TRUE(fd_closed_in_close_callback_);
}

TEST_F(ConnectionTest, SendAndCloseClosesAfterLingerWhenPeerStaysOpen) {
  StartConnection();
  RunOnLoopAndWait(loop(), [this] { conn_->StopReading(); });
  WriteAll(peer_.get(), "unread");  // Makes it linger.
  conn_->SendAndClose("bye", absl::CancelledError("done"), absl::Milliseconds(1));
  EXPECT_EQ(ReadExactly(peer_.get(), 3), "bye");
  ASSERT_TRUE(WaitForClose());
  EXPECT_TRUE(ReadsEof(peer_.get()));
  conn_->SendAndClose("again", absl::InternalError("again"));  // Closed: a no-op.
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_, absl::CancelledError("done"));
  EXPECT_TRUE(fd_closed_in_close_callback_);
}

TEST_F(ConnectionTest, ForceCloseDuringLingerClosesOnce) {
  StartConnection();
  RunOnLoopAndWait(loop(), [this] { conn_->StopReading(); });
  WriteAll(peer_.get(), "unread");  // Makes it linger.
  conn_->SendAndClose("bye", absl::CancelledError("done"), absl::Hours(1));
  EXPECT_EQ(ReadExactly(peer_.get(), 3), "bye");
  conn_->ForceClose(absl::AbortedError("enough"));
  ASSERT_TRUE(WaitForClose());
  SettleLoop();
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(close_reason_, absl::AbortedError("enough"));
}

TEST_F(ConnectionTest, StopReadingPausesInputAndStartReadingResumes) {
  StartConnection();
  RunOnLoopAndWait(loop(), [&] { conn_->StopReading(); });
  WriteAll(peer_.get(), "held");
  SettleLoop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(received_, "");
  }
  RunOnLoopAndWait(loop(), [&] { conn_->StartReading(); });
  ASSERT_TRUE(WaitForReceived(4));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(received_, "held");
}

std::atomic<int> g_sigpipes{0};
void CountSigpipe(int) { g_sigpipes.fetch_add(1, std::memory_order_relaxed); }

// BUG: Connection::Flush writes with writev(2), which raises SIGPIPE when the peer has gone. A
// process that has not ignored SIGPIPE (any client or test; only server/main.cc ignores it) is
// killed. Here a handler counts the signal instead of letting it kill the test binary.
TEST_F(ConnectionTest, WriteToClosedPeerDoesNotRaiseSigpipe) {
  struct sigaction counting {};
  struct sigaction old {};
  counting.sa_handler = CountSigpipe;
  sigemptyset(&counting.sa_mask);
  ASSERT_EQ(::sigaction(SIGPIPE, &counting, &old), 0);
  g_sigpipes.store(0);
  StartConnection();
  RunOnLoopAndWait(loop(), [&] {
    conn_->StopReading();  // So the write, not a read of EOF, is what finds the peer gone.
    peer_.reset();
    conn_->Send("into the void");
  });
  const bool closed = WaitForClose();
  ::sigaction(SIGPIPE, &old, nullptr);
  ASSERT_TRUE(closed);
  EXPECT_EQ(g_sigpipes.load(), 0) << "writing to a closed peer raised SIGPIPE";
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(close_reason_.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(close_reason_.message(), absl::StrCat("write failed: ", std::strerror(EPIPE)));
}

// ---- Listen + Acceptor + ConnectBlocking ----

// A listening echo server on its own loop thread.
class EchoServer {
 public:
  explicit EchoServer(const SocketAddress& address) {
    RunOnLoopAndWait(loop(), [&] {
      auto fd = Listen(address, 16);
      listen_status_ = fd.status();
      if (!fd.ok()) return;
      listen_fd_number_ = fd->get();
      acceptor_ = std::make_unique<Acceptor>(
          loop(), std::move(*fd), address.family(),
          [this](ScopedFd conn_fd, const SocketAddress& peer) { OnAccept(std::move(conn_fd), peer); });
      acceptor_->Start();
      local_ = acceptor_->local_address();
    });
  }
  ~EchoServer() { Close(); }

  // Closes every connection and the listener, on the loop thread.
  void Close() {
    RunOnLoopAndWait(loop(), [&] {
      for (auto& c : conns_) c->ForceClose(absl::CancelledError("server closed"));
      conns_.clear();
      acceptor_.reset();
    });
  }

  EventLoop* loop() { return thread_.loop(); }
  const absl::Status& listen_status() const { return listen_status_; }
  int listen_fd_number() const { return listen_fd_number_; }
  const SocketAddress& local() const { return local_; }

  bool WaitForAccepts(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitLimit, [&] { return static_cast<int>(peers_.size()) >= n; });
  }
  bool WaitForCloses(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitLimit, [&] { return closes_ >= n; });
  }
  std::vector<SocketAddress> peers() {
    std::lock_guard<std::mutex> lock(mu_);
    return peers_;
  }

 private:
  void OnAccept(ScopedFd fd, const SocketAddress& peer) {
    EXPECT_TRUE(loop()->IsInLoopThread());
    const int flags = ::fcntl(fd.get(), F_GETFL);
    EXPECT_NE(flags & O_NONBLOCK, 0) << "accepted fds must be non-blocking";
    EXPECT_NE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
    auto conn = std::make_shared<Connection>(loop(), std::move(fd), peer, ConnectionOptions());
    conn->set_data_callback([](const ConnectionPtr& c, Buffer* buffer) {
      c->Send(std::string(buffer->view()));
      buffer->Consume(buffer->readable_bytes());
    });
    conn->set_close_callback([this](const ConnectionPtr&, const absl::Status&) {
      std::lock_guard<std::mutex> lock(mu_);
      ++closes_;
      cv_.notify_all();
    });
    conn->Start();
    conns_.push_back(conn);
    std::lock_guard<std::mutex> lock(mu_);
    peers_.push_back(peer);
    cv_.notify_all();
  }

  EventLoopThread thread_;
  absl::Status listen_status_;
  int listen_fd_number_ = -1;
  SocketAddress local_;
  std::unique_ptr<Acceptor> acceptor_;  // Loop thread.
  std::vector<ConnectionPtr> conns_;    // Loop thread.

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SocketAddress> peers_;
  int closes_ = 0;
};

void ExpectEcho(int fd) {
  SetTimeouts(fd);
  WriteAll(fd, "ping");
  EXPECT_EQ(ReadExactly(fd, 4), "ping");
}

TEST(AcceptorTest, TcpLoopbackAcceptsAndReportsRealPort) {
  auto address = SocketAddress::Parse("127.0.0.1:0");
  ASSERT_TRUE(address.ok());
  EchoServer server(*address);
  ASSERT_TRUE(server.listen_status().ok()) << server.listen_status();
  const SocketAddress local = server.local();
  ASSERT_NE(local.port(), 0);
  EXPECT_EQ(local.ToString(), absl::StrCat("127.0.0.1:", local.port()));
  EXPECT_TRUE(local.is_loopback());

  auto client = ConnectBlocking(local);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(server.WaitForAccepts(1));
  const SocketAddress client_local = LocalAddress(client->get());
  EXPECT_EQ(server.peers()[0].ToString(), client_local.ToString());
  EXPECT_EQ(server.peers()[0].port(), client_local.port());
  ExpectEcho(client->get());

  // A second client on the same listener.
  auto second = ConnectBlocking(local);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(server.WaitForAccepts(2));
  ExpectEcho(second->get());

  client->reset();
  ASSERT_TRUE(server.WaitForCloses(1));
  server.Close();
  // Closed listener: new connections are refused.
  auto refused = ConnectBlocking(local);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
}

TEST(AcceptorTest, UnixSocketAcceptsAndReportsPath) {
  char dir_template[] = "/tmp/framerpc_net_test_XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr) << std::strerror(errno);
  const std::string dir = dir_template;
  const std::string path = dir + "/echo.sock";
  {
    auto address = SocketAddress::Parse("unix:" + path);
    ASSERT_TRUE(address.ok()) << address.status();
    EchoServer server(*address);
    ASSERT_TRUE(server.listen_status().ok()) << server.listen_status();
    EXPECT_TRUE(server.local().is_unix());
    EXPECT_EQ(server.local().ToString(), "unix:" + path);
    EXPECT_EQ(server.local().port(), 0);

    auto client = ConnectBlocking(server.local());
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(server.WaitForAccepts(1));
    EXPECT_TRUE(server.peers()[0].is_unix());
    ExpectEcho(client->get());

    server.Close();
    auto refused = ConnectBlocking(server.local());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  }
  {
    // A stale socket file from an earlier listener is replaced.
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    auto address = SocketAddress::Parse("unix:" + path);
    ASSERT_TRUE(address.ok());
    EchoServer again(*address);
    EXPECT_TRUE(again.listen_status().ok()) << again.listen_status();
    auto client = ConnectBlocking(again.local());
    ASSERT_TRUE(client.ok()) << client.status();
    ExpectEcho(client->get());
  }
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(SocketOpsTest, ListenOnPortInUseIsAlreadyExists) {
  auto address = SocketAddress::Parse("127.0.0.1:0");
  ASSERT_TRUE(address.ok());
  auto first = Listen(*address, 4);
  ASSERT_TRUE(first.ok()) << first.status();
  const SocketAddress bound = LocalAddress(first->get());
  auto second = Listen(bound, 4);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
}

TEST(SocketOpsTest, ConnectToMissingUnixPathIsUnavailable) {
  auto address = SocketAddress::Parse("unix:/tmp/framerpc-net-test-no-such-dir/x.sock");
  ASSERT_TRUE(address.ok());
  auto fd = ConnectBlocking(*address);
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kUnavailable) << fd.status();
}

TEST(SocketOpsTest, StartConnectCompletesAgainstListener) {
  auto address = SocketAddress::Parse("127.0.0.1:0");
  ASSERT_TRUE(address.ok());
  auto listener = Listen(*address, 4);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const SocketAddress bound = LocalAddress(listener->get());
  bool in_progress = false;
  auto fd = StartConnect(bound, &in_progress);
  ASSERT_TRUE(fd.ok()) << fd.status();
  if (in_progress) {
    pollfd p{fd->get(), POLLOUT, 0};
    ASSERT_EQ(::poll(&p, 1, 20000), 1);
  }
  EXPECT_TRUE(SocketError(fd->get(), bound).ok());
  EXPECT_EQ(LocalAddress(fd->get()).ToString().rfind("127.0.0.1:", 0), 0u);
}

}  // namespace
}  // namespace framerpc
