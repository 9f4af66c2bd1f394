#include "base/cancellation.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/notification.h"
#include "gtest/gtest.h"

namespace framerpc {
namespace {

TEST(CancellationTest, CallbacksRunOnceOnCancelInRegistrationOrder) {
  CancellationSignal signal;
  std::vector<int> ran;
  CancellationCallback first = signal.OnCancel([&] { ran.push_back(1); });
  CancellationCallback second(&signal, [&] { ran.push_back(2); });
  EXPECT_FALSE(signal.IsCancelled());
  EXPECT_TRUE(ran.empty());
  signal.Cancel();
  EXPECT_TRUE(signal.IsCancelled());
  signal.Cancel();
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(CancellationTest, RegisteringAfterCancelRunsAtOnceOnThisThread) {
  CancellationSignal signal;
  signal.Cancel();
  std::thread::id ran_on;
  CancellationCallback late = signal.OnCancel([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(CancellationTest, DestroyedOrResetRegistrationNeverRuns) {
  CancellationSignal signal;
  int ran = 0;
  { CancellationCallback gone = signal.OnCancel([&] { ++ran; }); }
  CancellationCallback reset = signal.OnCancel([&] { ++ran; });
  reset.reset();
  signal.Cancel();
  EXPECT_EQ(ran, 0);
}

TEST(CancellationTest, MovedRegistrationStillRunsOnceAndMovedFromIsEmpty) {
  CancellationSignal signal;
  int ran = 0;
  CancellationCallback original = signal.OnCancel([&] { ++ran; });
  CancellationCallback moved = std::move(original);
  original.reset();  // empty: unregisters nothing
  CancellationCallback assigned;
  assigned = std::move(moved);
  signal.Cancel();
  EXPECT_EQ(ran, 1);
}

// The callback and its captures outlive the registration it destroys, until it returns (this
// read freed memory under AddressSanitizer when the registration owned the callback alone).
TEST(CancellationTest, CallbackMayDestroyItsOwnRegistrationAndGoOn) {
  CancellationSignal signal;
  auto registration = std::make_unique<CancellationCallback>();
  const std::string payload(100, 'p');  // on the heap, captured by value
  std::string seen;
  *registration = signal.OnCancel([&registration, &seen, payload] {
    registration.reset();
    seen = payload;
  });
  signal.Cancel();
  EXPECT_EQ(seen, payload);
  EXPECT_EQ(registration, nullptr);
}

// Once the destructor returns, the callback has finished: what it uses may be freed right after.
TEST(CancellationTest, DestructorOnAnotherThreadWaitsForARunningCallback) {
  for (int i = 0; i < 50; ++i) {
    CancellationSignal signal;
    Notification started;
    Notification release;
    std::atomic<bool> finished{false};
    auto registration = std::make_unique<CancellationCallback>(signal.OnCancel([&] {
      started.Notify();
      release.WaitForNotification();
      finished.store(true);
    }));
    std::thread canceller([&] { signal.Cancel(); });
    started.WaitForNotification();
    std::atomic<bool> destroyed{false};
    std::thread destroyer([&] {
      registration.reset();
      EXPECT_TRUE(finished.load()) << "the destructor returned while the callback ran";
      destroyed.store(true);
    });
    release.Notify();
    destroyer.join();
    canceller.join();
    EXPECT_TRUE(destroyed.load());
  }
}

TEST(CancellationTest, ConcurrentRegistrationAndCancelRunEachCallbackExactlyOnce) {
  for (int round = 0; round < 20; ++round) {
    CancellationSignal signal;
    constexpr int kThreads = 4;
    std::atomic<int> ran{0};
    std::vector<std::thread> threads;
    std::vector<CancellationCallback> registrations(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { registrations[t] = signal.OnCancel([&] { ran.fetch_add(1); }); });
    }
    std::thread canceller([&] { signal.Cancel(); });
    for (std::thread& t : threads) t.join();
    canceller.join();
    EXPECT_EQ(ran.load(), kThreads);
  }
}

// As with std::stop_callback: an exception cannot leave a callback (it would leave the signal
// marked as running it, and a registration's destructor waiting forever).
TEST(CancellationDeathTest, ThrowingCallbackTerminates) {
  EXPECT_DEATH(
      {
        CancellationSignal signal;
        CancellationCallback throws = signal.OnCancel([] { throw 1; });
        signal.Cancel();
      },
      "");
}

TEST(CancellationTest, WaitWithDeadlineReturnsWhetherCancelled) {
  CancellationSignal signal;
  EXPECT_FALSE(signal.WaitWithDeadline(absl::Now()));
  std::thread canceller([&] { signal.Cancel(); });
  EXPECT_TRUE(signal.WaitWithDeadline(absl::InfiniteFuture()));
  canceller.join();
}

}  // namespace
}  // namespace framerpc
