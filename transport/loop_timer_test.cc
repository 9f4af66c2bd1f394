#include "transport/loop_timer.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "base/notification.h"
#include "gtest/gtest.h"
#include "transport/event_loop.h"
#include "transport/event_loop_thread.h"

namespace framerpc {
namespace {

// A timer that records its firings in `fired` and then runs `on_fire`.
class TestTimer : public LoopTimer {
 public:
  TestTimer(int id, std::vector<int>* fired) : id_(id), fired_(fired) {}
  ~TestTimer() override = default;
  std::function<void()> on_fire;

 private:
  void Fire() override {
    fired_->push_back(id_);
    if (on_fire) on_fire();
  }
  const int id_;
  std::vector<int>* fired_;
};

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
int64_t Ns(int ms) { return absl::ToUnixNanos(kT0 + absl::Milliseconds(ms)); }

// Runs `fn` on the loop thread and returns once it has run.
void OnLoop(EventLoop* loop, const std::function<void()>& fn) { loop->RunInLoopAndWait(fn); }

TEST(LoopTimerHeapTest, FiresWhatIsDueInDueOrderAndKeepsTheRest) {
  std::vector<int> fired;
  std::vector<std::unique_ptr<TestTimer>> timers;
  for (int i = 0; i < 5; ++i) timers.push_back(std::make_unique<TestTimer>(i, &fired));
  LoopTimerHeap heap;  // after the timers: destroyed first, disarming them
  heap.Set(timers[0].get(), Ns(30));
  heap.Set(timers[1].get(), Ns(10));
  heap.Set(timers[2].get(), Ns(50));
  heap.Set(timers[3].get(), Ns(20));
  heap.Set(timers[4].get(), Ns(40));
  EXPECT_EQ(heap.earliest(), kT0 + absl::Milliseconds(10));
  heap.FireDue(kT0 + absl::Milliseconds(30));
  EXPECT_EQ(fired, (std::vector<int>{1, 3, 0}));
  EXPECT_FALSE(timers[1]->armed());
  EXPECT_TRUE(timers[2]->armed());
  EXPECT_EQ(heap.earliest(), kT0 + absl::Milliseconds(40));
}

TEST(LoopTimerHeapTest, MovingEarlierOrLaterAndRemovingKeepTheOrder) {
  std::vector<int> fired;
  TestTimer a(0, &fired), b(1, &fired), c(2, &fired), d(3, &fired);
  LoopTimerHeap heap;
  heap.Set(&a, Ns(10));
  heap.Set(&b, Ns(20));
  heap.Set(&c, Ns(30));
  heap.Set(&d, Ns(40));
  heap.Set(&a, Ns(35));  // later
  heap.Set(&d, Ns(5));   // earlier
  heap.Remove(&b);
  EXPECT_FALSE(b.armed());
  heap.FireDue(kT0 + absl::Seconds(1));
  EXPECT_EQ(fired, (std::vector<int>{3, 2, 0}));
  EXPECT_TRUE(heap.empty());
}

TEST(LoopTimerHeapTest, ManyTimersMovedAndRemovedAtRandomFireInOrder) {
  std::vector<int> fired;
  std::vector<std::unique_ptr<TestTimer>> timers;
  constexpr int kTimers = 500;
  for (int i = 0; i < kTimers; ++i) timers.push_back(std::make_unique<TestTimer>(i, &fired));
  std::vector<int> due(kTimers, -1);  // ms, -1 when not armed
  LoopTimerHeap heap;
  std::mt19937 random(7);
  for (int step = 0; step < 5000; ++step) {
    const int i = static_cast<int>(random() % kTimers);
    if (random() % 4 == 0) {
      if (due[i] >= 0) heap.Remove(timers[i].get());
      due[i] = -1;
    } else {
      due[i] = static_cast<int>(random() % 100000);
      heap.Set(timers[i].get(), Ns(due[i]));
    }
  }
  heap.FireDue(kT0 + absl::Seconds(1000));
  std::vector<int> expected;
  for (int i = 0; i < kTimers; ++i) {
    if (due[i] >= 0) expected.push_back(i);
  }
  ASSERT_EQ(fired.size(), expected.size());
  for (size_t k = 1; k < fired.size(); ++k) EXPECT_LE(due[fired[k - 1]], due[fired[k]]);
  std::sort(fired.begin(), fired.end());
  EXPECT_EQ(fired, expected);
}

TEST(LoopTimerTest, FiresOnTheLoopThreadAndMayArmItselfAgain) {
  EventLoopThread thread;
  EventLoop* loop = thread.loop();
  std::vector<int> fired;
  TestTimer timer(7, &fired);
  Notification done;
  bool on_loop_thread = true;
  timer.on_fire = [&] {
    on_loop_thread = on_loop_thread && loop->IsInLoopThread();
    if (fired.size() < 3) {
      timer.Arm(loop, absl::Now());
    } else {
      done.Notify();
    }
  };
  OnLoop(loop, [&] { timer.Arm(loop, absl::Now() + absl::Milliseconds(1)); });
  done.WaitForNotification();
  EXPECT_EQ(fired, (std::vector<int>{7, 7, 7}));
  EXPECT_TRUE(on_loop_thread);
  OnLoop(loop, [&] { EXPECT_FALSE(timer.armed()); });
}

TEST(LoopTimerTest, CancelledOrDisarmedTimersDoNotFireAndAMovedOneFiresOnce) {
  EventLoopThread thread;
  EventLoop* loop = thread.loop();
  std::vector<int> fired;
  TestTimer cancelled(1, &fired), infinite(2, &fired), moved(3, &fired), last(4, &fired);
  Notification done;
  last.on_fire = [&] { done.Notify(); };
  OnLoop(loop, [&] {
    const absl::Time now = absl::Now();
    cancelled.Arm(loop, now);
    cancelled.Cancel();
    infinite.Arm(loop, now);
    infinite.Arm(loop, absl::InfiniteFuture());
    EXPECT_EQ(infinite.due(), absl::InfiniteFuture());
    moved.Arm(loop, now + absl::Hours(1));
    moved.Arm(loop, now + absl::Milliseconds(1));
    EXPECT_EQ(moved.due(), now + absl::Milliseconds(1));
    last.Arm(loop, now + absl::Milliseconds(5));
  });
  done.WaitForNotification();
  EXPECT_EQ(fired, (std::vector<int>{3, 4}));
}

TEST(LoopTimerTest, ATimerDestroyedWhileArmedLeavesTheHeap) {
  EventLoopThread thread;
  EventLoop* loop = thread.loop();
  std::vector<int> fired;
  TestTimer last(2, &fired);
  Notification done;
  last.on_fire = [&] { done.Notify(); };
  OnLoop(loop, [&] {
    auto gone = std::make_unique<TestTimer>(1, &fired);
    gone->Arm(loop, absl::Now());
    gone.reset();
    last.Arm(loop, absl::Now() + absl::Milliseconds(1));
  });
  done.WaitForNotification();
  EXPECT_EQ(fired, (std::vector<int>{2}));
}

TEST(LoopTimerTest, ALoopDestroyedFirstDisarmsItsTimers) {
  std::vector<int> fired;
  TestTimer timer(1, &fired);
  {
    EventLoop loop;  // never run: this thread is its thread
    timer.Arm(&loop, absl::Now() + absl::Hours(1));
    EXPECT_TRUE(timer.armed());
  }
  EXPECT_FALSE(timer.armed());
  EXPECT_TRUE(fired.empty());
}

}  // namespace
}  // namespace framerpc
