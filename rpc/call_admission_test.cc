#include "rpc/call_admission.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

ChannelOptions Bounds(size_t calls, size_t bytes, OverLimitPolicy policy) {
  ChannelOptions options;
  options.max_outstanding_calls = calls;
  options.max_queued_request_bytes = bytes;
  options.output_high_water_bytes = 4096;
  options.on_limit = policy;
  return options;
}

constexpr absl::Time kNoDeadline = absl::InfiniteFuture();

TEST(CallAdmissionTest, CallBoundFailsAtOnceAndFreesOnCallEnded) {
  CallAdmission admission("t:1", Bounds(2, 1 << 20, OverLimitPolicy::kFail));
  ClientContext context;
  EXPECT_TRUE(admission.Admit(10, kNoDeadline, context, true).ok());
  EXPECT_TRUE(admission.Admit(10, kNoDeadline, context, true).ok());
  const absl::Status refused = admission.Admit(10, kNoDeadline, context, true);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "channel to t:1 already has 2 calls outstanding, its "
            "ChannelOptions::max_outstanding_calls");
  EXPECT_EQ(admission.outstanding_calls(), 2u);
  EXPECT_EQ(admission.queued_request_bytes(), 20u);  // the refused call left nothing behind
  admission.CallEnded();
  EXPECT_TRUE(admission.Admit(10, kNoDeadline, context, true).ok());
}

TEST(CallAdmissionTest, ByteBoundCountsQueuedRequestsUntilTheyLeave) {
  CallAdmission admission("t:1", Bounds(100, 100, OverLimitPolicy::kFail));
  ClientContext context;
  EXPECT_TRUE(admission.Admit(60, kNoDeadline, context, true).ok());
  const absl::Status refused = admission.Admit(60, kNoDeadline, context, true);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "a request of 60 bytes on channel to t:1 would take its 60 bytes of queued requests "
            "past ChannelOptions::max_queued_request_bytes (100)");
  EXPECT_TRUE(admission.Admit(40, kNoDeadline, context, true).ok());  // exactly at the bound
  admission.RequestLeft(60);
  admission.RequestLeft(40);
  // Larger than the bound, with nothing queued: admitted, or it could never be sent.
  EXPECT_TRUE(admission.Admit(500, kNoDeadline, context, true).ok());
  EXPECT_FALSE(admission.Admit(1, kNoDeadline, context, true).ok());
}

TEST(CallAdmissionTest, OutputAboveHighWaterRefusesUntilDrained) {
  CallAdmission admission("t:1", Bounds(100, 1 << 20, OverLimitPolicy::kFail));
  ClientContext context;
  admission.SetOutputBlocked(true);
  const absl::Status refused = admission.Admit(10, kNoDeadline, context, true);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "connection to t:1 has more than ChannelOptions::output_high_water_bytes (4096) of "
            "output unsent: the server is not reading it");
  admission.SetOutputBlocked(false);
  EXPECT_TRUE(admission.Admit(10, kNoDeadline, context, true).ok());
}

TEST(CallAdmissionTest, WaitingEndsAtTheDeadline) {
  CallAdmission admission("t:1", Bounds(1, 1 << 20, OverLimitPolicy::kWait));
  ClientContext context;
  ASSERT_TRUE(admission.Admit(10, kNoDeadline, context, true).ok());
  const absl::Status late =
      admission.Admit(10, absl::Now() + absl::Milliseconds(50), context, true);
  EXPECT_EQ(late.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(late.message(),
            "deadline exceeded waiting for room: channel to t:1 already has 1 calls "
            "outstanding, its ChannelOptions::max_outstanding_calls");
  EXPECT_EQ(admission.outstanding_calls(), 1u);
}

TEST(CallAdmissionTest, TheIoThreadNeverWaits) {
  CallAdmission admission("t:1", Bounds(1, 1 << 20, OverLimitPolicy::kWait));
  ClientContext context;
  ASSERT_TRUE(admission.Admit(10, kNoDeadline, context, true).ok());
  EXPECT_EQ(admission.Admit(10, kNoDeadline, context, /*may_wait=*/false).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(CallAdmissionTest, AWaiterIsAdmittedWhenACallEnds) {
  CallAdmission admission("t:1", Bounds(1, 1 << 20, OverLimitPolicy::kWait));
  ClientContext first;
  ASSERT_TRUE(admission.Admit(10, kNoDeadline, first, true).ok());
  ClientContext second;
  absl::Status status = absl::UnknownError("not run");
  std::thread waiter([&] { status = admission.Admit(10, kNoDeadline, second, true); });
  admission.CallEnded();
  waiter.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(admission.outstanding_calls(), 1u);
}

TEST(CallAdmissionTest, AWaiterEndsWhenItsContextIsCancelled) {
  CallAdmission admission("t:1", Bounds(1, 1 << 20, OverLimitPolicy::kWait));
  ClientContext first;
  ASSERT_TRUE(admission.Admit(10, kNoDeadline, first, true).ok());
  ClientContext second;
  absl::Status status;
  std::thread waiter([&] { status = admission.Admit(10, kNoDeadline, second, true); });
  second.TryCancel();  // not bound to a channel: only the flag; the channel then wakes waiters
  admission.WakeWaiters();
  waiter.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_EQ(status.message(), "cancelled before start");
}

// Many threads through a bound of 3 under kWait: never more than 3 admitted at once, and every
// one gets through.
TEST(CallAdmissionTest, ConcurrentCallersNeverExceedTheBound) {
  CallAdmission admission("t:1", Bounds(3, 1 << 20, OverLimitPolicy::kWait));
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      ClientContext context;
      for (int i = 0; i < 500; ++i) {
        if (!admission.Admit(1, kNoDeadline, context, true).ok()) return;
        const int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        admitted.fetch_add(1);
        inside.fetch_sub(1);
        admission.RequestLeft(1);
        admission.CallEnded();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 8 * 500);
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(admission.outstanding_calls(), 0u);
  EXPECT_EQ(admission.queued_request_bytes(), 0u);
}

}  // namespace
}  // namespace framerpc
