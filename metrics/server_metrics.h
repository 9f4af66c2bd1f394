// ServerMetrics: a framerpc Server's connection metrics, read from Server::stats() and friends at
// each scrape:
//   framerpc_connections_open, framerpc_connections_accepted_total,
//   framerpc_connections_closed_total{reason}, framerpc_frames_{received,sent}_total,
//   framerpc_{received,sent}_bytes_total, framerpc_stream_credit_wait_seconds_total,
//   framerpc_memory_budget_{used,limit}_bytes
// (the framed transport; gRPC's own connections are gRPC's).
//
// Thread safety: Collect() from any thread. Lifetime: the server must outlive this object, and
// be started before the first Collect().
#ifndef FRAMERPC_METRICS_SERVER_METRICS_H_
#define FRAMERPC_METRICS_SERVER_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "rpc/server.h"

namespace framerpc::metrics {

class ServerMetrics final : public prometheus::Collectable {
 public:
  explicit ServerMetrics(const Server* server) : server_(server) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Server* const server_;
};

}  // namespace framerpc::metrics

#endif  // FRAMERPC_METRICS_SERVER_METRICS_H_
