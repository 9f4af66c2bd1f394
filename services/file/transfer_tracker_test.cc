#include "services/file/transfer_tracker.h"

#include <list>
#include <optional>
#include <utility>

#include "gtest/gtest.h"

namespace framerpc::file {
namespace {

TEST(TransferTrackerTest, PerPeerCapLeavesSlotsForOthers) {
  TransferTracker tracker(/*max_active=*/4, /*max_per_peer=*/2);
  std::list<TransferSlot> held;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<TransferSlot> slot = tracker.Begin("10.0.0.1");
    ASSERT_TRUE(slot.ok()) << slot.status();
    held.push_back(*std::move(slot));
  }
  absl::StatusOr<TransferSlot> third = tracker.Begin("10.0.0.1");
  EXPECT_EQ(third.status(),
            absl::ResourceExhaustedError(
                "too many concurrent transfers from 10.0.0.1 (limit 2 per peer); retry later"));
  EXPECT_EQ(tracker.ActiveFrom("10.0.0.1"), 2);
  // Another peer still gets its slots, up to the overall cap.
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<TransferSlot> slot = tracker.Begin("unix uid 1000");
    ASSERT_TRUE(slot.ok()) << slot.status();
    held.push_back(*std::move(slot));
  }
  EXPECT_EQ(tracker.Begin("[::1]").status(),
            absl::ResourceExhaustedError("too many concurrent transfers (limit 4); retry later"));
  const TransferCounters counters = tracker.Snapshot();
  EXPECT_EQ(counters.active, 4);
  EXPECT_EQ(counters.refused_per_peer, 1u);
  EXPECT_EQ(counters.refused, 1u);

  // A slot is given back, to its own peer's count, when it is destroyed; a moved-from one gives
  // back nothing.
  std::optional<TransferSlot> moved(std::move(held.front()));
  held.pop_front();
  EXPECT_EQ(tracker.Snapshot().active, 4);
  moved.reset();
  EXPECT_EQ(tracker.Snapshot().active, 3);
  EXPECT_EQ(tracker.ActiveFrom("10.0.0.1"), 1);
  EXPECT_TRUE(tracker.Begin("10.0.0.1").ok());  // and released again at once
  held.clear();
  EXPECT_EQ(tracker.Snapshot().active, 0);
  EXPECT_EQ(tracker.ActiveFrom("10.0.0.1"), 0);
  EXPECT_EQ(tracker.ActiveFrom("unix uid 1000"), 0);
}

TEST(TransferTrackerTest, NoPerPeerCapWhenZero) {
  TransferTracker tracker(/*max_active=*/3, /*max_per_peer=*/0);
  std::list<TransferSlot> held;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<TransferSlot> slot = tracker.Begin("10.0.0.1");
    ASSERT_TRUE(slot.ok()) << slot.status();
    held.push_back(*std::move(slot));
  }
  EXPECT_EQ(tracker.Begin("10.0.0.1").status(),
            absl::ResourceExhaustedError("too many concurrent transfers (limit 3); retry later"));
  EXPECT_EQ(tracker.Snapshot().refused_per_peer, 0u);
}

}  // namespace
}  // namespace framerpc::file
