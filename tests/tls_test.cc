// TLS end to end (issue 14): a real Server and Channel over TCP and a Unix socket, with
// certificates made at run time. Calls of every kind, the peer identity a handler sees, each
// refusal with its error on both sides (the client's status, the server's refusal log and close
// counts), plaintext against TLS both ways, the shared port, a stalled handshake and garbage
// after a ClientHello.
#include <sys/socket.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "tests/raw_peer.h"
#include "tests/stream_service.h"
#include "tests/test_util.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"

namespace framerpc {
namespace {

using ::testing::HasSubstr;
using namespace ::framerpc::test;  // NOLINT: the stream test service and its messages
using namespace ::framerpc::echo;  // NOLINT

// Say("whoami") answers with the identity the transport established; anything else is echoed.
class WhoAmI final : public EchoService::Service {
 public:
  absl::Status Say(ServerContext* context, const SayRequest& request, SayReply* reply) override {
    reply->set_text(request.text() == "whoami" ? context->peer_identity().DebugString()
                                               : request.text());
    return absl::OkStatus();
  }
  absl::Status Bytes(ServerContext* context, const BytesRequest&, BytesReply* reply) override {
    reply->set_size(context->request_attachment().size());
    *context->mutable_response_attachment() = context->TakeRequestAttachment();
    return absl::OkStatus();
  }
};

// Remembers every refusal, and lets a test wait for one of a kind.
class Refusals final : public RefusalObserver {
 public:
  void OnRefusal(RefusalKind kind, absl::string_view peer, absl::string_view reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.emplace_back(kind, std::string(reason));
    cv_.notify_all();
  }
  // The reason of the first refusal of `kind`, waiting up to 30 s for one.
  std::string WaitFor(RefusalKind kind) {
    std::unique_lock<std::mutex> lock(mu_);
    std::string found = "<none>";
    cv_.wait_until(lock, ToChronoDeadline(absl::Now() + absl::Seconds(30)), [&] {
      for (const auto& [k, reason] : seen_) {
        if (k == kind) {
          found = reason;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<RefusalKind, std::string>> seen_;  // guarded by mu_
};

std::string Text(const absl::Status& status) { return status.ToString(); }

// Reads (an alert, say) until the server closes the connection: true on EOF or a reset, false if
// RawPeer's 30 s receive timeout ran out first.
bool ServerCloses(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    return n == 0 || errno == ECONNRESET;
  }
}

// (a Unix socket rather than TCP, blocking calls caller-driven rather than multiplexed)
class TlsTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  static bool Unix() { return std::get<0>(GetParam()); }
  static bool SyncCalls() { return std::get<1>(GetParam()); }

  TlsTest()
      : dir_(TestPkiDir(absl::StrReplaceAll(
            ::testing::UnitTest::GetInstance()->current_test_info()->name(), {{"/", "_"}}))),
        ca_(dir_, "main"),
        other_ca_(dir_, "other") {
    TestCertSpec spec;
    spec.common_name = "server";
    spec.dns = {"localhost", "server.test"};
    spec.ips = {"127.0.0.1"};
    server_cert_ = ca_.Issue("server", spec);
    TestCertSpec client;
    client.common_name = "client-a";
    client.uris = {"spiffe://example.org/ns/prod/sa/client-a"};
    client_cert_ = ca_.Issue("client", client);
  }

  void StartServer(Server::ListenerTls tls, ClientAuth auth = ClientAuth::kNone,
                   ServerOptions options = {}) {
    options.io_threads = 2;
    options.refusals = &refusals_;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddService(&who_));
    FRPC_ASSERT_OK(server_->AddService(&streams_));
    address_ = Unix() ? absl::StrCat("unix:", test::MakeTempDir(), "/s.sock") : "127.0.0.1:0";
    FRPC_ASSERT_OK(server_->AddListener(address_, tls));
    TlsServerOptions server_tls;
    server_tls.cert_chain_file = server_cert_.cert;
    server_tls.private_key_file = server_cert_.key;
    server_tls.client_auth = auth;
    server_tls.client_ca_file = ca_.cert_file();
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewServer(server_tls);
    FRPC_ASSERT_OK(context.status());
    server_->SetTlsContext(*context);
    FRPC_ASSERT_OK(server_->Start());
    address_ = server_->listen_address(0);
  }

  TlsClientOptions ClientTls() {
    TlsClientOptions tls;
    tls.ca_file = ca_.cert_file();
    if (Unix()) tls.server_name = "server.test";  // a Unix socket has no host
    return tls;
  }
  TlsClientOptions MutualClientTls() {
    TlsClientOptions tls = ClientTls();
    tls.cert_chain_file = client_cert_.cert;
    tls.private_key_file = client_cert_.key;
    return tls;
  }

  std::unique_ptr<Channel> Connect(std::optional<TlsClientOptions> tls) {
    ChannelOptions options;
    options.tls = std::move(tls);
    options.max_sync_connections = SyncCalls() ? 4 : 0;
    absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Create(address_, options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *std::move(channel) : nullptr;
  }

  absl::StatusOr<std::string> Say(Channel* channel, const std::string& text) {
    EchoService::Stub stub(channel);
    ClientContext context;
    context.set_deadline(absl::Now() + absl::Seconds(30));
    SayRequest request;
    request.set_text(text);
    SayReply reply;
    absl::Status status = stub.Say(&context, request, &reply);
    if (!status.ok()) return status;
    return reply.text();
  }

  // A server certificate of its own for a refusal test.
  void UseServerCert(TestCertFiles files) { server_cert_ = std::move(files); }

  std::string dir_;
  TestCa ca_;
  TestCa other_ca_;
  TestCertFiles server_cert_;
  TestCertFiles client_cert_;
  Refusals refusals_;
  WhoAmI who_;
  StreamTestServiceImpl streams_;
  std::unique_ptr<Server> server_;
  std::string address_;
};

INSTANTIATE_TEST_SUITE_P(Transports, TlsTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return absl::StrCat(std::get<0>(info.param) ? "Unix" : "Tcp",
                                               std::get<1>(info.param) ? "Sync" : "Multiplexed");
                         });

Chunk MakeChunk(uint64_t seq, size_t bytes = 16) {
  Chunk chunk;
  chunk.set_seq(seq);
  chunk.set_data(std::string(bytes, static_cast<char>('a' + seq % 26)));
  return chunk;
}

TEST_P(TlsTest, UnaryAndEveryStreamKind) {
  StartServer(Server::ListenerTls::kRequired);
  std::unique_ptr<Channel> channel = Connect(ClientTls());
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(*Say(channel.get(), "hello"), "hello");
  const std::string big(4 << 20, 'x');  // many records, read into place
  EXPECT_TRUE(*Say(channel.get(), big) == big);
  EXPECT_THAT(*Say(channel.get(), "whoami"), HasSubstr("tls"));

  StreamTestService::Stub stub(channel.get());
  {
    ClientContext context;
    CountRequest request;
    request.set_count(1000);
    request.set_chunk_bytes(100);
    auto reader = stub.Count(&context, request);
    Chunk chunk;
    uint64_t read = 0;
    while (reader->Read(&chunk)) EXPECT_EQ(chunk.seq(), read++);
    EXPECT_EQ(read, 1000u);
    FRPC_EXPECT_OK(reader->Finish());
  }
  {
    // Large messages written by the handler's own thread: the direct path, gathered records the
    // socket does not take at once, and the loop finishing them.
    ClientContext context;
    CountRequest request;
    request.set_count(8);
    request.set_chunk_bytes(512 << 10);
    auto reader = stub.Count(&context, request);
    Chunk chunk;
    uint64_t read = 0;
    while (reader->Read(&chunk)) {
      EXPECT_EQ(chunk.seq(), read++);
      EXPECT_EQ(chunk.data().size(), 512u << 10);
    }
    EXPECT_EQ(read, 8u);
    FRPC_EXPECT_OK(reader->Finish());
  }
  {
    ClientContext context;
    SumReply reply;
    auto writer = stub.Sum(&context, &reply);
    for (uint64_t i = 0; i < 500; ++i) ASSERT_TRUE(writer->Write(MakeChunk(i, 64)));
    ASSERT_TRUE(writer->WritesDone());
    FRPC_ASSERT_OK(writer->Finish());
    EXPECT_EQ(reply.count(), 500u);
  }
  {
    ClientContext context;
    auto stream = stub.Echo(&context);
    for (uint64_t i = 0; i < 100; ++i) {
      ASSERT_TRUE(stream->Write(MakeChunk(i), absl::StrCat("attachment ", i)));
      Chunk echoed;
      std::string attachment;
      ASSERT_TRUE(stream->Read(&echoed, &attachment));
      EXPECT_EQ(echoed.seq(), i);
      EXPECT_EQ(attachment, absl::StrCat("attachment ", i));
    }
    ASSERT_TRUE(stream->WritesDone());
    Chunk last;
    ASSERT_TRUE(stream->Read(&last));
    EXPECT_EQ(last.seq(), 100u);
    FRPC_EXPECT_OK(stream->Finish());
  }
}

// Request attachments around the size from which a blocking call sends them from the caller's
// buffer behind the frame's head (16 KiB), and one of many records: each arrives whole.
TEST_P(TlsTest, RequestAttachmentsOfEverySizeArriveWhole) {
  StartServer(Server::ListenerTls::kRequired);
  std::unique_ptr<Channel> channel = Connect(ClientTls());
  ASSERT_NE(channel, nullptr);
  EchoService::Stub stub(channel.get());
  for (const size_t size : {size_t{16383}, size_t{16384}, size_t{4} << 20}) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 13 + size);
    ClientContext context;
    context.set_timeout(absl::Seconds(30));
    context.set_request_attachment(data);
    BytesReply reply;
    const absl::Status status = stub.Bytes(&context, BytesRequest(), &reply);
    ASSERT_TRUE(status.ok()) << size << ": " << status;
    EXPECT_EQ(reply.size(), size);
    EXPECT_TRUE(context.response_attachment() == data) << size;
  }
}

TEST_P(TlsTest, HandlerSeesTheVerifiedClientIdentity) {
  StartServer(Server::ListenerTls::kRequired, ClientAuth::kRequire);
  std::unique_ptr<Channel> channel = Connect(MutualClientTls());
  absl::StatusOr<std::string> who = Say(channel.get(), "whoami");
  FRPC_ASSERT_OK(who.status());
  EXPECT_THAT(*who, HasSubstr("tls spiffe://example.org/ns/prod/sa/client-a"));
  // The operator's /connections page (admin/) shows it too: it lists Server::Connections().
  const std::vector<ConnectionInfo> connections = server_->Connections();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_TRUE(connections[0].identity.tls);
  EXPECT_THAT(connections[0].identity.tls_uri_sans,
              ::testing::ElementsAre("spiffe://example.org/ns/prod/sa/client-a"));
  EXPECT_THAT(connections[0].identity.DebugString(),
              HasSubstr("tls spiffe://example.org/ns/prod/sa/client-a"));
}

TEST_P(TlsTest, UnknownCaIsRefusedOnBothSides) {
  StartServer(Server::ListenerTls::kRequired);
  TlsClientOptions tls = ClientTls();
  tls.ca_file = other_ca_.cert_file();
  absl::Status status = Say(Connect(tls).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Text(status), HasSubstr("TLS handshake with"));
  EXPECT_THAT(Text(status), HasSubstr("unknown CA"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("alert unknown ca"));
}

TEST_P(TlsTest, ExpiredServerCertificateIsRefused) {
  TestCertSpec spec;
  spec.dns = {"localhost", "server.test"};
  spec.ips = {"127.0.0.1"};
  spec.not_before = -absl::Hours(48);
  spec.not_after = -absl::Hours(1);
  UseServerCert(ca_.Issue("expired", spec));
  StartServer(Server::ListenerTls::kRequired);
  absl::Status status = Say(Connect(ClientTls()).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Text(status), HasSubstr("certificate has expired (expired certificate)"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("alert certificate expired"));
}

TEST_P(TlsTest, NotYetValidServerCertificateIsRefused) {
  TestCertSpec spec;
  spec.dns = {"localhost", "server.test"};
  spec.ips = {"127.0.0.1"};
  spec.not_before = absl::Hours(1);
  UseServerCert(ca_.Issue("future", spec));
  StartServer(Server::ListenerTls::kRequired);
  absl::Status status = Say(Connect(ClientTls()).get(), "hi").status();
  EXPECT_THAT(Text(status), HasSubstr("certificate is not yet valid"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("alert bad certificate"));
}

TEST_P(TlsTest, ServerNameMismatchIsRefused) {
  StartServer(Server::ListenerTls::kRequired);
  TlsClientOptions tls = ClientTls();
  tls.server_name = "elsewhere.test";
  absl::Status status = Say(Connect(tls).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Text(status), HasSubstr("hostname mismatch (name mismatch"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("alert bad certificate"));
}

TEST_P(TlsTest, MutualTlsWithoutAClientCertificateIsRefused) {
  StartServer(Server::ListenerTls::kRequired, ClientAuth::kRequire);
  absl::Status status = Say(Connect(ClientTls()).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Text(status), HasSubstr("certificate required"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("peer did not return a certificate"));
  EXPECT_EQ(server_->stats().closed(CloseReason::kTlsFailed), 1u);
}

TEST_P(TlsTest, ClientCertificateFromAnotherCaIsRefused) {
  StartServer(Server::ListenerTls::kRequired, ClientAuth::kRequire);
  TestCertSpec spec;
  spec.uris = {"spiffe://example.org/intruder"};
  TestCertFiles stranger = other_ca_.Issue("stranger", spec);
  TlsClientOptions tls = ClientTls();
  tls.cert_chain_file = stranger.cert;
  tls.private_key_file = stranger.key;
  absl::Status status = Say(Connect(tls).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Text(status), HasSubstr("alert unknown ca"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("unknown CA"));
}

TEST_P(TlsTest, Tls12OfferedToATls13OnlyServerIsRefused) {
  StartServer(Server::ListenerTls::kRequired);
  TlsClientOptions tls = ClientTls();
  tls.min_version = TlsVersion::kTls12;
  tls.max_version = TlsVersion::kTls12;
  absl::Status status = Say(Connect(tls).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Text(status), HasSubstr("alert protocol version"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("unsupported protocol"));
}

TEST_P(TlsTest, PlaintextClientOnATlsOnlyListenerIsToldWhy) {
  StartServer(Server::ListenerTls::kRequired);
  absl::Status status = Say(Connect(std::nullopt).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Text(status), HasSubstr("this listener accepts TLS only"));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("plaintext on a TLS-only listener"));
  EXPECT_EQ(server_->stats().closed(CloseReason::kTlsFailed), 1u);
}

TEST_P(TlsTest, TlsClientOnAPlaintextListenerIsRefused) {
  StartServer(Server::ListenerTls::kOff);
  absl::Status status = Say(Connect(ClientTls()).get(), "hi").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Text(status), HasSubstr("TLS handshake with"));
  EXPECT_THAT(Text(status), HasSubstr("the peer does not speak TLS here"));
  EXPECT_EQ(refusals_.WaitFor(RefusalKind::kGarbage).empty(), false);
}

TEST_P(TlsTest, TheSharedPortServesTlsAndPlaintext) {
  StartServer(Server::ListenerTls::kOptional);
  std::unique_ptr<Channel> tls = Connect(ClientTls());
  std::unique_ptr<Channel> plain = Connect(std::nullopt);
  EXPECT_THAT(*Say(tls.get(), "whoami"), HasSubstr(" tls"));
  EXPECT_THAT(*Say(plain.get(), "whoami"), ::testing::Not(HasSubstr(" tls")));
}

TEST_P(TlsTest, ANewContextServesNewHandshakesWhileOpenConnectionsGoOn) {
  StartServer(Server::ListenerTls::kRequired);
  std::unique_ptr<Channel> before = Connect(ClientTls());
  EXPECT_EQ(*Say(before.get(), "one"), "one");
  // The reload: a certificate from another CA.
  TestCertSpec spec;
  spec.dns = {"localhost", "server.test"};
  spec.ips = {"127.0.0.1"};
  TestCertFiles renewed = other_ca_.Issue("renewed", spec);
  TlsServerOptions options;
  options.cert_chain_file = renewed.cert;
  options.private_key_file = renewed.key;
  server_->SetTlsContext(TlsContext::NewServer(options).value());
  // The open connection goes on with its session.
  EXPECT_EQ(*Say(before.get(), "two"), "two");
  EXPECT_EQ(server_->connection_count(), 1u);
  // New handshakes present the new certificate: trusted by the other CA only.
  TlsClientOptions other = ClientTls();
  other.ca_file = other_ca_.cert_file();
  EXPECT_EQ(*Say(Connect(other).get(), "three"), "three");
  EXPECT_THAT(Text(Say(Connect(ClientTls()).get(), "four").status()), HasSubstr("unknown CA"));
}

TEST_P(TlsTest, AStalledHandshakeIsClosedAfterTheTimeout) {
  ServerOptions options;
  options.timeouts.handshake = absl::Milliseconds(200);
  StartServer(Server::ListenerTls::kRequired, ClientAuth::kNone, options);
  absl::StatusOr<test::RawPeer> peer = test::RawPeer::Connect(address_);
  FRPC_ASSERT_OK(peer.status());
  // The head of a handshake record that promises 512 bytes, and then nothing.
  ASSERT_TRUE(peer->SendBytes(std::string("\x16\x03\x01\x02\x00", 5)));
  EXPECT_TRUE(ServerCloses(peer->fd()));  // the server closes it; no sleep
  EXPECT_EQ(refusals_.WaitFor(RefusalKind::kTimeout), "TLS handshake timeout");
  EXPECT_EQ(server_->stats().closed(CloseReason::kHandshakeTimeout), 1u);
}

TEST_P(TlsTest, GarbageAfterAClientHelloHeaderIsRefusedAndTheServerGoesOn) {
  StartServer(Server::ListenerTls::kRequired);
  absl::StatusOr<test::RawPeer> peer = test::RawPeer::Connect(address_);
  FRPC_ASSERT_OK(peer.status());
  std::string garbage("\x16\x03\x01\x00\x40", 5);
  garbage.append(64, '\x7f');
  ASSERT_TRUE(peer->SendBytes(garbage));
  EXPECT_TRUE(ServerCloses(peer->fd()));
  EXPECT_THAT(refusals_.WaitFor(RefusalKind::kTls), HasSubstr("TLS handshake"));
  EXPECT_EQ(server_->stats().closed(CloseReason::kTlsFailed), 1u);
  EXPECT_EQ(*Say(Connect(ClientTls()).get(), "still here"), "still here");
}

}  // namespace
}  // namespace framerpc
