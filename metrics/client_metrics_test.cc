// Client metrics: a channel with ChannelOptions::observer = RpcMetrics(Side::kClient) against a
// real server, over each call path (blocking, asynchronous, streaming), with calls that fail.
#include <string>

#include "services/health/health.frpc.h"
#include "services/health/health_service.h"
#include "base/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"
#include "metrics/rpc_metrics.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"

namespace framerpc::metrics {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSayLabels[] =
    "grpc_method=\"Say\",grpc_service=\"framerpc.echo.EchoService\",grpc_type=\"unary\","
    "transport=\"framed\"}";

class ClientMetricsTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.io_threads = 1;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(&echo_).ok());
    ASSERT_TRUE(server_->AddService(&health_, {.run_inline = false}).ok());
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
    health_.SetServingForAll(*server_->dispatcher());
  }
  void TearDown() override { server_->Shutdown(absl::Seconds(10)); }

  std::unique_ptr<Channel> ObservedChannelTo(RpcMetrics* metrics) {
    ChannelOptions options;
    options.observer = metrics;
    return Channel::Create(server_->listen_address(0), options).value();
  }

  echo::EchoServiceImpl echo_;
  HealthService health_;
  std::unique_ptr<Server> server_;
};

TEST_F(ClientMetricsTest, EveryCallPathIsCountedUnderTheClientNames) {
  RpcMetrics metrics(RpcMetrics::Side::kClient);
  std::unique_ptr<Channel> channel = ObservedChannelTo(&metrics);
  echo::EchoService::Stub echo(channel.get());
  for (int i = 0; i < 3; ++i) {  // blocking
    ClientContext context;
    echo::SayRequest request;
    request.set_text("hello");
    echo::SayReply reply;
    ASSERT_TRUE(echo.Say(&context, request, &reply).ok());
  }
  {  // asynchronous
    ClientContext context;
    echo::SayRequest request;
    request.set_text("async");
    echo::SayReply reply;
    Notification done;
    absl::Status status;
    channel->StartCall("/framerpc.echo.EchoService/Say", &context, request, &reply,
                       [&](absl::Status s) {
                         status = s;
                         done.Notify();
                       });
    done.WaitForNotification();
    ASSERT_TRUE(status.ok()) << status;
  }
  {  // an unknown method
    ClientContext context;
    echo::SayReply reply;
    EXPECT_EQ(channel->Call("/framerpc.echo.EchoService/Nope", &context, echo::SayRequest(),
                            &reply)
                  .code(),
              absl::StatusCode::kUnimplemented);
  }
  grpc::health::v1::Health::Stub health(channel.get());
  {
    ClientContext context;
    HealthCheckRequest request;
    request.set_service("no.Such");
    HealthCheckResponse response;
    EXPECT_EQ(health.Check(&context, request, &response).code(), absl::StatusCode::kNotFound);
  }
  {  // a server stream: one message read, then cancelled
    ClientContext context;
    auto watch = health.Watch(&context, HealthCheckRequest());
    HealthCheckResponse response;
    ASSERT_TRUE(watch->Read(&response));
    context.TryCancel();
    EXPECT_EQ(watch->Finish().code(), absl::StatusCode::kCancelled);
  }
  {  // a stream dropped without Finish: counted once, as cancelled
    ClientContext context;
    auto watch = health.Watch(&context, HealthCheckRequest());
    HealthCheckResponse response;
    ASSERT_TRUE(watch->Read(&response));
  }

  Exposition exposition;
  exposition.Add(&metrics);
  const std::string text = exposition.Render();
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_client_started_total{", kSayLabels, " 4")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_client_handled_total{grpc_code=\"OK\",",
                                           kSayLabels, " 4")));
  // The client sent four requests and received four replies.
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_client_msg_sent_total{", kSayLabels, " 4")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_client_msg_received_total{", kSayLabels, " 4")));
  EXPECT_THAT(text, HasSubstr("grpc_client_handled_total{grpc_code=\"Unimplemented\","
                              "grpc_method=\"Nope\""));
  EXPECT_THAT(text, HasSubstr("grpc_client_handled_total{grpc_code=\"NotFound\","
                              "grpc_method=\"Check\""));
  EXPECT_THAT(text, HasSubstr("grpc_client_handled_total{grpc_code=\"Canceled\","
                              "grpc_method=\"Watch\",grpc_service=\"grpc.health.v1.Health\","
                              "grpc_type=\"server_stream\",transport=\"framed\"} 2"));
  EXPECT_THAT(text, HasSubstr("grpc_client_msg_received_total{grpc_method=\"Watch\","
                              "grpc_service=\"grpc.health.v1.Health\",grpc_type=\"server_stream\","
                              "transport=\"framed\"} 2"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_client_calls_in_flight{", kSayLabels, " 0")));
  EXPECT_THAT(text, Not(HasSubstr("grpc_server_")));
}

TEST_F(ClientMetricsTest, ChannelsSharingMetricsShareTheirSeries) {
  RpcMetrics metrics(RpcMetrics::Side::kClient);
  for (int c = 0; c < 2; ++c) {
    std::unique_ptr<Channel> channel = ObservedChannelTo(&metrics);
    echo::EchoService::Stub echo(channel.get());
    ClientContext context;
    echo::SayReply reply;
    ASSERT_TRUE(echo.Say(&context, echo::SayRequest(), &reply).ok());
  }
  Exposition exposition;
  exposition.Add(&metrics);
  const std::string text = exposition.Render();
  // One series with both calls, not two with the same labels (which Prometheus would reject).
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_client_started_total{", kSayLabels, " 2")));
}

}  // namespace
}  // namespace framerpc::metrics
