// Streaming calls through the adapter from real gRPC clients (C++ generic stub, Python grpcio
// with generated stubs): all three kinds, status pass-through, cancellation and deadlines in both
// directions, health Watch and reflection.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/grpc_test_util.h"
#include "services/health/health_service.h"
#include "services/reflection/reflection_service.h"
#include "base/notification.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "services/echo/echo_service.h"
#include "tests/stream_service.h"

namespace framerpc {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;
using grpc_test::BlockingStream;
using test::Chunk;
using test::CountRequest;
using test::StreamTestService;
using test::SumReply;

constexpr char kCount[] = "/framerpc.test.StreamTestService/Count";
constexpr char kSum[] = "/framerpc.test.StreamTestService/Sum";
constexpr char kEcho[] = "/framerpc.test.StreamTestService/Echo";
constexpr char kWatch[] = "/grpc.health.v1.Health/Watch";
constexpr char kReflect[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
constexpr char kHoldRead[] = "/framerpc.grpc_test.Hold/Read";

// A bidi method with no .proto of its own: reads until the stream ends, then reports whether its
// context was cancelled, waiting for that up to the call's end.
class HoldService final : public Service {
 public:
  HoldService() {
    using Handler = BidiStreamingMethodHandler<HoldService, Chunk, Chunk>;
    AddMethod(kHoldRead, std::make_unique<Handler>(this, &HoldService::Read));
  }
  const google::protobuf::ServiceDescriptor* descriptor() const override {
    return Chunk::descriptor()->file()->service(0);
  }
  Notification& read_one() { return read_one_; }
  Notification& saw_cancel() { return saw_cancel_; }

 private:
  absl::Status Read(ServerContext* context, ServerReaderWriter<Chunk, Chunk>* stream) {
    Chunk chunk;
    while (stream->Read(&chunk)) read_one_.Notify();
    // A failed Read() may come a moment before the cancellation report.
    if (context->WaitForCancellation(absl::InfiniteFuture())) saw_cancel_.Notify();
    return absl::CancelledError("cancelled");
  }

  Notification read_one_;
  Notification saw_cancel_;
};

class GrpcStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dispatcher_.AddService(&echo_).ok());
    ASSERT_TRUE(dispatcher_.AddService(&streams_).ok());
    ASSERT_TRUE(dispatcher_.AddService(&hold_).ok());
    ASSERT_TRUE(dispatcher_.AddService(&health_).ok());
    ASSERT_TRUE(dispatcher_.AddService(&reflection_).ok());
    health_.SetServingForAll(dispatcher_);
    adapter_ = std::make_unique<GrpcAdapter>(&dispatcher_);
    ASSERT_TRUE(adapter_->Start().ok());
    address_ = absl::StrCat("127.0.0.1:", adapter_->listen_port());
    stub_ = std::make_unique<grpc::GenericStub>(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();
    adapter_->Shutdown(absl::Seconds(5));
    dispatcher_.StopWorkers();
  }

  // A context with a generous deadline, so that a broken test fails instead of hanging.
  static void SetDeadline(grpc::ClientContext* context, int seconds = 30) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  }

  echo::EchoServiceImpl echo_;
  test::StreamTestServiceImpl streams_;
  HoldService hold_;
  HealthService health_;
  Dispatcher dispatcher_{FrameLimits{}, 2};
  ReflectionService reflection_{&dispatcher_};
  std::unique_ptr<GrpcAdapter> adapter_;
  std::string address_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

TEST_F(GrpcStreamTest, ServerStreamingInOrder) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kCount);
  CountRequest request;
  request.set_count(100);
  request.set_chunk_bytes(1000);
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  Chunk chunk;
  uint64_t expected = 0;
  while (stream.Read(&chunk)) {
    EXPECT_EQ(chunk.seq(), expected++);
    EXPECT_EQ(chunk.data().size(), 1000u);
  }
  EXPECT_EQ(expected, 100u);
  const grpc::Status status = stream.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(GrpcStreamTest, ServerStatusAfterMessagesPassesThrough) {
  for (int code : {1 /*CANCELLED*/, 4 /*DEADLINE_EXCEEDED*/, 9 /*FAILED_PRECONDITION*/}) {
    grpc::ClientContext context;
    SetDeadline(&context);
    BlockingStream stream(stub_.get(), &context, kCount);
    CountRequest request;
    request.set_count(3);
    request.set_fail_with_code(code);
    ASSERT_TRUE(stream.Write(request));
    ASSERT_TRUE(stream.WritesDone());
    Chunk chunk;
    int read = 0;
    while (stream.Read(&chunk)) ++read;
    EXPECT_EQ(read, 3);
    const grpc::Status status = stream.Finish();
    EXPECT_EQ(static_cast<int>(status.error_code()), code);
    EXPECT_EQ(status.error_message(), "failed on purpose after the chunks");
  }
}

TEST_F(GrpcStreamTest, ServerStreamingWithoutRequestIsInvalidArgument) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kCount);
  ASSERT_TRUE(stream.WritesDone());
  Chunk chunk;
  EXPECT_FALSE(stream.Read(&chunk));
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcStreamTest, ClientStreamingSums) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kSum);
  for (uint64_t seq = 0; seq < 50; ++seq) {
    Chunk chunk;
    chunk.set_seq(seq);
    chunk.set_data(std::string(seq, 'x'));
    ASSERT_TRUE(stream.Write(chunk));
  }
  ASSERT_TRUE(stream.WritesDone());
  SumReply reply;
  ASSERT_TRUE(stream.Read(&reply));
  EXPECT_EQ(reply.count(), 50u);
  EXPECT_EQ(reply.seq_sum(), 49u * 50 / 2);
  EXPECT_EQ(reply.total_bytes(), 49u * 50 / 2);
  EXPECT_TRUE(stream.Finish().ok());
}

TEST_F(GrpcStreamTest, BidiEchoesInterleaved) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kEcho);
  for (uint64_t seq = 0; seq < 20; ++seq) {
    Chunk chunk;
    chunk.set_seq(seq);
    chunk.set_data("ping");
    ASSERT_TRUE(stream.Write(chunk));
    Chunk echoed;
    ASSERT_TRUE(stream.Read(&echoed));
    EXPECT_EQ(echoed.seq(), seq);
    EXPECT_EQ(echoed.data(), "ping");
  }
  ASSERT_TRUE(stream.WritesDone());
  Chunk last;
  ASSERT_TRUE(stream.Read(&last));
  EXPECT_EQ(last.seq(), 20u);
  EXPECT_FALSE(stream.Read(&last));
  EXPECT_TRUE(stream.Finish().ok());
}

TEST_F(GrpcStreamTest, BadStreamMessageIsInvalidArgument) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kSum);
  ASSERT_TRUE(stream.WriteRaw(std::string("\xff\xff\xff", 3)));  // not protobuf
  stream.WritesDone();
  SumReply reply;
  EXPECT_FALSE(stream.Read(&reply));
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "request is not a valid framerpc.test.Chunk");
}

TEST_F(GrpcStreamTest, ClientCancelStopsAWritingHandler) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kCount);
  CountRequest request;
  request.set_forever(true);
  request.set_chunk_bytes(100);
  request.set_probe("cancel");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  Chunk chunk;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream.Read(&chunk));
  context.TryCancel();
  test::Probe* probe = streams_.probe("cancel");
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.returned; }));
  EXPECT_TRUE(probe->Get(&test::Probe::saw_cancellation));
  while (stream.Read(&chunk)) {
  }
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcStreamTest, ClientCancelStopsAReadingHandler) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kHoldRead);
  ASSERT_TRUE(stream.Write(Chunk()));
  hold_.read_one().WaitForNotification();
  context.TryCancel();
  hold_.saw_cancel().WaitForNotification();  // its Read() returned false and the context says why
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcStreamTest, DeadlineEndsAStreamMidway) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  BlockingStream stream(stub_.get(), &context, kCount);
  CountRequest request;
  request.set_forever(true);
  request.set_probe("deadline");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  Chunk chunk;
  while (stream.Read(&chunk)) {
  }
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  test::Probe* probe = streams_.probe("deadline");
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.returned; }));
  EXPECT_TRUE(probe->Get(&test::Probe::saw_cancellation));
}

// The slow-reader attack over gRPC: a client opens a stream and never reads it. gRPC's flow
// control stops the handler's writes, and after the stall timeout the call is cancelled, freeing
// the handler (and whatever slot it holds, a file service's transfer slot say) instead of holding
// them until the client goes away. gRPC cannot send a status while a write is outstanding, so the
// client sees CANCELLED.
TEST_F(GrpcStreamTest, AReaderThatNeverReadsIsCutOffAfterTheStallTimeout) {
  adapter_->Shutdown();
  GrpcAdapterOptions options;
  options.stream_stall_timeout = absl::Milliseconds(500);
  adapter_ = std::make_unique<GrpcAdapter>(&dispatcher_, options);
  ASSERT_TRUE(adapter_->Start().ok());
  stub_ = std::make_unique<grpc::GenericStub>(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", adapter_->listen_port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  SetDeadline(&context, 60);  // beyond the probe's 30 s wait: the deadline must not end it
  BlockingStream stream(stub_.get(), &context, kCount);
  CountRequest request;
  request.set_forever(true);
  request.set_chunk_bytes(64 << 10);
  request.set_probe("stalled");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  test::Probe* probe = streams_.probe("stalled");
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.write_attempts > 0; }));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(probe->WaitFor([](const test::Probe& p) { return p.returned; }))
      << "the handler is still blocked in its write";
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_TRUE(probe->Get(&test::Probe::saw_cancellation));
  Chunk chunk;
  while (stream.Read(&chunk)) {
  }
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcStreamTest, ShutdownCancelsOpenStreams) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kHoldRead);
  ASSERT_TRUE(stream.Write(Chunk()));
  hold_.read_one().WaitForNotification();
  adapter_->Shutdown(absl::ZeroDuration());  // returns once the handler has
  EXPECT_TRUE(hold_.saw_cancel().HasBeenNotified());
  EXPECT_FALSE(stream.Finish().ok());
}

TEST_F(GrpcStreamTest, ManyConcurrentStreams) {
  constexpr int kStreams = 16;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < kStreams; ++t) {
    threads.emplace_back([this, &good, t] {
      grpc::ClientContext context;
      SetDeadline(&context);
      BlockingStream stream(stub_.get(), &context, kEcho);
      for (int i = 0; i < 10; ++i) {
        Chunk chunk;
        chunk.set_seq(t * 100 + i);
        Chunk echoed;
        if (!stream.Write(chunk) || !stream.Read(&echoed) || echoed.seq() != chunk.seq()) return;
      }
      Chunk last;
      if (stream.WritesDone() && stream.Read(&last) && last.seq() == 10 && stream.Finish().ok()) {
        ++good;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(good.load(), kStreams);
}

TEST_F(GrpcStreamTest, HealthWatchSendsChanges) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kWatch);
  HealthCheckRequest request;
  request.set_service("framerpc.echo.EchoService");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  HealthCheckResponse response;
  ASSERT_TRUE(stream.Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  health_.SetServingStatus("framerpc.echo.EchoService", HealthService::kNotServing);
  ASSERT_TRUE(stream.Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  health_.Shutdown();  // already NOT_SERVING: nothing new to send
  health_.SetServingStatus("framerpc.echo.EchoService", HealthService::kServing);  // ignored
  context.TryCancel();
  EXPECT_FALSE(stream.Read(&response));
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcStreamTest, HealthWatchOfUnknownService) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kWatch);
  HealthCheckRequest request;
  request.set_service("no.Such");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  HealthCheckResponse response;
  ASSERT_TRUE(stream.Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  health_.SetServingStatus("no.Such", HealthService::kServing);
  ASSERT_TRUE(stream.Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  context.TryCancel();
  EXPECT_FALSE(stream.Read(&response));
  stream.Finish();
}

TEST_F(GrpcStreamTest, ReflectionListsEveryServiceAndDescribesThem) {
  grpc::ClientContext context;
  SetDeadline(&context);
  BlockingStream stream(stub_.get(), &context, kReflect);
  ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream.Write(request));
  ServerReflectionResponse response;
  ASSERT_TRUE(stream.Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "framerpc.echo.EchoService", "framerpc.test.StreamTestService",
                       "framerpc.grpc_test.Hold", "grpc.health.v1.Health",
                       "grpc.reflection.v1alpha.ServerReflection"}));

  request.set_file_containing_symbol("framerpc.test.StreamTestService");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.Read(&response));
  ASSERT_EQ(response.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "tests/stream_test.proto");
  ASSERT_EQ(file.service_size(), 1);
  EXPECT_EQ(file.service(0).method_size(), 3);
  EXPECT_TRUE(file.service(0).method(2).client_streaming());

  request.set_file_containing_symbol("no.Such");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.Read(&response));
  EXPECT_EQ(response.error_response().error_code(), 5);  // NOT_FOUND; the stream goes on

  request.set_file_by_filename("proto/echo.proto");
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.Read(&response));
  EXPECT_EQ(response.original_request().file_by_filename(), "proto/echo.proto");
  EXPECT_EQ(response.file_descriptor_response().file_descriptor_proto_size(), 1);

  ASSERT_TRUE(stream.WritesDone());
  EXPECT_FALSE(stream.Read(&response));
  EXPECT_TRUE(stream.Finish().ok());
}

// Clients framerpc did not write: Python's grpcio with stubs generated by protoc and Debian's
// grpc_python_plugin (adapters/grpc:python_stubs).
TEST_F(GrpcStreamTest, PythonGrpcClients) {
  grpc_test::ExpectPythonGrpcClientsPass(address_);
}

}  // namespace
}  // namespace framerpc
