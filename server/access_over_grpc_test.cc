// The command service's credentials hold on every transport: framed and gRPC, on the adapter's
// own port and on the shared port, over TCP and a Unix socket.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/same_port.h"
#include "adapters/grpc/grpc_test_util.h"
#include "gtest/gtest.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "server/command_setup.h"
#include "services/auth/shared_secret.h"
#include "services/command/command.frpc.h"
#include "services/command/command_service.h"

namespace framerpc::server {
namespace {

constexpr char kToken[] = "grpc-access-test-token-0123";

class AccessOverGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/frpc-grpc-access-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    command::CommandServiceConfig config;
    config.allowed_programs = {"/bin/echo"};
    config.access.AcceptToken(auth::SharedSecret::FromToken(kToken).value())
        .AcceptUnixUids({::getuid()});
    command_ = command::CommandServiceImpl::Create(std::move(config)).value();
    ASSERT_TRUE(AddCommandService(&server_, command_.get()).ok());
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

  static command::RunRequest Echo() {
    command::RunRequest request;
    request.mutable_command()->add_argv("/bin/echo");
    request.mutable_command()->add_argv("ran");
    return request;
  }

  grpc::StatusCode GrpcRun(const std::string& target, bool with_token) {
    grpc::GenericStub stub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (with_token) context.AddMetadata("authorization", auth::AuthorizationValue(kToken));
    std::string response;
    grpc::Status status = grpc_test::UnaryCall(&stub, &context,
                                               "/framerpc.command.CommandService/Run",
                                               Echo().SerializeAsString(), &response);
    command::RunResponse reply;
    if (status.ok()) {
      EXPECT_TRUE(reply.ParseFromString(response));
      EXPECT_EQ(reply.stdout(), "ran\n");
    }
    return status.error_code();
  }

  absl::StatusCode FramedRun(const std::string& address) {
    auto channel = Channel::Create(address);
    EXPECT_TRUE(channel.ok());
    command::CommandService::Stub stub(channel->get());
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    command::RunResponse reply;
    return stub.Run(&context, Echo(), &reply).code();
  }

  std::string dir_;
  std::unique_ptr<command::CommandServiceImpl> command_;
  Server server_;
  std::unique_ptr<GrpcAdapter> adapter_;
};

TEST_F(AccessOverGrpcTest, GrpcOnItsOwnPortNeedsTheToken) {
  const std::string target = absl::StrCat("127.0.0.1:", adapter_->listen_port());
  EXPECT_EQ(GrpcRun(target, /*with_token=*/false), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GrpcRun(target, /*with_token=*/true), grpc::StatusCode::OK);
}

TEST_F(AccessOverGrpcTest, GrpcOnTheSharedTcpPortNeedsTheToken) {
  EXPECT_EQ(GrpcRun(server_.listen_address(0), false), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GrpcRun(server_.listen_address(0), true), grpc::StatusCode::OK);
}

TEST_F(AccessOverGrpcTest, GrpcOnTheSharedUnixSocketIsAdmittedByUid) {
  EXPECT_EQ(GrpcRun(server_.listen_address(1), false), grpc::StatusCode::OK);
}

TEST_F(AccessOverGrpcTest, FramedAsWell) {
  EXPECT_EQ(FramedRun(server_.listen_address(0)), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(FramedRun(server_.listen_address(1)), absl::StatusCode::kOk);
}

}  // namespace
}  // namespace framerpc::server
