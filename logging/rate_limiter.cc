#include "logging/rate_limiter.h"

#include <algorithm>

namespace framerpc::logging {

RateLimiter::RateLimiter(double per_second, double burst)
    : per_second_(per_second), burst_(std::max(1.0, burst)), tokens_(burst_) {}

bool RateLimiter::Admit(absl::Time now, uint64_t* suppressed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (per_second_ > 0) {
    if (last_ != absl::InfinitePast() && now > last_) {
      tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * per_second_);
    }
    last_ = std::max(last_, now);
    if (tokens_ < 1) {
      ++pending_;
      ++total_;
      return false;
    }
    tokens_ -= 1;
  }
  *suppressed = pending_;
  pending_ = 0;
  return true;
}

uint64_t RateLimiter::TakeSuppressed() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t pending = pending_;
  pending_ = 0;
  return pending;
}

uint64_t RateLimiter::suppressed_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace framerpc::logging
