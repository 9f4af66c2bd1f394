#include "transport/byte_budget.h"

#include <utility>

namespace framerpc {

bool ByteBudget::TryReserve(size_t n) {
  size_t used = used_.load(std::memory_order_relaxed);
  do {
    if (n > limit_ || used > limit_ - n) return false;
  } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
  return true;
}

void ByteBudget::Release(size_t n) {
  const size_t now = used_.fetch_sub(n, std::memory_order_relaxed) - n;
  if (now <= low_water_ && has_waiters_.load(std::memory_order_acquire)) WakeWaiters();
}

void ByteBudget::WaitForRoom(std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiters_.push_back(std::move(wake));
    has_waiters_.store(true, std::memory_order_release);
  }
  // A release between the caller's check and the registration would have found no waiter.
  if (used() <= low_water_) WakeWaiters();
}

void ByteBudget::WakeWaiters() {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiters.swap(waiters_);
    has_waiters_.store(false, std::memory_order_release);
  }
  for (std::function<void()>& wake : waiters) wake();
}

}  // namespace framerpc
