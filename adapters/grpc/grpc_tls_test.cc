// TLS on the gRPC adapter's own port (gRPC's SslServerCredentials, from the framed transport's
// TlsServerOptions): a grpc++ client with the CA and a client certificate is served, and its
// handler sees the certificate's SPIFFE ID; without a client certificate, or in plaintext, the
// call fails. Certificates are made at run time.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/grpc_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/server.h"
#include "transport/tls/test_pki.h"

namespace framerpc {
namespace {

using ::testing::HasSubstr;

class WhoCalls final : public echo::EchoService::Service {
 public:
  absl::Status Say(ServerContext* context, const echo::SayRequest&,
                   echo::SayReply* reply) override {
    reply->set_text(context->peer_identity().DebugString());
    return absl::OkStatus();
  }
  absl::Status Bytes(ServerContext*, const echo::BytesRequest&, echo::BytesReply*) override {
    return absl::OkStatus();
  }
};

std::string Read(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

class GrpcTlsTest : public ::testing::Test {
 protected:
  GrpcTlsTest() : dir_(TestPkiDir("grpc_tls")), ca_(dir_, "grpc") {
    TestCertSpec server;
    server.dns = {"localhost"};
    server_cert_ = ca_.Issue("server", server);
    TestCertSpec client;
    client.uris = {"spiffe://example.org/ns/prod/sa/grpc-client"};
    client_cert_ = ca_.Issue("client", client);
  }

  void SetUp() override {
    ASSERT_TRUE(server_.AddService(&who_).ok());
    GrpcAdapterOptions options;
    options.listen_address = "127.0.0.1:0";
    TlsServerOptions tls;
    tls.cert_chain_file = server_cert_.cert;
    tls.private_key_file = server_cert_.key;
    tls.client_ca_file = ca_.cert_file();
    tls.client_auth = ClientAuth::kRequire;
    options.tls = tls;
    adapter_ = std::make_unique<GrpcAdapter>(server_.dispatcher(), options);
    absl::Status started = adapter_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  void TearDown() override { adapter_->Shutdown(absl::Seconds(5)); }

  grpc::Status Say(std::shared_ptr<grpc::ChannelCredentials> credentials, std::string* text) {
    // An address, not "localhost": resolving a name goes through c-ares, which leaks a few bytes
    // that LeakSanitizer reports. The certificate's name is checked all the same.
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    grpc::GenericStub stub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", adapter_->listen_port()), std::move(credentials), arguments));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::string response;
    grpc::Status status = grpc_test::UnaryCall(&stub, &context, "/framerpc.echo.EchoService/Say",
                                               "", &response);
    echo::SayReply reply;
    if (status.ok() && reply.ParseFromString(response)) *text = reply.text();
    return status;
  }

  std::string dir_;
  TestCa ca_;
  TestCertFiles server_cert_;
  TestCertFiles client_cert_;
  WhoCalls who_;
  Server server_;
  std::unique_ptr<GrpcAdapter> adapter_;
};

TEST_F(GrpcTlsTest, AClientCertificatesIdentityReachesTheHandler) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Read(ca_.cert_file());
  options.pem_private_key = Read(client_cert_.key);
  options.pem_cert_chain = Read(client_cert_.cert);
  std::string text;
  grpc::Status status = Say(grpc::SslCredentials(options), &text);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(text, HasSubstr("tls spiffe://example.org/ns/prod/sa/grpc-client"));
}

TEST_F(GrpcTlsTest, NoClientCertificateOrPlaintextIsRefused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Read(ca_.cert_file());
  std::string text;
  EXPECT_EQ(Say(grpc::SslCredentials(options), &text).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Say(grpc::InsecureChannelCredentials(), &text).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(GrpcTlsConfigTest, AMissingFileIsNamed) {
  Server server;
  GrpcAdapterOptions options;
  TlsServerOptions tls;
  tls.cert_chain_file = "/nonexistent/cert.pem";
  tls.private_key_file = "/nonexistent/key.pem";
  options.tls = tls;
  GrpcAdapter adapter(server.dispatcher(), options);
  absl::Status status = adapter.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("/nonexistent/cert.pem"));
}

}  // namespace
}  // namespace framerpc
