#include "transport/write_queue.h"

#include <sched.h>

#include <utility>

#include "base/spare_strings.h"

namespace framerpc {
namespace {

WriteRequest unlinked_mark;
WriteRequest poison_mark;

// Requests this thread freed, for its next ones.
class RequestCache {
 public:
  static constexpr int kSize = 64;
  RequestCache() = default;
  RequestCache(const RequestCache&) = delete;
  RequestCache& operator=(const RequestCache&) = delete;
  ~RequestCache() {
    for (int i = 0; i < count_; ++i) delete items_[i];
  }
  WriteRequest* Take() { return count_ > 0 ? items_[--count_] : nullptr; }
  bool Keep(WriteRequest* request) {
    if (count_ == kSize) return false;
    items_[count_++] = request;
    return true;
  }

 private:
  WriteRequest* items_[kSize];
  int count_ = 0;
};

thread_local RequestCache request_cache;

}  // namespace

WriteRequest* WriteQueue::Unlinked() { return &unlinked_mark; }
WriteRequest* WriteQueue::PoisonMark() { return &poison_mark; }

WriteQueue::~WriteQueue() {
  // Nobody pushes any more (the connection is going). What was picked up, then what was not.
  WriteRequest* newest = head_.load(std::memory_order_acquire);
  if (newest != nullptr) FreeChain(newest, last_ != nullptr ? last_ : PoisonMark());
  while (front_ != nullptr) PopFront();
  delete last_;  // written (kept for TryRelease) or null
  last_ = nullptr;
}

std::unique_ptr<WriteRequest> WriteQueue::NewRequest() {
  WriteRequest* cached = request_cache.Take();
  return std::unique_ptr<WriteRequest>(cached != nullptr ? cached : new WriteRequest);
}

void WriteQueue::Recycle(WriteRequest* request) {
  // Small buffers go to this thread's spares: a reply's head is built in the one written last.
  SpareStrings::Give(std::exchange(request->head, std::string()));
  SpareStrings::Give(std::exchange(request->tail, std::string()));
  request->borrowed = absl::string_view();
  request->kind = WriteRequest::Kind::kData;
  request->counted = false;
  request->written = 0;
  if (!request_cache.Keep(request)) delete request;
}

WriteRequest* WriteQueue::WaitForLink(WriteRequest* request) {
  WriteRequest* older;
  // The pusher is between its exchange and its link: a few instructions, or the copy of what it
  // borrowed. Yield rather than spin, as the pusher may have been preempted there.
  while ((older = request->next.load(std::memory_order_acquire)) == Unlinked()) sched_yield();
  return older;
}

bool WriteQueue::PickUp() {
  WriteRequest* newest = head_.load(std::memory_order_acquire);
  if (newest == last_) return false;
  // newest -> ... -> (the request after last_) -> last_: reverse into arrival order.
  WriteRequest* newer = nullptr;
  WriteRequest* request = newest;
  while (request != last_) {
    WriteRequest* older = WaitForLink(request);
    request->next.store(newer, std::memory_order_relaxed);
    newer = request;
    request = older;
  }
  if (front_ == nullptr) {
    Recycle(last_);  // written, and no longer head_: it can go
    front_ = newer;
  } else {
    last_->next.store(newer, std::memory_order_relaxed);  // behind what is still to write
  }
  last_ = newest;
  return true;
}

WriteRequest* WriteQueue::Front() {
  // Everything queued so far is picked up, so that one write can gather all of it.
  PickUp();
  return front_;
}

void WriteQueue::PopFront() {
  WriteRequest* request = front_;
  front_ = request->next.load(std::memory_order_relaxed);
  if (request == last_) {
    // Kept for TryRelease; its bytes are not (small buffers go to this thread's spares).
    SpareStrings::Give(std::exchange(request->head, std::string()));
    SpareStrings::Give(std::exchange(request->tail, std::string()));
    request->borrowed = absl::string_view();
    request->written = 0;
    request->counted = false;
    return;
  }
  Recycle(request);
}

void WriteQueue::OwnBorrowed() {
  WriteRequest* request = front_;
  if (request == nullptr || request->borrowed.empty()) return;
  request->tail.assign(request->borrowed.data(), request->borrowed.size());
  request->borrowed = absl::string_view();
}

bool WriteQueue::TryRelease() {
  // Cleared before the exchange: once it succeeds, a new owner may set last_ at once.
  WriteRequest* last = last_;
  last_ = nullptr;
  WriteRequest* expected = last;
  if (!head_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
    last_ = last;
    return false;
  }
  Recycle(last);
  return true;
}

size_t WriteQueue::FreeChain(WriteRequest* newest, WriteRequest* stop) {
  size_t counted = 0;
  WriteRequest* request = newest;
  while (request != stop && request != nullptr && request != PoisonMark()) {
    WriteRequest* older = WaitForLink(request);
    if (request->counted) counted += request->left();
    delete request;
    request = older;
  }
  return counted;
}

size_t WriteQueue::Poison() {
  if (poisoned_.exchange(true, std::memory_order_acq_rel)) return 0;
  WriteRequest* newest = head_.exchange(PoisonMark(), std::memory_order_acq_rel);
  // Pushed after last_ and never picked up, then what was picked up.
  size_t counted = FreeChain(newest, last_);
  while (front_ != nullptr) {
    if (front_->counted) counted += front_->left();
    PopFront();
  }
  delete last_;
  last_ = nullptr;
  return counted;
}

bool WriteQueue::poisoned() const { return poisoned_.load(std::memory_order_acquire); }

}  // namespace framerpc
