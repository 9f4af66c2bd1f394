// Caps how many commands run at once. TryAcquire never blocks: a caller over the limit gets
// RESOURCE_EXHAUSTED and can fail its RPC at once instead of queueing.
//
// Thread safety: thread-safe. Lifetime: the limiter must outlive every Permit it hands out.
#ifndef FRAMERPC_SERVICES_COMMAND_CONCURRENCY_LIMITER_H_
#define FRAMERPC_SERVICES_COMMAND_CONCURRENCY_LIMITER_H_

#include <atomic>

#include "absl/status/statusor.h"

namespace framerpc::command {

class ConcurrencyLimiter {
 public:
  // Holds one slot until destroyed (or moved from). Move-only.
  class Permit {
   public:
    Permit(Permit&& other) noexcept : limiter_(other.limiter_) { other.limiter_ = nullptr; }
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { Release(); }

   private:
    friend class ConcurrencyLimiter;
    explicit Permit(ConcurrencyLimiter* limiter) : limiter_(limiter) {}
    void Release();

    ConcurrencyLimiter* limiter_;  // not owned; null once released or moved from
  };

  // `limit` >= 0; 0 refuses everything.
  explicit ConcurrencyLimiter(int limit) : limit_(limit) {}
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  // A permit, or RESOURCE_EXHAUSTED "too many commands running (limit N)".
  absl::StatusOr<Permit> TryAcquire();

  int limit() const { return limit_; }
  int in_use() const { return in_use_.load(std::memory_order_acquire); }

 private:
  const int limit_;
  std::atomic<int> in_use_{0};
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_CONCURRENCY_LIMITER_H_
