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

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "transport/poller.h"
#include "base/scoped_fd.h"
#include "transport/watcher.h"

namespace framerpc {

using TimerId = uint64_t;

class EventLoop {
 public:
  using Task = std::function<void()>;

  // May be constructed on any thread; binds to the thread that calls Run().
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until Quit(). Tasks queued before Quit() still run before Run() returns.
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
  bool IsInLoopThread() const { return thread_id_.load() == std::this_thread::get_id(); }

  // Loop thread only. Runs `task` at or after `when` (millisecond resolution).
  TimerId RunAt(absl::Time when, Task task);
  TimerId RunAfter(absl::Duration delay, Task task) { return RunAt(absl::Now() + delay, std::move(task)); }
  // Loop thread only. No-op if the timer already ran or was cancelled.
  void CancelTimer(TimerId id);

  // Loop thread only; used by Watcher.
  void UpdateWatcher(Watcher* watcher);
  void RemoveWatcher(Watcher* watcher);

 private:
  void Wakeup();
  void DrainWakeup();
  void RunPendingTasks();
  void RunDueTimers();
  int PollTimeoutMs();

  std::atomic<std::thread::id> thread_id_;
  std::atomic<bool> quit_{false};
  Poller poller_;
  ScopedFd wakeup_fd_;
  std::unique_ptr<Watcher> wakeup_watcher_;
  std::vector<std::pair<Watcher*, uint32_t>> active_;

  std::mutex mu_;
  std::vector<Task> pending_;  // guarded by mu_
  bool sleeping_ = false;      // guarded by mu_: the loop is (about to be) blocked in Poll

  // Timers: ordered by due time, then id for uniqueness.
  std::map<std::pair<absl::Time, TimerId>, Task> timers_;
  std::map<TimerId, absl::Time> timer_due_;
  TimerId next_timer_id_ = 1;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_EVENT_LOOP_H_
