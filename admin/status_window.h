// StatusWindow: per method, what happened over the last minute (calls per second, errors, p50 and
// p99 latency), from snapshots of RpcMetrics' cumulative counts taken every second. The
// arithmetic (Summarize) is a pure function; the sampling runs on a thread of its own.
//
// Thread safety: Summary() from any thread. Lifetime: `metrics` must outlive the window.
#ifndef FRAMERPC_ADMIN_STATUS_WINDOW_H_
#define FRAMERPC_ADMIN_STATUS_WINDOW_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "metrics/rpc_metrics.h"

namespace framerpc::admin {

struct MethodSummary {
  std::string service;
  std::string method;
  std::string transport;
  uint64_t calls = 0;      // completed within the window
  uint64_t errors = 0;     // of them, not OK
  double calls_per_second = 0;
  double p50_seconds = 0;  // estimated within the histogram bucket; infinity past the last
  double p99_seconds = 0;
  uint64_t in_flight = 0;  // now
};

// The window between `then` and `now` (taken `elapsed` apart): methods with a call in it, or in
// flight now. Methods absent from `then` count from zero.
std::vector<MethodSummary> Summarize(const std::vector<metrics::MethodCounts>& then,
                                     const std::vector<metrics::MethodCounts>& now,
                                     absl::Duration elapsed);

// The latency under which `quantile` of the calls counted in `buckets` (non-cumulative, over
// metrics::kLatencyBounds) fell, interpolated within its bucket.
double LatencyQuantile(const std::array<uint64_t, metrics::kLatencyBuckets>& buckets,
                       double quantile);

class StatusWindow {
 public:
  explicit StatusWindow(const metrics::RpcMetrics* metrics,
                        absl::Duration window = absl::Minutes(1));
  ~StatusWindow();
  StatusWindow(const StatusWindow&) = delete;
  StatusWindow& operator=(const StatusWindow&) = delete;

  // The last `window` (or as much of it as has passed since the start).
  std::vector<MethodSummary> Summary() const;

 private:
  struct Snapshot {
    absl::Time taken;
    std::vector<metrics::MethodCounts> counts;
  };
  void Sample();

  const metrics::RpcMetrics* const metrics_;
  const absl::Duration window_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;           // guarded by mu_
  std::deque<Snapshot> snapshots_;  // guarded by mu_; oldest first
  std::thread sampler_;
};

}  // namespace framerpc::admin

#endif  // FRAMERPC_ADMIN_STATUS_WINDOW_H_
