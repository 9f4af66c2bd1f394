// A handler sees who called, whatever the transport: the framed protocol over TCP and a Unix
// socket, and gRPC on the shared port (where gRPC itself would only say "fd:N") and on the
// adapter's own port. On a Unix socket the kernel's credentials for the peer come with the call.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/same_port.h"
#include "adapters/grpc/grpc_test_util.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"

namespace framerpc {
namespace {

// Say answers "<peer>|<identity>".
class WhoCalls final : public echo::EchoService::Service {
 public:
  absl::Status Say(ServerContext* context, const echo::SayRequest&,
                   echo::SayReply* reply) override {
    reply->set_text(absl::StrCat(context->peer(), "|", context->peer_identity().DebugString()));
    return absl::OkStatus();
  }
  absl::Status Bytes(ServerContext*, const echo::BytesRequest&, echo::BytesReply*) override {
    return absl::OkStatus();
  }
};

class PeerIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/frpc-peer-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    ASSERT_TRUE(server_.AddService(&who_).ok());
    ASSERT_TRUE(server_.AddListener("127.0.0.1:0").ok());
    ASSERT_TRUE(server_.AddListener("unix:" + dir_ + "/s.sock").ok());
    GrpcAdapterOptions options;
    options.listen_address = "127.0.0.1:0";
    adapter_ = std::make_unique<GrpcAdapter>(server_.dispatcher(), options);
    ASSERT_TRUE(adapter_->Start().ok());
    ASSERT_TRUE(ServeGrpcOnSamePort(&server_, adapter_.get()).ok());
    ASSERT_TRUE(server_.Start().ok());
  }

  void TearDown() override {
    adapter_->Shutdown(absl::Seconds(5));
    server_.Shutdown(absl::Seconds(5));
    ::unlink((dir_ + "/s.sock").c_str());
    ::rmdir(dir_.c_str());
  }

  std::string FramedSay(const std::string& address) {
    auto channel = Channel::Create(address);
    EXPECT_TRUE(channel.ok()) << channel.status();
    if (!channel.ok()) return "";
    echo::EchoService::Stub stub(channel->get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    echo::SayReply reply;
    absl::Status status = stub.Say(&context, echo::SayRequest(), &reply);
    EXPECT_TRUE(status.ok()) << status;
    return reply.text();
  }

  std::string GrpcSay(const std::string& target) {
    grpc::GenericStub stub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::string response;
    grpc::Status status = grpc_test::UnaryCall(&stub, &context, "/framerpc.echo.EchoService/Say",
                                               "", &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    echo::SayReply reply;
    EXPECT_TRUE(reply.ParseFromString(response));
    return reply.text();
  }

  std::string UnixCredentials() const {
    return absl::StrCat("local unix uid ", ::getuid(), " gid ", ::getgid(), " pid ", ::getpid());
  }

  std::string dir_;
  WhoCalls who_;
  Server server_;
  std::unique_ptr<GrpcAdapter> adapter_;
};

TEST_F(PeerIdentityTest, FramedCallsOverTcpAreLocalWithoutCredentials) {
  const std::string text = FramedSay(server_.listen_address(0));
  EXPECT_TRUE(absl::StartsWith(text, "127.0.0.1:")) << text;
  EXPECT_TRUE(absl::EndsWith(text, "|local")) << text;
}

TEST_F(PeerIdentityTest, FramedCallsOverAUnixSocketCarryTheKernelsCredentials) {
  EXPECT_EQ(FramedSay(server_.listen_address(1)), "unix:|" + UnixCredentials());
}

TEST_F(PeerIdentityTest, GrpcOnTheSharedUnixSocketCarriesTheSameCredentials) {
  // gRPC reports adopted connections as "fd:N"; the adapter shows what the socket said instead.
  EXPECT_EQ(GrpcSay(server_.listen_address(1)), "unix:|" + UnixCredentials());
}

TEST_F(PeerIdentityTest, GrpcOnTheSharedTcpPortShowsTheClientsAddress) {
  const std::string text = GrpcSay(server_.listen_address(0));
  EXPECT_TRUE(absl::StartsWith(text, "127.0.0.1:")) << text;
  EXPECT_TRUE(absl::EndsWith(text, "|local")) << text;
}

TEST_F(PeerIdentityTest, GrpcOnItsOwnPortIsLocalFromGrpcsPeerString) {
  const std::string text = GrpcSay(absl::StrCat("127.0.0.1:", adapter_->listen_port()));
  EXPECT_TRUE(absl::StartsWith(text, "ipv4:127.0.0.1:")) << text;
  EXPECT_TRUE(absl::EndsWith(text, "|local")) << text;
}

}  // namespace
}  // namespace framerpc
