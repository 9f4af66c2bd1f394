// framerpc_cli's commands run in-process against a real server listening on 127.0.0.1:0.
#include "cli/cli.h"

#include <sys/stat.h>
#include <cstdlib>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/call_context.h"
#include "cli/known_services.h"
#include "cli/method_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/echo.pb.h"
#include "rpc/server.h"
#include "rpc/service.h"
#include "services/echo/echo_service.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"

namespace framerpc::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

// Serves /framerpc.echo.EchoService/Say, replying with the call's metadata as "k=v;k=v", so that
// tests can see what the CLI sent.
class MetadataEchoService final : public Service {
 public:
  MetadataEchoService() { AddMethod("/framerpc.echo.EchoService/Say", std::make_unique<Say>()); }
  const google::protobuf::ServiceDescriptor* descriptor() const override {
    return echo::SayRequest::descriptor()->file()->service(0);
  }

 private:
  class Say final : public MethodHandler {
   public:
    std::unique_ptr<google::protobuf::Message> NewRequest() const override {
      return std::make_unique<echo::SayRequest>();
    }
    std::unique_ptr<google::protobuf::Message> NewResponse() const override {
      return std::make_unique<echo::SayReply>();
    }
    absl::Status Invoke(ServerContext* context, const google::protobuf::Message& request,
                        google::protobuf::Message* response) const override {
      static_cast<echo::SayReply*>(response)->set_text(
          absl::StrJoin(context->client_metadata(), ";", absl::PairFormatter("=")));
      return absl::OkStatus();
    }
  };
};

// A Unix socket path in a directory that does not exist: connecting fails with ENOENT. (Paths under
// TEST_TMPDIR can exceed the 107-byte limit of sun_path.)
constexpr char kNoServer[] = "unix:/nonexistent-framerpc-cli-test/sock";

ServerOptions SmallServer() {
  ServerOptions options;
  options.io_threads = 1;
  options.worker_threads = 1;
  return options;
}

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

class CliTest : public ::testing::Test {
 protected:
  // Starts `service` on a fresh port and points options_ at it.
  void Serve(Service* service) {
    ASSERT_TRUE(server_.AddService(service).ok());
    ASSERT_TRUE(server_.AddListener("127.0.0.1:0").ok());
    ASSERT_TRUE(server_.Start().ok());
    options_.address = server_.listen_address(0);
  }

  int Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    std::ostringstream out;
    std::ostringstream err;
    const int code = RunCli(options_, registry_, args, in, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  // Services must outlive the server, so they are declared first.
  echo::EchoServiceImpl echo_;
  MetadataEchoService metadata_echo_;
  Server server_{SmallServer()};
  const MethodRegistry registry_{KnownServiceFiles()};
  CliOptions options_;
  std::string out_;
  std::string err_;
};

TEST_F(CliTest, CallPrintsTheJsonReply) {
  Serve(&echo_);
  options_.json.pretty = false;
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say", R"({"text":"hi","uppercase":true})"}), 0)
      << err_;
  EXPECT_EQ(out_, "{\"text\":\"HI\"}\n");
  EXPECT_EQ(err_, "");
}

// -cacert, -insecure and plaintext against a TLS-only listener, as framerpc_cli sets them.
TEST_F(CliTest, CallsOverTls) {
  const std::string dir = TestPkiDir("cli_tls");
  TestCa ca(dir, "cli");
  TestCa other(dir, "other");
  TestCertSpec spec;
  spec.ips = {"127.0.0.1"};
  const TestCertFiles cert = ca.Issue("server", spec);
  TlsServerOptions tls;
  tls.cert_chain_file = cert.cert;
  tls.private_key_file = cert.key;
  server_.SetTlsContext(TlsContext::NewServer(tls).value());
  ASSERT_TRUE(server_.AddService(&echo_).ok());
  ASSERT_TRUE(server_.AddListener("127.0.0.1:0", Server::ListenerTls::kRequired).ok());
  ASSERT_TRUE(server_.Start().ok());
  options_.address = server_.listen_address(0);
  options_.json.pretty = false;
  const std::vector<std::string> say = {"call", "/framerpc.echo.EchoService/Say",
                                        R"({"text":"tls"})"};

  options_.tls.emplace();
  options_.tls->ca_file = ca.cert_file();
  EXPECT_EQ(Run(say), 0) << err_;
  EXPECT_EQ(out_, "{\"text\":\"tls\"}\n");

  options_.tls->ca_file = other.cert_file();
  EXPECT_EQ(Run(say), 64 + 14);
  EXPECT_THAT(err_, HasSubstr("unknown CA"));

  options_.tls = TlsClientOptions();
  options_.tls->insecure_skip_verify = true;
  EXPECT_EQ(Run(say), 0) << err_;

  options_.tls.reset();
  EXPECT_EQ(Run(say), 64 + 9);  // FAILED_PRECONDITION
  EXPECT_THAT(err_, HasSubstr("this listener accepts TLS only"));
}

TEST_F(CliTest, CallReadsTheRequestFromStdin) {
  Serve(&echo_);
  options_.json.pretty = false;
  EXPECT_EQ(Run({"call", "framerpc.echo.EchoService.Say", "-"}, R"({"text":"a"})"), 0) << err_;
  EXPECT_EQ(out_, "{\"text\":\"a\"}\n");
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say"}, R"({"text":"b"})"), 0) << err_;
  EXPECT_EQ(out_, "{\"text\":\"b\"}\n");
}

TEST_F(CliTest, CallSendsAndReceivesAttachments) {
  Serve(&echo_);
  const std::string in_path = TempPath("attachment_in");
  const std::string out_path = TempPath("attachment_out");
  const std::string bytes("raw\0bytes\n", 10);
  std::ofstream(in_path, std::ios::binary) << bytes;
  options_.json.pretty = false;
  options_.attachment_file = in_path;
  options_.attachment_out = out_path;
  options_.print_attachment = true;

  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Bytes", "{}"}), 0) << err_;
  EXPECT_EQ(out_, "{\"size\":\"10\"}\n" + bytes);
  EXPECT_EQ(ReadFile(out_path), bytes);
}

TEST_F(CliTest, UnshownAttachmentIsMentioned) {
  Serve(&echo_);
  const std::string in_path = TempPath("attachment_unshown");
  std::ofstream(in_path, std::ios::binary) << "12345";
  options_.attachment_file = in_path;
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Bytes", "{}"}), 0) << err_;
  EXPECT_THAT(err_, HasSubstr("response attachment of 5 bytes not shown"));
}

TEST_F(CliTest, CallSendsMetadata) {
  Serve(&metadata_echo_);
  options_.json.pretty = false;
  options_.metadata = {"a=1,b=2", "a=3"};
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say", "{}"}), 0) << err_;
  EXPECT_EQ(out_, "{\"text\":\"a=1;b=2;a=3\"}\n");
}

TEST_F(CliTest, ElapsedDeadlineIsDeadlineExceeded) {
  Serve(&echo_);
  options_.timeout = absl::Nanoseconds(1);
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say", "{}"}), 64 + 4);
  EXPECT_THAT(err_, StartsWith("ERROR: DEADLINE_EXCEEDED: "));
  EXPECT_EQ(out_, "");
}

TEST_F(CliTest, NoServerIsUnavailable) {
  options_.address = kNoServer;
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say", "{}"}), 64 + 14);
  EXPECT_THAT(err_, StartsWith("ERROR: UNAVAILABLE: "));
}

TEST_F(CliTest, LocalErrorsFailBeforeConnecting) {
  // No server: each of these must fail on its own, not with UNAVAILABLE.
  // A method not built in is looked up through the server's reflection: without an address, or
  // with reflection off, it is unknown at once.
  options_.address = "";
  EXPECT_EQ(Run({"call", "/x.Y/Z", "{}"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: NOT_FOUND: unknown method /x.Y/Z (known: "));
  options_.address = kNoServer;
  options_.reflection = Reflection::kNever;
  EXPECT_EQ(Run({"call", "/x.Y/Z", "{}"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: NOT_FOUND: unknown method /x.Y/Z (known: "));
  options_.reflection = Reflection::kAuto;

  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say", "{\"text\":"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: INVALID_ARGUMENT: invalid JSON for "));

  options_.metadata = {"novalue"};
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say", "{}"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: INVALID_ARGUMENT: bad --metadata entry"));

  options_.metadata = {};
  options_.attachment_file = TempPath("no_such_file");
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Bytes", "{}"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: NOT_FOUND: cannot open "));

  options_.address = "";
  EXPECT_EQ(Run({"call", "/framerpc.echo.EchoService/Say", "{}"}), 1);
  EXPECT_THAT(err_, HasSubstr("--address"));
}

TEST_F(CliTest, EveryCommandRefusesANonPositiveTimeoutBeforeConnecting) {
  options_.address = kNoServer;
  const std::string local = TempPath("local_file");
  std::ofstream(local) << "x";
  const std::vector<std::vector<std::string>> commands = {
      {"call", "/framerpc.echo.EchoService/Say", "{}"},
      {"exec", "/bin/true"},
      {"download", "remote", TempPath("downloaded")},
      {"upload", local, "remote"},
  };
  for (const absl::Duration timeout : {absl::ZeroDuration(), absl::Seconds(-1)}) {
    options_.timeout = timeout;
    for (const std::vector<std::string>& command : commands) {
      // exec exits 255 on its own failures, as ssh does, to keep the remote codes apart.
      EXPECT_EQ(Run(command), command[0] == "exec" ? 255 : 1) << command[0];
      EXPECT_THAT(err_, HasSubstr(absl::StrCat("INVALID_ARGUMENT: --timeout must be positive, not ",
                                               absl::FormatDuration(timeout))))
          << command[0] << ": " << err_;
    }
  }
}

TEST(PrepareContextTest, AddsMetadataAndTheTokenButNoDeadline) {
  const char* tmp = ::getenv("TEST_TMPDIR");
  const std::string token_file = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/cli_token");
  std::ofstream(token_file) << "a-token-of-sixteen-or-more\n";
  ASSERT_EQ(::chmod(token_file.c_str(), 0600), 0);
  CliOptions options;
  options.metadata = {"k1=v1,k2=v2"};
  options.auth_token_file = token_file;
  options.timeout = absl::Seconds(5);
  ClientContext context;
  const absl::Status status = PrepareContext(options, &context);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(context.metadata(),
              ElementsAre(Pair("k1", "v1"), Pair("k2", "v2"),
                          Pair("authorization", "Bearer a-token-of-sixteen-or-more")));
  EXPECT_EQ(context.deadline(), absl::InfiniteFuture());  // the caller's, when the call starts

  options.auth_token_file = absl::StrCat(token_file, ".missing");
  ClientContext missing;
  EXPECT_EQ(PrepareContext(options, &missing).code(), absl::StatusCode::kNotFound);
}

TEST_F(CliTest, BadCommandLines) {
  EXPECT_EQ(Run({}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: INVALID_ARGUMENT: no command\nusage:"));
  EXPECT_EQ(Run({"frobnicate"}), 1);
  EXPECT_THAT(err_, StartsWith("ERROR: INVALID_ARGUMENT: unknown command frobnicate"));
  EXPECT_EQ(Run({"call"}), 1);
  EXPECT_EQ(Run({"describe"}), 1);
  EXPECT_EQ(Run({"list", "no.Such"}), 1);
}

TEST_F(CliTest, ListShowsMethodsWithTypes) {
  EXPECT_EQ(Run({"list"}), 0) << err_;
  EXPECT_EQ(out_,
            "framerpc.echo.EchoService\n"
            "  /framerpc.echo.EchoService/Say(framerpc.echo.SayRequest) returns "
            "(framerpc.echo.SayReply)\n"
            "  /framerpc.echo.EchoService/Bytes(framerpc.echo.BytesRequest) returns "
            "(framerpc.echo.BytesReply)\n"
            "framerpc.command.CommandService\n"
            "  /framerpc.command.CommandService/Run(framerpc.command.RunRequest) returns "
            "(framerpc.command.RunResponse)\n"
            "  /framerpc.command.CommandService/Exec(stream framerpc.command.ExecRequest) "
            "returns (stream framerpc.command.ExecResponse)\n");
}

TEST_F(CliTest, DescribePrintsDebugString) {
  EXPECT_EQ(Run({"describe", "framerpc.echo.SayRequest"}), 0) << err_;
  EXPECT_EQ(out_, echo::SayRequest::descriptor()->DebugString());
  EXPECT_EQ(Run({"describe", "framerpc.echo.Nope"}), 1);
}

TEST(ExitCodeTest, LocalFailuresAreOneAndTheServersAre64PlusTheCode) {
  EXPECT_EQ(ExitCode(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCode(RpcFailure(absl::OkStatus())), 0);
  EXPECT_EQ(ExitCode(absl::InvalidArgumentError("bad flag")), 1);
  EXPECT_EQ(ExitCode(absl::NotFoundError("no such local file")), 1);
  EXPECT_EQ(ExitCode(RpcFailure(absl::UnavailableError(""))), 78);
  EXPECT_EQ(ExitCode(RpcFailure(absl::UnauthenticatedError(""))), 80);
  EXPECT_EQ(ExitCode(RpcFailure(absl::CancelledError(""))), 65);
  EXPECT_TRUE(IsRpcFailure(RpcFailure(absl::InternalError(""))));
  EXPECT_FALSE(IsRpcFailure(absl::InternalError("")));
}

}  // namespace
}  // namespace framerpc::cli
