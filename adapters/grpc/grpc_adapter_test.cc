// Unary calls through the adapter from a real gRPC client: round trips, errors, metadata,
// deadlines and cancellation in both directions, health, shutdown, and Python's grpcio.
#include "adapters/grpc/grpc_adapter.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "adapters/grpc/grpc_test_util.h"
#include "services/health/health_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/notification.h"
#include "gtest/gtest.h"
#include "proto/echo.pb.h"
#include "services/echo/echo_service.h"

namespace framerpc {
namespace {

constexpr char kSay[] = "/framerpc.echo.EchoService/Say";
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";
constexpr char kProbeContext[] = "/framerpc.grpc_test.Probe/Context";
constexpr char kProbeBlock[] = "/framerpc.grpc_test.Probe/Block";
constexpr char kProbeAwaitCancel[] = "/framerpc.grpc_test.Probe/AwaitCancel";

// A hand-registered service (no generated code) that shows the test what its handlers see.
// Context: replies "<x-probe metadata>|<deadline within 1 min>|<reserved metadata seen>|<peer>",
// or fails with NOT_FOUND for the text "fail", or with the code given as text "code:N". Block:
// waits until gate() is notified. AwaitCancel: waits until its context is cancelled and its
// OnCancel callback has run, then notifies cancelled().
class ProbeService final : public Service {
 public:
  ProbeService() {
    using Handler = UnaryMethodHandler<ProbeService, echo::SayRequest, echo::SayReply>;
    AddMethod(kProbeContext, std::make_unique<Handler>(this, &ProbeService::Context));
    AddMethod(kProbeBlock, std::make_unique<Handler>(this, &ProbeService::Block));
    AddMethod(kProbeAwaitCancel, std::make_unique<Handler>(this, &ProbeService::AwaitCancel));
  }
  // There is no .proto for this service; the echo service's descriptor stands in.
  const google::protobuf::ServiceDescriptor* descriptor() const override {
    return echo::SayRequest::descriptor()->file()->service(0);
  }

  Notification& started() { return started_; }
  Notification& gate() { return gate_; }
  Notification& cancelled() { return cancelled_; }

 private:
  absl::Status Context(ServerContext* context, const echo::SayRequest& request,
                       echo::SayReply* reply) {
    if (request.text() == "fail") return absl::NotFoundError("asked to fail");
    if (request.text() == "attach") *context->mutable_response_attachment() = "raw bytes";
    if (request.text() == "attachments?") {
      reply->set_text(context->attachments_supported() ? "supported" : "not supported");
      return absl::OkStatus();
    }
    if (absl::StartsWith(request.text(), "code:")) {
      return absl::Status(static_cast<absl::StatusCode>(std::stoi(request.text().substr(5))),
                          "the code asked for");
    }
    const std::string* probe = context->FindClientMetadata("x-probe");
    const absl::Duration left = context->deadline() - absl::Now();
    bool reserved = false;
    for (const auto& [key, value] : context->client_metadata()) {
      reserved |= absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-");
    }
    reply->set_text(absl::StrCat(probe ? *probe : "none", "|",
                                 left > absl::ZeroDuration() && left <= absl::Minutes(1), "|",
                                 reserved, "|", context->peer()));
    return absl::OkStatus();
  }

  absl::Status Block(ServerContext* context, const echo::SayRequest& request,
                     echo::SayReply* reply) {
    started_.Notify();
    gate_.WaitForNotification();
    reply->set_text("released");
    return absl::OkStatus();
  }

  absl::Status AwaitCancel(ServerContext* context, const echo::SayRequest& request,
                           echo::SayReply* reply) {
    Notification callback_ran;
    CancellationCallback on_cancel = context->OnCancel([&] { callback_ran.Notify(); });
    started_.Notify();
    context->WaitForCancellation(absl::InfiniteFuture());
    callback_ran.WaitForNotification();  // OnCancel callbacks run on the gRPC side's end too
    cancelled_.Notify();
    return absl::CancelledError("gave up");
  }

  Notification started_;
  Notification gate_;
  Notification cancelled_;
};

using grpc_test::ToString;

// grpc.health.v1.HealthCheckRequest { string service = 1; }, encoded by hand (short names only).
std::string HealthCheckRequest(const std::string& service) {
  return absl::StrCat(std::string(1, '\x0a'), std::string(1, static_cast<char>(service.size())),
                      service);
}

// The adapter serves the echo service from a bare Dispatcher, with the handlers inline or on the
// worker pool (the parameter).
class GrpcAdapterTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dispatcher_.AddService(&echo_, ServiceOptions{.run_inline = GetParam()}).ok());
    ASSERT_TRUE(dispatcher_.AddService(&probe_, ServiceOptions{.run_inline = false}).ok());
    ASSERT_TRUE(dispatcher_.AddService(&health_, ServiceOptions{.run_inline = false}).ok());
    health_.SetServingForAll(dispatcher_);
    adapter_ = std::make_unique<GrpcAdapter>(&dispatcher_);
    ASSERT_TRUE(adapter_->Start().ok());
    ASSERT_GT(adapter_->listen_port(), 0);
    address_ = absl::StrCat("127.0.0.1:", adapter_->listen_port());
    stub_ = std::make_unique<grpc::GenericStub>(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();
    if (adapter_) adapter_->Shutdown(absl::Seconds(5));
    dispatcher_.StopWorkers();
  }

  // One unary call through a real gRPC client; blocks until it completes.
  grpc::Status Call(const std::string& method, const std::string& request, std::string* response,
                    grpc::ClientContext* context) {
    return grpc_test::UnaryCall(stub_.get(), context, method, request, response);
  }

  grpc::Status Call(const std::string& method, const std::string& request, std::string* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return Call(method, request, response, &context);
  }

  echo::EchoServiceImpl echo_;  // services outlive the dispatcher
  ProbeService probe_;
  HealthService health_;
  Dispatcher dispatcher_{FrameLimits{}, 2};
  std::unique_ptr<GrpcAdapter> adapter_;
  std::string address_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

TEST_P(GrpcAdapterTest, SayRoundTrip) {
  echo::SayRequest request;
  request.set_text("hello, grpc");
  request.set_uppercase(true);
  std::string response;
  const grpc::Status status = Call(kSay, request.SerializeAsString(), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  echo::SayReply reply;
  ASSERT_TRUE(reply.ParseFromString(response));
  EXPECT_EQ(reply.text(), "HELLO, GRPC");
}

TEST_P(GrpcAdapterTest, ManySequentialCalls) {
  for (int i = 0; i < 20; ++i) {
    echo::SayRequest request;
    request.set_text(absl::StrCat("call ", i));
    std::string response;
    ASSERT_TRUE(Call(kSay, request.SerializeAsString(), &response).ok());
    echo::SayReply reply;
    ASSERT_TRUE(reply.ParseFromString(response));
    EXPECT_EQ(reply.text(), absl::StrCat("call ", i));
  }
}

TEST_P(GrpcAdapterTest, UnknownMethodIsUnimplemented) {
  std::string response;
  const grpc::Status status = Call("/framerpc.echo.EchoService/Shout", "", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(status.error_message().find("Shout"), std::string::npos) << status.error_message();
}

TEST_P(GrpcAdapterTest, BadPayloadIsInvalidArgument) {
  std::string response;
  const grpc::Status status = Call(kSay, std::string("\xff\xff\xff", 3), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(GrpcAdapterTest, PassedDeadlineIsDeadlineExceeded) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  std::string response;
  const grpc::Status status = Call(kSay, "", &response, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_P(GrpcAdapterTest, HealthCheckReportsServing) {
  for (const std::string service : {"framerpc.echo.EchoService", ""}) {
    std::string response;
    const grpc::Status status = Call(kHealthCheck, HealthCheckRequest(service), &response);
    ASSERT_TRUE(status.ok()) << service << ": " << status.error_message();
    // HealthCheckResponse { ServingStatus status = 1; } with SERVING = 1.
    EXPECT_EQ(response, std::string("\x08\x01", 2)) << service;
  }
}

TEST_P(GrpcAdapterTest, HealthCheckUnknownServiceIsNotFound) {
  std::string response;
  const grpc::Status status = Call(kHealthCheck, HealthCheckRequest("no.Such"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_P(GrpcAdapterTest, HandlerSeesDeadlineMetadataAndPeer) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  context.AddMetadata("x-probe", "probe-value");
  std::string response;
  const grpc::Status status = Call(kProbeContext, "", &response, &context);
  ASSERT_TRUE(status.ok()) << status.error_message();
  echo::SayReply reply;
  ASSERT_TRUE(reply.ParseFromString(response));
  EXPECT_TRUE(absl::StartsWith(reply.text(), "probe-value|1|0|ipv4:127.0.0.1:")) << reply.text();
}

TEST_P(GrpcAdapterTest, HandlerErrorKeepsCodeAndMessage) {
  echo::SayRequest request;
  request.set_text("fail");
  std::string response;
  const grpc::Status status = Call(kProbeContext, request.SerializeAsString(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "asked to fail");
}

TEST_P(GrpcAdapterTest, ShutdownLetsRunningCallFinish) {
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  auto rpc = stub_->PrepareUnaryCall(&context, kProbeBlock, request, &cq);
  rpc->StartCall();
  rpc->Finish(&response, &status, this);
  probe_.started().WaitForNotification();

  std::thread shutdown([this] { adapter_->Shutdown(absl::Seconds(30)); });
  probe_.gate().Notify();
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_TRUE(ok);
  shutdown.join();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  echo::SayReply reply;
  ASSERT_TRUE(reply.ParseFromString(ToString(response)));
  EXPECT_EQ(reply.text(), "released");
}

TEST_P(GrpcAdapterTest, HandlerStatusCodesPassThroughUnchanged) {
  for (int code = 1; code <= 16; ++code) {
    echo::SayRequest request;
    request.set_text(absl::StrCat("code:", code));
    std::string response;
    const grpc::Status status = Call(kProbeContext, request.SerializeAsString(), &response);
    EXPECT_EQ(static_cast<int>(status.error_code()), code);
    EXPECT_EQ(status.error_message(), "the code asked for");
  }
}

TEST_P(GrpcAdapterTest, ClientCancelCancelsTheHandlersContext) {
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  grpc::ByteBuffer request = grpc_test::ToBuffer("");
  grpc::ByteBuffer response;
  grpc::Status status;
  auto rpc = stub_->PrepareUnaryCall(&context, kProbeAwaitCancel, request, &cq);
  rpc->StartCall();
  rpc->Finish(&response, &status, this);
  probe_.started().WaitForNotification();
  context.TryCancel();
  probe_.cancelled().WaitForNotification();  // the handler saw it
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_P(GrpcAdapterTest, ExpiredDeadlineCancelsTheHandlersContext) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  std::string response;
  const grpc::Status status = Call(kProbeAwaitCancel, "", &response, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(probe_.cancelled().WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_P(GrpcAdapterTest, ShutdownCancelsCallsPastTheGrace) {
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  grpc::ByteBuffer request = grpc_test::ToBuffer("");
  grpc::ByteBuffer response;
  grpc::Status status;
  auto rpc = stub_->PrepareUnaryCall(&context, kProbeAwaitCancel, request, &cq);
  rpc->StartCall();
  rpc->Finish(&response, &status, this);
  probe_.started().WaitForNotification();
  adapter_->Shutdown(absl::ZeroDuration());  // returns once the handler has
  EXPECT_TRUE(probe_.cancelled().HasBeenNotified());
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_FALSE(status.ok());
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_P(GrpcAdapterTest, ResponseAttachmentFailsTheCallRatherThanVanish) {
  echo::SayRequest request;
  request.set_text("attach");
  std::string response;
  const grpc::Status status = Call(kProbeContext, request.SerializeAsString(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(status.error_message().find("attachment"), std::string::npos);
}

TEST_P(GrpcAdapterTest, HandlerIsToldThatAttachmentsAreNotCarried) {
  echo::SayRequest request;
  request.set_text("attachments?");
  std::string response;
  ASSERT_TRUE(Call(kProbeContext, request.SerializeAsString(), &response).ok());
  echo::SayReply reply;
  ASSERT_TRUE(reply.ParseFromString(response));
  EXPECT_EQ(reply.text(), "not supported");
}

TEST_P(GrpcAdapterTest, BytesWithoutAttachmentWorks) {
  // EchoService/Bytes echoes the request's attachment; a gRPC request has none.
  std::string response;
  const grpc::Status status = Call("/framerpc.echo.EchoService/Bytes", "", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response, "");  // BytesReply{size: 0}
}

// A client framerpc did not write: Python's grpcio (python3-grpcio, which install-deps.sh
// installs; without it the test fails and says so, never skips).
TEST_P(GrpcAdapterTest, PythonGrpcClient) {
  std::string output;
  ASSERT_EQ(grpc_test::RunCommand("/usr/bin/python3 -c 'import grpc' 2>&1", &output), 0)
      << "/usr/bin/python3 cannot import grpc: run scripts/install-deps.sh (python3-grpcio): "
      << output;
  output.clear();
  const int rc = grpc_test::RunCommand(
      absl::StrCat("/usr/bin/python3 adapters/grpc/echo_client.py ", address_, " 'from python'"),
      &output);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "FROM PYTHON\n");
}

INSTANTIATE_TEST_SUITE_P(Inline, GrpcAdapterTest, ::testing::Values(true));
INSTANTIATE_TEST_SUITE_P(WorkerPool, GrpcAdapterTest, ::testing::Values(false));

TEST(GrpcAdapterLifecycleTest, StartTwiceFails) {
  Dispatcher dispatcher(FrameLimits{}, 1);
  GrpcAdapter adapter(&dispatcher);
  ASSERT_TRUE(adapter.Start().ok());
  EXPECT_EQ(adapter.Start().code(), absl::StatusCode::kFailedPrecondition);
  adapter.Shutdown();
  adapter.Shutdown();  // idempotent
  dispatcher.StopWorkers();
}

TEST(GrpcAdapterLifecycleTest, UnusableAddressFailsStart) {
  Dispatcher dispatcher(FrameLimits{}, 1);
  GrpcAdapterOptions options;
  options.listen_address = "192.0.2.1:0";  // TEST-NET-1: not an address of this machine
  GrpcAdapter adapter(&dispatcher, options);
  EXPECT_FALSE(adapter.Start().ok());
  dispatcher.StopWorkers();
}

// "unix:@name" means the same abstract socket to the adapter as to the framed transport (gRPC
// itself would create a file named "@name"); a gRPC client reaches it as "unix-abstract:name".
TEST(GrpcAdapterLifecycleTest, ServesAnAbstractUnixSocket) {
  EXPECT_EQ(GrpcListenTarget("unix:@x"), "unix-abstract:x");
  EXPECT_EQ(GrpcListenTarget("unix:/tmp/@x"), "unix:/tmp/@x");
  EXPECT_EQ(GrpcListenTarget("127.0.0.1:0"), "127.0.0.1:0");
  echo::EchoServiceImpl echo;
  Dispatcher dispatcher(FrameLimits{}, 1);
  ASSERT_TRUE(dispatcher.AddService(&echo).ok());
  const std::string name = absl::StrCat("framerpc-grpc-test-", ::getpid());
  GrpcAdapterOptions options;
  options.listen_address = "unix:@" + name;
  GrpcAdapter adapter(&dispatcher, options);
  ASSERT_TRUE(adapter.Start().ok());
  grpc::GenericStub stub(
      grpc::CreateChannel("unix-abstract:" + name, grpc::InsecureChannelCredentials()));
  echo::SayRequest request;
  request.set_text("abstract");
  std::string response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status status = grpc_test::UnaryCall(&stub, &context, "/framerpc.echo.EchoService/Say",
                                             request.SerializeAsString(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  echo::SayReply reply;
  ASSERT_TRUE(reply.ParseFromString(response));
  EXPECT_EQ(reply.text(), "abstract");
  adapter.Shutdown();
  dispatcher.StopWorkers();
}

TEST(GrpcAdapterLifecycleTest, DestructorShutsDown) {
  Dispatcher dispatcher(FrameLimits{}, 1);
  {
    GrpcAdapter adapter(&dispatcher);
    ASSERT_TRUE(adapter.Start().ok());
  }
  dispatcher.StopWorkers();
}

}  // namespace
}  // namespace framerpc

