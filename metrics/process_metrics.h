// ProcessMetrics: this process's resources under the standard names of Prometheus client
// libraries: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_threads,
// process_start_time_seconds. Read from /proc/self at each scrape.
//
// Thread safety: Collect() from any thread.
#ifndef FRAMERPC_METRICS_PROCESS_METRICS_H_
#define FRAMERPC_METRICS_PROCESS_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace framerpc::metrics {

class ProcessMetrics final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace framerpc::metrics

#endif  // FRAMERPC_METRICS_PROCESS_METRICS_H_
