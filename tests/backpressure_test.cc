// A client that sends requests but does not read its replies costs the server bounded memory,
// and loses nothing once it reads again.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "rpc/server.h"
#include "tests/blocking_service.h"
#include "tests/raw_peer.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

using test::RawPeer;

constexpr size_t kHighWater = 1 << 20;
constexpr uint32_t kReplyBytes = 512 << 10;
constexpr int kRequests = 200;  // 100 MiB of replies: far more than the kernel's socket buffers.

Envelope GrowRequestEnvelope(uint64_t id) {
  Envelope envelope;
  envelope.set_kind(REQUEST);
  envelope.set_call_id(id);
  envelope.set_method("/framerpc.test.BlockingService/Grow");
  return envelope;
}

class BackpressureTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    options.output_high_water_bytes = kHighWater;
    options.max_concurrent_calls_per_connection = 4;
    server_ = std::make_unique<Server>(options);
    // Inline handlers and worker-pool handlers are both bounded.
    FRPC_ASSERT_OK(server_->AddService(&service_, ServiceOptions{.run_inline = GetParam()}));
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    FRPC_ASSERT_OK(server_->Start());
  }

  test::BlockingServiceImpl service_;
  std::unique_ptr<Server> server_;
};

TEST_P(BackpressureTest, NonReadingClientIsPausedWithBoundedMemoryAndLosesNothing) {
  auto peer = RawPeer::Connect(server_->listen_address(0));
  FRPC_ASSERT_OK(peer.status());
  test::GrowRequest grow;
  grow.set_reply_bytes(kReplyBytes);
  std::string burst;
  for (uint64_t id = 1; id <= kRequests; ++id) {
    burst += RawPeer::BuildFrame(GrowRequestEnvelope(id), grow.SerializeAsString());
  }
  ASSERT_TRUE(peer->SendBytes(burst));  // ~10 KiB: one write, likely one read on the server.

  // The server fills the kernel's buffers, then queues replies up to the high-water mark and
  // pauses the connection.
  ASSERT_TRUE(server_->WaitForPausedConnectionCount(1, absl::Now() + absl::Seconds(30)));
  const size_t queued = server_->QueuedOutputBytes();
  // At most one reply beyond the mark (the one that crossed it), plus the ones whose handlers
  // were already running on workers (at most the concurrent-call cap).
  EXPECT_LE(queued, kHighWater + 5 * (kReplyBytes + 64)) << queued;
  EXPECT_LT(service_.grow_calls(), kRequests);

  // Reading resumes the server; every reply arrives, in order, intact.
  for (uint64_t id = 1; id <= kRequests; ++id) {
    absl::StatusOr<Frame> reply = peer->ReadFrame();
    ASSERT_TRUE(reply.ok()) << "reply " << id << ": " << reply.status();
    ASSERT_EQ(reply->envelope.status_code(), 0) << reply->envelope.status_message();
    test::GrowReply parsed;
    ASSERT_TRUE(parsed.ParseFromString(std::string(reply->message_bytes())));
    ASSERT_EQ(parsed.data().size(), kReplyBytes);
    if (GetParam()) {
      EXPECT_EQ(reply->envelope.call_id(), id);  // Inline: in order.
    }
  }
  EXPECT_EQ(service_.grow_calls(), kRequests);
  EXPECT_TRUE(server_->WaitForPausedConnectionCount(0, absl::Now() + absl::Seconds(30)));
}

INSTANTIATE_TEST_SUITE_P(InlineAndWorkers, BackpressureTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Inline" : "Workers";
                         });

}  // namespace
}  // namespace framerpc
