// RateLimiter: a token bucket for log lines, which counts the lines it holds back so that they
// can be reported ("N more suppressed") instead of vanishing. Bursts of up to `burst` lines pass;
// beyond that, `per_second` on average.
//
// Thread safety: thread-safe (a mutex; lines that reach it are already rare). Times are passed
// in, so tests drive it with made-up clocks.
#ifndef FRAMERPC_LOGGING_RATE_LIMITER_H_
#define FRAMERPC_LOGGING_RATE_LIMITER_H_

#include <cstdint>
#include <mutex>

#include "absl/time/time.h"

namespace framerpc::logging {

class RateLimiter {
 public:
  // `per_second` <= 0: no limit. `burst` is at least 1.
  RateLimiter(double per_second, double burst);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Whether a line may be written at `now`. When it may, *suppressed receives the lines held
  // back since the last one let through (or since TakeSuppressed), for the caller to report.
  bool Admit(absl::Time now, uint64_t* suppressed);
  // The lines held back and not yet reported; they count as reported from now on.
  uint64_t TakeSuppressed();
  // Every line ever held back.
  uint64_t suppressed_total() const;

 private:
  const double per_second_;
  const double burst_;
  mutable std::mutex mu_;
  double tokens_;                            // guarded by mu_
  absl::Time last_ = absl::InfinitePast();   // guarded by mu_: when tokens_ was last refilled
  uint64_t pending_ = 0;                     // guarded by mu_
  uint64_t total_ = 0;                       // guarded by mu_
};

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_RATE_LIMITER_H_
