#include "admin/status_window.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace framerpc::admin {
namespace {

using metrics::kLatencyBounds;
using metrics::kLatencyBuckets;
using metrics::MethodCounts;

MethodCounts Counts(const char* method, uint64_t started, uint64_t ok, uint64_t failed) {
  MethodCounts c;
  c.service = "framerpc.echo.EchoService";
  c.method = method;
  c.transport = CallTransport::kFramed;
  c.started = started;
  c.handled[0] = ok;
  c.handled[2] = failed;  // UNKNOWN
  return c;
}

TEST(LatencyQuantileTest, InterpolatesWithinTheBucket) {
  std::array<uint64_t, kLatencyBuckets> buckets{};
  buckets[1] = 100;  // all between 25us and 50us
  EXPECT_DOUBLE_EQ(LatencyQuantile(buckets, 0.5), 37.5e-6);
  EXPECT_DOUBLE_EQ(LatencyQuantile(buckets, 1.0), 50e-6);
  buckets[0] = 100;  // half below 25us now
  EXPECT_DOUBLE_EQ(LatencyQuantile(buckets, 0.25), 12.5e-6);
  EXPECT_DOUBLE_EQ(LatencyQuantile(buckets, 0.75), 37.5e-6);
}

TEST(LatencyQuantileTest, EmptyIsZeroAndPastTheLastBoundIsInfinite) {
  std::array<uint64_t, kLatencyBuckets> buckets{};
  EXPECT_EQ(LatencyQuantile(buckets, 0.99), 0);
  buckets[kLatencyBuckets - 1] = 1;
  EXPECT_TRUE(std::isinf(LatencyQuantile(buckets, 0.99)));
  buckets[0] = 99;
  EXPECT_LT(LatencyQuantile(buckets, 0.5), kLatencyBounds[0]);
}

TEST(SummarizeTest, CountsOnlyWhatHappenedInTheWindow) {
  MethodCounts then = Counts("Say", 100, 90, 10);
  then.latency[0] = 100;
  MethodCounts now = Counts("Say", 160, 140, 20);
  now.latency[0] = 100;
  now.latency[5] = 60;  // the window's 60 calls all took 500us..1ms
  const std::vector<MethodSummary> summary = Summarize({then}, {now}, absl::Seconds(2));
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].method, "Say");
  EXPECT_EQ(summary[0].transport, "framed");
  EXPECT_EQ(summary[0].calls, 60u);
  EXPECT_EQ(summary[0].errors, 10u);
  EXPECT_DOUBLE_EQ(summary[0].calls_per_second, 30);
  EXPECT_DOUBLE_EQ(summary[0].p50_seconds, 750e-6);
  EXPECT_GT(summary[0].p99_seconds, 990e-6);
  EXPECT_LE(summary[0].p99_seconds, 1e-3);
  EXPECT_EQ(summary[0].in_flight, 0u);
}

TEST(SummarizeTest, NewMethodsCountFromZeroAndIdleOnesAreLeftOut) {
  const MethodCounts idle = Counts("Bytes", 5, 5, 0);
  MethodCounts fresh = Counts("Say", 3, 1, 0);  // two in flight
  const std::vector<MethodSummary> summary =
      Summarize({idle}, {idle, fresh}, absl::Seconds(1));
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].method, "Say");
  EXPECT_EQ(summary[0].calls, 1u);
  EXPECT_EQ(summary[0].in_flight, 2u);
}

TEST(StatusWindowTest, SummarizesTheMetricsCallsSinceItStarted) {
  metrics::RpcMetrics metrics;
  StatusWindow window(&metrics);
  const CallObserver::MethodHandle say =
      metrics.RegisterMethod("/framerpc.echo.EchoService/Say", MethodKind::kUnary);
  for (int i = 0; i < 3; ++i) {
    metrics.OnStarted(say, CallTransport::kFramed);
    FinishedCall call{};
    call.transport = CallTransport::kFramed;
    call.code = i == 0 ? absl::StatusCode::kInternal : absl::StatusCode::kOk;
    call.duration = absl::Microseconds(30);
    call.unary = true;
    metrics.OnFinished(say, call);
  }
  metrics.OnStarted(say, CallTransport::kFramed);  // in flight
  const std::vector<MethodSummary> summary = window.Summary();
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].calls, 3u);
  EXPECT_EQ(summary[0].errors, 1u);
  EXPECT_EQ(summary[0].in_flight, 1u);
  EXPECT_GT(summary[0].p50_seconds, kLatencyBounds[0]);
  EXPECT_LE(summary[0].p50_seconds, kLatencyBounds[1]);
}

}  // namespace
}  // namespace framerpc::admin
