// CommandStats: what the command service's processes did since the start (started, how each
// ended, calls refused at the concurrency cap), for metrics. Counts only: no prometheus here; the
// server's collector (server/service_metrics.h) reads them.
//
// Thread safety: everything from any thread (relaxed atomics; commands are rare next to calls).
#ifndef FRAMERPC_SERVICES_COMMAND_COMMAND_STATS_H_
#define FRAMERPC_SERVICES_COMMAND_COMMAND_STATS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "services/command/process.h"

namespace framerpc::command {

// How a command ended, from its ProcessResult.
enum class CommandOutcome {
  kExitedZero,
  kExitedNonZero,
  kSignaled,   // ended by a signal: its own, another process's, or ours at its output limit
  kTimedOut,   // the command's timeout expired; we killed it
  kCancelled,  // the call was cancelled; we killed it
  kLost,       // the exit status never came (the supervisor was killed from outside)
};
inline constexpr size_t kCommandOutcomes = 6;
// "exited_zero", "exited_nonzero", "signaled", "timed_out", "cancelled", "lost".
const char* CommandOutcomeName(CommandOutcome outcome);
CommandOutcome OutcomeOf(const ProcessResult& result);

// Upper bounds of the duration histogram, in seconds; a last bucket takes the rest.
inline constexpr double kCommandDurationBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1,     2.5,  5,     10,   30,  60,   300};
inline constexpr size_t kCommandDurationBuckets =
    sizeof(kCommandDurationBounds) / sizeof(double) + 1;

class CommandStats {
 public:
  struct Snapshot {
    uint64_t started = 0;
    uint64_t refused_busy = 0;
    uint64_t refused_credential = 0;  // no credential, or one the service does not accept
    uint64_t refused_policy = 0;      // PERMISSION_DENIED by the policy: program, shell, env
    uint64_t output_truncated = 0;  // commands that wrote more than their output limit
    std::array<uint64_t, kCommandOutcomes> finished{};
    std::array<uint64_t, kCommandDurationBuckets> duration{};  // not cumulative
    double duration_sum_seconds = 0;
  };

  void OnStarted() { started_.fetch_add(1, std::memory_order_relaxed); }
  void OnRefusedBusy() { refused_busy_.fetch_add(1, std::memory_order_relaxed); }
  void OnRefusedCredential() { refused_credential_.fetch_add(1, std::memory_order_relaxed); }
  void OnRefusedPolicy() { refused_policy_.fetch_add(1, std::memory_order_relaxed); }
  void OnFinished(const ProcessResult& result);
  Snapshot Read() const;

 private:
  std::atomic<uint64_t> started_{0};
  std::atomic<uint64_t> refused_busy_{0};
  std::atomic<uint64_t> refused_credential_{0};
  std::atomic<uint64_t> refused_policy_{0};
  std::atomic<uint64_t> output_truncated_{0};
  std::array<std::atomic<uint64_t>, kCommandOutcomes> finished_{};
  std::array<std::atomic<uint64_t>, kCommandDurationBuckets> duration_{};
  std::atomic<uint64_t> duration_sum_nanos_{0};
};

}  // namespace framerpc::command

#endif  // FRAMERPC_SERVICES_COMMAND_COMMAND_STATS_H_
