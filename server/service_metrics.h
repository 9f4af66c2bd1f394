// Prometheus collectors for the services' own counts, read at each scrape:
//   CommandMetrics: framerpc_command_started_total, framerpc_command_finished_total{outcome},
//     framerpc_command_duration_seconds (histogram), framerpc_command_output_truncated_total,
//     framerpc_command_refused_total{reason}, framerpc_command_running,
//     framerpc_command_max_concurrent.
//   FileMetrics: framerpc_file_sent_bytes_total, framerpc_file_received_bytes_total,
//     framerpc_file_hashed_bytes_total, framerpc_file_transfers_active,
//     framerpc_file_transfers_max, framerpc_file_transfers_refused_total{reason},
//     framerpc_file_uploads_total{outcome}, framerpc_file_checksum_failures_total.
// (Calls to the services are counted by RpcMetrics like any other; these count what only the
// service knows: processes, how they ended.)
//
// Thread safety: Collect() from any thread. Lifetime: the service (its runner or transfer
// tracker) must outlive its collector.
#ifndef FRAMERPC_SERVER_SERVICE_METRICS_H_
#define FRAMERPC_SERVER_SERVICE_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "services/command/command_runner.h"
#include "services/file/transfer_tracker.h"

namespace framerpc::server {

class CommandMetrics final : public prometheus::Collectable {
 public:
  explicit CommandMetrics(const command::CommandRunner* runner) : runner_(runner) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const command::CommandRunner* const runner_;
};

class FileMetrics final : public prometheus::Collectable {
 public:
  explicit FileMetrics(const file::TransferTracker* tracker) : tracker_(tracker) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const file::TransferTracker* const tracker_;
};

}  // namespace framerpc::server

#endif  // FRAMERPC_SERVER_SERVICE_METRICS_H_
