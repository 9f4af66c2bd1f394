#include "server/service_metrics.h"

#include <string>
#include <utility>

#include "metrics/families.h"

namespace framerpc::server {

namespace {

prometheus::MetricFamily Labelled(std::string name, std::string help, const std::string& label,
                                  const std::vector<std::pair<std::string, uint64_t>>& values) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Counter;
  for (const auto& [value, count] : values) {
    prometheus::ClientMetric metric;
    metric.label = {{label, value}};
    metric.counter.value = static_cast<double>(count);
    family.metric.push_back(std::move(metric));
  }
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> CommandMetrics::Collect() const {
  using metrics::Single;
  using prometheus::MetricType;
  const command::CommandStats::Snapshot stats = runner_->stats().Read();
  std::vector<prometheus::MetricFamily> out;
  out.push_back(Single("framerpc_command_started_total", "Commands started (processes spawned).",
                       MetricType::Counter, static_cast<double>(stats.started)));
  std::vector<std::pair<std::string, uint64_t>> finished;
  for (size_t i = 0; i < command::kCommandOutcomes; ++i) {
    finished.emplace_back(
        command::CommandOutcomeName(static_cast<command::CommandOutcome>(i)), stats.finished[i]);
  }
  out.push_back(Labelled(
      "framerpc_command_finished_total",
      "Commands ended, by how: exited_zero, exited_nonzero, signaled, timed_out, cancelled, lost.",
      "outcome", finished));
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
  out.push_back(Labelled("framerpc_command_refused_total",
                         "Commands refused before they started, by reason: credential (none, or "
                         "not accepted), policy (PERMISSION_DENIED: program, shell, environment), "
                         "busy (--command_max_concurrent were running).",
                         "reason",
                         {{"credential", stats.refused_credential},
                          {"policy", stats.refused_policy},
                          {"busy", stats.refused_busy}}));
  out.push_back(Single("framerpc_command_running", "Commands running now.", MetricType::Gauge,
                       static_cast<double>(runner_->running())));
  out.push_back(Single("framerpc_command_max_concurrent", "The cap on commands running at once.",
                       MetricType::Gauge,
                       static_cast<double>(runner_->config().max_concurrent)));
  return out;
}

std::vector<prometheus::MetricFamily> FileMetrics::Collect() const {
  using metrics::Single;
  using prometheus::MetricType;
  const file::TransferCounters c = tracker_->Snapshot();
  std::vector<prometheus::MetricFamily> out;
  out.push_back(Single("framerpc_file_sent_bytes_total", "File data bytes sent by downloads.",
                       MetricType::Counter, static_cast<double>(c.bytes_sent)));
  out.push_back(Single("framerpc_file_received_bytes_total",
                       "File data bytes received by uploads (written to their temporary files).",
                       MetricType::Counter, static_cast<double>(c.bytes_received)));
  out.push_back(Single("framerpc_file_hashed_bytes_total",
                       "File bytes the server read to compute SHA-256 for downloads and Stats "
                       "(a cached digest saves them).",
                       MetricType::Counter, static_cast<double>(c.bytes_hashed)));
  out.push_back(Single("framerpc_file_transfers_active",
                       "Downloads, uploads and checksummed Stats holding a transfer slot now.",
                       MetricType::Gauge, static_cast<double>(c.active)));
  out.push_back(Single("framerpc_file_transfers_max", "Transfer slots in all.", MetricType::Gauge,
                       static_cast<double>(tracker_->max_active())));
  out.push_back(Labelled("framerpc_file_transfers_refused_total",
                         "Transfers refused because every slot was taken (busy) or their peer "
                         "held its share (per_peer).",
                         "reason", {{"busy", c.refused}, {"per_peer", c.refused_per_peer}}));
  out.push_back(Labelled("framerpc_file_uploads_total",
                         "Uploads ended, by outcome: committed, or failed (nothing written).",
                         "outcome",
                         {{"committed", c.uploads_committed}, {"failed", c.uploads_failed}}));
  out.push_back(Single("framerpc_file_checksum_failures_total",
                       "Uploads refused with DATA_LOSS: what arrived did not match the client's "
                       "SHA-256.",
                       MetricType::Counter, static_cast<double>(c.checksum_failures)));
  return out;
}

}  // namespace framerpc::server
