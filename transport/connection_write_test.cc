// The Connection's write path from many threads (transport/write_queue.h): whole frames in each
// thread's order, the hand-off to the loop when the socket is full, a held write role that blocks
// nobody, closes racing with writers, and the watermarks.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "base/scoped_fd.h"
#include "gtest/gtest.h"
#include "transport/byte_budget.h"
#include "transport/connection.h"
#include "transport/connection_fixture.h"
#include "transport/event_loop_thread.h"
#include "transport/socket_ops.h"
#include "transport/test_bytes.h"

namespace framerpc {
namespace {

using test::RunOnLoopAndWait;

// A frame: 12-byte header (thread, sequence, body length; little-endian u32) and a body of
// Pattern bytes seeded by thread and sequence, so a torn, lost or misplaced frame shows.
constexpr size_t kHeader = 12;

uint32_t Seed(uint32_t thread, uint32_t seq) { return thread * 1000003u + seq; }

std::string FrameHead(uint32_t thread, uint32_t seq, uint32_t length) {
  std::string head(kHeader, '\0');
  for (int i = 0; i < 4; ++i) {
    head[i] = static_cast<char>(thread >> (8 * i));
    head[4 + i] = static_cast<char>(seq >> (8 * i));
    head[8 + i] = static_cast<char>(length >> (8 * i));
  }
  return head;
}

uint32_t ReadU32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  return v;
}

// Checks `stream` is whole frames; returns how many of each thread's arrived (each thread's in
// order, from 0), or fails the test.
std::vector<uint32_t> CheckFrames(const std::string& stream, uint32_t threads) {
  std::vector<uint32_t> next(threads, 0);
  size_t pos = 0;
  while (pos < stream.size()) {
    if (stream.size() - pos < kHeader) {
      ADD_FAILURE() << "a torn header at " << pos;
      return next;
    }
    const uint32_t thread = ReadU32(stream, pos);
    const uint32_t seq = ReadU32(stream, pos + 4);
    const uint32_t length = ReadU32(stream, pos + 8);
    if (thread >= threads || seq != next[thread] || stream.size() - pos - kHeader < length) {
      ADD_FAILURE() << "bad frame at " << pos << ": thread " << thread << " seq " << seq
                    << " (expected " << (thread < threads ? next[thread] : 0) << ") length "
                    << length;
      return next;
    }
    if (stream.compare(pos + kHeader, length, Pattern(length, Seed(thread, seq))) != 0) {
      ADD_FAILURE() << "torn body of thread " << thread << " seq " << seq;
      return next;
    }
    ++next[thread];
    pos += kHeader + length;
  }
  return next;
}

// Reads everything until EOF (or an error); fails the test on an error.
std::string ReadToEof(int fd, size_t chunk) {
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    const ssize_t got = ::read(fd, &buf[0], chunk);
    if (got == 0) return out;
    if (got < 0) {
      ADD_FAILURE() << "read: " << std::strerror(errno);
      return out;
    }
    out.append(buf.data(), static_cast<size_t>(got));
  }
}

std::string ReadExactly(int fd, size_t n) {
  std::string out;
  std::string buf(64 << 10, '\0');
  while (out.size() < n) {
    const ssize_t got = ::read(fd, &buf[0], std::min(buf.size(), n - out.size()));
    if (got <= 0) {
      ADD_FAILURE() << "read returned " << got << " after " << out.size() << " of " << n;
      break;
    }
    out.append(buf.data(), static_cast<size_t>(got));
  }
  return out;
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

class ConnectionWriteTest : public test::SocketPairConnectionTest {
 protected:
  // Sends frame `seq` of `thread`, by one of the four ways in turn: one string, head and a
  // borrowed tail (overwritten once the call returns), an owned tail, and Enqueue + ticket.
  void SendFrame(uint32_t thread, uint32_t seq, uint32_t length) {
    std::string head = FrameHead(thread, seq, length);
    std::string body = Pattern(length, Seed(thread, seq));
    switch (seq % 4) {
      case 0:
        conn_->Send(head + body);
        break;
      case 1:
        conn_->Send(std::move(head), body);
        body.assign(body.size(), 'X');  // the connection must not still read it
        break;
      case 2:
        conn_->SendOwned(std::move(head), std::move(body));
        break;
      default: {
        WriteTicket ticket = conn_->Enqueue(std::move(head), body);
        ticket.Write();
        body.assign(body.size(), 'X');
        break;
      }
    }
  }

  static uint32_t FrameLength(uint32_t thread, uint32_t seq) {
    if (seq % 50 == 7) return 200u << 10;  // more than the socket takes at once
    return (seq * 7919u + thread * 131u) % 9000u + 1;
  }

};

TEST_F(ConnectionWriteTest, FramesFromManyThreadsAndTheLoopArriveWholeInEachThreadsOrder) {
  StartConnection(ConnectionOptions(), /*send_buffer=*/16 << 10);
  constexpr uint32_t kThreads = 6;  // the last one sends from the loop thread
  constexpr uint32_t kPerThread = 400;
  size_t total = 0;
  for (uint32_t t = 0; t < kThreads; ++t) {
    for (uint32_t s = 0; s < kPerThread; ++s) total += kHeader + FrameLength(t, s);
  }
  // A slow reader: small reads, so the writers meet a full socket again and again.
  std::string got;
  std::thread reader([&] { got = ReadExactly(peer_.get(), total); });
  std::vector<std::thread> senders;
  for (uint32_t t = 0; t + 1 < kThreads; ++t) {
    senders.emplace_back([this, t] {
      for (uint32_t s = 0; s < kPerThread; ++s) SendFrame(t, s, FrameLength(t, s));
    });
  }
  senders.emplace_back([this] {
    constexpr uint32_t t = kThreads - 1;
    for (uint32_t s = 0; s < kPerThread; s += 10) {
      RunOnLoopAndWait(loop(), [&] {
        for (uint32_t i = s; i < s + 10; ++i) SendFrame(t, i, FrameLength(t, i));
      });
    }
  });
  for (std::thread& sender : senders) sender.join();
  reader.join();
  ASSERT_EQ(got.size(), total);
  const std::vector<uint32_t> counts = CheckFrames(got, kThreads);
  for (uint32_t t = 0; t < kThreads; ++t) EXPECT_EQ(counts[t], kPerThread) << "thread " << t;
  RunOnLoopAndWait(loop(), [&] { EXPECT_EQ(conn_->queued_output_bytes(), 0u); });
}

TEST_F(ConnectionWriteTest, AFullSocketHandsTheRestToTheLoopAndTheSenderReturns) {
  StartConnection(ConnectionOptions(), /*send_buffer=*/16 << 10);
  const std::string big = Pattern(1 << 20, 5);
  std::string tail = big;
  conn_->Send("head:", tail);  // the peer reads nothing yet: the socket fills
  tail.assign(tail.size(), 'X');  // what is left was copied before the role went to the loop
  const size_t queued = conn_->queued_output_bytes();
  EXPECT_GT(queued, 0u);
  EXPECT_LT(queued, big.size() + 5);
  // Another thread's send returns at once too: the loop owns the output now.
  std::thread other([this] { conn_->Send(":after"); });
  other.join();
  EXPECT_EQ(conn_->queued_output_bytes(), queued + 6);
  const std::string got = ReadExactly(peer_.get(), 5 + big.size() + 6);
  ASSERT_EQ(got.size(), 5 + big.size() + 6);
  EXPECT_EQ(got.substr(0, 5), "head:");
  EXPECT_TRUE(got.compare(5, big.size(), big) == 0);
  EXPECT_EQ(got.substr(5 + big.size()), ":after");
  RunOnLoopAndWait(loop(), [&] { EXPECT_EQ(conn_->queued_output_bytes(), 0u); });
  // Released: the next send from a thread writes directly again.
  conn_->Send("direct");
  EXPECT_EQ(ReadExactly(peer_.get(), 6), "direct");
}

TEST_F(ConnectionWriteTest, AHeldWriteRoleBlocksNeitherSendersNorTheLoop) {
  StartConnection();
  WriteTicket ticket = conn_->Enqueue("first;", "");
  ASSERT_TRUE(ticket.holds_write());
  std::thread other([this] { conn_->Send("second;"); });
  other.join();  // returned without the role
  RunOnLoopAndWait(loop(), [this] { conn_->Send("third;"); });
  // The loop still reads while a thread holds the write role.
  ASSERT_EQ(::write(peer_.get(), "ping", 4), 4);
  ASSERT_TRUE(WaitUntil([&] { return received_ == "ping"; }));
  EXPECT_FALSE(Readable(peer_.get()));  // nothing written until the holder writes
  EXPECT_EQ(conn_->queued_output_bytes(), 13u);  // the holder's own bytes are not counted
  ticket.Write();
  EXPECT_FALSE(ticket.holds_write());
  EXPECT_EQ(ReadExactly(peer_.get(), 19), "first;second;third;");
  EXPECT_EQ(conn_->queued_output_bytes(), 0u);
}

TEST_F(ConnectionWriteTest, ATicketWritesWhenItGoes) {
  StartConnection();
  {
    WriteTicket ticket = conn_->Enqueue("head-", "tail");
    ASSERT_TRUE(ticket.holds_write());
    WriteTicket moved = std::move(ticket);
    EXPECT_FALSE(ticket.holds_write());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(moved.holds_write());
  }
  EXPECT_EQ(ReadExactly(peer_.get(), 9), "head-tail");
}

TEST_F(ConnectionWriteTest, ForceCloseRacingWritersDropsCleanlyAndGivesTheBudgetBack) {
  ByteBudget budget(size_t{1} << 30);
  ConnectionOptions options;
  options.output_budget = &budget;
  StartConnection(options, /*send_buffer=*/16 << 10);
  constexpr uint32_t kThreads = 4;
  BlockingCounter started(kThreads);
  std::vector<std::thread> senders;
  for (uint32_t t = 0; t < kThreads; ++t) {
    senders.emplace_back([this, t, &started] {
      for (uint32_t s = 0; s < 600; ++s) {
        SendFrame(t, s, FrameLength(t, s));
        if (s == 20) started.DecrementCount();
      }
    });
  }
  started.Wait();  // every thread is sending, and the socket is full (nobody reads)
  conn_->ForceClose(absl::CancelledError("closed while writing"));
  for (std::thread& sender : senders) sender.join();  // every send returned
  ASSERT_TRUE(WaitUntil([&] { return close_count_ > 0; }));
  SettleLoop();  // an owner that was writing handed the close back to the loop
  EXPECT_EQ(close_count_, 1);
  EXPECT_EQ(conn_->queued_output_bytes(), 0u);
  EXPECT_EQ(budget.used(), 0u);
  errno = 0;
  EXPECT_EQ(::fcntl(conn_fd_, F_GETFD), -1);  // the socket is closed once nobody writes
  EXPECT_EQ(errno, EBADF);
  // The peer reads what was written (any prefix) and then the end.
  ReadToEof(peer_.get(), 64 << 10);
}

TEST_F(ConnectionWriteTest, ShutdownRacingWritersEndsAfterWholeFramesInEachThreadsOrder) {
  StartConnection(ConnectionOptions(), /*send_buffer=*/16 << 10);
  constexpr uint32_t kThreads = 4;
  constexpr uint32_t kBeforeShutdown = 30;
  std::string got;
  std::thread reader([&] { got = ReadToEof(peer_.get(), 4 << 10); });
  BlockingCounter started(kThreads);
  std::vector<std::thread> senders;
  for (uint32_t t = 0; t < kThreads; ++t) {
    senders.emplace_back([this, t, &started] {
      for (uint32_t s = 0; s < 300; ++s) {
        SendFrame(t, s, FrameLength(t, s));
        if (s + 1 == kBeforeShutdown) started.DecrementCount();
      }
    });
  }
  started.Wait();
  conn_->Shutdown();  // later sends are dropped whole; earlier ones are all written
  for (std::thread& sender : senders) sender.join();
  reader.join();  // the peer saw the end
  const std::vector<uint32_t> counts = CheckFrames(got, kThreads);
  for (uint32_t t = 0; t < kThreads; ++t) EXPECT_GE(counts[t], kBeforeShutdown) << "thread " << t;
  RunOnLoopAndWait(loop(), [&] { EXPECT_EQ(conn_->queued_output_bytes(), 0u); });
}

TEST_F(ConnectionWriteTest, WatermarksFireForQueuedOutputOfOtherThreads) {
  ConnectionOptions options;
  options.output_high_water_bytes = 64 << 10;
  StartConnection(options, /*send_buffer=*/16 << 10);
  const std::string chunk = Pattern(32 << 10, 9);
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([this, &chunk] {
      for (int i = 0; i < 4; ++i) conn_->Send(std::string("."), chunk);
    });
  }
  for (std::thread& sender : senders) sender.join();
  ASSERT_TRUE(WaitUntil([&] { return !watermarks_.empty(); }));  // nobody reads: above
  const size_t total = 16 * (1 + chunk.size());
  const std::string got = ReadExactly(peer_.get(), total);
  EXPECT_EQ(got.size(), total);
  ASSERT_TRUE(WaitUntil([&] { return watermarks_.size() >= 2; }));  // drained: below
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(watermarks_, (std::vector<bool>{true, false}));
}

}  // namespace
}  // namespace framerpc
