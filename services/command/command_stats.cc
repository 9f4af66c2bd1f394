#include "services/command/command_stats.h"

#include <algorithm>

namespace framerpc::command {

const char* CommandOutcomeName(CommandOutcome outcome) {
  switch (outcome) {
    case CommandOutcome::kExitedZero: return "exited_zero";
    case CommandOutcome::kExitedNonZero: return "exited_nonzero";
    case CommandOutcome::kSignaled: return "signaled";
    case CommandOutcome::kTimedOut: return "timed_out";
    case CommandOutcome::kCancelled: return "cancelled";
    case CommandOutcome::kLost: return "lost";
  }
  return "lost";
}

CommandOutcome OutcomeOf(const ProcessResult& result) {
  if (result.timed_out) return CommandOutcome::kTimedOut;
  if (result.cancelled) return CommandOutcome::kCancelled;
  if (result.exit_code.has_value()) {
    return *result.exit_code == 0 ? CommandOutcome::kExitedZero : CommandOutcome::kExitedNonZero;
  }
  if (result.term_signal.has_value()) return CommandOutcome::kSignaled;
  return CommandOutcome::kLost;
}

void CommandStats::OnFinished(const ProcessResult& result) {
  finished_[static_cast<size_t>(OutcomeOf(result))].fetch_add(1, std::memory_order_relaxed);
  if (result.stdout_truncated || result.stderr_truncated) {
    output_truncated_.fetch_add(1, std::memory_order_relaxed);
  }
  const double seconds = absl::ToDoubleSeconds(result.duration);
  const size_t bucket =
      std::lower_bound(std::begin(kCommandDurationBounds), std::end(kCommandDurationBounds),
                       seconds) -
      std::begin(kCommandDurationBounds);
  duration_[bucket].fetch_add(1, std::memory_order_relaxed);
  duration_sum_nanos_.fetch_add(
      static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Nanoseconds(result.duration))),
      std::memory_order_relaxed);
}

CommandStats::Snapshot CommandStats::Read() const {
  Snapshot s;
  s.started = started_.load(std::memory_order_relaxed);
  s.refused_busy = refused_busy_.load(std::memory_order_relaxed);
  s.refused_credential = refused_credential_.load(std::memory_order_relaxed);
  s.refused_policy = refused_policy_.load(std::memory_order_relaxed);
  s.output_truncated = output_truncated_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kCommandOutcomes; ++i) {
    s.finished[i] = finished_[i].load(std::memory_order_relaxed);
  }
  for (size_t i = 0; i < kCommandDurationBuckets; ++i) {
    s.duration[i] = duration_[i].load(std::memory_order_relaxed);
  }
  s.duration_sum_seconds =
      static_cast<double>(duration_sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

}  // namespace framerpc::command
