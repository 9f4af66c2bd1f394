#include "transport/memory_pipe.h"

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "transport/connection.h"
#include "transport/event_loop_thread.h"
#include "transport/socket_address.h"

namespace framerpc {
namespace {

bool Readable(const ScopedFd& fd) {
  pollfd p{fd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

std::string ReadAll(RecordLayer* layer) {
  std::string out;
  char buf[7];
  for (;;) {
    RecordIo io = layer->Read(buf, sizeof buf);
    if (io.kind != RecordIo::Kind::kOk) break;
    out.append(buf, io.bytes);
  }
  return out;
}

TEST(MemoryPipeTest, CarriesBytesBothWaysInOrderAndSignalsReadiness) {
  auto pipe = NewMemoryPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  MemoryPipeEnd& a = pipe->first;
  MemoryPipeEnd& b = pipe->second;
  EXPECT_TRUE(a.layer->OwnsTransport());
  EXPECT_FALSE(Readable(a.readiness));
  EXPECT_FALSE(Readable(b.readiness));
  char buf[4];
  EXPECT_EQ(b.layer->Read(buf, sizeof buf).kind, RecordIo::Kind::kWantRead);

  ASSERT_EQ(a.layer->Write("hello, ", 7).bytes, 7u);
  ASSERT_EQ(a.layer->Write("world", 5).bytes, 5u);
  EXPECT_TRUE(Readable(b.readiness));
  EXPECT_FALSE(Readable(a.readiness));
  EXPECT_TRUE(b.layer->HasBufferedInput());
  // Read in pieces smaller than what was written: nothing is lost or reordered.
  EXPECT_EQ(ReadAll(b.layer.get()), "hello, world");
  EXPECT_FALSE(Readable(b.readiness));  // drained: the loop is not woken again
  EXPECT_FALSE(b.layer->HasBufferedInput());

  ASSERT_EQ(b.layer->Write("back", 4).bytes, 4u);
  EXPECT_TRUE(Readable(a.readiness));
  EXPECT_EQ(ReadAll(a.layer.get()), "back");
}

TEST(MemoryPipeTest, ShutdownDeliversWhatWasWrittenThenTheEnd) {
  auto pipe = NewMemoryPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  MemoryPipeEnd& a = pipe->first;
  MemoryPipeEnd& b = pipe->second;
  ASSERT_EQ(a.layer->Write("last", 4).kind, RecordIo::Kind::kOk);
  a.layer->SendCloseNotify();
  EXPECT_EQ(a.layer->Write("x", 1).kind, RecordIo::Kind::kError);  // after its own shutdown
  EXPECT_EQ(ReadAll(b.layer.get()), "last");
  char c;
  EXPECT_EQ(b.layer->Read(&c, 1).kind, RecordIo::Kind::kClosed);
  EXPECT_TRUE(Readable(b.readiness));  // the end stays to be reported
  // The other direction is still open (a half-close).
  ASSERT_EQ(b.layer->Write("reply", 5).kind, RecordIo::Kind::kOk);
  EXPECT_EQ(ReadAll(a.layer.get()), "reply");
}

TEST(MemoryPipeTest, ClosedOrDestroyedEndFailsThePeersWritesAndEndsItsReads) {
  auto pipe = NewMemoryPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  MemoryPipeEnd& a = pipe->first;
  MemoryPipeEnd& b = pipe->second;
  ASSERT_EQ(b.layer->Write("unread", 6).kind, RecordIo::Kind::kOk);
  ASSERT_EQ(a.layer->Write("in flight", 9).kind, RecordIo::Kind::kOk);
  a.layer.reset();  // as its Connection being destroyed; Close() does the same
  EXPECT_EQ(ReadAll(b.layer.get()), "in flight");
  char c;
  EXPECT_EQ(b.layer->Read(&c, 1).kind, RecordIo::Kind::kClosed);
  RecordIo io = b.layer->Write("x", 1);
  EXPECT_EQ(io.kind, RecordIo::Kind::kError);
  EXPECT_TRUE(absl::IsUnavailable(io.error)) << io.error;
}

// Counts ReleaseIdleBuffers and passes everything else to a pipe end's layer.
class SpyLayer final : public RecordLayer {
 public:
  explicit SpyLayer(std::unique_ptr<RecordLayer> inner) : inner_(std::move(inner)) {}
  RecordIo Read(char* data, size_t size) override { return inner_->Read(data, size); }
  RecordIo Write(const char* data, size_t size) override { return inner_->Write(data, size); }
  bool HasBufferedInput() const override { return inner_->HasBufferedInput(); }
  void SendCloseNotify() override { inner_->SendCloseNotify(); }
  bool OwnsTransport() const override { return inner_->OwnsTransport(); }
  void Close() override { inner_->Close(); }
  void ReleaseIdleBuffers() override { ++releases; }
  int releases = 0;

 private:
  std::unique_ptr<RecordLayer> inner_;
};

TEST(MemoryPipeTest, AnIdleConnectionReleasesItsRecordLayersBuffers) {
  EventLoopThread loop;
  auto pipe = NewMemoryPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  auto spy = std::make_unique<SpyLayer>(std::move(pipe->first.layer));
  SpyLayer* layer = spy.get();
  auto conn = std::make_shared<Connection>(loop.loop(), std::move(pipe->first.readiness),
                                           *SocketAddress::Parse("unix:@memory-pipe-test"),
                                           ConnectionOptions{});
  conn->set_record_layer(std::move(spy));
  conn->set_data_callback(
      [](const ConnectionPtr&, Buffer* buffer) { buffer->Consume(buffer->readable_bytes()); });
  loop.loop()->RunInLoopAndWait([&] { conn->Start(); });
  loop.loop()->RunInLoopAndWait([&] { conn->ReleaseIdleBuffers(); });
  EXPECT_EQ(layer->releases, 1);
  conn->ForceClose(absl::CancelledError("done"));
  loop.loop()->RunInLoopAndWait([&] { conn->ReleaseIdleBuffers(); });  // closed: not again
  EXPECT_EQ(layer->releases, 1);
}

// Two Connections, on `loop_a` and `loop_b`, joined by a memory pipe (not started).
void JoinedConnections(EventLoop* loop_a, EventLoop* loop_b, ConnectionPtr* a, ConnectionPtr* b) {
  auto pipe = NewMemoryPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  const SocketAddress peer = *SocketAddress::Parse("unix:@memory-pipe-test");
  *a = std::make_shared<Connection>(loop_a, std::move(pipe->first.readiness), peer,
                                    ConnectionOptions{});
  (*a)->set_record_layer(std::move(pipe->first.layer));
  *b = std::make_shared<Connection>(loop_b, std::move(pipe->second.readiness), peer,
                                    ConnectionOptions{});
  (*b)->set_record_layer(std::move(pipe->second.layer));
}

// Two Connections on two loops joined by a pipe: what one sends the other's data callback gets,
// and one closing closes the other.
TEST(MemoryPipeTest, JoinsTwoConnections) {
  EventLoopThread loop_a;
  EventLoopThread loop_b;
  ConnectionPtr a, b;
  ASSERT_NO_FATAL_FAILURE(JoinedConnections(loop_a.loop(), loop_b.loop(), &a, &b));

  const std::string big(3 << 20, 'z');  // more than one read's worth
  std::mutex mu;
  std::condition_variable arrived;
  std::string got;
  Notification b_closed;
  absl::Status b_close_reason;
  b->set_data_callback([&](const ConnectionPtr&, Buffer* buffer) {
    std::lock_guard<std::mutex> lock(mu);
    got.append(std::string(buffer->view()));
    buffer->Consume(buffer->readable_bytes());
    arrived.notify_all();
  });
  b->set_close_callback([&](const ConnectionPtr&, const absl::Status& why) {
    b_close_reason = why;
    b_closed.Notify();
  });
  a->set_data_callback([](const ConnectionPtr&, Buffer* buffer) {
    buffer->Consume(buffer->readable_bytes());
  });
  loop_a.loop()->RunInLoopAndWait([&] { a->Start(); });
  loop_b.loop()->RunInLoopAndWait([&] { b->Start(); });

  a->Send("head:");  // from this thread: a direct write into the pipe
  a->Send(big);
  loop_a.loop()->RunInLoop([&] { a->Send(":tail"); });  // from the loop: queued and flushed
  {
    std::unique_lock<std::mutex> lock(mu);
    const size_t want = big.size() + 10;
    ASSERT_TRUE(arrived.wait_for(lock, std::chrono::seconds(30),
                                 [&] { return got.size() >= want; }));
    EXPECT_EQ(got.size(), want);
    EXPECT_EQ(got.substr(0, 5), "head:");
    EXPECT_EQ(got.substr(got.size() - 5), ":tail");
  }
  a->ForceClose(absl::CancelledError("done"));
  ASSERT_TRUE(b_closed.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(absl::IsUnavailable(b_close_reason)) << b_close_reason;
}

// Through a record layer (the TLS path's code), the write queue's owner gathers small frames into
// records and writes large ones from where they are, holding the layer's mutex; frames from many
// threads and the loop arrive whole, in each thread's order.
TEST(MemoryPipeTest, FramesFromManyThreadsArriveWholeInEachThreadsOrder) {
  EventLoopThread loop_a;
  EventLoopThread loop_b;
  ConnectionPtr a, b;
  ASSERT_NO_FATAL_FAILURE(JoinedConnections(loop_a.loop(), loop_b.loop(), &a, &b));
  std::mutex mu;
  std::condition_variable arrived;
  std::string got;
  b->set_data_callback([&](const ConnectionPtr&, Buffer* buffer) {
    std::lock_guard<std::mutex> lock(mu);
    got.append(std::string(buffer->view()));
    buffer->Consume(buffer->readable_bytes());
    arrived.notify_all();
  });
  a->set_data_callback([](const ConnectionPtr&, Buffer* buffer) {
    buffer->Consume(buffer->readable_bytes());
  });
  loop_a.loop()->RunInLoopAndWait([&] { a->Start(); });
  loop_b.loop()->RunInLoopAndWait([&] { b->Start(); });

  constexpr int kThreads = 5;  // the last sends from a's loop
  constexpr int kPerThread = 300;
  auto length = [](int t, int i) { return i % 40 == 3 ? 40000 : (i * 37 + t * 11) % 700; };
  auto send = [&](int t, int i) {
    const int n = length(t, i);
    a->Send(absl::StrCat(t, ":", i, ":", n, ";"), std::string(n, static_cast<char>('a' + t)));
  };
  size_t want = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const int n = length(t, i);
      want += absl::StrCat(t, ":", i, ":", n, ";").size() + n;
    }
  }
  std::vector<std::thread> senders;
  for (int t = 0; t + 1 < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) send(t, i);
    });
  }
  for (int i = 0; i < kPerThread; i += 10) {
    loop_a.loop()->RunInLoopAndWait([&] {
      for (int k = i; k < i + 10; ++k) send(kThreads - 1, k);
    });
  }
  for (std::thread& sender : senders) sender.join();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(
      arrived.wait_for(lock, std::chrono::seconds(30), [&] { return got.size() >= want; }));
  ASSERT_EQ(got.size(), want);
  std::vector<int> next(kThreads, 0);
  size_t pos = 0;
  while (pos < got.size()) {
    const size_t c1 = got.find(':', pos);
    const size_t c2 = got.find(':', c1 + 1);
    const size_t semi = got.find(';', c2 + 1);
    ASSERT_NE(semi, std::string::npos);
    const int t = std::stoi(got.substr(pos, c1 - pos));
    const int i = std::stoi(got.substr(c1 + 1, c2 - c1 - 1));
    const int n = std::stoi(got.substr(c2 + 1, semi - c2 - 1));
    ASSERT_TRUE(t >= 0 && t < kThreads) << "at " << pos;
    ASSERT_EQ(i, next[t]) << "thread " << t;
    ASSERT_EQ(n, length(t, i));
    ASSERT_EQ(got.compare(semi + 1, n, std::string(n, static_cast<char>('a' + t))), 0);
    ++next[t];
    pos = semi + 1 + n;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
  lock.unlock();
  loop_a.loop()->RunInLoopAndWait([&] { a->ForceClose(absl::CancelledError("done")); });
  loop_b.loop()->RunInLoopAndWait([&] { b->ForceClose(absl::CancelledError("done")); });
}

}  // namespace
}  // namespace framerpc
