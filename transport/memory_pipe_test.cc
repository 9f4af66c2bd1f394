#include "transport/memory_pipe.h"

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

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

// Two Connections on two loops joined by a pipe: what one sends the other's data callback gets,
// and one closing closes the other.
TEST(MemoryPipeTest, JoinsTwoConnections) {
  EventLoopThread loop_a;
  EventLoopThread loop_b;
  auto pipe = NewMemoryPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  const SocketAddress peer = *SocketAddress::Parse("unix:@memory-pipe-test");
  auto a = std::make_shared<Connection>(loop_a.loop(), std::move(pipe->first.readiness), peer,
                                        ConnectionOptions{});
  a->set_record_layer(std::move(pipe->first.layer));
  auto b = std::make_shared<Connection>(loop_b.loop(), std::move(pipe->second.readiness), peer,
                                        ConnectionOptions{});
  b->set_record_layer(std::move(pipe->second.layer));

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

}  // namespace
}  // namespace framerpc
