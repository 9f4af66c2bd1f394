#include "transport/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "base/notification.h"

namespace framerpc {

EventLoop::EventLoop()
    : thread_id_(std::this_thread::get_id()),
      wakeup_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  wakeup_watcher_ = std::make_unique<Watcher>(this, wakeup_fd_.get());
  wakeup_watcher_->set_read_callback([this] { DrainWakeup(); });
}

EventLoop::~EventLoop() {
  // Removal touches only the poller; safe here even off the loop thread, since Run() is over.
  poller_.Remove(wakeup_watcher_.get());
  wakeup_watcher_->set_registered(false);
}

void EventLoop::Run() {
  thread_id_.store(std::this_thread::get_id());
  wakeup_watcher_->EnableReading();
  while (!quit_.load(std::memory_order_acquire)) {
    active_.clear();
    poller_.Poll(PollTimeoutMs(), &active_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      sleeping_ = false;
    }
    for (size_t i = 0; i < active_.size(); ++i) {
      // RemoveWatcher() nulls entries of watchers removed while this batch is handled.
      if (active_[i].first != nullptr) active_[i].first->HandleEvents(active_[i].second);
    }
    active_.clear();
    RunDueTimers();
    RunPendingTasks();
  }
  RunPendingTasks();
}

void EventLoop::Quit() {
  quit_.store(true, std::memory_order_release);
  if (!IsInLoopThread()) Wakeup();
}

void EventLoop::RunInLoop(Task task) {
  if (IsInLoopThread()) {
    task();
  } else {
    QueueInLoop(std::move(task));
  }
}

void EventLoop::RunInLoopAndWait(const Task& task) {
  if (IsInLoopThread()) {
    task();
    return;
  }
  Notification done;
  QueueInLoop([&task, &done] {
    task();
    done.Notify();
  });
  done.WaitForNotification();
}

void EventLoop::QueueInLoop(Task task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(task));
    // Only a loop that has decided to block needs waking, and only once: an awake loop runs
    // pending tasks before it next polls, and polls with a zero timeout while any are pending.
    wake = sleeping_;
    sleeping_ = false;
  }
  if (wake) Wakeup();
}

void EventLoop::Wakeup() {
  uint64_t one = 1;
  ssize_t n = ::write(wakeup_fd_.get(), &one, sizeof(one));
  (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake.
}

void EventLoop::DrainWakeup() {
  uint64_t value;
  ssize_t n = ::read(wakeup_fd_.get(), &value, sizeof(value));
  (void)n;
}

void EventLoop::RunPendingTasks() {
  // Two passes: a task often queues another (a send queues its flush), and running that one now
  // saves a trip through epoll_wait. Bounded, so that tasks that keep queueing tasks cannot
  // starve the sockets.
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<Task> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty()) return;
      tasks.swap(pending_);
    }
    for (Task& task : tasks) task();
  }
}

TimerId EventLoop::RunAt(absl::Time when, Task task) {
  const TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(task));
  timer_due_.emplace(id, when);
  return id;
}

void EventLoop::CancelTimer(TimerId id) {
  auto it = timer_due_.find(id);
  if (it == timer_due_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_due_.erase(it);
}

void EventLoop::RunDueTimers() {
  const absl::Time now = absl::Now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_due_.erase(node.key().second);
    node.mapped()();
  }
}

int EventLoop::PollTimeoutMs() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pending_.empty()) return 0;
    sleeping_ = true;  // from here on, QueueInLoop must wake us
  }
  if (timers_.empty()) return 10000;
  const absl::Duration until = timers_.begin()->first.first - absl::Now();
  if (until <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(until, absl::Milliseconds(1))));
}

void EventLoop::UpdateWatcher(Watcher* watcher) {
  // Losing its last interest unregisters a watcher: it must also leave this batch's ready list.
  if (watcher->events() == 0) {
    RemoveWatcher(watcher);
    return;
  }
  poller_.Update(watcher, watcher->events());
}

void EventLoop::RemoveWatcher(Watcher* watcher) {
  poller_.Remove(watcher);
  for (auto& entry : active_) {
    if (entry.first == watcher) entry.first = nullptr;
  }
}

}  // namespace framerpc
