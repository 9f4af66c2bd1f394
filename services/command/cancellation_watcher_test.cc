#include "services/command/cancellation_watcher.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"
#include "base/notification.h"
#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

// Bounds only a failing test.
constexpr absl::Duration kSafetyTimeout = absl::Seconds(30);

// Counts the watcher's scans through a registration that is never cancelled, so that a test can
// wait for "at least n more scans" instead of sleeping.
class ScanCounter {
 public:
  explicit ScanCounter(CancellationWatcher& watcher)
      : watch_(watcher.Add(
            [this] {
              std::lock_guard<std::mutex> lock(mu_);
              ++scans_;
              cv_.notify_all();
              return false;
            },
            [] {})) {}

  bool WaitForMoreScans(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    const int target = scans_ + n;
    return cv_.wait_for(lock, absl::ToChronoSeconds(kSafetyTimeout),
                        [&] { return scans_ >= target; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int scans_ = 0;
  CancellationWatcher::Watch watch_;  // last: unregistered before the members it uses go
};

TEST(CancellationWatcherTest, RunsTheActionOnceAfterCancellation) {
  CancellationWatcher watcher(absl::Milliseconds(1));
  std::atomic<bool> cancelled{false};
  std::atomic<int> kills{0};
  Notification killed;
  CancellationWatcher::Watch watch = watcher.Add([&] { return cancelled.load(); },
                                                 [&] {
                                                   ++kills;
                                                   killed.Notify();
                                                 });
  ScanCounter scans(watcher);
  ASSERT_TRUE(scans.WaitForMoreScans(2));
  EXPECT_EQ(kills.load(), 0);
  cancelled = true;
  ASSERT_TRUE(killed.WaitForNotificationWithTimeout(kSafetyTimeout));
  ASSERT_TRUE(scans.WaitForMoreScans(3));
  EXPECT_EQ(kills.load(), 1);
}

TEST(CancellationWatcherTest, NothingRunsAfterTheWatchIsDestroyed) {
  CancellationWatcher watcher(absl::Milliseconds(1));
  std::atomic<bool> cancelled{false};
  std::atomic<int> calls{0};
  CancellationWatcher::Watch watch = watcher.Add(
      [&] {
        ++calls;
        return cancelled.load();
      },
      [&] { ++calls; });
  ScanCounter scans(watcher);
  ASSERT_TRUE(scans.WaitForMoreScans(1));
  watch.reset();
  const int calls_at_reset = calls.load();
  cancelled = true;
  ASSERT_TRUE(scans.WaitForMoreScans(3));
  EXPECT_EQ(calls.load(), calls_at_reset);
}

TEST(CancellationWatcherTest, MovedWatchStaysRegistered) {
  CancellationWatcher watcher(absl::Milliseconds(1));
  std::atomic<bool> cancelled{false};
  Notification killed;
  CancellationWatcher::Watch outer;
  {
    CancellationWatcher::Watch inner =
        watcher.Add([&] { return cancelled.load(); }, [&] { killed.Notify(); });
    outer = std::move(inner);
  }
  cancelled = true;
  EXPECT_TRUE(killed.WaitForNotificationWithTimeout(kSafetyTimeout));
}

TEST(CancellationWatcherTest, IdleWatcherShutsDown) {
  CancellationWatcher watcher(absl::Hours(1));
  CancellationWatcher::Watch watch = watcher.Add([] { return false; }, [] {});
  watch.reset();
  // The destructor must not wait out the hour.
}

}  // namespace
}  // namespace framerpc::command
