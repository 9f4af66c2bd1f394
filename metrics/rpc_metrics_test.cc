#include "metrics/rpc_metrics.h"

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace framerpc::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Exposition(const RpcMetrics& metrics) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, metrics.Collect());
  return out.str();
}

FinishedCall Call(CallTransport transport, absl::StatusCode code, absl::Duration duration,
                  uint64_t request = 10, uint64_t response = 20) {
  return FinishedCall{nullptr, transport, code, duration, request, response, /*unary=*/true};
}

TEST(RpcMetricsTest, GoGrpcPrometheusNamesAndLabels) {
  RpcMetrics metrics;
  auto say = metrics.RegisterMethod("/framerpc.echo.EchoService/Say", MethodKind::kUnary);
  auto count = metrics.RegisterMethod("/pkg.S/Count", MethodKind::kServerStreaming);
  for (int i = 0; i < 3; ++i) {
    metrics.OnStarted(say, CallTransport::kFramed);
    metrics.OnFinished(say, Call(CallTransport::kFramed, absl::StatusCode::kOk,
                                 absl::Microseconds(40)));
  }
  metrics.OnStarted(say, CallTransport::kGrpc);
  metrics.OnFinished(say, Call(CallTransport::kGrpc, absl::StatusCode::kNotFound,
                               absl::Milliseconds(3)));
  metrics.OnStarted(count, CallTransport::kFramed);  // still running
  metrics.OnStreamMessage(count, CallTransport::kFramed, false, 5000);
  const std::string text = Exposition(metrics);
  EXPECT_THAT(text, HasSubstr("grpc_server_started_total{grpc_method=\"Say\",grpc_service="
                              "\"framerpc.echo.EchoService\",grpc_type=\"unary\",transport="
                              "\"framed\"} 3"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Say\","
                              "grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
                              "transport=\"framed\"} 3"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"NotFound\","
                              "grpc_method=\"Say\",grpc_service=\"framerpc.echo.EchoService\","
                              "grpc_type=\"unary\",transport=\"grpc\"} 1"));
  // 40 us falls in the 50 us bucket (and every larger one); 3 ms in the 5 ms bucket.
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"Say\","
                              "grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
                              "transport=\"framed\",le=\"5e-05\"} 3"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"Say\","
                              "grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
                              "transport=\"framed\",le=\"2.5e-05\"} 0"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_count{grpc_method=\"Say\","
                              "grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
                              "transport=\"framed\"} 3"));
  EXPECT_THAT(text, HasSubstr("grpc_server_calls_in_flight{grpc_method=\"Count\",grpc_service="
                              "\"pkg.S\",grpc_type=\"server_stream\",transport=\"framed\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_msg_sent_total{grpc_method=\"Count\",grpc_service="
                              "\"pkg.S\",grpc_type=\"server_stream\",transport=\"framed\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_msg_received_total{grpc_method=\"Say\","
                              "grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
                              "transport=\"framed\"} 3"));
  // A transport with no call of a method shows no series for it.
  EXPECT_THAT(text, Not(HasSubstr("grpc_method=\"Count\",grpc_service=\"pkg.S\","
                                  "grpc_type=\"server_stream\",transport=\"grpc\"")));
}

TEST(RpcMetricsTest, CountsFromManyThreadsAddUp) {
  RpcMetrics metrics;
  auto say = metrics.RegisterMethod("/s.S/M", MethodKind::kUnary);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        metrics.OnStarted(say, CallTransport::kFramed);
        metrics.OnFinished(say, Call(CallTransport::kFramed,
                                     i % 5 == 0 ? absl::StatusCode::kUnavailable
                                                : absl::StatusCode::kOk,
                                     absl::Microseconds(i % 700)));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::vector<MethodCounts> counts = metrics.Counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].started, 40000u);
  EXPECT_EQ(counts[0].handled_total(), 40000u);
  EXPECT_EQ(counts[0].handled[14], 8000u);  // UNAVAILABLE
  EXPECT_EQ(counts[0].errors(), 8000u);
  uint64_t in_buckets = 0;
  for (uint64_t n : counts[0].latency) in_buckets += n;
  EXPECT_EQ(in_buckets, 40000u);
}

TEST(RpcMetricsTest, GoCodeNames) {
  EXPECT_STREQ(GoCodeName(0), "OK");
  EXPECT_STREQ(GoCodeName(1), "Canceled");
  EXPECT_STREQ(GoCodeName(16), "Unauthenticated");
  EXPECT_STREQ(GoCodeName(99), "Unknown");
}

}  // namespace
}  // namespace framerpc::metrics
