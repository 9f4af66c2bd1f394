// The bucket bounds of framerpc's histograms, and the bucket a value falls in. Latency buckets
// are finer than go-grpc-prometheus's defaults (which start at 5 ms): framerpc's calls take tens
// of microseconds.
#ifndef FRAMERPC_METRICS_HISTOGRAM_BUCKETS_H_
#define FRAMERPC_METRICS_HISTOGRAM_BUCKETS_H_

#include <cstddef>
#include <cstdint>

namespace framerpc::metrics {

// Upper bounds in seconds: 25 us .. 10 s. A value above the last goes to the +Inf bucket.
inline constexpr double kLatencyBounds[] = {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3,
                                            2.5e-3, 5e-3,  10e-3,  25e-3,  50e-3,  100e-3,
                                            250e-3, 500e-3, 1.0,   2.5,    5.0,    10.0};
inline constexpr size_t kLatencyBuckets = sizeof(kLatencyBounds) / sizeof(double) + 1;

// Upper bounds in bytes: 64 B .. 64 MiB.
inline constexpr double kSizeBounds[] = {64,        256,       1 << 10,  4 << 10,
                                         16 << 10,  64 << 10,  256 << 10, 1 << 20,
                                         4 << 20,   16 << 20,  64 << 20};
inline constexpr size_t kSizeBuckets = sizeof(kSizeBounds) / sizeof(double) + 1;

// The index of the first bucket whose bound is >= value (the last, +Inf, for larger values).
template <size_t N>
size_t BucketOf(const double (&bounds)[N], double value) {
  size_t i = 0;
  while (i < N && value > bounds[i]) ++i;
  return i;
}

}  // namespace framerpc::metrics

#endif  // FRAMERPC_METRICS_HISTOGRAM_BUCKETS_H_
