#include "transport/output_queue.h"

namespace framerpc {

void OutputQueue::pop_front() {
  std::string().swap(items_[head_]);
  ++head_;
  if (head_ == items_.size()) {
    clear();
  } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void OutputQueue::clear() {
  if (items_.capacity() > kKeptCapacity) {
    std::vector<std::string>().swap(items_);
  } else {
    items_.clear();
  }
  head_ = 0;
}

}  // namespace framerpc
