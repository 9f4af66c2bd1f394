// framerpc_cli --grpc against the gRPC adapter's port (adapters/grpc) of a real server: a service
// it does not have built in (cli/testdata/counter.proto) listed, described and called through
// reflection over gRPC, every method kind; -H, -max-time and the TLS flags as gRPC sees them;
// exit codes; and -v's response headers and trailers over both protocols.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/grpc/grpc_adapter.h"
#include "services/health/health_service.h"
#include "services/reflection/reflection_service.h"
#include "cli/cli.h"
#include "cli/known_services.h"
#include "cli/testdata/counter_cli_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "transport/tls/test_pki.h"

namespace framerpc::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class GrpcCliTest : public CounterCliFixture {
 protected:
  ~GrpcCliTest() override {
    if (adapter_ != nullptr) adapter_->Shutdown(absl::Seconds(5));
  }

  // The Counter service, health and (unless `with_reflection` is false) reflection, on a framed
  // port and on the gRPC adapter's own port, which options_ points at.
  void Serve(bool with_reflection = true, std::optional<TlsServerOptions> tls = std::nullopt) {
    AddServices(with_reflection);
    GrpcAdapterOptions grpc;
    grpc.listen_address = "127.0.0.1:0";
    grpc.tls = std::move(tls);
    adapter_ = std::make_unique<GrpcAdapter>(server_->dispatcher(), grpc);
    const absl::Status started = adapter_->Start();
    ASSERT_TRUE(started.ok()) << started;
    StartServer();
    options_.address = absl::StrCat("127.0.0.1:", adapter_->listen_port());
    options_.grpc = true;
  }

  std::unique_ptr<GrpcAdapter> adapter_;
};

TEST_F(GrpcCliTest, ListAndDescribeThroughReflectionOverGrpc) {
  Serve();
  ASSERT_EQ(Run({"list"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("framerpc.clitest.Counter\n"
                              "  /framerpc.clitest.Counter/Double(framerpc.clitest.Number) returns "
                              "(framerpc.clitest.Number)\n"));
  EXPECT_THAT(out_, HasSubstr("grpc.health.v1.Health\n"));
  ASSERT_EQ(Run({"describe", "framerpc.clitest.Number"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("message Number {\n  int64 value = 1;\n  string note = 2;\n}"));
  EXPECT_EQ(Run({"describe", "framerpc.clitest.Nope"}), 1);
}

TEST_F(GrpcCliTest, EveryMethodKindOverGrpc) {
  Serve();
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", R"({"value": 21})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"42\"}\n");
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/CountTo", R"({"value": 3})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"1\"}\n{\"value\":\"2\"}\n{\"value\":\"3\"}\n");
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Sum"}, "{\"value\": 1}\n{\"value\": 2}{\"value\":3}"),
            0)
      << err_;
  EXPECT_EQ(out_, "{\"value\":\"6\"}\n");
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Negate", R"({"value":5}{"value":-6})"}), 0)
      << err_;
  EXPECT_EQ(out_, "{\"value\":\"-5\"}\n{\"value\":\"6\"}\n");
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Negate"}, ""), 0) << err_;
  EXPECT_EQ(out_, "");
  // A built-in method's descriptor with the gRPC protocol: health is served too.
  ASSERT_EQ(Run({"call", "/grpc.health.v1.Health/Check", "{}"}), 0) << err_;
  EXPECT_EQ(out_, "{\"status\":\"SERVING\"}\n");
}

TEST_F(GrpcCliTest, HeadersDeadlineAndExitCodes) {
  Serve();
  options_.headers = {"X-Note: from -H"};
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", R"({"value": 1})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"2\",\"note\":\"from -H\"}\n");
  options_.headers = {};
  // A deadline that has passed before the call starts: DEADLINE_EXCEEDED, 64 + 4.
  options_.timeout = absl::Nanoseconds(1);
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", "{}"}), 64 + 4) << err_;
  EXPECT_THAT(err_, StartsWith("ERROR: DEADLINE_EXCEEDED: "));
  options_.timeout = absl::InfiniteDuration();
  EXPECT_EQ(Run({"call", "/grpc.health.v1.Health/Check", R"({"service": "no.Such"})"}), 64 + 5);
  EXPECT_THAT(err_, StartsWith("ERROR: NOT_FOUND: "));
  // Local errors: 1, before anything is sent.
  options_.attachment_file = "/dev/null";
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", "{}"}), 1);
  EXPECT_THAT(err_, HasSubstr("--attachment_file needs the framed protocol"));
  options_.attachment_file = "";
  EXPECT_EQ(Run({"health", options_.address}), 1);
  EXPECT_THAT(err_, HasSubstr("--grpc works with call, list and describe, not health"));
  // Nothing listening: UNAVAILABLE, 64 + 14.
  adapter_->Shutdown();
  EXPECT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", "{}"}), 64 + 14) << err_;
}

TEST_F(GrpcCliTest, WithoutReflectionTheServerSaysSo) {
  Serve(/*with_reflection=*/false);
  EXPECT_EQ(Run({"list"}), 64 + 12);
  EXPECT_THAT(err_, HasSubstr("has no reflection service"));
  options_.proto_files = {"cli/testdata/counter.proto"};
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Double", R"({"value": 4})"}), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"8\"}\n");
}

// -cacert, -servername, -insecure and -cert/-key mapped to gRPC's credentials.
TEST_F(GrpcCliTest, TlsFlagsOverGrpc) {
  const std::string dir = TestPkiDir("grpc_cli_tls");
  TestCa ca(dir, "cli");
  TestCa other(dir, "other");
  TestCertSpec spec;
  spec.dns = {"counter.test"};
  const TestCertFiles cert = ca.Issue("server", spec);
  const TestCertFiles client = ca.Issue("client", TestCertSpec());
  TlsServerOptions tls;
  tls.cert_chain_file = cert.cert;
  tls.private_key_file = cert.key;
  Serve(/*with_reflection=*/true, tls);
  const std::vector<std::string> twice = {"call", "/framerpc.clitest.Counter/Double",
                                          R"({"value": 3})"};

  options_.tls.emplace();
  options_.tls->ca_file = ca.cert_file();
  options_.tls->server_name = "counter.test";
  ASSERT_EQ(Run(twice), 0) << err_;
  EXPECT_EQ(out_, "{\"value\":\"6\"}\n");
  ASSERT_EQ(Run({"list", "framerpc.clitest.Counter"}), 0) << err_;

  options_.tls->server_name = "wrong.test";  // the certificate does not name it
  EXPECT_EQ(Run(twice), 64 + 14);
  options_.tls->server_name = "counter.test";
  options_.tls->ca_file = other.cert_file();  // not the CA that signed it
  EXPECT_EQ(Run(twice), 64 + 14);

  options_.tls = TlsClientOptions();
  options_.tls->insecure_skip_verify = true;
  options_.tls->cert_chain_file = client.cert;
  options_.tls->private_key_file = client.key;
  ASSERT_EQ(Run(twice), 0) << err_;

  options_.tls->ca_file = dir + "/missing.pem";
  options_.tls->insecure_skip_verify = false;
  EXPECT_EQ(Run(twice), 1);
  EXPECT_THAT(err_, HasSubstr("-cacert " + dir + "/missing.pem: cannot be read"));

  options_.tls.reset();  // plaintext to a TLS port
  EXPECT_EQ(Run(twice), 64 + 14);
}

TEST_F(GrpcCliTest, VerbosePrintsResponseHeadersAndTrailers) {
  Serve();
  options_.verbose = true;
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/CountTo", R"({"value": 2})"}), 0) << err_;
  EXPECT_THAT(out_, StartsWith("\nResponse headers received:\n"));
  EXPECT_THAT(out_, HasSubstr("\nResponse contents:\n{\"value\":\"1\"}\n"
                              "\nResponse contents:\n{\"value\":\"2\"}\n"
                              "\nResponse trailers received:\n"));
  EXPECT_THAT(out_, HasSubstr("Sent 1 request and received 2 responses\n"));
  EXPECT_THAT(out_, ::testing::Not(HasSubstr("framed protocol")));

  // The framed protocol's responses carry no metadata, and -v says so.
  options_.grpc = false;
  options_.address = server_->listen_address(0);
  ASSERT_EQ(Run({"call", "/framerpc.clitest.Counter/Sum", R"({"value": 2}{"value": 3})"}), 0)
      << err_;
  EXPECT_EQ(out_,
            "\nResponse headers received:\n"
            "(none: the framed protocol's responses carry no metadata)\n"
            "\nResponse contents:\n{\"value\":\"5\"}\n"
            "\nResponse trailers received:\n"
            "(none: the framed protocol's responses carry no metadata)\n"
            "Sent 2 requests and received 1 response\n");
}

// A plain gRPC server (not framerpc) whose every method sends its request back, with an initial
// and a trailing metadata entry: what -v prints of them.
class MetadataEcho final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(grpc::GenericCallbackServerContext* context) {
        context->AddInitialMetadata("x-header", "sent first");
        context->AddTrailingMetadata("x-trailer", "sent last");
        StartRead(&buffer_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
          return;
        }
        StartWriteAndFinish(&buffer_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer buffer_;
    };
    return new Reactor(context);
  }
};

TEST(GrpcCliVerboseTest, PrintsTheServersHeadersAndTrailers) {
  MetadataEcho service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  CliOptions options;
  options.address = absl::StrCat("127.0.0.1:", port);
  options.grpc = true;
  options.verbose = true;
  options.json.pretty = false;
  options.proto_files = {"cli/testdata/counter.proto"};
  const MethodRegistry registry(KnownServiceFiles());
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(RunCli(options, registry, {"call", "/framerpc.clitest.Counter/Double", R"({"value": 7})"},
                   in, out, err),
            0)
      << err.str();
  EXPECT_EQ(out.str(),
            "\nResponse headers received:\nx-header: sent first\n"
            "\nResponse contents:\n{\"value\":\"7\"}\n"
            "\nResponse trailers received:\nx-trailer: sent last\n"
            "Sent 1 request and received 1 response\n");
  server->Shutdown();
}

}  // namespace
}  // namespace framerpc::cli
