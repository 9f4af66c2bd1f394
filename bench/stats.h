// Latency and throughput summaries for the benchmark rows. Pure functions; thread-compatible.
#ifndef FRAMERPC_BENCH_STATS_H_
#define FRAMERPC_BENCH_STATS_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace framerpc::bench {

// What one measurement collects: the latency of every call completed within the measured window,
// in nanoseconds, and the window's length.
struct Samples {
  std::vector<int64_t> latencies_ns;
  absl::Duration elapsed;

  // Adds another window's samples, as if measured back to back.
  void Append(Samples other);
};

// One measured row, summarised.
struct RowResult {
  int64_t calls = 0;
  double calls_per_sec = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// Nearest-rank percentile (`q` in (0, 1]) of `values`, which it reorders. 0 when empty.
int64_t Percentile(std::vector<int64_t>* values, double q);

// Every latency counts as one call.
RowResult Summarize(Samples samples);

// a / b, or 0 when b is 0: ratios against a row that measured nothing print as 0.
double Ratio(double a, double b);

}  // namespace framerpc::bench

#endif  // FRAMERPC_BENCH_STATS_H_
