#include "services/command/concurrency_limiter.h"

#include "absl/strings/str_cat.h"

namespace framerpc::command {

ConcurrencyLimiter::Permit& ConcurrencyLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    Release();
    limiter_ = other.limiter_;
    other.limiter_ = nullptr;
  }
  return *this;
}

void ConcurrencyLimiter::Permit::Release() {
  if (limiter_ == nullptr) return;
  limiter_->in_use_.fetch_sub(1, std::memory_order_acq_rel);
  limiter_ = nullptr;
}

absl::StatusOr<ConcurrencyLimiter::Permit> ConcurrencyLimiter::TryAcquire() {
  int current = in_use_.load(std::memory_order_acquire);
  do {
    if (current >= limit_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("too many commands running (limit ", limit_, ")"));
    }
  } while (!in_use_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel,
                                          std::memory_order_acquire));
  return Permit(this);
}

}  // namespace framerpc::command
