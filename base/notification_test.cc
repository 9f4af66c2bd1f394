#include "base/notification.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(NotificationTest, WakesWaitersAndMayBeNotifiedTwice) {
  Notification n;
  EXPECT_FALSE(n.HasBeenNotified());
  std::thread waiter([&] { n.WaitForNotification(); });
  n.Notify();
  n.Notify();
  waiter.join();
  EXPECT_TRUE(n.HasBeenNotified());
  EXPECT_TRUE(n.WaitForNotificationWithDeadline(absl::InfinitePast()));
}

TEST(NotificationTest, DeadlineInThePastReturnsFalseWhenNotNotified) {
  Notification n;
  EXPECT_FALSE(n.WaitForNotificationWithDeadline(absl::InfinitePast()));
  EXPECT_FALSE(n.WaitForNotificationWithTimeout(absl::ZeroDuration()));
}

TEST(BlockingCounterTest, WaitReturnsAfterAllDecrements) {
  BlockingCounter counter(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { counter.DecrementCount(); });
  counter.Wait();
  for (auto& t : threads) t.join();
}

}  // namespace
}  // namespace framerpc
