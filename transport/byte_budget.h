// ByteBudget: one limit on the bytes a server holds for its peers across all connections: the
// bodies of frames still arriving, and output queued for clients that are slow to read. Past it,
// connections stop reading new frames (backpressure: nothing is refused), and they are woken when
// enough is released. A reservation is made before the memory is allocated.
//
// Thread safety: thread-safe. Reserve/Release are one atomic operation each; waiters are kept
// under a mutex and called outside it.
#ifndef FRAMERPC_TRANSPORT_BYTE_BUDGET_H_
#define FRAMERPC_TRANSPORT_BYTE_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace framerpc {

class ByteBudget {
 public:
  // `limit` bytes; waiters are woken once usage falls to `limit` * 7/8 or below.
  explicit ByteBudget(size_t limit) : limit_(limit), low_water_(limit - limit / 8) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // Takes `n` bytes if they fit under the limit; false (taking nothing) otherwise.
  bool TryReserve(size_t n);
  // Takes `n` bytes whatever the limit: for bytes that are already there (queued output).
  void ForceReserve(size_t n) { used_.fetch_add(n, std::memory_order_relaxed); }
  // Gives back `n` bytes taken earlier; wakes the waiters if that brings usage to the low-water
  // mark.
  void Release(size_t n);

  // Runs `wake` once, on the releasing thread (it must only post work elsewhere), when usage next
  // falls to the low-water mark; at once, here, if it is there already.
  void WaitForRoom(std::function<void()> wake);

  bool over() const { return used_.load(std::memory_order_relaxed) > limit_; }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  void WakeWaiters();

  const size_t limit_;
  const size_t low_water_;
  std::atomic<size_t> used_{0};
  std::atomic<bool> has_waiters_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> waiters_;  // guarded by mu_
};

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_BYTE_BUDGET_H_
