// The server's first-byte sniffing and TLS stage fed hostile first flights over real loopback
// connections, deterministic (a fixed seed, a bounded number of inputs): random bytes, a real
// ClientHello mutated, cut short or followed by garbage, and plaintext (framed, HTTP/1, an HTTP/2
// preface, a TLS alert) on a TLS-only listener, the shared port and a plaintext listener that
// sniffs for a foreign protocol. Each input is sent and the client half-closes. For every one:
// the server closes the connection (never a hang, never a crash); a ClientHello on a TLS listener
// that cannot finish, and plaintext on a TLS-only one, are refused as kTls with a reason (a framed
// client also gets CONNECTION_ERROR FAILED_PRECONDITION); and at the end the server still serves
// TLS and plaintext calls on every listener that takes them.
#include <sys/socket.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/echo.frpc.h"
#include "rpc/channel.h"
#include "rpc/server.h"
#include "services/echo/echo_service.h"
#include "tests/raw_peer.h"
#include "transport/frame_codec.h"
#include "transport/tls/client_hello_mutator.h"
#include "transport/tls/test_pki.h"
#include "transport/tls/tls_context.h"

namespace framerpc {
namespace {

constexpr int kInputsPerListener = 150;
constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class CountingRefusals final : public RefusalObserver {
 public:
  void OnRefusal(RefusalKind kind, absl::string_view, absl::string_view reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[static_cast<size_t>(kind)];
    if (reason.empty()) ++without_reason_;
    cv_.notify_all();
  }
  // The count of `kind` once it reaches `n`, or what it is after 30 s.
  int WaitFor(RefusalKind kind, int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30),
                 [&] { return counts_[static_cast<size_t>(kind)] >= n; });
    return counts_[static_cast<size_t>(kind)];
  }
  int without_reason() {
    std::lock_guard<std::mutex> lock(mu_);
    return without_reason_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int counts_[kRefusalKinds] = {};  // guarded by mu_
  int without_reason_ = 0;          // guarded by mu_
};

// Everything the server sends until it closes; false if it had not closed after 30 s.
bool ReadUntilClosed(int fd, std::string* received) {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      received->append(buf, static_cast<size_t>(n));
      continue;
    }
    return n == 0 || errno == ECONNRESET;
  }
}

class TlsSniffFuzzTest : public ::testing::Test {
 protected:
  TlsSniffFuzzTest() : dir_(TestPkiDir("tls_sniff_fuzz")), ca_(dir_, "fuzz") {
    TestCertSpec spec;
    spec.dns = {"localhost"};
    spec.ips = {"127.0.0.1"};
    cert_ = ca_.Issue("server", spec);
  }

  void StartServer() {
    ServerOptions options;
    options.io_threads = 2;
    options.refusals = &refusals_;
    // An input that is a prefix of the foreign protocol's preface is held until this.
    options.timeouts.first_byte = absl::Seconds(1);
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(&echo_).ok());
    for (Server::ListenerTls tls : kListeners) {
      ASSERT_TRUE(server_->AddListener("127.0.0.1:0", tls).ok());
    }
    Server::ForeignProtocol h2;
    h2.name = "fake-h2";
    h2.match = [](absl::string_view bytes) {
      const absl::string_view preface(kPreface, sizeof kPreface - 1);
      if (bytes.size() >= preface.size()) {
        return bytes.substr(0, preface.size()) == preface ? Server::ProtocolMatch::kMatch
                                                          : Server::ProtocolMatch::kNoMatch;
      }
      return preface.substr(0, bytes.size()) == bytes ? Server::ProtocolMatch::kNeedMore
                                                      : Server::ProtocolMatch::kNoMatch;
    };
    h2.handler = [](ScopedFd fd, const SocketAddress&) {
      ::shutdown(fd.get(), SHUT_RDWR);  // served and closed at once
    };
    ASSERT_TRUE(server_->AddForeignProtocol(std::move(h2)).ok());
    TlsServerOptions tls;
    tls.cert_chain_file = cert_.cert;
    tls.private_key_file = cert_.key;
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::NewServer(tls);
    ASSERT_TRUE(context.ok()) << context.status();
    server_->SetTlsContext(*context);
    ASSERT_TRUE(server_->Start().ok());
  }

  absl::Status Say(size_t listener, bool tls) {
    ChannelOptions options;
    if (tls) {
      options.tls.emplace();
      options.tls->ca_file = ca_.cert_file();
    }
    absl::StatusOr<std::unique_ptr<Channel>> channel =
        Channel::Create(server_->listen_address(listener), options);
    if (!channel.ok()) return channel.status();
    echo::EchoService::Stub stub(channel->get());
    ClientContext context;
    context.set_deadline(absl::Now() + absl::Seconds(30));
    echo::SayRequest request;
    request.set_text("still serving");
    echo::SayReply reply;
    return stub.Say(&context, request, &reply);
  }

  static constexpr Server::ListenerTls kListeners[] = {
      Server::ListenerTls::kRequired, Server::ListenerTls::kOptional, Server::ListenerTls::kOff};
  std::string dir_;
  TestCa ca_;
  TestCertFiles cert_;
  CountingRefusals refusals_;
  echo::EchoServiceImpl echo_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsSniffFuzzTest, HostileFirstFlightsAreRefusedAndClosed) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<std::string> hello = MakeClientHello(ca_.cert_file(), "localhost");
  ASSERT_TRUE(hello.ok()) << hello.status();
  FirstFlightMutator mutator(*hello, 20261207);
  int tls_refusals_due = 0;
  for (int i = 0; i < 3 * kInputsPerListener; ++i) {
    const size_t listener = static_cast<size_t>(i) % 3;
    const Server::ListenerTls mode = kListeners[listener];
    FirstFlightMutator::Kind kind;
    const std::string input = mutator.Next(&kind);
    const bool client_hello = input[0] == '\x16';
    if (mode == Server::ListenerTls::kRequired ||
        (mode == Server::ListenerTls::kOptional && client_hello)) {
      ++tls_refusals_due;
    }
    absl::StatusOr<test::RawPeer> peer = test::RawPeer::Connect(server_->listen_address(listener));
    ASSERT_TRUE(peer.ok()) << peer.status();
    peer->SendBytes(input);  // the server may have closed already: what it said is read below
    ::shutdown(peer->fd(), SHUT_WR);
    std::string received;
    ASSERT_TRUE(ReadUntilClosed(peer->fd(), &received))
        << "input " << i << " (kind " << static_cast<int>(kind) << ", listener " << listener
        << ") was left open";
    if (mode == Server::ListenerTls::kRequired && input[0] == kFrameMagic[0]) {
      Frame frame;
      const DecodeResult result = DecodeFrame(received, {}, &frame);
      ASSERT_EQ(result.outcome, DecodeOutcome::kFrame) << "input " << i << ": no framed refusal";
      EXPECT_EQ(frame.envelope.kind(), CONNECTION_ERROR);
      EXPECT_EQ(frame.envelope.status_code(),
                static_cast<int>(absl::StatusCode::kFailedPrecondition));
      EXPECT_NE(frame.envelope.status_message().find("TLS only"), std::string::npos);
    }
  }
  EXPECT_EQ(refusals_.WaitFor(RefusalKind::kTls, tls_refusals_due), tls_refusals_due);
  EXPECT_EQ(refusals_.without_reason(), 0);
  EXPECT_TRUE(Say(0, /*tls=*/true).ok());
  EXPECT_TRUE(Say(1, /*tls=*/true).ok());
  EXPECT_TRUE(Say(1, /*tls=*/false).ok());
  EXPECT_TRUE(Say(2, /*tls=*/false).ok());
}

}  // namespace
}  // namespace framerpc
