// One-shot events and countdowns built on std::mutex / std::condition_variable.
//
// Why not absl::Notification / absl::Mutex: Debian's abseil is not built with ThreadSanitizer
// instrumentation, so TSAN cannot see the ordering those primitives create and reports false
// races on everything they protect. The standard library's primitives go through pthreads, which
// TSAN intercepts. framerpc code uses these and std::mutex, not absl's.
#ifndef FRAMERPC_BASE_NOTIFICATION_H_
#define FRAMERPC_BASE_NOTIFICATION_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace framerpc {

// Converts an absl deadline for std::condition_variable::wait_until.
inline std::chrono::system_clock::time_point ToChronoDeadline(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return std::chrono::system_clock::time_point::max();
  return absl::ToChronoTime(deadline);
}

// Thread-safe. Unlike absl::Notification, Notify() may be called more than once.
class Notification {
 public:
  Notification() = default;
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    if (notified_.exchange(true, std::memory_order_acq_rel)) return;
    cv_.notify_all();
  }
  bool HasBeenNotified() const { return notified_.load(std::memory_order_acquire); }
  void WaitForNotification() const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return HasBeenNotified(); });
  }
  // Returns HasBeenNotified() at the deadline or at notification, whichever is first.
  bool WaitForNotificationWithDeadline(absl::Time deadline) const {
    std::unique_lock<std::mutex> lock(mu_);
    if (deadline == absl::InfiniteFuture()) {
      cv_.wait(lock, [this] { return HasBeenNotified(); });
      return true;
    }
    return cv_.wait_until(lock, ToChronoDeadline(deadline), [this] { return HasBeenNotified(); });
  }
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    return WaitForNotificationWithDeadline(absl::Now() + timeout);
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::atomic<bool> notified_{false};
};

// Counts down from `count`; Wait() returns once it reaches zero. Thread-safe.
class BlockingCounter {
 public:
  explicit BlockingCounter(int count) : count_(count) {}
  BlockingCounter(const BlockingCounter&) = delete;
  BlockingCounter& operator=(const BlockingCounter&) = delete;

  void DecrementCount() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--count_ == 0) cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return count_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;
};

}  // namespace framerpc

#endif  // FRAMERPC_BASE_NOTIFICATION_H_
