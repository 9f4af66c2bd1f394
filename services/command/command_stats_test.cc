#include "services/command/command_stats.h"

#include <signal.h>

#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

ProcessResult Exited(int code, absl::Duration duration) {
  ProcessResult r;
  r.exit_code = code;
  r.duration = duration;
  return r;
}

TEST(CommandStatsTest, OutcomeOfEachWayACommandEnds) {
  EXPECT_EQ(OutcomeOf(Exited(0, absl::ZeroDuration())), CommandOutcome::kExitedZero);
  EXPECT_EQ(OutcomeOf(Exited(3, absl::ZeroDuration())), CommandOutcome::kExitedNonZero);
  ProcessResult signaled;
  signaled.term_signal = SIGSEGV;
  EXPECT_EQ(OutcomeOf(signaled), CommandOutcome::kSignaled);
  // Our kill for a timeout or a cancellation shows as a signal too; the flag says why.
  ProcessResult timed_out = signaled;
  timed_out.term_signal = SIGKILL;
  timed_out.timed_out = true;
  EXPECT_EQ(OutcomeOf(timed_out), CommandOutcome::kTimedOut);
  ProcessResult cancelled = signaled;
  cancelled.cancelled = true;
  EXPECT_EQ(OutcomeOf(cancelled), CommandOutcome::kCancelled);
  EXPECT_EQ(OutcomeOf(ProcessResult{}), CommandOutcome::kLost);
  EXPECT_STREQ(CommandOutcomeName(CommandOutcome::kTimedOut), "timed_out");
}

TEST(CommandStatsTest, DurationsFallInTheirBuckets) {
  CommandStats stats;
  stats.OnFinished(Exited(0, absl::Milliseconds(1)));     // <= 5 ms: bucket 0
  stats.OnFinished(Exited(0, absl::Milliseconds(5)));     // on the bound: bucket 0
  stats.OnFinished(Exited(1, absl::Milliseconds(700)));   // <= 1 s: bucket 7
  stats.OnFinished(Exited(1, absl::Seconds(1000)));       // past 300 s: the last bucket
  const CommandStats::Snapshot s = stats.Read();
  EXPECT_EQ(s.duration[0], 2u);
  EXPECT_EQ(s.duration[7], 1u);
  EXPECT_EQ(s.duration[kCommandDurationBuckets - 1], 1u);
  EXPECT_NEAR(s.duration_sum_seconds, 1000.706, 1e-6);
  EXPECT_EQ(s.finished[static_cast<size_t>(CommandOutcome::kExitedZero)], 2u);
  EXPECT_EQ(s.finished[static_cast<size_t>(CommandOutcome::kExitedNonZero)], 2u);
}

}  // namespace
}  // namespace framerpc::command
