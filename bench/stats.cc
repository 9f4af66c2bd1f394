#include "bench/stats.h"

#include <algorithm>
#include <cmath>

namespace framerpc::bench {

int64_t Percentile(std::vector<int64_t>* values, double q) {
  if (values->empty()) return 0;
  const size_t n = values->size();
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<size_t>(rank, 1, n);
  auto nth = values->begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(values->begin(), nth, values->end());
  return *nth;
}

void Samples::Append(Samples other) {
  latencies_ns.insert(latencies_ns.end(), other.latencies_ns.begin(), other.latencies_ns.end());
  elapsed += other.elapsed;
}

RowResult Summarize(Samples samples) {
  std::vector<int64_t>& latencies_ns = samples.latencies_ns;
  RowResult row;
  row.calls = static_cast<int64_t>(latencies_ns.size());
  const double seconds = absl::ToDoubleSeconds(samples.elapsed);
  row.calls_per_sec = seconds > 0 ? static_cast<double>(row.calls) / seconds : 0;
  row.p50_us = static_cast<double>(Percentile(&latencies_ns, 0.50)) / 1e3;
  row.p99_us = static_cast<double>(Percentile(&latencies_ns, 0.99)) / 1e3;
  return row;
}

double Ratio(double a, double b) { return b == 0 ? 0 : a / b; }

}  // namespace framerpc::bench
