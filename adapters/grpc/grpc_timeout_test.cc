// Stalled HTTP/2 handshakes are closed: on the shared port while the client preface is
// incomplete (by the server's first-byte timeout) or after it (by gRPC's idle setting), and on
// the adapter's own port (gRPC's handshake timeout). Before, they stayed open for minutes (more
// than 200 s on the shared port).
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/same_port.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "tests/raw_peer.h"
#include "tests/test_util.h"

namespace framerpc {
namespace {

using test::RawPeer;

constexpr absl::Duration kStage = absl::Milliseconds(300);
constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class GrpcTimeoutTest : public testing::Test {
 protected:
  void SetUp() override {
    ConnectionTimeoutOptions timeouts;
    timeouts.first_byte = kStage;
    timeouts.idle = kStage;
    ServerOptions options;
    options.io_threads = 1;
    options.timeouts = timeouts;
    server_ = std::make_unique<Server>(options);
    FRPC_ASSERT_OK(server_->AddListener("127.0.0.1:0"));
    GrpcAdapterOptions adapter_options;
    adapter_options.listen_address = "127.0.0.1:0";
    adapter_options.timeouts = timeouts;
    adapter_ = std::make_unique<GrpcAdapter>(server_->dispatcher(), adapter_options);
    FRPC_ASSERT_OK(adapter_->Start());
    FRPC_ASSERT_OK(ServeGrpcOnSamePort(server_.get(), adapter_.get()));
    FRPC_ASSERT_OK(server_->Start());
  }

  void TearDown() override {
    adapter_->Shutdown(absl::Seconds(5));
    server_->Shutdown(absl::Seconds(5));
  }

  RawPeer Connect(const std::string& address) {
    auto peer = RawPeer::Connect(address);
    EXPECT_TRUE(peer.ok()) << peer.status();
    return *std::move(peer);
  }

  // The peer is closed, by an end of stream or a reset (closing with its bytes unread), within
  // the raw peer's 30 s safety net and no sooner than `at_least`.
  static void ExpectClosed(RawPeer& peer, absl::Time since, absl::Duration at_least) {
    char buffer[4096];
    ssize_t n;
    // gRPC may write its SETTINGS (and a GOAWAY) first: read to the end.
    while ((n = ::recv(peer.fd(), buffer, sizeof buffer, 0)) > 0) {
    }
    const int err = errno;
    EXPECT_TRUE(n == 0 || err == ECONNRESET) << "not closed: " << std::strerror(err);
    EXPECT_GE(absl::Now() - since, at_least);
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<GrpcAdapter> adapter_;
};

TEST(MatchHttp2PrefaceTest, PrefixesWaitForMoreAndAnythingElseIsNoMatch) {
  EXPECT_EQ(MatchHttp2Preface("P"), Server::ProtocolMatch::kNeedMore);
  EXPECT_EQ(MatchHttp2Preface("PRI * HTTP/2.0\r\n"), Server::ProtocolMatch::kNeedMore);
  EXPECT_EQ(MatchHttp2Preface(kPreface), Server::ProtocolMatch::kMatch);
  EXPECT_EQ(MatchHttp2Preface(std::string(kPreface) + "settings"), Server::ProtocolMatch::kMatch);
  EXPECT_EQ(MatchHttp2Preface("GET / HTTP/1.1\r\n"), Server::ProtocolMatch::kNoMatch);
  EXPECT_EQ(MatchHttp2Preface("PRX"), Server::ProtocolMatch::kNoMatch);
}

TEST_F(GrpcTimeoutTest, HalfAPrefaceOnTheSharedPortIsClosedAtTheFirstByteTimeout) {
  const absl::Time start = absl::Now();
  RawPeer peer = Connect(server_->listen_address(0));
  ASSERT_TRUE(peer.SendBytes("PRI * HTTP"));
  ExpectClosed(peer, start, kStage);
  EXPECT_EQ(server_->stats().closed(CloseReason::kFirstByteTimeout), 1u);
}

TEST_F(GrpcTimeoutTest, AnythingButAPrefaceOnTheSharedPortIsClosedAsGarbage) {
  RawPeer peer = Connect(server_->listen_address(0));
  ASSERT_TRUE(peer.SendBytes("GET / HTTP/1.1\r\n"));
  ExpectClosed(peer, absl::Now(), absl::ZeroDuration());
  EXPECT_EQ(server_->stats().closed(CloseReason::kGarbage), 1u);
}

TEST_F(GrpcTimeoutTest, APrefaceThenSilenceOnTheSharedPortIsClosedByGrpc) {
  RawPeer peer = Connect(server_->listen_address(0));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(peer.SendBytes(kPreface));
  ExpectClosed(peer, start, absl::ZeroDuration());
}

TEST_F(GrpcTimeoutTest, ASilentConnectionOnTheAdaptersOwnPortIsClosedByGrpc) {
  const absl::Time start = absl::Now();
  RawPeer peer = Connect(absl::StrCat("127.0.0.1:", adapter_->listen_port()));
  ExpectClosed(peer, start, absl::ZeroDuration());
}

}  // namespace
}  // namespace framerpc
