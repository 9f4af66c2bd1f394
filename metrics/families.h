// Building prometheus-cpp metric families from counts read elsewhere (collectors that read a
// subsystem's own counters at each scrape).
#ifndef FRAMERPC_METRICS_FAMILIES_H_
#define FRAMERPC_METRICS_FAMILIES_H_

#include <cstddef>
#include <cstdint>

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace framerpc::metrics {

// One family of one unlabelled sample.
prometheus::MetricFamily Single(const char* name, const char* help, prometheus::MetricType type,
                                double value);

// A histogram sample from `buckets` counts that are not cumulative: `buckets[i]` counts values up
// to `bounds[i]`, and the last (index `bucket_count - 1`, one more than the bounds) the rest.
prometheus::ClientMetric::Histogram HistogramOf(const uint64_t* buckets, size_t bucket_count,
                                                const double* bounds, double sum);

}  // namespace framerpc::metrics

#endif  // FRAMERPC_METRICS_FAMILIES_H_
