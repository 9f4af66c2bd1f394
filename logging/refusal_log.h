// RefusalLog: every refusal (issue 15.3; base/refusal_observer.h: policy, limit, garbage,
// timeout) logged once, with its kind, peer and reason, through a token bucket per kind, so
// that a flood of bad peers writes a bounded number of lines:
//
//   warn refusal: refused kind=garbage peer=127.0.0.1:53122 reason="INVALID_ARGUMENT: bad magic"
//   warn refusal: refusals suppressed kind=garbage suppressed=9978
//
// The lines a kind's bucket holds back are counted, and the count is written before that kind's
// next line and by Flush() (which the server calls as it stops). Timeouts, which idle clients
// cause in normal operation, are written at level info; the others at warn.
//
// Thread safety: thread-safe (OnRefusal runs on I/O threads). Lifetime: outlives whatever it is
// given to (the server's options, the access policies).
#ifndef FRAMERPC_LOGGING_REFUSAL_LOG_H_
#define FRAMERPC_LOGGING_REFUSAL_LOG_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "base/refusal_observer.h"
#include "logging/rate_limiter.h"

namespace framerpc::logging {

struct RefusalLogOptions {
  // Per kind: lines per second on average, in bursts of up to `burst`.
  double lines_per_second = 1;
  double burst = 20;
};

class RefusalLog final : public RefusalObserver {
 public:
  explicit RefusalLog(RefusalLogOptions options = {});
  RefusalLog(const RefusalLog&) = delete;
  RefusalLog& operator=(const RefusalLog&) = delete;

  void OnRefusal(RefusalKind kind, absl::string_view peer, absl::string_view reason) override;
  // Writes each kind's count of held-back lines not yet reported.
  void Flush();

  // Refusals of `kind` seen, and those whose line was held back.
  uint64_t refused(RefusalKind kind) const {
    return kinds_[static_cast<size_t>(kind)].refused.load(std::memory_order_relaxed);
  }
  uint64_t suppressed(RefusalKind kind) const {
    return kinds_[static_cast<size_t>(kind)].limiter->suppressed_total();
  }

 private:
  struct PerKind {
    std::atomic<uint64_t> refused{0};
    std::unique_ptr<RateLimiter> limiter;
  };

  std::array<PerKind, kRefusalKinds> kinds_;
};

}  // namespace framerpc::logging

#endif  // FRAMERPC_LOGGING_REFUSAL_LOG_H_
