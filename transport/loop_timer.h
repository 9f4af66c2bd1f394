// LoopTimer: a timer that lives inside its owner, for an owner that keeps one timer armed for a
// long time and moves it often (a server connection's timeouts). Arming one allocates nothing:
// its loop keeps a binary heap of pointers to the armed timers, and the timer its place in the
// heap. An EventLoop::RunAt() timer costs two map nodes and a task (about 176 bytes) instead.
//
//   class Owner : private LoopTimer {
//     void Fire() override { ... }  // on the loop thread, once it is due; may Arm() again
//   };
//
// Resolution and order are those of RunAt(): the loop fires a timer at or after its due time
// (millisecond resolution). Timers due at the same time fire in no particular order.
//
// Lifetime: a timer does not own its owner and is not owned by its loop. While it is armed, the
// owner must stay alive and the loop must exist. Cancel() it, on the loop thread, before the
// owner goes; the destructor cancels one still armed, which is safe only on the loop thread or
// once the loop has stopped running. A loop that is destroyed disarms the timers still armed.
//
// Thread safety: none. Every call, and Fire(), on the thread of the loop it is armed on.
#ifndef FRAMERPC_TRANSPORT_LOOP_TIMER_H_
#define FRAMERPC_TRANSPORT_LOOP_TIMER_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace framerpc {

class EventLoop;

class LoopTimer {
 public:
  LoopTimer() = default;
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;

  // Fires at or after `when` on `loop` (the loop it was armed on before, if it is armed).
  // Arming an armed timer moves it. InfiniteFuture() disarms it.
  void Arm(EventLoop* loop, absl::Time when);
  // No-op if it is not armed.
  void Cancel();
  bool armed() const { return index_ != kNotArmed; }
  // When it fires; InfiniteFuture() when it is not armed.
  absl::Time due() const;

 protected:
  virtual ~LoopTimer();
  // Runs on the loop thread when due, the timer already disarmed.
  virtual void Fire() = 0;

 private:
  friend class LoopTimerHeap;
  static constexpr uint32_t kNotArmed = UINT32_MAX;

  int64_t due_ns_ = 0;      // Unix nanoseconds, when armed
  EventLoop* loop_ = nullptr;  // when armed
  uint32_t index_ = kNotArmed;  // in the loop's heap
};

// The heap of one loop's armed LoopTimers, earliest first. Owned by the EventLoop; loop thread
// only.
class LoopTimerHeap {
 public:
  LoopTimerHeap() = default;
  LoopTimerHeap(const LoopTimerHeap&) = delete;
  LoopTimerHeap& operator=(const LoopTimerHeap&) = delete;
  // Disarms whatever is still armed (see LoopTimer's lifetime).
  ~LoopTimerHeap();

  // Adds `timer`, or moves it if it is in the heap already.
  void Set(LoopTimer* timer, int64_t due_ns);
  void Remove(LoopTimer* timer);
  bool empty() const { return heap_.empty(); }
  // The earliest due time; the heap must not be empty.
  absl::Time earliest() const { return absl::FromUnixNanos(heap_.front()->due_ns_); }
  // Fires, one by one, the timers due at `now` (and those they arm due by then).
  void FireDue(absl::Time now);

 private:
  bool Earlier(size_t a, size_t b) const { return heap_[a]->due_ns_ < heap_[b]->due_ns_; }
  void Place(size_t i);  // heap_[i] is now where it belongs: its index says so
  void SiftUp(size_t i);
  void SiftDown(size_t i);

  std::vector<LoopTimer*> heap_;
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_LOOP_TIMER_H_
