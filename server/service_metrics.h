// Prometheus collectors for the services' own counts, read at each scrape:
//   CommandMetrics: framerpc_command_started_total, framerpc_command_finished_total{outcome},
//     framerpc_command_duration_seconds (histogram), framerpc_command_output_truncated_total,
//     framerpc_command_refused_busy_total, framerpc_command_running,
//     framerpc_command_max_concurrent.
// (Calls to the services are counted by RpcMetrics like any other; these count what only the
// service knows: processes, how they ended.)
//
// Thread safety: Collect() from any thread. Lifetime: the service must outlive its collector.
#ifndef FRAMERPC_SERVER_SERVICE_METRICS_H_
#define FRAMERPC_SERVER_SERVICE_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "services/command/command_runner.h"

namespace framerpc::server {

class CommandMetrics final : public prometheus::Collectable {
 public:
  explicit CommandMetrics(const command::CommandRunner* runner) : runner_(runner) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const command::CommandRunner* const runner_;
};

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_SERVICE_METRICS_H_
