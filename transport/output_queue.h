// OutputQueue: a connection's queued output, a FIFO of byte strings, that holds no memory while
// it is empty and has never held more than a few pieces.
//
// It replaces a std::deque<std::string>, which in libstdc++ allocates a 512-byte node and its map
// (about 600 bytes) when constructed, empty or not: on a server holding 100,000 idle connections
// that was a fifth of each connection's memory. Here the pieces live in a vector read from a head
// index: pushing reuses the vector's capacity (no allocation per piece on a busy connection), a
// piece's bytes are freed as soon as it is popped, and when the queue drains the vector is
// cleared, its capacity kept only up to kKeptCapacity pieces (a burst that queued more gives its
// memory back), and ReleaseIfEmpty gives the rest back when the owner finds the connection idle. A queue that never drains is compacted once the popped slots at its front are
// half of it, so its size stays bounded by what it holds.
//
// Not thread-safe: the owner guards it (Connection, under output_mu_).
#ifndef FRAMERPC_TRANSPORT_OUTPUT_QUEUE_H_
#define FRAMERPC_TRANSPORT_OUTPUT_QUEUE_H_

#include <cstddef>
#include <string>
#include <vector>

namespace framerpc {

class OutputQueue {
 public:
  using iterator = std::vector<std::string>::iterator;
  // Capacity (in pieces, 32 bytes each) kept when the queue drains, so that a connection with
  // many calls in flight does not grow the vector again for every batch; more is freed. An idle
  // connection gives back even this (ReleaseIfEmpty).
  static constexpr size_t kKeptCapacity = 256;
  // A queue that never drains drops its popped slots once there are this many, and they are at
  // least half of it.
  static constexpr size_t kCompactAfter = 16;

  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  // The oldest piece. Requires !empty().
  std::string& front() { return items_[head_]; }
  // The pieces, oldest first.
  iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  iterator end() { return items_.end(); }

  void push_back(std::string bytes) { items_.push_back(std::move(bytes)); }
  // Removes the oldest piece and frees its bytes. Requires !empty().
  void pop_front();
  void clear();
  // Frees the vector itself if the queue is empty (an idle connection's).
  void ReleaseIfEmpty() {
    if (!empty()) return;
    std::vector<std::string>().swap(items_);
    head_ = 0;
  }

  // Pieces the vector has room for: what an empty queue holds (for tests).
  size_t capacity() const { return items_.capacity(); }

 private:
  std::vector<std::string> items_;
  size_t head_ = 0;  // items_[0, head_) are popped (empty strings)
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_OUTPUT_QUEUE_H_
