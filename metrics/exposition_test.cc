// The exposition of a real server after real calls: what Prometheus would scrape, checked by
// Prometheus's own `promtool check metrics`, and the counts it shows.
#include "metrics/exposition.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/process_metrics.h"
#include "metrics/rpc_metrics.h"
#include "metrics/server_metrics.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"

namespace framerpc::metrics {
namespace {

using ::testing::HasSubstr;

// Runs `promtool check metrics` on `text`; returns its exit code and fills `output`.
int Promtool(const std::string& text, std::string* output) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/exposition.txt");
  std::ofstream(path) << text;
  const std::string command =
      absl::StrCat("/usr/bin/promtool check metrics < ", path, " 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  return ::pclose(pipe);
}

TEST(ExpositionTest, ARealServersMetricsPassPromtoolAndCountTheCalls) {
  RpcMetrics rpc;
  ServerOptions options;
  options.io_threads = 1;
  options.observer = &rpc;
  Server server(options);
  echo::EchoServiceImpl echo;
  ASSERT_TRUE(server.AddService(&echo).ok());
  ASSERT_TRUE(server.AddListener("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());
  ServerMetrics connections(&server);
  ProcessMetrics process;
  Exposition exposition;
  exposition.Add(&rpc);
  exposition.Add(&connections);
  exposition.Add(&process);

  {
    auto channel = Channel::Create(server.listen_address(0)).value();
    echo::EchoService::Stub stub(channel.get());
    for (int i = 0; i < 5; ++i) {
      ClientContext context;
      echo::SayRequest request;
      request.set_text("metrics");
      echo::SayReply reply;
      ASSERT_TRUE(stub.Say(&context, request, &reply).ok());
    }
    ClientContext context;
    echo::SayReply reply;
    // An unknown method: counted under grpc_service="unknown".
    EXPECT_EQ(channel->Call("/framerpc.echo.EchoService/Nope", &context, echo::SayRequest(),
                            &reply)
                  .code(),
              absl::StatusCode::kUnimplemented);
  }
  const std::string text = exposition.Render();
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Say\","
                              "grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
                              "transport=\"framed\"} 5"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"Unimplemented\","
                              "grpc_method=\"unknown\",grpc_service=\"unknown\""));
  EXPECT_THAT(text, HasSubstr("framerpc_connections_accepted_total "));
  EXPECT_THAT(text, HasSubstr("framerpc_frames_received_total 6"));
  EXPECT_THAT(text, HasSubstr("process_open_fds "));
  std::string promtool;
  EXPECT_EQ(Promtool(text, &promtool), 0) << promtool;
  EXPECT_EQ(promtool, "") << "promtool found problems:\n" << promtool;
  server.Shutdown(absl::Seconds(5));
}

}  // namespace
}  // namespace framerpc::metrics
