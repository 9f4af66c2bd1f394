// A queue between one producer and one consumer thread, bounded by the bytes it holds: the
// producer blocks (up to a deadline) while it is full. Exec uses it between the thread that runs
// the command and the thread that writes to the client.
//
// Thread safety: thread-safe. Lifetime: must outlive both threads' use of it.
#ifndef FRAMERPC_SERVICES_COMMAND_BOUNDED_QUEUE_H_
#define FRAMERPC_SERVICES_COMMAND_BOUNDED_QUEUE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>

#include "absl/time/time.h"
#include "base/notification.h"  // ToChronoDeadline

namespace framerpc::command {

template <typename T>
class BoundedQueue {
 public:
  enum class PushResult { kQueued, kTimedOut, kClosed };

  // `max_bytes` > 0. An item is admitted while the queue holds less than that, so a single item
  // larger than the bound still gets through an empty queue.
  explicit BoundedQueue(size_t max_bytes) : max_bytes_(max_bytes) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Appends `item`, which counts as `bytes`, waiting while the queue is full. kTimedOut if it is
  // still full at `deadline`, kClosed after Close() (the item is dropped either way). Not after
  // Finish().
  PushResult Push(T item, size_t bytes, absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    const auto has_room = [this] { return closed_ || bytes_ < max_bytes_; };
    if (deadline == absl::InfiniteFuture()) {
      changed_.wait(lock, has_room);
    } else if (!changed_.wait_until(lock, ToChronoDeadline(deadline), has_room)) {
      return PushResult::kTimedOut;
    }
    if (closed_) return PushResult::kClosed;
    items_.emplace_back(std::move(item), bytes);
    bytes_ += bytes;
    changed_.notify_all();
    return PushResult::kQueued;
  }

  // The producer is done: Pop() returns false once the queue is empty.
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    changed_.notify_all();
  }

  // Blocks for the next item. false after Finish() once empty, or after Close().
  bool Pop(T* item) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return closed_ || finished_ || !items_.empty(); });
    if (closed_ || items_.empty()) return false;
    *item = std::move(items_.front().first);
    bytes_ -= items_.front().second;
    items_.pop_front();
    changed_.notify_all();
    return true;
  }

  // The consumer is gone: drops what is queued; blocked and later Push() calls return kClosed.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    items_.clear();
    bytes_ = 0;
    changed_.notify_all();
  }

  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }

 private:
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::pair<T, size_t>> items_;  // guarded by mu_
  size_t bytes_ = 0;                        // guarded by mu_
  bool finished_ = false;                   // guarded by mu_
  bool closed_ = false;                     // guarded by mu_
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_BOUNDED_QUEUE_H_
