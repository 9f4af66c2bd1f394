// EventLoop: one thread's epoll loop, with cross-thread task queue and timers. It knows nothing of
// protobuf or RPC. One loop per thread; the loop's own thread is the one that calls Run().
#ifndef FRAMERPC_TRANSPORT_EVENT_LOOP_H_
#define FRAMERPC_TRANSPORT_EVENT_LOOP_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <mutex>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "transport/loop_timer.h"
#include "transport/poller.h"
#include "base/scoped_fd.h"
#include "transport/watcher.h"

namespace framerpc {

using TimerId = uint64_t;

// The longest busy-poll window an option may ask for: spinning longer saves no more wake-ups.
inline constexpr absl::Duration kMaxBusyPoll = absl::Seconds(1);
// OK for 0 <= busy_poll <= kMaxBusyPoll, INVALID_ARGUMENT naming the value otherwise.
absl::Status ValidateBusyPoll(absl::Duration busy_poll);

class EventLoop {
 public:
  using Task = std::function<void()>;

  // May be constructed on any thread; binds to the thread that calls Run().
  //
  // `busy_poll` > 0: after each batch of work the loop keeps polling without sleeping (epoll_wait
  // with a zero timeout, and checks for queued tasks and due timers) for up to that long before
  // it blocks. Work that arrives within the window is handled without the kernel having to wake
  // a sleeping thread, which costs tens of microseconds on a virtual machine; the price is one CPU
  // kept busy for the window after every burst of work. Zero (the default) never spins.
  explicit EventLoop(absl::Duration busy_poll = absl::ZeroDuration());
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until Quit(). Tasks queued before Quit() (RunWhenIdle's too) still run before Run()
  // returns.
  void Run();
  // Thread-safe.
  void Quit();

  // Thread-safe. Runs `task` now when called on the loop thread, otherwise queues it.
  void RunInLoop(Task task);
  // Thread-safe. Runs `task` on the loop thread and returns once it has run (at once when called
  // on the loop thread). The loop must be running, or about to run, to make progress.
  void RunInLoopAndWait(const Task& task);
  // Thread-safe. Runs `task` on the loop thread after the current batch of events.
  void QueueInLoop(Task task);
  // Loop thread only. Runs `task` once the loop has run out of ready events: when a poll with a
  // zero timeout, made before the loop would next spin or sleep, finds none; or after
  // kMaxIdleDeferrals such polls in a row found some, so that a loop that is never idle still
  // runs it; and in the end before Run() returns. For work that is cheaper done once for a burst
  // of events than once for each: a connection that reads a burst of stream messages in several
  // reads wakes the thread blocked on them once, after the last (rpc/call_stream.h). Costs one
  // epoll_wait per burst (the poll that finds it idle); nothing while none is pending.
  void RunWhenIdle(Task task);
  static constexpr int kMaxIdleDeferrals = 8;
  bool IsInLoopThread() const { return thread_id_.load() == std::this_thread::get_id(); }

  // Loop thread only. Runs `task` at or after `when` (millisecond resolution). For a timer that
  // one owner keeps re-arming for a long time, a LoopTimer (transport/loop_timer.h) allocates
  // nothing.
  TimerId RunAt(absl::Time when, Task task);
  TimerId RunAfter(absl::Duration delay, Task task) { return RunAt(absl::Now() + delay, std::move(task)); }
  // Loop thread only. No-op if the timer already ran or was cancelled.
  void CancelTimer(TimerId id);

  // Thread-safe counters of how the loop waited: polls that found work while spinning, and polls
  // that blocked (the loop slept until an event, a task or a timer woke it).
  uint64_t busy_poll_hits() const { return busy_poll_hits_.load(std::memory_order_relaxed); }
  uint64_t blocking_polls() const { return blocking_polls_.load(std::memory_order_relaxed); }

  // Loop thread only; used by Watcher. A failure to watch is reported to the watcher from the
  // next pass of the loop (see Watcher).
  void UpdateWatcher(Watcher* watcher);
  void RemoveWatcher(Watcher* watcher);

 private:
  friend class LoopTimer;  // arms itself in timer_heap_

  void Wakeup();
  void DrainWakeup();
  // Polls without blocking until there is work (ready watchers in active_, a queued task, a due
  // timer or Quit) or busy_poll_ has passed.
  void BusyPoll();
  bool HasPendingTasks();
  void RunPendingTasks();
  void RunDueTimers();
  // When the next timer (of either kind) is due; InfiniteFuture() if none is armed.
  absl::Time NextTimerDue() const;
  int PollTimeoutMs();
  // Adds the watchers whose registration failed to active_, as errors on their fds.
  void TakeFailedWatchers();
  // With idle tasks pending: polls once with a zero timeout (into active_), and runs them if it
  // found nothing or they have waited kMaxIdleDeferrals polls.
  void PollBeforeIdleTasks();
  void RunIdleTasks();

  const absl::Duration busy_poll_;
  std::atomic<std::thread::id> thread_id_;
  std::atomic<uint64_t> busy_poll_hits_{0};
  std::atomic<uint64_t> blocking_polls_{0};
  std::atomic<bool> quit_{false};
  Poller poller_;
  ScopedFd wakeup_fd_;
  std::unique_ptr<Watcher> wakeup_watcher_;
  std::vector<std::pair<Watcher*, uint32_t>> active_;
  // Watchers whose last change of interest epoll refused, to be reported (loop thread only).
  std::vector<Watcher*> failed_;
  // RunWhenIdle's tasks, and how many zero-timeout polls in a row found events since the first
  // was added (loop thread only).
  std::vector<Task> idle_;
  int idle_deferrals_ = 0;

  std::mutex mu_;
  std::vector<Task> pending_;  // guarded by mu_
  // !pending_.empty(), readable without mu_: the busy-poll spin checks it on every pass, and must
  // not contend for mu_ with the threads queueing tasks.
  std::atomic<bool> has_pending_{false};
  bool sleeping_ = false;      // guarded by mu_: the loop is (about to be) blocked in Poll

  // Timers: ordered by due time, then id for uniqueness.
  std::map<std::pair<absl::Time, TimerId>, Task> timers_;
  std::map<TimerId, absl::Time> timer_due_;
  TimerId next_timer_id_ = 1;
  // LoopTimers armed on this loop. Declared last: destroyed first, disarming them.
  LoopTimerHeap timer_heap_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_EVENT_LOOP_H_
