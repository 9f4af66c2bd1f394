// TlsSession over a non-blocking socketpair, both ends driven from this thread: the handshake,
// data both ways (a megabyte through partial writes), close_notify, resumption, and each refusal
// with its error on both sides.
#include "transport/tls/tls_session.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "transport/tls/session_pump.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"

namespace framerpc {
namespace {

using ::testing::HasSubstr;

class TlsSessionTest : public ::testing::Test {
 protected:
  TlsSessionTest()
      : dir_(TestPkiDir(::testing::UnitTest::GetInstance()->current_test_info()->name())),
        ca_(dir_, "main"),
        other_ca_(dir_, "other") {
    TestCertSpec spec;
    spec.common_name = "server";
    spec.dns = {"server.test", "localhost"};
    spec.ips = {"127.0.0.1"};
    server_ = ca_.Issue("server", spec);
    TestCertSpec client_spec;
    client_spec.common_name = "client-a";
    client_spec.uris = {"spiffe://example.org/ns/prod/sa/client-a"};
    client_spec.dns = {"client-a.test"};
    client_ = ca_.Issue("client", client_spec);
  }

  std::shared_ptr<TlsContext> Server(TlsServerOptions options) {
    if (options.cert_chain_file.empty()) options.cert_chain_file = server_.cert;
    if (options.private_key_file.empty()) options.private_key_file = server_.key;
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewServer(options);
    EXPECT_TRUE(context.ok()) << context.status();
    return context.ok() ? *context : nullptr;
  }
  std::shared_ptr<TlsContext> Client(TlsClientOptions options) {
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewClient(options);
    EXPECT_TRUE(context.ok()) << context.status();
    return context.ok() ? *context : nullptr;
  }
  TlsServerOptions MutualServer() {
    TlsServerOptions options;
    options.client_ca_file = ca_.cert_file();
    options.client_auth = ClientAuth::kRequire;
    return options;
  }
  TlsClientOptions Trusting() {
    TlsClientOptions options;
    options.ca_file = ca_.cert_file();
    return options;
  }

  std::string dir_;
  TestCa ca_;
  TestCa other_ca_;
  TestCertFiles server_;
  TestCertFiles client_;
  SocketPair sockets_;
};

TEST_F(TlsSessionTest, HandshakesAndCarriesDataBothWays) {
  auto server = NewSession(Server({}), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  ASSERT_TRUE(out.client.ok()) << out.client;
  ASSERT_TRUE(out.server.ok()) << out.server;
  EXPECT_EQ(client->version(), "TLSv1.3");
  EXPECT_EQ(client->alpn(), "framerpc/1");
  EXPECT_EQ(server->alpn(), "framerpc/1");
  EXPECT_FALSE(server->peer_certificate().present);  // not asked for

  RecordIo wrote = client->Write("hello", 5);
  ASSERT_EQ(wrote.kind, RecordIo::Kind::kOk);
  EXPECT_EQ(wrote.bytes, 5u);
  std::string got;
  ReadSome(server.get(), &got, 5);
  EXPECT_EQ(got, "hello");
  ASSERT_EQ(server->Write("world", 5).kind, RecordIo::Kind::kOk);
  got.clear();
  ReadSome(client.get(), &got, 5);
  EXPECT_EQ(got, "world");
}

TEST_F(TlsSessionTest, AMegabyteThroughPartialWritesArrivesIntact) {
  auto server = NewSession(Server({}), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "127.0.0.1");
  ASSERT_TRUE(Pump(client.get(), server.get()).client.ok());
  std::string sent(1 << 20, '\0');
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 131 % 251);
  std::string got;
  size_t offset = 0;
  int want_writes = 0;
  for (int i = 0; i < 100000 && got.size() < sent.size(); ++i) {
    // Write until the socket is full; after kWantWrite the same bytes are offered again (from
    // where they are), as RecordLayer requires, once the reader has made room.
    while (offset < sent.size()) {
      RecordIo io = client->Write(sent.data() + offset, sent.size() - offset);
      ASSERT_NE(io.kind, RecordIo::Kind::kError) << io.error;
      if (io.kind == RecordIo::Kind::kWantWrite) {
        ++want_writes;
        break;
      }
      offset += io.bytes;
    }
    ReadSome(server.get(), &got, sent.size());
  }
  EXPECT_GT(want_writes, 0);  // the socket buffer filled at least once
  EXPECT_TRUE(got == sent);
}

TEST_F(TlsSessionTest, MutualTlsShowsTheClientsSans) {
  auto server = NewSession(Server(MutualServer()), sockets_.server());
  TlsClientOptions options = Trusting();
  options.cert_chain_file = client_.cert;
  options.private_key_file = client_.key;
  auto client = NewSession(Client(options), sockets_.client(), "localhost");
  Outcome out = Pump(client.get(), server.get());
  ASSERT_TRUE(out.client.ok()) << out.client;
  ASSERT_TRUE(out.server.ok()) << out.server;
  TlsPeerCertificate peer = server->peer_certificate();
  EXPECT_TRUE(peer.present);
  EXPECT_THAT(peer.uri_sans, ::testing::ElementsAre("spiffe://example.org/ns/prod/sa/client-a"));
  EXPECT_THAT(peer.dns_sans, ::testing::ElementsAre("client-a.test"));
  EXPECT_THAT(peer.subject, HasSubstr("CN=client-a"));
  EXPECT_THAT(client->peer_certificate().dns_sans, ::testing::Contains("server.test"));
}

TEST_F(TlsSessionTest, UnknownCaIsRefusedOnBothSides) {
  auto server = NewSession(Server({}), sockets_.server());
  TlsClientOptions options;
  options.ca_file = other_ca_.cert_file();
  auto client = NewSession(Client(options), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_EQ(out.client.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(out.client.message()), HasSubstr("certificate verify failed"));
  EXPECT_THAT(std::string(out.client.message()), HasSubstr("unknown CA"));
  EXPECT_THAT(std::string(out.server.message()), HasSubstr("alert unknown ca"));
}

TEST_F(TlsSessionTest, ExpiredServerCertificateIsRefused) {
  TestCertSpec spec;
  spec.dns = {"server.test"};
  spec.not_before = -absl::Hours(48);
  spec.not_after = -absl::Hours(1);
  TestCertFiles expired = ca_.Issue("expired", spec);
  TlsServerOptions server_options;
  server_options.cert_chain_file = expired.cert;
  server_options.private_key_file = expired.key;
  auto server = NewSession(Server(server_options), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_THAT(std::string(out.client.message()),
              HasSubstr("certificate has expired (expired certificate)"));
  EXPECT_THAT(std::string(out.server.message()), HasSubstr("alert certificate expired"));
}

TEST_F(TlsSessionTest, NotYetValidServerCertificateIsRefused) {
  TestCertSpec spec;
  spec.dns = {"server.test"};
  spec.not_before = absl::Hours(1);
  spec.not_after = absl::Hours(48);
  TestCertFiles future = ca_.Issue("future", spec);
  TlsServerOptions server_options;
  server_options.cert_chain_file = future.cert;
  server_options.private_key_file = future.key;
  auto server = NewSession(Server(server_options), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_THAT(std::string(out.client.message()), HasSubstr("certificate is not yet valid"));
  EXPECT_THAT(std::string(out.server.message()), HasSubstr("alert bad certificate"));
}

TEST_F(TlsSessionTest, NameMismatchIsRefused) {
  auto server = NewSession(Server({}), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "other.test");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_THAT(std::string(out.client.message()), HasSubstr("hostname mismatch (name mismatch"));
  EXPECT_FALSE(out.server.ok());
}

TEST_F(TlsSessionTest, IpAddressIsCheckedAgainstIpSans) {
  auto server = NewSession(Server({}), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "127.0.0.2");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_THAT(std::string(out.client.message()), HasSubstr("IP address mismatch (name mismatch"));
}

TEST_F(TlsSessionTest, MutualTlsWithoutAClientCertificateIsRefused) {
  auto server = NewSession(Server(MutualServer()), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_THAT(std::string(out.server.message()), HasSubstr("peer did not return a certificate"));
  // TLS 1.3: the client finished first, and learns of the refusal when it reads.
  ASSERT_TRUE(out.client.ok()) << out.client;
  std::string got;
  RecordIo io = ReadSome(client.get(), &got, 1);
  EXPECT_EQ(io.kind, RecordIo::Kind::kError);
  EXPECT_THAT(std::string(io.error.message()), HasSubstr("alert certificate required"));
}

TEST_F(TlsSessionTest, ClientCertificateFromAnotherCaIsRefused) {
  auto server = NewSession(Server(MutualServer()), sockets_.server());
  TestCertSpec spec;
  spec.uris = {"spiffe://example.org/intruder"};
  TestCertFiles stranger = other_ca_.Issue("stranger", spec);
  TlsClientOptions options = Trusting();
  options.cert_chain_file = stranger.cert;
  options.private_key_file = stranger.key;
  auto client = NewSession(Client(options), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_THAT(std::string(out.server.message()), HasSubstr("unknown CA"));
  ASSERT_TRUE(out.client.ok()) << out.client;
  std::string got;
  RecordIo io = ReadSome(client.get(), &got, 1);
  EXPECT_EQ(io.kind, RecordIo::Kind::kError);
  EXPECT_THAT(std::string(io.error.message()), HasSubstr("alert unknown ca"));
}

TEST_F(TlsSessionTest, Tls12OfferedToATls13OnlyServerIsRefused) {
  auto server = NewSession(Server({}), sockets_.server());
  TlsClientOptions options = Trusting();
  options.min_version = TlsVersion::kTls12;
  options.max_version = TlsVersion::kTls12;
  auto client = NewSession(Client(options), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  EXPECT_THAT(std::string(out.server.message()), HasSubstr("unsupported protocol"));
  EXPECT_THAT(std::string(out.client.message()), HasSubstr("alert protocol version"));
}

TEST_F(TlsSessionTest, Tls12WhenTheServerAllowsIt) {
  TlsServerOptions server_options;
  server_options.min_version = TlsVersion::kTls12;
  auto server = NewSession(Server(server_options), sockets_.server());
  TlsClientOptions options = Trusting();
  options.min_version = TlsVersion::kTls12;
  options.max_version = TlsVersion::kTls12;
  auto client = NewSession(Client(options), sockets_.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  ASSERT_TRUE(out.client.ok()) << out.client;
  EXPECT_EQ(client->version(), "TLSv1.2");
}

TEST_F(TlsSessionTest, CloseNotifyEndsTheReadersStream) {
  auto server = NewSession(Server({}), sockets_.server());
  auto client = NewSession(Client(Trusting()), sockets_.client(), "server.test");
  ASSERT_TRUE(Pump(client.get(), server.get()).server.ok());
  client->SendCloseNotify();
  std::string got;
  EXPECT_EQ(ReadSome(server.get(), &got, 1).kind, RecordIo::Kind::kClosed);
}

TEST_F(TlsSessionTest, ASecondConnectionResumesWithTheTicket) {
  std::shared_ptr<TlsContext> server_context = Server(MutualServer());
  TlsClientOptions options = Trusting();
  options.cert_chain_file = client_.cert;
  options.private_key_file = client_.key;
  std::shared_ptr<TlsContext> client_context = Client(options);
  {
    // Ends without close_notify, as a connection to a server that died would: its ticket still
    // resumes.
    auto server = NewSession(server_context, sockets_.server());
    auto client = NewSession(client_context, sockets_.client(), "server.test");
    ASSERT_TRUE(Pump(client.get(), server.get()).client.ok());
    EXPECT_FALSE(client->resumed());
    // The ticket comes after the handshake: the client reads it with the first data.
    ASSERT_EQ(server->Write("x", 1).kind, RecordIo::Kind::kOk);
    std::string got;
    ReadSome(client.get(), &got, 1);
    EXPECT_EQ(got, "x");
  }
  SocketPair second;
  auto server = NewSession(server_context, second.server());
  auto client = NewSession(client_context, second.client(), "server.test");
  Outcome out = Pump(client.get(), server.get());
  ASSERT_TRUE(out.client.ok()) << out.client;
  ASSERT_TRUE(out.server.ok()) << out.server;
  EXPECT_TRUE(client->resumed());
  EXPECT_TRUE(server->resumed());
  // The resumed session still names the verified client.
  EXPECT_THAT(server->peer_certificate().uri_sans,
              ::testing::ElementsAre("spiffe://example.org/ns/prod/sa/client-a"));
}

TEST_F(TlsSessionTest, ConfigurationErrorsNameTheFile) {
  TlsServerOptions options;
  options.cert_chain_file = dir_ + "/missing.pem";
  options.private_key_file = server_.key;
  absl::StatusOr<std::shared_ptr<TlsContext>> missing = TlsContext::NewServer(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("missing.pem"));

  options.cert_chain_file = server_.cert;
  options.private_key_file = client_.key;  // not this certificate's key
  absl::StatusOr<std::shared_ptr<TlsContext>> mismatch = TlsContext::NewServer(options);
  EXPECT_THAT(std::string(mismatch.status().message()), HasSubstr("key values mismatch"));

  options.private_key_file = server_.key;
  options.client_auth = ClientAuth::kRequire;
  EXPECT_THAT(TlsContext::NewServer(options).status().message(),
              HasSubstr("needs a client CA file"));

  EXPECT_FALSE(ParseClientAuth("sometimes").ok());
  EXPECT_EQ(*ParseTlsVersion("1.2"), TlsVersion::kTls12);
}

TEST_F(TlsSessionTest, AClientWithoutAServerNameIsRefusedUpFront) {
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      Client(Trusting())->NewSession(sockets_.client(), "");
  EXPECT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(session.status().message()), HasSubstr("server name"));
}

}  // namespace
}  // namespace framerpc
