#include "metrics/families.h"

#include <limits>

namespace framerpc::metrics {

prometheus::MetricFamily Single(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

prometheus::ClientMetric::Histogram HistogramOf(const uint64_t* buckets, size_t bucket_count,
                                                const double* bounds, double sum) {
  prometheus::ClientMetric::Histogram h;
  uint64_t cumulative = 0;
  for (size_t b = 0; b < bucket_count; ++b) {
    cumulative += buckets[b];
    prometheus::ClientMetric::Bucket bucket;
    bucket.cumulative_count = cumulative;
    bucket.upper_bound =
        b + 1 < bucket_count ? bounds[b] : std::numeric_limits<double>::infinity();
    h.bucket.push_back(bucket);
  }
  h.sample_count = cumulative;
  h.sample_sum = sum;
  return h;
}

}  // namespace framerpc::metrics
