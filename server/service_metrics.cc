#include "server/service_metrics.h"

#include "metrics/families.h"

namespace framerpc::server {

std::vector<prometheus::MetricFamily> CommandMetrics::Collect() const {
  using metrics::Single;
  using prometheus::MetricType;
  const command::CommandStats::Snapshot stats = runner_->stats().Read();
  std::vector<prometheus::MetricFamily> out;
  out.push_back(Single("framerpc_command_started_total", "Commands started (processes spawned).",
                       MetricType::Counter, static_cast<double>(stats.started)));
  prometheus::MetricFamily finished;
  finished.name = "framerpc_command_finished_total";
  finished.help =
      "Commands ended, by how: exited_zero, exited_nonzero, signaled, timed_out, cancelled, lost.";
  finished.type = MetricType::Counter;
  for (size_t i = 0; i < command::kCommandOutcomes; ++i) {
    prometheus::ClientMetric metric;
    metric.label = {
        {"outcome", command::CommandOutcomeName(static_cast<command::CommandOutcome>(i))}};
    metric.counter.value = static_cast<double>(stats.finished[i]);
    finished.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(finished));
  prometheus::MetricFamily duration;
  duration.name = "framerpc_command_duration_seconds";
  duration.help = "Time from a command's start until it and everything it started were gone.";
  duration.type = MetricType::Histogram;
  prometheus::ClientMetric histogram;
  histogram.histogram =
      metrics::HistogramOf(stats.duration.data(), stats.duration.size(),
                           command::kCommandDurationBounds, stats.duration_sum_seconds);
  duration.metric.push_back(std::move(histogram));
  out.push_back(std::move(duration));
  out.push_back(Single("framerpc_command_output_truncated_total",
                       "Commands that wrote more than their output limit.", MetricType::Counter,
                       static_cast<double>(stats.output_truncated)));
  out.push_back(Single("framerpc_command_refused_busy_total",
                       "Commands refused because --command_max_concurrent were running.",
                       MetricType::Counter, static_cast<double>(stats.refused_busy)));
  out.push_back(Single("framerpc_command_running", "Commands running now.", MetricType::Gauge,
                       static_cast<double>(runner_->running())));
  out.push_back(Single("framerpc_command_max_concurrent", "The cap on commands running at once.",
                       MetricType::Gauge,
                       static_cast<double>(runner_->config().max_concurrent)));
  return out;
}

}  // namespace framerpc::server
