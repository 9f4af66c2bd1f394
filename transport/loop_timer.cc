#include "transport/loop_timer.h"

#include <utility>

#include "transport/event_loop.h"

namespace framerpc {

LoopTimer::~LoopTimer() { Cancel(); }

void LoopTimer::Arm(EventLoop* loop, absl::Time when) {
  if (when == absl::InfiniteFuture()) {
    Cancel();
    return;
  }
  if (armed() && loop_ != loop) Cancel();
  loop_ = loop;
  loop_->timer_heap_.Set(this, absl::ToUnixNanos(when));
}

void LoopTimer::Cancel() {
  if (armed()) loop_->timer_heap_.Remove(this);
}

absl::Time LoopTimer::due() const {
  return armed() ? absl::FromUnixNanos(due_ns_) : absl::InfiniteFuture();
}

LoopTimerHeap::~LoopTimerHeap() {
  for (LoopTimer* timer : heap_) timer->index_ = LoopTimer::kNotArmed;
}

void LoopTimerHeap::Set(LoopTimer* timer, int64_t due_ns) {
  if (!timer->armed()) {
    timer->due_ns_ = due_ns;
    heap_.push_back(timer);
    Place(heap_.size() - 1);
    SiftUp(heap_.size() - 1);
    return;
  }
  const bool earlier = due_ns < timer->due_ns_;
  timer->due_ns_ = due_ns;
  earlier ? SiftUp(timer->index_) : SiftDown(timer->index_);
}

void LoopTimerHeap::Remove(LoopTimer* timer) {
  const size_t i = timer->index_;
  timer->index_ = LoopTimer::kNotArmed;
  const size_t last = heap_.size() - 1;
  if (i != last) {
    heap_[i] = heap_[last];
    Place(i);
  }
  heap_.pop_back();
  if (i < heap_.size()) {
    LoopTimer* moved = heap_[i];
    SiftUp(i);
    SiftDown(moved->index_);
  }
}

void LoopTimerHeap::FireDue(absl::Time now) {
  const int64_t now_ns = absl::ToUnixNanos(now);
  while (!heap_.empty() && heap_.front()->due_ns_ <= now_ns) {
    LoopTimer* timer = heap_.front();
    Remove(timer);
    timer->Fire();
  }
}

void LoopTimerHeap::Place(size_t i) { heap_[i]->index_ = static_cast<uint32_t>(i); }

void LoopTimerHeap::SiftUp(size_t i) {
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!Earlier(i, parent)) break;
    std::swap(heap_[i], heap_[parent]);
    Place(i);
    Place(parent);
    i = parent;
  }
}

void LoopTimerHeap::SiftDown(size_t i) {
  for (;;) {
    size_t earliest = i;
    for (size_t child = 2 * i + 1; child <= 2 * i + 2 && child < heap_.size(); ++child) {
      if (Earlier(child, earliest)) earliest = child;
    }
    if (earliest == i) return;
    std::swap(heap_[i], heap_[earliest]);
    Place(i);
    Place(earliest);
    i = earliest;
  }
}

}  // namespace framerpc
