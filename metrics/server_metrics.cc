#include "metrics/server_metrics.h"

#include "absl/time/time.h"
#include "metrics/families.h"

namespace framerpc::metrics {

std::vector<prometheus::MetricFamily> ServerMetrics::Collect() const {
  using prometheus::MetricType;
  const ServerStats& stats = server_->stats();
  std::vector<prometheus::MetricFamily> out;
  out.push_back(Single("framerpc_connections_open", "Framed connections open now.",
                       MetricType::Gauge, static_cast<double>(server_->connection_count())));
  out.push_back(Single("framerpc_connections_accepted_total", "Connections accepted.",
                       MetricType::Counter, static_cast<double>(stats.accepted())));
  prometheus::MetricFamily closed;
  closed.name = "framerpc_connections_closed_total";
  closed.help = "Connections closed, by why (peer_closed, reset, garbage, first_byte_timeout, ...).";
  closed.type = MetricType::Counter;
  for (size_t i = 0; i < kCloseReasonCount; ++i) {
    const auto reason = static_cast<CloseReason>(i);
    prometheus::ClientMetric metric;
    metric.label = {{"reason", CloseReasonName(reason)}};
    metric.counter.value = static_cast<double>(stats.closed(reason));
    closed.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(closed));
  out.push_back(Single("framerpc_frames_received_total", "Frames received.", MetricType::Counter,
                       static_cast<double>(stats.frames_received())));
  out.push_back(Single("framerpc_frames_sent_total", "Frames sent.", MetricType::Counter,
                       static_cast<double>(stats.frames_sent())));
  out.push_back(Single("framerpc_received_bytes_total", "Bytes of frames received.",
                       MetricType::Counter, static_cast<double>(stats.bytes_received())));
  out.push_back(Single("framerpc_sent_bytes_total", "Bytes of frames sent.", MetricType::Counter,
                       static_cast<double>(stats.bytes_sent())));
  out.push_back(Single("framerpc_stream_credit_wait_seconds_total",
                       "Time handlers' stream writes waited for clients' flow-control credit.",
                       MetricType::Counter, absl::ToDoubleSeconds(stats.credit_wait())));
  out.push_back(Single("framerpc_memory_budget_used_bytes",
                       "Bytes of frames still arriving and of queued output, against the budget.",
                       MetricType::Gauge, static_cast<double>(server_->memory_budget().used())));
  out.push_back(Single("framerpc_memory_budget_limit_bytes", "The memory budget.",
                       MetricType::Gauge, static_cast<double>(server_->memory_budget().limit())));
  return out;
}

}  // namespace framerpc::metrics
