#include "transport/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/notification.h"

namespace framerpc {

absl::Status ValidateBusyPoll(absl::Duration busy_poll) {
  if (busy_poll >= absl::ZeroDuration() && busy_poll <= kMaxBusyPoll) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("busy_poll must be between 0 and ",
                                                 absl::FormatDuration(kMaxBusyPoll), ", got ",
                                                 absl::FormatDuration(busy_poll)));
}

EventLoop::EventLoop(absl::Duration busy_poll)
    : busy_poll_(busy_poll),
      thread_id_(std::this_thread::get_id()),
      wakeup_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  wakeup_watcher_ = std::make_unique<Watcher>(this, wakeup_fd_.get());
  wakeup_watcher_->set_read_callback([this] { DrainWakeup(); });
  wakeup_watcher_->set_error_callback([this] {
    // A loop that cannot be woken would never run a task again. Resource exhaustion at
    // start-up (as for epoll_create1 in Poller), nothing a peer can cause.
    std::fprintf(stderr, "framerpc: cannot watch the event loop's wake-up fd: %s\n",
                 std::string(wakeup_watcher_->registration_error().message()).c_str());
    std::abort();
  });
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
    if (!idle_.empty()) PollBeforeIdleTasks();
    // An idle task may have called Quit().
    const bool poll = active_.empty() && !quit_.load(std::memory_order_acquire);
    if (poll && busy_poll_ > absl::ZeroDuration()) BusyPoll();
    if (poll && active_.empty()) {
      const int timeout_ms = PollTimeoutMs();
      if (timeout_ms != 0) blocking_polls_.fetch_add(1, std::memory_order_relaxed);
      poller_.Poll(timeout_ms, &active_);
    }
    if (!failed_.empty()) TakeFailedWatchers();
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
  RunIdleTasks();
  RunPendingTasks();  // those the idle tasks queued
}

void EventLoop::RunWhenIdle(Task task) { idle_.push_back(std::move(task)); }

void EventLoop::PollBeforeIdleTasks() {
  poller_.Poll(0, &active_);
  if (!active_.empty() && ++idle_deferrals_ < kMaxIdleDeferrals) return;
  RunIdleTasks();
}

void EventLoop::RunIdleTasks() {
  idle_deferrals_ = 0;
  std::vector<Task> tasks;
  tasks.swap(idle_);
  for (Task& task : tasks) task();
}

void EventLoop::BusyPoll() {
  // steady_clock rather than absl::Now(): this runs between zero-timeout polls, many times per
  // microsecond of spinning.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point until = Clock::now() + absl::ToChronoNanoseconds(busy_poll_);
  for (;;) {
    poller_.Poll(0, &active_);
    const absl::Time timer_due = NextTimerDue();
    if (!active_.empty() || !failed_.empty() || HasPendingTasks() ||
        quit_.load(std::memory_order_acquire) ||
        (timer_due != absl::InfiniteFuture() && timer_due <= absl::Now())) {
      busy_poll_hits_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (Clock::now() >= until) return;
  }
}

bool EventLoop::HasPendingTasks() { return has_pending_.load(std::memory_order_acquire); }

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
    has_pending_.store(true, std::memory_order_release);
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
      has_pending_.store(false, std::memory_order_relaxed);
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
  timer_heap_.FireDue(now);
}

absl::Time EventLoop::NextTimerDue() const {
  absl::Time next = timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first;
  if (!timer_heap_.empty()) next = std::min(next, timer_heap_.earliest());
  return next;
}

int EventLoop::PollTimeoutMs() {
  if (!failed_.empty()) return 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pending_.empty()) return 0;
    sleeping_ = true;  // from here on, QueueInLoop must wake us
  }
  const absl::Time next = NextTimerDue();
  if (next == absl::InfiniteFuture()) return 10000;
  const absl::Duration until = next - absl::Now();
  if (until <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(until, absl::Milliseconds(1))));
}

void EventLoop::UpdateWatcher(Watcher* watcher) {
  // Losing its last interest unregisters a watcher: it must also leave this batch's ready list.
  if (watcher->events() == 0) {
    RemoveWatcher(watcher);
    return;
  }
  absl::Status status = poller_.Update(watcher, watcher->events());
  if (status.ok()) {
    if (!watcher->registration_error().ok()) watcher->set_registration_error(absl::OkStatus());
    return;
  }
  watcher->set_registration_error(std::move(status));
  if (!watcher->failure_pending()) {
    watcher->set_failure_pending(true);
    failed_.push_back(watcher);
  }
}

void EventLoop::RemoveWatcher(Watcher* watcher) {
  poller_.Remove(watcher);
  for (auto& entry : active_) {
    if (entry.first == watcher) entry.first = nullptr;
  }
  if (watcher->failure_pending()) {
    watcher->set_failure_pending(false);
    failed_.erase(std::find(failed_.begin(), failed_.end(), watcher));
  }
}

void EventLoop::TakeFailedWatchers() {
  for (Watcher* watcher : failed_) {
    watcher->set_failure_pending(false);
    active_.emplace_back(watcher, EPOLLERR);
  }
  failed_.clear();
}

}  // namespace framerpc
