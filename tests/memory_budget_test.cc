// The memory budget: bodies of frames still arriving and queued output are counted against one
// limit; past it connections stop reading new frames (backpressure, nothing refused) and resume
// when there is room; a peer that holds its share without sending is closed by the body timeout.
// The attack it answers: twenty peers that each sent 8 MiB of a 64 MiB frame and stalled held
// 220 MiB of the server's memory until they were killed.
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/blocking_service.h"
#include "tests/raw_peer.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

using test::RawPeer;

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kBudget = 32 * kMiB;
constexpr size_t kBody = 24 * kMiB;  // one fits in the budget, two do not

std::string SayFrame(uint64_t id, size_t text_bytes) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(id);
  envelope.set_method("/framerpc.echo.EchoService/Say");
  echo::SayRequest request;
  request.set_text(std::string(text_bytes, 's'));
  return RawPeer::BuildFrame(envelope, request.SerializeAsString());
}

class MemoryBudgetTest : public testing::Test {
 protected:
  void Start(uint64_t min_body_rate = 1) {
    ServerOptions options;
    options.io_threads = 1;
    options.memory_budget_bytes = kBudget;
    options.timeouts.min_body_bytes_per_second = min_body_rate;
    options.timeouts.frame_header = absl::Seconds(1);
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&echo_));
    FRPC_ASSERT_OK(server_->AddService(&blocking_, ServiceOptions{.run_inline = false}));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
  }

  void TearDown() override { blocking_.Open(""); }

  // Sends what the socket takes of `bytes` without waiting: a peer the server does not read
  // cannot send much.
  static void SendWithoutWaiting(RawPeer& peer, absl::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(peer.fd(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  RawPeer Connect() {
    auto peer = RawPeer::Connect(server_->listen_address(0));
    EXPECT_TRUE(peer.ok()) << peer.status();
    return *std::move(peer);
  }

  // Polls: the budget is taken on an I/O thread, with no event for a test to wait on.
  bool WaitForBudgetUsed(size_t at_least) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (server_->memory_budget().used() < at_least && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    return server_->memory_budget().used() >= at_least;
  }

  void ExpectSmallCallServed() {
    auto channel = Channel::Create(server_->listen_address(0));
    ASSERT_TRUE(channel.ok());
    echo::EchoService::Stub stub(channel->get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    echo::SayRequest request;
    request.set_text("small");
    echo::SayReply reply;
    FRPC_EXPECT_OK(stub.Say(&context, request, &reply));
  }

  echo::EchoServiceImpl echo_;
  test::BlockingServiceImpl blocking_;
  std::unique_ptr<Server> server_;
};

TEST_F(MemoryBudgetTest, StalledLargeFramesStayUnderTheBudgetAndResumeWhenThereIsRoom) {
  Start();
  const std::string frame = SayFrame(1, kBody);
  std::vector<RawPeer> peers;
  peers.push_back(Connect());  // the first takes its share and is read
  ASSERT_TRUE(peers.back().SendBytes(absl::string_view(frame).substr(0, 8 * kMiB)));
  ASSERT_TRUE(WaitForBudgetUsed(kBody));
  for (int i = 0; i < 4; ++i) {  // the others find no room
    peers.push_back(Connect());
    SendWithoutWaiting(peers.back(), absl::string_view(frame).substr(0, 8 * kMiB));
  }
  // One body fits and is being read; the other four wait, unread and unrefused.
  ASSERT_TRUE(server_->WaitForPausedConnectionCount(4, absl::Now() + absl::Seconds(30)));
  EXPECT_LE(server_->memory_budget().used(), kBudget);
  EXPECT_GE(server_->memory_budget().used(), kBody);
  ExpectSmallCallServed();  // small frames need no share

  // The first finishes its frame: its call runs, its share goes back, and the next one resumes.
  ASSERT_TRUE(peers[0].SendBytes(absl::string_view(frame).substr(8 * kMiB)));
  absl::StatusOr<Frame> reply = peers[0].ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.kind(), RESPONSE);
  ASSERT_TRUE(server_->WaitForPausedConnectionCount(3, absl::Now() + absl::Seconds(30)));
  EXPECT_LE(server_->memory_budget().used(), kBudget);
  EXPECT_EQ(server_->stats().closed(CloseReason::kLimit), 0u);  // nobody was refused
}

TEST_F(MemoryBudgetTest, APeerHoldingItsShareWithoutSendingIsClosedAndTheNextResumes) {
  Start(/*min_body_rate=*/16 * kMiB);  // 24 MiB: 1 s of header time plus 1.5 s
  const std::string frame = SayFrame(1, kBody);
  RawPeer holder = Connect();
  ASSERT_TRUE(holder.SendBytes(absl::string_view(frame).substr(0, kMiB)));
  ASSERT_TRUE(WaitForBudgetUsed(kBody));  // the holder's share is taken before the waiter comes
  RawPeer waiter = Connect();
  SendWithoutWaiting(waiter, absl::string_view(frame).substr(0, kMiB));
  ASSERT_TRUE(server_->WaitForPausedConnectionCount(1, absl::Now() + absl::Seconds(30)));
  // The waiter's clock stands still while it is paused; the holder's runs out.
  absl::StatusOr<Frame> closed = holder.ReadFrame();
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->envelope.kind(), CONNECTION_ERROR);
  EXPECT_EQ(closed->envelope.status_message(), "timed out waiting for the frame body");
  ASSERT_TRUE(server_->WaitForPausedConnectionCount(0, absl::Now() + absl::Seconds(30)));
  ASSERT_TRUE(waiter.SendBytes(absl::string_view(frame).substr(kMiB)));
  absl::StatusOr<Frame> reply = waiter.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.kind(), RESPONSE);
  EXPECT_EQ(reply->envelope.status_code(), 0);
}

TEST_F(MemoryBudgetTest, QueuedOutputCountsAndStopsOthersFromReadingNewFrames) {
  Start();
  // A client that asks for 40 MiB of replies and reads none of them: its output fills the
  // budget (and its own high-water mark).
  RawPeer reader_of_nothing = Connect();
  Envelope grow;
  grow.set_kind(REQUEST);
  grow.set_method("/framerpc.test.BlockingService/Grow");
  test::GrowRequest request;
  request.set_reply_bytes(10 * kMiB);
  for (uint64_t id = 1; id <= 4; ++id) {
    grow.set_call_id(id);
    ASSERT_TRUE(reader_of_nothing.SendFrame(grow, request.SerializeAsString()));
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (!server_->memory_budget().over() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));  // the replies are produced on a worker: no event
  }
  ASSERT_TRUE(server_->memory_budget().over()) << server_->memory_budget().used();
  // Another connection's new frame now waits.
  RawPeer other = Connect();
  ASSERT_TRUE(other.SendBytes(SayFrame(1, 10)));
  ASSERT_TRUE(server_->WaitForPausedConnectionCount(2, absl::Now() + absl::Seconds(30)));
  // The first client reads its replies: the budget drains and the other is served.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(reader_of_nothing.ReadFrame().ok());
  absl::StatusOr<Frame> reply = other.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->envelope.kind(), RESPONSE);
}

}  // namespace
}  // namespace framerpc
