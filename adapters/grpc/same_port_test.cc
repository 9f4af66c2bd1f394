// One port, both protocols: a framerpc Server hands the connections that do not start with the
// framerpc magic to a GrpcAdapter (Server::AddForeignProtocol, ServeGrpcOnSamePort).
// Also the health and reflection services over the framed transport.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/same_port.h"
#include "adapters/grpc/grpc_test_util.h"
#include "services/health/health_service.h"
#include "services/reflection/reflection_service.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/stream_service.h"

namespace framerpc {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class SamePortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.AddService(&echo_).ok());
    ASSERT_TRUE(server_.AddService(&streams_).ok());
    ASSERT_TRUE(server_.AddService(&health_, ServiceOptions{.run_inline = false}).ok());
    ASSERT_TRUE(server_.AddService(&reflection_, ServiceOptions{.run_inline = false}).ok());
    ASSERT_TRUE(server_.AddListener("127.0.0.1:0").ok());
    GrpcAdapterOptions options;
    options.listen_address = "";  // no port of its own
    adapter_ = std::make_unique<GrpcAdapter>(server_.dispatcher(), options);
    ASSERT_TRUE(adapter_->Start().ok());
    EXPECT_EQ(adapter_->listen_port(), 0);
    ASSERT_TRUE(ServeGrpcOnSamePort(&server_, adapter_.get()).ok());
    ASSERT_TRUE(server_.Start().ok());
    health_.SetServingForAll(*server_.dispatcher());
    address_ = server_.listen_address(0);
    grpc_stub_ = std::make_unique<grpc::GenericStub>(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    auto channel = Channel::Create(address_);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
  }

  void TearDown() override {
    grpc_stub_.reset();
    channel_.reset();
    adapter_->Shutdown(absl::Seconds(5));
    server_.Shutdown(absl::Seconds(5));
  }

  grpc::Status GrpcSay(const std::string& text, std::string* reply_text) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    echo::SayRequest request;
    request.set_text(text);
    std::string response;
    grpc::Status status = grpc_test::UnaryCall(grpc_stub_.get(), &context,
                                               "/framerpc.echo.EchoService/Say",
                                               request.SerializeAsString(), &response);
    echo::SayReply reply;
    if (status.ok() && reply.ParseFromString(response)) *reply_text = reply.text();
    return status;
  }

  absl::Status FramedSay(const std::string& text, std::string* reply_text) {
    echo::EchoService::Stub stub(channel_.get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    echo::SayRequest request;
    request.set_text(text);
    echo::SayReply reply;
    absl::Status status = stub.Say(&context, request, &reply);
    *reply_text = reply.text();
    return status;
  }

  echo::EchoServiceImpl echo_;
  test::StreamTestServiceImpl streams_;
  HealthService health_;
  Server server_;
  ReflectionService reflection_{server_.dispatcher()};
  std::unique_ptr<GrpcAdapter> adapter_;
  std::string address_;
  std::unique_ptr<grpc::GenericStub> grpc_stub_;
  std::unique_ptr<Channel> channel_;
};

TEST_F(SamePortTest, FramedAndGrpcClientsOnOnePort) {
  for (int i = 0; i < 3; ++i) {  // interleaved, each on its one connection
    std::string reply;
    const grpc::Status grpc_status = GrpcSay(absl::StrCat("grpc ", i), &reply);
    ASSERT_TRUE(grpc_status.ok()) << grpc_status.error_message();
    EXPECT_EQ(reply, absl::StrCat("grpc ", i));
    const absl::Status framed_status = FramedSay(absl::StrCat("framed ", i), &reply);
    ASSERT_TRUE(framed_status.ok()) << framed_status;
    EXPECT_EQ(reply, absl::StrCat("framed ", i));
  }
}

TEST_F(SamePortTest, GrpcStreamOnTheSharedPort) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc_test::BlockingStream stream(grpc_stub_.get(), &context,
                                   "/framerpc.test.StreamTestService/Count");
  test::CountRequest request;
  request.set_count(10);
  ASSERT_TRUE(stream.Write(request));
  ASSERT_TRUE(stream.WritesDone());
  test::Chunk chunk;
  int read = 0;
  while (stream.Read(&chunk)) ++read;
  EXPECT_EQ(read, 10);
  EXPECT_TRUE(stream.Finish().ok());
}

// Connects, optionally sends `bytes`, and closes.
void ConnectAndClose(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  if (!bytes.empty()) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  ::close(fd);
}

TEST_F(SamePortTest, SilentAndGarbageConnectionsHarmNobody) {
  ConnectAndClose(server_.listen_port(0), "");
  ConnectAndClose(server_.listen_port(0), "GET / HTTP/1.1\r\n\r\n");  // not HTTP/2 either
  std::string reply;
  ASSERT_TRUE(GrpcSay("still", &reply).ok());
  ASSERT_TRUE(FramedSay("here", &reply).ok());
  EXPECT_EQ(reply, "here");
}

TEST_F(SamePortTest, ShutdownClosesConnectionsThatNeverSpoke) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_.listen_port(0)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // A call on a connection made after it: once it is answered, the silent connection has been
  // accepted too (the acceptor takes the backlog in order). Otherwise the listener's close could
  // find it still in the backlog and reset it, which is not what this test is about.
  std::string reply;
  ASSERT_TRUE(FramedSay("after", &reply).ok());
  adapter_->Shutdown(absl::Seconds(5));
  server_.Shutdown(absl::Seconds(5));
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // EOF: the server closed it
  ::close(fd);
}

TEST_F(SamePortTest, HealthOverTheFramedTransport) {
  grpc::health::v1::Health::Stub stub(channel_.get());
  {
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    HealthCheckRequest request;
    request.set_service("framerpc.echo.EchoService");
    HealthCheckResponse response;
    ASSERT_TRUE(stub.Check(&context, request, &response).ok());
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  }
  {
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    HealthCheckRequest request;
    request.set_service("no.Such");
    HealthCheckResponse response;
    EXPECT_EQ(stub.Check(&context, request, &response).code(), absl::StatusCode::kNotFound);
  }
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  HealthCheckRequest request;  // "": the whole server
  auto watch = stub.Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  health_.Shutdown();
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  context.TryCancel();
  EXPECT_EQ(watch->Finish().code(), absl::StatusCode::kCancelled);
}

TEST_F(SamePortTest, ReflectionOverTheFramedTransport) {
  grpc::reflection::v1alpha::ServerReflection::Stub stub(channel_.get());
  ClientContext context;
  context.set_timeout(absl::Seconds(30));
  auto stream = stub.ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("*");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->WritesDone());
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.list_services_response().service_size(), 4);
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(SamePortTest, PythonGrpcClientsOnTheSharedPort) {
  grpc_test::ExpectPythonGrpcClientsPass(address_);
}

TEST(SamePortUnixTest, GrpcAndFramedOnOneUnixSocket) {
  // A short directory of its own: Bazel's TEST_TMPDIR can be longer than sun_path allows.
  std::string dir = "/tmp/frpcgXXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/s.sock";
  echo::EchoServiceImpl echo;
  Server server;
  ASSERT_TRUE(server.AddService(&echo).ok());
  ASSERT_TRUE(server.AddListener("unix:" + path).ok());
  GrpcAdapterOptions options;
  options.listen_address = "";
  GrpcAdapter adapter(server.dispatcher(), options);
  ASSERT_TRUE(adapter.Start().ok());
  ASSERT_TRUE(ServeGrpcOnSamePort(&server, &adapter).ok());
  ASSERT_TRUE(server.Start().ok());
  {
    grpc::GenericStub stub(grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    echo::SayRequest request;
    request.set_text("over unix");
    std::string response;
    const grpc::Status status = grpc_test::UnaryCall(
        &stub, &context, "/framerpc.echo.EchoService/Say", request.SerializeAsString(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    echo::SayReply reply;
    ASSERT_TRUE(reply.ParseFromString(response));
    EXPECT_EQ(reply.text(), "over unix");

    auto channel = Channel::Create("unix:" + path);
    ASSERT_TRUE(channel.ok());
    echo::EchoService::Stub framed((*channel).get());
    ClientContext framed_context;
    framed_context.set_timeout(absl::Seconds(30));
    echo::SayReply framed_reply;
    ASSERT_TRUE(framed.Say(&framed_context, request, &framed_reply).ok());
    EXPECT_EQ(framed_reply.text(), "over unix");
  }
  adapter.Shutdown(absl::Seconds(5));
  server.Shutdown(absl::Seconds(5));
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace framerpc
